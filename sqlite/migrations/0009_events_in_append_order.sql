-- Events are stored in the order they are appended (a rowid table), with
-- the chat's order in a unique index on (chat_id, seq). In a table keyed
-- by (chat_id, seq), every append inserted into the middle of the B-tree,
-- at the end of its chat's range: with many chats, a page of its own per
-- append, and a page split every few appends that rewrote its neighbours
-- and their parent. Appended at the end of the table, the events of a
-- commit share their pages; the index entry each one adds is small, so
-- its pages split far less often. About half the pages written per
-- append, at the cost of reads of a chat's older events, which now fetch
-- each row from where it was appended (recent ones come from memory).
--
-- The existing events are copied in their chats' order, which keeps each
-- chat's history together: this migration reads and writes the whole log
-- once.
CREATE TABLE events_appended (
	chat_id   TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	type      TEXT NOT NULL,
	party_id  TEXT NOT NULL,
	msg_id    TEXT NOT NULL,
	dedup_key TEXT,
	created   INTEGER NOT NULL, -- unix milliseconds
	payload   TEXT NOT NULL
);
INSERT INTO events_appended (chat_id, seq, type, party_id, msg_id, dedup_key, created, payload)
	SELECT chat_id, seq, type, party_id, msg_id, dedup_key, created, payload FROM events ORDER BY chat_id, seq;
DROP TABLE events;
ALTER TABLE events_appended RENAME TO events;
CREATE UNIQUE INDEX events_chat ON events (chat_id, seq);
