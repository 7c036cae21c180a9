// Package sqlite is Parley's embedded store: one SQLite file in WAL mode
// through a pure-Go driver, no cgo and no server.
//
// All writes go through one goroutine that commits them in groups: SQLite
// allows one writer at a time and a commit costs an fsync, so many appends
// waiting together share one transaction (each in its own savepoint, so one
// failing write does not undo the others). Reads use a separate pool and run
// concurrently with writes.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chat"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// maxGroup bounds how many writes share one commit. Under load the writer
// is busy all the time and groups grow to it: the larger they are, the
// more of a commit's cost (the fsync, pages several writes touch) is
// shared.
const maxGroup = 1024

// writerCache is the page cache of the writer's connection (KiB). Appends
// touch a page of each chat they go to; with SQLite's default of 2 MiB a
// few thousand live chats no longer fit and pages are read back at every
// append.
const writerCache = 32 << 10

// logSizeLimit is what the write-ahead log is cut back to when it starts
// over (bytes): a few times what it holds between two restarts.
const logSizeLimit = 64 << 20

// Store is a chat.Store on a SQLite file.
type Store struct {
	read  *sql.DB
	write *sql.DB
	ops   chan *op
	quit  chan struct{}
	// stopped is closed once the writer has answered the last write it took.
	stopped chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	reads     chan *readOp // to the reader goroutines (readers.go)
	readersWG sync.WaitGroup
	config    configCache  // tenants and entries (cache.go)
	agents    agentCache   // agents and their login tokens (cache.go)
	cursors   cursorBuffer // cursor moves not yet written (cursors.go)
	live      liveCache    // sessions and event tails of recent chats (live.go)
	// groupLast is where the logs written to by the group being committed
	// stand; the writer's alone, emptied at each group (events.go).
	groupLast map[string]groupSeq
	groupAsk  bool       // a write of the group failed: groupLast may be wrong
	dedup     dedupSets  // msg_ids of the chats written to (dedup.go); the writer's alone
	st        statements // prepared (stmts.go)
	txOf      *sql.Tx    // the writer's transaction txStmts are bound to
	txStmts   map[*sql.Stmt]*sql.Stmt
	payload   []byte       // the writer's buffer for an event's payload (events.go)
	ckpt      checkpoints  // checkpoint.go
	busy      atomic.Int64 // nanoseconds the writer was busy (WriterBusy)
	commits   atomic.Int64 // transactions the writer committed (WriterStats)
	writes    atomic.Int64 // writes in them
}

var _ chat.Store = (*Store)(nil)

// op is one write waiting for the writer goroutine.
type op struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	after func() // run by the writer once fn's write is committed; may be nil
	done  chan error
}

// Open opens (creating if needed) the store at path and migrates its schema.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, ckptFrames, restartFrames)
}

// open is Open with the checkpoints' thresholds (checkpoint.go).
func open(ctx context.Context, path string, ckptEvery, ckptRestart int) (*Store, error) {
	// synchronous(FULL): an event is acknowledged only once it survives a
	// power cut, not merely a process crash; group commits pay for it.
	pragmas := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + pragmas
	// wal_autocheckpoint(0): checkpoints run on a connection of their own
	// (checkpoint.go). journal_size_limit: a log that grew large (a
	// migration, a burst, a long backup) is cut back to it when it starts
	// over, instead of keeping its largest size on disk.
	write, err := sql.Open("sqlite", dsn+fmt.Sprintf("&_txlock=immediate&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)",
		writerCache, logSizeLimit))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	ckpt, err := sql.Open("sqlite", dsn)
	if err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	s := &Store{read: read, write: write, ops: make(chan *op, maxGroup), quit: make(chan struct{}), stopped: make(chan struct{}),
		reads: make(chan *readOp), groupLast: map[string]groupSeq{},
		ckpt: checkpoints{db: ckpt, wake: make(chan struct{}, 1), finish: make(chan struct{}, 1), every: ckptEvery, restart: ckptRestart}}
	if err := s.prepare(ctx); err != nil {
		s.st.close()
		read.Close()
		write.Close()
		ckpt.Close()
		return nil, err
	}
	s.wg.Add(2)
	go labeled("writer", s.writer)
	go labeled("checkpointer", s.checkpointer)
	s.startReaders()
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.onReader(ctx, func() error { return s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one) })
}

// Close finishes the pending writes and closes the database.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.quit) })
	s.wg.Wait()
	s.readersWG.Wait()
	s.st.close()
	// The connection closed last copies what is left of the log into the
	// database file and removes the log.
	return errors.Join(s.read.Close(), s.write.Close(), s.ckpt.db.Close())
}

// exec runs fn in the writer's next group commit and waits until that
// commit is durable. A caller whose context ends before its write starts is
// skipped; once started, the write is waited for so that an error always
// means nothing was written.
func (s *Store) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.execAfter(ctx, fn, nil)
}

// execAfter is exec with a function the writer runs once fn's write is
// committed, before the caller is answered: it keeps the live cache
// (live.go) in the order of the commits.
func (s *Store) execAfter(ctx context.Context, fn func(tx *sql.Tx) error, after func()) error {
	o := &op{ctx: ctx, fn: fn, after: after, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.quit:
		return chat.ErrUnavailable
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-o.done:
		return err
	case <-s.stopped:
		// A write queued while the store closed may never be taken: the
		// writer answered every write it took, so one unanswered now was
		// not written.
		select {
		case err := <-o.done:
			return err
		default:
			return chat.ErrUnavailable
		}
	}
}

// labeled runs fn with the profiler label store=role: CPU profiles tell
// the writer's time, on which every append waits, from the rest.
func labeled(role string, fn func()) {
	pprof.Do(context.Background(), pprof.Labels("store", role), func(context.Context) { fn() })
}

func (s *Store) writer() {
	defer s.wg.Done()
	defer close(s.stopped)
	group := make([]*op, 0, maxGroup)
	flush := time.NewTicker(cursorFlush)
	defer flush.Stop()
	for {
		select {
		case o := <-s.ops:
			group = append(group[:0], o)
		case <-flush.C:
			group = group[:0] // cursor moves alone, or with what is queued now
		case <-s.quit:
			s.drain(group)
			return
		}
		start := time.Now()
		// Let the goroutines that are ready to run go first: on a busy
		// node some are about to queue writes, which then share this
		// commit's fsync and page writes. On an idle one nobody is
		// waiting and this returns at once.
		runtime.Gosched()
	gather:
		for len(group) < maxGroup {
			select {
			case o := <-s.ops:
				group = append(group, o)
			default:
				break gather
			}
		}
		s.commit(group)
		s.afterCommit()
		s.busy.Add(int64(time.Since(start)))
	}
}

// WriterBusy returns how long the writer has been busy since the store
// opened: committing groups, and waiting for their fsyncs. Every append
// goes through the one writer; once it is busy all the time, appends wait
// in line and their latency grows with the queue.
func (s *Store) WriterBusy() time.Duration { return time.Duration(s.busy.Load()) }

// WriterStats are the writer's totals since the store opened.
type WriterStats struct {
	Commits int64         // transactions committed, each one fsync
	Writes  int64         // writes (appends, creations, …) in them
	Busy    time.Duration // as WriterBusy
}

// WriterStats returns the writer's totals. Writes per commit is how much
// group commit saves: each commit costs an fsync and a write of every
// page it changed, shared by the writes of its group.
func (s *Store) WriterStats() WriterStats {
	return WriterStats{Commits: s.commits.Load(), Writes: s.writes.Load(), Busy: s.WriterBusy()}
}

// drain commits what is queued at shutdown.
func (s *Store) drain(group []*op) {
	for {
		group = group[:0]
		for len(group) < maxGroup {
			select {
			case o := <-s.ops:
				group = append(group, o)
				continue
			default:
			}
			break
		}
		if len(group) == 0 {
			s.commit(nil) // the last cursor moves
			return
		}
		s.commit(group)
	}
}

// commit runs a group of writes in one transaction, with the cursor moves
// recorded so far.
//
// A write that fails must be undone alone, the others kept: each could
// run in a savepoint, but two statements more per write (SAVEPOINT and
// RELEASE) cost about a tenth of an append. Writes seldom fail once
// started, and those that commonly do fail before they change anything
// (an append to an ended chat, a second live chat of a client): they say
// so (unchanged). So the group runs without savepoints first; if a write
// fails after it may have changed something, the transaction is rolled
// back and the group runs again, each write in a savepoint. Writes must
// therefore be safe to run twice, as they are: their functions only set
// what they return, and what they leave in the writer's memory (msg_id
// sets, groupLast) is made again or is safe to keep.
func (s *Store) commit(group []*op) {
	moves := s.cursors.unwritten()
	if len(group) == 0 && len(moves) == 0 {
		return
	}
	results := make([]error, len(group))
	err := s.runGroup(group, moves, results, false)
	if errors.Is(err, errSavepoints) {
		err = s.runGroup(group, moves, results, true)
	}
	if err == nil {
		s.commits.Add(1)
		s.writes.Add(int64(len(group)))
	}
	if err == nil && len(moves) > 0 {
		s.cursors.written(moves)
	}
	for i, o := range group {
		if err != nil {
			results[i] = err
		}
		if results[i] == nil && o.after != nil {
			o.after()
		}
		o.done <- results[i]
	}
}

// errSavepoints rolls a group back for it to run again with savepoints.
var errSavepoints = errors.New("a write failed: run the group in savepoints")

// runGroup runs the group's writes and the cursor moves in a transaction
// and commits it, leaving each write's error in results. Without
// savepoints it stops at the first write that fails after it may have
// changed something, rolls back and returns errSavepoints.
func (s *Store) runGroup(group []*op, moves map[string]int64, results []error, savepoints bool) error {
	clear(s.groupLast)
	s.groupAsk = false
	return s.inTx(func(tx *sql.Tx) error {
		for i, o := range group {
			if savepoints {
				if results[i] = s.runSavepoint(tx, o); results[i] != nil {
					// The write was undone, maybe after its append noted
					// where its log stood: the rest of the group asks the
					// database.
					s.groupAsk = true
				}
				continue
			}
			if err := o.ctx.Err(); err != nil {
				results[i] = err // not started: nothing to undo
				continue
			}
			err := o.fn(tx)
			var u unchanged
			if errors.As(err, &u) {
				err = u.err
			} else if err != nil {
				return errSavepoints
			}
			results[i] = err
		}
		s.writeCursors(tx, moves)
		return nil
	})
}

// unchanged is the error of a write that failed before it changed
// anything: the rest of its group needs no undoing.
type unchanged struct{ err error }

func (u unchanged) Error() string { return u.err.Error() }
func (u unchanged) Unwrap() error { return u.err }

// changed drops the mark of unchanged from err: the caller wrote before.
func changed(err error) error {
	var u unchanged
	if errors.As(err, &u) {
		return u.err
	}
	return err
}

func (s *Store) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := s.write.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) runSavepoint(tx *sql.Tx, o *op) error {
	if err := o.ctx.Err(); err != nil {
		return err
	}
	if _, err := s.stmt(tx, s.st.savepoint).Exec(); err != nil {
		return err
	}
	if err := changed(o.fn(tx)); err != nil {
		if _, rbErr := s.stmt(tx, s.st.rollbackTo).Exec(); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		_, rbErr := s.stmt(tx, s.st.release).Exec()
		return errors.Join(err, rbErr)
	}
	_, err := s.stmt(tx, s.st.release).Exec()
	return err
}
