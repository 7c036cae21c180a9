-- The push outbox: one row per event a subscribed device is to be told
-- about, due at not_before. Workers on any node claim due rows by moving
-- not_before forward (a lease), skipping rows another worker has locked,
-- and delete them once sent or given up.
CREATE TABLE push_outbox (
	chat_id    text NOT NULL,
	seq        bigint NOT NULL,
	not_before timestamptz NOT NULL,
	attempts   integer NOT NULL DEFAULT 0,
	PRIMARY KEY (chat_id, seq)
);

CREATE INDEX push_outbox_due ON push_outbox (not_before, chat_id, seq);
