-- Routing's record of each logged-in agent: ready or not ready, and why. The
-- next routing leader of a deployment finds the agents as they were; an
-- agent who logged out has no row.
CREATE TABLE agent_states (
	agent_id text PRIMARY KEY,
	state    text NOT NULL,
	reason   text NOT NULL DEFAULT '',
	updated  timestamptz NOT NULL
);
