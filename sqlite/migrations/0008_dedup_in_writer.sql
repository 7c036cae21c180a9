-- The writer deduplicates events by their sender's msg_id itself, from the
-- keys of each chat it holds in memory (sqlite/dedup.go): the unique index
-- was one more page written at every append. dedup_key stays: the writer
-- reads a chat's keys from it.
DROP INDEX events_dedup;
