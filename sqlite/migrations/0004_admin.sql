-- Admin API tokens, stored by the hash of their bearer value, and the
-- audit log of administrative changes (times in unix milliseconds).
CREATE TABLE admin_tokens (
	id       TEXT PRIMARY KEY,
	hash     TEXT NOT NULL UNIQUE,
	name     TEXT NOT NULL,
	scopes   TEXT NOT NULL, -- JSON array
	created  INTEGER NOT NULL,
	disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	time       INTEGER NOT NULL,
	token_id   TEXT NOT NULL,
	token_name TEXT NOT NULL,
	action     TEXT NOT NULL,
	target     TEXT NOT NULL,
	detail     TEXT
);
