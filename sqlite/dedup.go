package sqlite

import (
	"database/sql"
	"fmt"
	"hash/maphash"
	"time"
)

// An event idempotent by its sender's msg_id (chat.Event.DedupKey) is
// stored once per chat. The writer decides it from memory: for each chat
// it appends to, it keeps the hashes of every key the chat's log holds.
// A key whose hash is not there is new and its event is inserted without
// looking; a key whose hash is there (a resend, or a collision of two keys'
// hashes) is looked for in the chat's events, inside the writer's
// transaction, so that the same key sent twice in a batch or in a group is
// found too.
//
// This replaces a unique index on (chat_id, dedup_key): its entry was one
// page more written at each append, a frame of the log and later a
// checkpoint, as many as the events' own. It is as safe as the index
// because the set of a chat holds at least every key of its log:
//   - it is read from the chat's events, in the writer's transaction, the
//     first time the writer appends to the chat (or again once dropped),
//     and every event the writer inserts adds its key before the insert;
//   - only the writer inserts events (appendEvents, from Append and
//     CreateSession), and a store file has one writer: one Store, in the
//     server's process (the live cache and the written-behind cursors rely
//     on it too);
//   - a write that is undone (its savepoint, or the whole group) leaves
//     keys in the set that the log does not hold: they cost a look into
//     the events, never a lost event; a key missing from the set, which
//     would store a resend twice, cannot happen.
//
// The sets are the writer's alone and need no lock. A chat not appended to
// for dedupIdle, or that ended, is dropped; its keys are read again if it
// is appended to later.

const (
	dedupIdle  = 10 * time.Minute
	dedupChats = 100000 // at most this many chats' sets
)

type dedupSets struct {
	seed  maphash.Seed
	chats map[string]*dedupSet
	swept time.Time
}

type dedupSet struct {
	keys    map[uint64]struct{}
	touched time.Time
}

// set returns the chat's set, reading its keys from the log with load (the
// statement loadDedup, in the writer's transaction) when the writer has
// none.
func (d *dedupSets) set(load *sql.Stmt, chatID string) (*dedupSet, error) {
	if d.chats == nil {
		d.seed, d.chats = maphash.MakeSeed(), map[string]*dedupSet{}
	}
	now := time.Now()
	if ds := d.chats[chatID]; ds != nil {
		ds.touched = now
		return ds, nil
	}
	d.sweep(now)
	rows, err := load.Query(chatID)
	if err != nil {
		return nil, fmt.Errorf("read msg_ids: %w", err)
	}
	defer rows.Close()
	ds := &dedupSet{touched: now}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, fmt.Errorf("read msg_ids: %w", err)
		}
		ds.add(d.hash(key))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read msg_ids: %w", err)
	}
	d.chats[chatID] = ds
	return ds, nil
}

// fresh notes a chat whose log is empty: CreateSession's. Its set has no
// map until a key comes: a queued chat may wait long without one.
func (d *dedupSets) fresh(chatID string) {
	if d.chats == nil {
		d.seed, d.chats = maphash.MakeSeed(), map[string]*dedupSet{}
	}
	d.chats[chatID] = &dedupSet{touched: time.Now()}
}

// add puts a key's hash in the set.
func (ds *dedupSet) add(h uint64) {
	if ds.keys == nil {
		ds.keys = map[uint64]struct{}{}
	}
	ds.keys[h] = struct{}{}
}

// forget drops a chat's set: it ended, or was deleted.
func (d *dedupSets) forget(chatID string) { delete(d.chats, chatID) }

func (d *dedupSets) hash(key string) uint64 { return maphash.String(d.seed, key) }

// sweep drops the sets not used for dedupIdle, every half minute, and the
// least recently used half when there are too many.
func (d *dedupSets) sweep(now time.Time) {
	if now.Sub(d.swept) < 30*time.Second && len(d.chats) < dedupChats {
		return
	}
	d.swept = now
	cut := now.Add(-dedupIdle)
	if len(d.chats) >= dedupChats {
		cut = medianTouched(d.chats, func(ds *dedupSet) time.Time { return ds.touched })
	}
	for id, ds := range d.chats {
		if !ds.touched.After(cut) {
			delete(d.chats, id)
		}
	}
}

// seen reports whether the chat's log, as the writer's transaction sees it,
// holds an event with key. h is the key's hash.
func (s *Store) seen(tx *sql.Tx, ds *dedupSet, chatID, key string, h uint64) (bool, error) {
	if _, maybe := ds.keys[h]; !maybe {
		return false, nil
	}
	var one int
	err := s.stmt(tx, s.st.findDedup).QueryRow(chatID, key).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for msg_id: %w", err)
	}
	return true, nil
}
