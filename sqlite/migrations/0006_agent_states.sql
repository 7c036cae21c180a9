-- Routing's record of each logged-in agent: ready or not ready, and why. A
-- router that keeps agents' states (the leader of nodes sharing a store)
-- writes it, and the next one finds the agents as they were; an agent who
-- logged out has no row. Every store has it: one contract for all.
CREATE TABLE agent_states (
	agent_id TEXT PRIMARY KEY,
	state    TEXT NOT NULL,
	reason   TEXT NOT NULL DEFAULT '',
	updated  INTEGER NOT NULL -- unix milliseconds
);
