package postgres

import (
	"context"
	"sync"
	"time"
)

// Cursors are written behind. Every poll that gives a client events moves
// its chat's cursor; a statement and a WAL flush for each move was a
// database write per message delivered, competing with the appends. A
// move of a chat this node read lately is recorded in memory and written,
// with the others of the moment, by one statement every cursorFlush; this
// node's reads see it at once, other nodes' within cursorFlush. A crash
// loses at most the last moves, which only makes a push notification go
// out for events a client had already polled. A chat this node has not
// read lately is written at once, which tells an unknown chat
// (chat.ErrNotFound) from a known one.
const (
	cursorFlush = 100 * time.Millisecond
	cursorKnown = time.Minute // how long a chat read by this node counts as known
)

type cursorBuffer struct {
	mu       sync.Mutex
	moves    map[string]int64     // chat id → newest cursor not yet written
	inflight map[string]int64     // moves being written: still read from here until they are
	known    map[string]time.Time // chat id → when this node last read or created it
}

// seen notes that the chat exists, as a read or creation shows.
func (b *cursorBuffer) seen(chatID string) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.known == nil || len(b.known) >= recentMax {
		b.known = map[string]time.Time{}
	}
	b.known[chatID] = now
}

// forget drops a deleted chat.
func (b *cursorBuffer) forget(chatID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.known, chatID)
	delete(b.moves, chatID)
}

// later records a move of a known chat and reports whether it did.
func (b *cursorBuffer) later(chatID string, seq int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	at, ok := b.known[chatID]
	if !ok || time.Since(at) >= cursorKnown {
		return false
	}
	if b.moves == nil {
		b.moves = map[string]int64{}
	}
	if seq > b.moves[chatID] {
		b.moves[chatID] = seq
	}
	return true
}

// get returns the chat's newest move not yet written, if any.
func (b *cursorBuffer) get(chatID string) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seq, ok := b.moves[chatID]
	if f, in := b.inflight[chatID]; in && f > seq {
		seq, ok = f, true
	}
	return seq, ok
}

// take moves the buffered moves in flight and returns them.
func (b *cursorBuffer) take() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight, b.moves = b.moves, nil
	return b.inflight
}

// written ends the flight of the moves take returned: written, or on
// failure back in the buffer for the next flush, newer moves kept.
func (b *cursorBuffer) written(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.inflight
	b.inflight = nil
	if ok {
		return
	}
	if b.moves == nil {
		b.moves = map[string]int64{}
	}
	for id, seq := range m {
		if seq > b.moves[id] {
			b.moves[id] = seq
		}
	}
}

// flushCursors writes the buffered moves every cursorFlush until stop is
// closed, then once more.
func (s *Store) flushCursors(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(cursorFlush)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.writeCursors()
		case <-stop:
			s.writeCursors()
			return
		}
	}
}

// writeCursors writes the buffered moves in one statement; on failure they
// go back to the buffer for the next flush. Until the statement has
// committed, reads take the moves from the buffer: a poll on this node
// reading the chat in between must not be given its events again.
func (s *Store) writeCursors() {
	moves := s.cursors.take()
	if len(moves) == 0 {
		return
	}
	ids := make([]string, 0, len(moves))
	seqs := make([]int64, 0, len(moves))
	for id, seq := range moves {
		ids = append(ids, id)
		seqs = append(seqs, seq)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE sessions AS s SET cursor = greatest(s.cursor, v.seq)
		FROM unnest($1::text[], $2::bigint[]) AS v(id, seq) WHERE s.id = v.id`, ids, seqs)
	s.cursors.written(err == nil)
}
