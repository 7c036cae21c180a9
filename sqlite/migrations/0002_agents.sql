CREATE TABLE agents (
	id       TEXT PRIMARY KEY,
	tenant   TEXT NOT NULL,
	username TEXT NOT NULL,
	password TEXT NOT NULL, -- bcrypt hash
	profile  TEXT NOT NULL  -- JSON: names, photo, skills, capacity, role, disabled
);

CREATE UNIQUE INDEX agents_username ON agents (tenant, username);

CREATE TABLE agent_tokens (
	hash     TEXT PRIMARY KEY, -- sha256 of the bearer token
	agent_id TEXT NOT NULL,
	expires  INTEGER NOT NULL
);

ALTER TABLE sessions ADD COLUMN agent_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_live_all ON sessions (created) WHERE ended = 0;
CREATE INDEX sessions_agent ON sessions (agent_id, created) WHERE agent_id <> '';

-- What an agent records about a chat after it: a disposition code and notes.
CREATE TABLE wrapups (
	chat_id  TEXT NOT NULL,
	agent_id TEXT NOT NULL,
	code     TEXT NOT NULL,
	notes    TEXT NOT NULL,
	created  INTEGER NOT NULL,
	PRIMARY KEY (chat_id, agent_id)
);
