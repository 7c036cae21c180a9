-- Admin API tokens, stored by the hash of their bearer value, and the
-- audit log of administrative changes.
CREATE TABLE admin_tokens (
	id       text PRIMARY KEY,
	hash     text NOT NULL UNIQUE,
	name     text NOT NULL,
	scopes   jsonb NOT NULL,
	created  timestamptz NOT NULL,
	disabled boolean NOT NULL DEFAULT false
);

CREATE TABLE audit_log (
	id         bigserial PRIMARY KEY,
	time       timestamptz NOT NULL,
	token_id   text NOT NULL,
	token_name text NOT NULL,
	action     text NOT NULL,
	target     text NOT NULL,
	detail     jsonb
);
