// Package postgres is Parley's store for nodes that share one database: a
// chat.Store on PostgreSQL through pgx, with hand-written SQL and its own
// migrations (migrations/*.sql, applied at Open).
//
// Several nodes may use one database at once. Whatever must not happen
// twice is settled by PostgreSQL itself: a chat's sequence numbers are
// assigned under its session's row lock, one live chat per client and one
// stored event per msg_id are unique indexes, and migrations and start-up
// seeding take advisory locks.
//
// It imports the chat package and pgx only; nothing of HTTP or routing.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parley-chat/parley/chat"
)

// writeTimeout bounds a write once it has started. A write is not cut short
// by its caller's context (a customer who hangs up mid-send): finishing it
// means an error always says nothing was written, as in the SQLite store.
const writeTimeout = 30 * time.Second

// defaultMaxConns is the pool's size when the DSN sets none
// (pool_max_conns). pgx's default, the number of CPUs and at least four,
// held a node's requests in line for a connection while each waited on
// its round trips: a poll and a send each make a few. Two nodes with this
// many stay well under PostgreSQL's default max_connections of 100.
const defaultMaxConns = 16

// connectTimeout bounds each new connection when the DSN sets none
// (connect_timeout).
const connectTimeout = 10 * time.Second

// Store is a chat.Store on a PostgreSQL database. It is safe for concurrent
// use, and several Stores, in one process or many, may share a database.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool

	// Rows read at every request, kept for a moment (recent.go).
	tenants recent[string, chat.Tenant]
	entries recent[[2]string, chat.Entry]
	agents  recent[string, chat.Agent]
	tokens  recent[string, chat.Token]
}

var _ chat.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as libpq takes them; pool_max_conns and the other
// pgxpool settings included) and brings its schema up to date. Connections
// use the schema the DSN's search_path names, "public" by default.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return chat.ErrUnavailable
	}
	return storeErr(s.pool.Ping(ctx))
}

// Close waits for the queries in flight and closes every connection.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
	return nil
}

// write runs fn in a transaction. A caller whose context has ended before
// the write starts is refused; once started, the write runs to its end
// (bounded by writeTimeout) so that an error means nothing was written. A
// commit whose answer is lost with the connection stays ambiguous, as with
// any network database: clients resend with the same msg_id.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
	return storeErr(err)
}

// batcher sends batches: a transaction or a connection.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// writeBatches runs a write as fn sends it on a connection of its own:
// BEGIN goes out with fn's first batch and COMMIT with its last, so that a
// write of two batches is two round trips where pgx.BeginFunc's took four
// (Append: the lock and the dedup read, then the rows). A transaction fn
// leaves open, by an error on the way, is rolled back; as in write, once
// started the write runs to its end.
func (s *Store) writeBatches(ctx context.Context, fn func(ctx context.Context, conn batcher) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return storeErr(err)
	}
	// The pool closes a connection released inside a transaction: a
	// rollback that fails costs a reconnection, not a leak.
	defer conn.Release()
	err = fn(ctx, conn)
	if conn.Conn().PgConn().TxStatus() != 'I' {
		if _, rbErr := conn.Exec(ctx, `ROLLBACK`); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
	}
	return storeErr(err)
}

// exec runs one statement as a write (see write) and returns how many rows
// it changed.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, storeErr(err)
	}
	return tag.RowsAffected(), nil
}

// mustChange runs one statement as a write and turns "no row matched" into
// chat.ErrNotFound.
func (s *Store) mustChange(ctx context.Context, sql string, args ...any) error {
	n, err := s.exec(ctx, sql, args...)
	if err == nil && n == 0 {
		return chat.ErrNotFound
	}
	return err
}

func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return chat.ErrUnavailable
	}
	return ctx.Err()
}

// PostgreSQL error codes the store translates.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	// Text may not hold NUL characters: as bytes in a text column
	// (character_not_in_repertoire) or as \u0000 in jsonb
	// (untranslatable_character).
	codeNotInRepertoire = "22021"
	codeUntranslatable  = "22P05"
)

// errNUL answers a write of text PostgreSQL cannot hold. It is the client's
// to fix, not a server failure a client should retry.
var errNUL = chat.Errorf(chat.CodeInvalid, "text with a NUL character cannot be stored")

// storeErr turns PostgreSQL's errors into the chat package's sentinels.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeUniqueViolation:
			return chat.ErrConflict
		case codeForeignKeyViolation:
			return chat.ErrNotFound
		case codeNotInRepertoire, codeUntranslatable:
			return errNUL
		}
		return err
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %w", chat.ErrUnavailable, err)
	}
	return err
}

// notFound turns "no rows" into chat.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return chat.ErrNotFound
	}
	return storeErr(err)
}

// timeOrNil is a time for a nullable timestamptz column: NULL for the zero
// time, which means "not yet".
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// timeOrZero reads a nullable timestamptz column back.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
