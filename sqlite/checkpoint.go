package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	msqlite "modernc.org/sqlite"
)

// Checkpoints copy the pages of the write-ahead log back into the database
// file so that the log can start over. SQLite runs one in the committing
// connection once the log holds 1,000 pages: on the writer, between a
// group's commit and its answers, every few hundred appends under load.
// They run on a connection of their own instead (wal_autocheckpoint is off
// on the writer's), woken by the writer once ckptFrames pages were written
// to the log since the last one.
//
// A checkpoint from another connection copies the log only up to its end
// when it started, and the log starts over only if, when the writer begins
// a transaction, every page of it has been copied. Under steady load the
// writer always commits while the copy runs: the log would never start
// over and grow without end (a first try grew it to a gigabyte in a
// minute). So when a checkpoint finds the log longer than restartFrames,
// the writer finishes the copy itself, between two groups: only the pages
// committed since the background checkpoint began are left to copy, and
// the next group begins with the log copied in full, which lets it start
// over. A reader still on the older pages can defer that to a later try.

const (
	ckptFrames    = 1000 // pages written to the log that wake the checkpointer
	restartFrames = 4000 // a log this long has not started over: the writer finishes the copy
)

type checkpoints struct {
	db     *sql.DB       // the checkpointer's connection
	wake   chan struct{} // the writer wrote ckptFrames pages (buffered: at most one pending)
	finish chan struct{} // the checkpointer asks the writer to finish (buffered likewise)
	frames int           // pages the writer wrote since it last woke the checkpointer
	logged int64         // pages the writer wrote since the store opened
	// ckptFrames and restartFrames, but in tests.
	every, restart int
}

// checkpointer copies the log into the database file each time the writer
// wakes it, until the store closes.
func (s *Store) checkpointer() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ckpt.wake:
		case <-s.quit:
			return
		}
		_, log, err := checkpoint(s.ckpt.db)
		if err == nil && log >= s.ckpt.restart {
			select {
			case s.ckpt.finish <- struct{}{}:
			default:
			}
		}
	}
}

// checkpoint runs a passive checkpoint on db: it copies what no reader
// still needs from the log, without waiting for anyone. It returns the
// pages copied and the pages the log holds.
func checkpoint(db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (copied, log int, err error) {
	var busy int
	err = db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
	if err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return copied, log, nil
}

// afterCommit is the writer's part, between groups: it counts the pages
// the last commit wrote to the log, wakes the checkpointer when they add
// up, and finishes a checkpoint when asked to.
func (s *Store) afterCommit() {
	ctx := context.Background()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.Raw(func(dc any) error {
		if st, ok := dc.(msqlite.DBStatus); ok {
			// In WAL mode the pages a connection writes are log frames.
			n, _, err := st.Status(msqlite.DBStatusCacheWrite, true)
			if err == nil {
				s.ckpt.frames += n
				s.ckpt.logged += int64(n)
			}
		}
		return nil
	})
	if s.ckpt.frames >= s.ckpt.every {
		s.ckpt.frames = 0
		select {
		case s.ckpt.wake <- struct{}{}:
		default:
		}
	}
	select {
	case <-s.ckpt.finish:
		_, _, _ = checkpoint(conn) // a failure leaves it to the next try
	default:
	}
}
