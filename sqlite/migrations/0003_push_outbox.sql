-- The push outbox: one row per event a subscribed device is to be told
-- about, due at not_before (unix milliseconds). A worker claims due rows by
-- moving not_before forward (a lease) and deletes them once sent or given up.
CREATE TABLE push_outbox (
	chat_id    TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	not_before INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;

CREATE INDEX push_outbox_due ON push_outbox (not_before);
