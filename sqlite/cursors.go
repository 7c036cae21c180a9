package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Cursors are written behind. Every poll that gives a client events moves
// its chat's cursor; waiting for a commit (an fsync) before answering would
// put a disk flush on the path of every delivery, and a commit of its own
// for each move would compete with the appends. SetCursor records the move
// in memory and returns; the writer applies every recorded move with its
// next group commit, or on its own after cursorFlush when no write comes.
// Reads of a session see the recorded cursor at once.
//
// A crash can lose the moves of the last cursorFlush: the events after the
// durable cursor are then given to the client again (at least once),
// rather than lost.

// cursorLinger is how long a written cursor stays in memory after its last
// move. A read of a session takes the row, then the cursor recorded in
// memory if ahead; a cursor is dropped from memory only long after it was
// committed, so that no read can have taken the row before that commit and
// look into memory after the drop.
const cursorLinger = 30 * time.Second

// cursorFlush bounds how long a cursor move waits for a commit.
const cursorFlush = 100 * time.Millisecond

type cursorBuffer struct {
	mu    sync.Mutex
	m     map[string]*cursorMove
	dirty map[string]bool // chats whose move is not written yet
	swept time.Time
}

type cursorMove struct {
	seq     int64 // newest recorded
	written int64 // newest committed
	touched time.Time
}

// moved records a cursor move.
func (b *cursorBuffer) moved(chatID string, seq int64) {
	b.mu.Lock()
	if b.m == nil {
		b.m, b.dirty = map[string]*cursorMove{}, map[string]bool{}
	}
	m := b.m[chatID]
	if m == nil {
		m = &cursorMove{}
		b.m[chatID] = m
	}
	m.seq = max(m.seq, seq)
	m.touched = time.Now()
	if m.seq > m.written {
		b.dirty[chatID] = true
	}
	b.mu.Unlock()
}

// get returns the cursor recorded for a chat, if any.
func (b *cursorBuffer) get(chatID string) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m, ok := b.m[chatID]; ok {
		return m.seq, true
	}
	return 0, false
}

// unwritten returns the moves not yet committed. It looks at those only:
// the buffer may remember tens of thousands of cursors, and the writer asks
// at every commit.
func (b *cursorBuffer) unwritten() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dirty) == 0 {
		return nil
	}
	out := make(map[string]int64, len(b.dirty))
	for id := range b.dirty {
		out[id] = b.m[id].seq
	}
	return out
}

// written notes committed moves and forgets cursors idle for long.
func (b *cursorBuffer) written(moves map[string]int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, seq := range moves {
		if m := b.m[id]; m != nil {
			m.written = max(m.written, seq)
			if m.written >= m.seq {
				delete(b.dirty, id)
			}
		}
	}
	now := time.Now()
	if now.Sub(b.swept) < cursorLinger/2 {
		return
	}
	b.swept = now
	for id, m := range b.m {
		if m.written >= m.seq && now.Sub(m.touched) > cursorLinger {
			delete(b.m, id)
		}
	}
}

// writeCursors applies moves in the writer's transaction. An update that
// fails changes nothing (a statement is atomic) and must not undo the
// group's other writes; the move is written again with a later one.
func (s *Store) writeCursors(tx *sql.Tx, moves map[string]int64) {
	if len(moves) == 0 {
		return
	}
	set := s.stmt(tx, s.st.setCursor)
	for id, seq := range moves {
		_, _ = set.Exec(seq, id)
	}
}

// SetCursor moves the client's delivery cursor forward. The move is
// written behind (see cursorBuffer): it is seen by reads at once and
// committed with the writer's next group.
func (s *Store) SetCursor(ctx context.Context, chatID string, seq int64) error {
	if _, known := s.cursors.get(chatID); !known {
		err := s.onReader(ctx, func() error {
			var one int
			return s.st.sessionExists.QueryRowContext(ctx, chatID).Scan(&one)
		})
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
	}
	s.cursors.moved(chatID, seq)
	return nil
}
