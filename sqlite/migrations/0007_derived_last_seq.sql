-- A chat's last sequence is that of its newest event, found by the events'
-- primary key (chat_id, seq) in one seek, and kept by the writer in memory
-- for the chats it writes to: storing it in the session row rewrote a page
-- of sessions at every append.
ALTER TABLE sessions DROP COLUMN last_seq;
