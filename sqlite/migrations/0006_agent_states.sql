-- Routing's record of each logged-in agent: ready or not ready, and why. A
-- restarted router finds its agents as they were; an agent who logged out
-- has no row.
CREATE TABLE agent_states (
	agent_id TEXT PRIMARY KEY,
	state    TEXT NOT NULL,
	reason   TEXT NOT NULL DEFAULT '',
	updated  INTEGER NOT NULL -- unix milliseconds
);
