package sqlite

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/chat"
)

// readers is how many goroutines run the store's reads: as many as the
// read pool has connections.
const readers = 8

// Reads run on the store's own goroutines, not on the caller's. The pure-Go
// SQLite engine runs deep, large frames: a request goroutine that ran one
// query keeps a stack grown to tens of KiB while it then waits, and a node
// holds a goroutine per waiting long poll, tens of thousands of them. On a
// few long-lived reader goroutines the large stacks exist once; handing a
// read over costs a channel round trip, about a microsecond.

// readOp is one read waiting for a reader goroutine.
type readOp struct {
	fn   func() error
	done chan error
}

var readOps = sync.Pool{New: func() any { return &readOp{done: make(chan error, 1)} }}

// startReaders starts the reader goroutines; they stop when the store closes.
func (s *Store) startReaders() {
	for range readers {
		s.readersWG.Go(func() {
			labeled("reader", func() {
				for {
					select {
					case op := <-s.reads:
						op.done <- op.fn()
					case <-s.quit:
						return
					}
				}
			})
		})
	}
}

// onReader runs fn, which reads through s.read, on a reader goroutine and
// returns its error. A caller whose context ends before a reader takes fn
// is answered at once.
func (s *Store) onReader(ctx context.Context, fn func() error) error {
	op := readOps.Get().(*readOp)
	op.fn = fn
	select {
	case s.reads <- op:
	case <-ctx.Done():
		op.fn = nil
		readOps.Put(op)
		return ctx.Err()
	case <-s.quit:
		op.fn = nil
		readOps.Put(op)
		return chat.ErrUnavailable
	}
	err := <-op.done
	op.fn = nil
	readOps.Put(op)
	return err
}

// closed reports whether Close was called: a closed store answers nothing,
// not even from its caches.
func (s *Store) closed() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}
