-- Tenants and scenario entries keep their settings as JSON documents: they
-- are read whole and change rarely, so columns would only add migrations.
CREATE TABLE tenants (
	host   TEXT PRIMARY KEY,
	config TEXT NOT NULL
);

CREATE TABLE entries (
	host   TEXT NOT NULL REFERENCES tenants (host),
	app_id TEXT NOT NULL,
	config TEXT NOT NULL,
	PRIMARY KEY (host, app_id)
);

CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	tenant       TEXT NOT NULL,
	app_id       TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	state        TEXT NOT NULL,
	ewt          INTEGER NOT NULL DEFAULT 0,
	phone_number TEXT NOT NULL DEFAULT '',
	from_name    TEXT NOT NULL DEFAULT '',
	parameters   TEXT NOT NULL DEFAULT '{}',
	case_id      TEXT NOT NULL DEFAULT '',
	created      INTEGER NOT NULL, -- unix milliseconds
	ended        INTEGER NOT NULL DEFAULT 0,
	last_seq     INTEGER NOT NULL DEFAULT 0,
	cursor       INTEGER NOT NULL DEFAULT 0,
	push_kind    TEXT NOT NULL DEFAULT '',
	push_token   TEXT NOT NULL DEFAULT '',
	push_topic   TEXT NOT NULL DEFAULT ''
);

-- One live chat per client per entry, enforced by the store itself so that
-- concurrent Request Chat calls cannot both create one.
CREATE UNIQUE INDEX sessions_live ON sessions (tenant, app_id, client_id) WHERE ended = 0;
CREATE INDEX sessions_case ON sessions (case_id, created) WHERE case_id <> '';

-- The ordered log of every chat. dedup_key is the msg_id of events that are
-- idempotent by it, NULL otherwise.
CREATE TABLE events (
	chat_id   TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	type      TEXT NOT NULL,
	party_id  TEXT NOT NULL,
	msg_id    TEXT NOT NULL,
	dedup_key TEXT,
	created   INTEGER NOT NULL, -- unix milliseconds
	payload   TEXT NOT NULL,
	PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX events_dedup ON events (chat_id, dedup_key) WHERE dedup_key IS NOT NULL;

CREATE TABLE files (
	id           TEXT PRIMARY KEY,
	tenant       TEXT NOT NULL,
	app_id       TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	chat_id      TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	created      INTEGER NOT NULL
);

CREATE INDEX files_chat ON files (chat_id) WHERE chat_id <> '';

CREATE TABLE cases (
	id        TEXT PRIMARY KEY,
	tenant    TEXT NOT NULL,
	app_id    TEXT NOT NULL,
	client_id TEXT NOT NULL,
	created   INTEGER NOT NULL,
	closed    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX cases_client ON cases (tenant, app_id, client_id, created);
