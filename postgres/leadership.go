package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The routing leadership of the nodes sharing a schema is a session-level
// advisory lock. Unlike the transaction locks of migrations, it outlives
// statements and transactions: it is held as long as the session that took
// it lives, and PostgreSQL releases it the moment that session ends.
const (
	lockRouting   = `SELECT pg_try_advisory_lock(hashtext('parley.routing'), hashtext(current_schema()))`
	unlockRouting = `SELECT pg_advisory_unlock(hashtext('parley.routing'), hashtext(current_schema()))`
)

// LeadershipApp is the application_name of the sessions that try for or
// hold the routing leadership (unless the DSN names one): what an operator
// looks for in pg_stat_activity.
const LeadershipApp = "parley-routing-lock"

// Leadership is one node's claim to the routing leadership of the nodes
// sharing its schema: at most one Leadership holds it at a time, on any
// node. It keeps a connection of its own, outside the pool, on which it
// tries for the lock and, once it holds it, checks that the session lives.
//
// The session's TCP keepalives are short (a probe after 5 s idle, given up
// after 3 more seconds), so that the server ends the session of a node cut
// off from it, and releases the lock, within seconds rather than the
// operating system's two hours.
//
// A Leadership is safe for concurrent use.
type Leadership struct {
	cfg   *pgx.ConnConfig
	scope string

	mu   sync.Mutex
	conn *pgx.Conn // nil when closed or lost
	held bool
}

// errNotHeld is Check's error when the lock is not held.
var errNotHeld = errors.New("postgres: routing leadership not held")

// Leadership connects for the routing leadership of the store's schema,
// without trying for it yet.
func (s *Store) Leadership(ctx context.Context) (*Leadership, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = LeadershipApp
	}
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "1"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	l := &Leadership{cfg: cfg}
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	// The scope names what is led: one schema of one database of one
	// server, whatever name each node reaches the server by.
	var db, schema, system string
	if err := l.conn.QueryRow(ctx, `SELECT current_database(), current_schema(),
		CASE WHEN has_function_privilege('pg_control_system()', 'execute')
			THEN (SELECT system_identifier::text FROM pg_control_system()) ELSE '' END`).Scan(&db, &schema, &system); err != nil {
		l.Close()
		return nil, fmt.Errorf("postgres: leadership scope: %w", storeErr(err))
	}
	sum := sha256.Sum256([]byte(system + "/" + db + "/" + schema))
	l.scope = hex.EncodeToString(sum[:8])
	return l, nil
}

// Scope names the deployment whose leadership this is, the same on every
// node sharing the schema: a short hex token, fit for a NATS subject.
func (l *Leadership) Scope() string { return l.scope }

// connect opens the lock's connection; the caller holds mu or owns l.
func (l *Leadership) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return fmt.Errorf("postgres: leadership: %w", storeErr(err))
	}
	l.conn = conn
	return nil
}

// TryAcquire tries for the lock once, without waiting, and reports whether
// this Leadership holds it. A lost connection is opened again.
func (l *Leadership) TryAcquire(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return true, nil
	}
	if l.conn == nil || l.conn.IsClosed() {
		if err := l.connect(ctx); err != nil {
			return false, err
		}
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, lockRouting).Scan(&ok); err != nil {
		l.drop()
		return false, fmt.Errorf("postgres: try for leadership: %w", storeErr(err))
	}
	l.held = ok
	return ok, nil
}

// Check reports whether the lock is still held: the session that holds it
// answers. Any failure counts as the lock lost, and the connection is
// closed, so that the server ends the session and releases the lock if it
// has not already.
func (l *Leadership) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held || l.conn == nil {
		return errNotHeld
	}
	if _, err := l.conn.Exec(ctx, `SELECT 1`); err != nil {
		l.drop()
		return fmt.Errorf("postgres: leadership lost: %w", storeErr(err))
	}
	return nil
}

// Release gives the lock up, keeping the connection to try again later.
func (l *Leadership) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return nil
	}
	l.held = false
	if _, err := l.conn.Exec(ctx, unlockRouting); err != nil {
		// Ending the session releases the lock all the same.
		l.drop()
		return fmt.Errorf("postgres: release leadership: %w", storeErr(err))
	}
	return nil
}

// Close releases the lock, if held, by closing the connection.
func (l *Leadership) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drop()
	return nil
}

// drop closes the connection: the session ends, and the lock with it. The
// caller holds mu.
func (l *Leadership) drop() {
	l.held = false
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = l.conn.Close(ctx)
	l.conn = nil
}
