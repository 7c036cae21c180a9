-- Parley's schema on PostgreSQL: the same tables as the SQLite store, typed
-- the PostgreSQL way. Times are timestamptz; a NULL time means "not yet"
-- (a live session has no end, an open case no close). Documents read and
-- written whole are jsonb.

-- Tenants and scenario entries keep their settings as JSON documents: they
-- are read whole and change rarely, so columns would only add migrations.
CREATE TABLE tenants (
	host   text PRIMARY KEY,
	config jsonb NOT NULL
);

CREATE TABLE entries (
	host   text NOT NULL REFERENCES tenants (host),
	app_id text NOT NULL,
	config jsonb NOT NULL,
	PRIMARY KEY (host, app_id)
);

-- Every append updates its session's row (last_seq, state) and every poll
-- its cursor: free space on each page lets PostgreSQL keep those updates on
-- the page (HOT) instead of bloating the table and its indexes.
CREATE TABLE sessions (
	id            text PRIMARY KEY,
	tenant        text NOT NULL,
	app_id        text NOT NULL,
	client_id     text NOT NULL,
	state         text NOT NULL,
	ewt           integer NOT NULL DEFAULT 0,
	phone_number  text NOT NULL DEFAULT '',
	from_name     text NOT NULL DEFAULT '',
	parameters    jsonb NOT NULL DEFAULT '{}',
	case_id       text NOT NULL DEFAULT '',
	agent_id      text NOT NULL DEFAULT '',
	created       timestamptz NOT NULL,
	ended         timestamptz,            -- NULL while the chat lives
	last_seq      bigint NOT NULL DEFAULT 0,
	cursor        bigint NOT NULL DEFAULT 0,
	push_kind     text NOT NULL DEFAULT '',
	push_token    text NOT NULL DEFAULT '',
	push_topic    text NOT NULL DEFAULT '',
	-- Breaks ties between sessions created in the same instant.
	created_order bigint GENERATED ALWAYS AS IDENTITY
) WITH (fillfactor = 80);

-- One live chat per client per entry, enforced by the store itself so that
-- concurrent Request Chat calls, on any node, cannot both create one.
CREATE UNIQUE INDEX sessions_live ON sessions (tenant, app_id, client_id) WHERE ended IS NULL;
CREATE INDEX sessions_live_all ON sessions (created, created_order) WHERE ended IS NULL;
CREATE INDEX sessions_case ON sessions (case_id, created, created_order) WHERE case_id <> '';
CREATE INDEX sessions_agent ON sessions (agent_id, created, created_order) WHERE agent_id <> '';

-- The ordered log of every chat. dedup_key is the msg_id of events that are
-- idempotent by it (chat.Event.DedupKey: per sender, so with party_id), NULL
-- otherwise. Sequence numbers are assigned under the session's row lock, so
-- they are gap-free whatever node appends.
CREATE TABLE events (
	chat_id   text NOT NULL,
	seq       bigint NOT NULL,
	type      text NOT NULL,
	party_id  text NOT NULL,
	msg_id    text NOT NULL,
	dedup_key text,
	created   timestamptz NOT NULL,
	payload   jsonb NOT NULL,
	PRIMARY KEY (chat_id, seq)
);

CREATE UNIQUE INDEX events_dedup ON events (chat_id, party_id, dedup_key) WHERE dedup_key IS NOT NULL;

CREATE TABLE files (
	id           text PRIMARY KEY,
	tenant       text NOT NULL,
	app_id       text NOT NULL,
	client_id    text NOT NULL,
	chat_id      text NOT NULL DEFAULT '',
	name         text NOT NULL,
	content_type text NOT NULL,
	size         bigint NOT NULL,
	created      timestamptz NOT NULL
);

CREATE INDEX files_chat ON files (chat_id) WHERE chat_id <> '';

CREATE TABLE cases (
	id            text PRIMARY KEY,
	tenant        text NOT NULL,
	app_id        text NOT NULL,
	client_id     text NOT NULL,
	created       timestamptz NOT NULL,
	closed        timestamptz,            -- NULL while open
	created_order bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX cases_client ON cases (tenant, app_id, client_id, created DESC, created_order DESC) WHERE closed IS NULL;

CREATE TABLE agents (
	id       text PRIMARY KEY,
	tenant   text NOT NULL,
	username text NOT NULL,
	password text NOT NULL, -- bcrypt hash
	profile  jsonb NOT NULL -- names, photo, skills, capacity, role, disabled
);

CREATE UNIQUE INDEX agents_username ON agents (tenant, username);

CREATE TABLE agent_tokens (
	hash     text PRIMARY KEY, -- sha256 of the bearer token
	agent_id text NOT NULL,
	expires  timestamptz NOT NULL
);

CREATE INDEX agent_tokens_expires ON agent_tokens (expires);

-- What an agent records about a chat after it: a disposition code and notes.
CREATE TABLE wrapups (
	chat_id  text NOT NULL,
	agent_id text NOT NULL,
	code     text NOT NULL,
	notes    text NOT NULL,
	created  timestamptz NOT NULL,
	PRIMARY KEY (chat_id, agent_id)
);
