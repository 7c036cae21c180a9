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
// put a disk flush on the path of every delivery. SetCursor records the move
// in memory and returns; the writer applies every recorded move in its next
// group commit, which it starts at once when nothing else is queued. Reads
// of a session see the recorded cursor at once.
//
// A crash can lose the moves of the last commit: the events after the
// durable cursor are then given to the client again (at least once),
// rather than lost.

// cursorLinger is how long a written cursor stays in memory after its last
// move. A read of a session takes the row, then the cursor recorded in
// memory if ahead; a cursor is dropped from memory only long after it was
// committed, so that no read can have taken the row before that commit and
// look into memory after the drop.
const cursorLinger = 30 * time.Second

type cursorBuffer struct {
	mu      sync.Mutex
	m       map[string]*cursorMove
	swept   time.Time
	pending chan struct{} // one slot: the writer has cursors to write
}

type cursorMove struct {
	seq     int64 // newest recorded
	written int64 // newest committed
	touched time.Time
}

// moved records a cursor move and tells the writer.
func (b *cursorBuffer) moved(chatID string, seq int64) {
	b.mu.Lock()
	if b.m == nil {
		b.m = map[string]*cursorMove{}
	}
	m := b.m[chatID]
	if m == nil {
		m = &cursorMove{}
		b.m[chatID] = m
	}
	m.seq = max(m.seq, seq)
	m.touched = time.Now()
	b.mu.Unlock()
	select {
	case b.pending <- struct{}{}:
	default:
	}
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

// unwritten returns the moves not yet committed.
func (b *cursorBuffer) unwritten() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out map[string]int64
	for id, m := range b.m {
		if m.seq > m.written {
			if out == nil {
				out = map[string]int64{}
			}
			out[id] = m.seq
		}
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
	set := tx.Stmt(s.st.setCursor)
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
