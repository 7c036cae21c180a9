// Package pgtest gives each test an empty PostgreSQL schema of its own on
// the machine's server, so that tests of the postgres store and of nodes
// running on it are isolated and may run in parallel.
//
// The server is named by PARLEY_TEST_POSTGRES (default DefaultDSN). When it
// cannot be reached the test is skipped, unless the environment variable CI
// is set: there a missing service is a failure, not a reason to pass.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultDSN is the test server of a developer machine: a local PostgreSQL
// with trust authentication and a database named test.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the DSN of the test server.
func DSN() string {
	if dsn := os.Getenv("PARLEY_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

var (
	reachOnce sync.Once
	reachErr  error
	// adminPool creates and drops the tests' schemas. It lives as long as
	// the test binary.
	adminPool *pgxpool.Pool
)

// Require skips (or, with CI set, fails) the test unless the test server
// answers. The server is tried once per test binary.
func Require(t testing.TB) {
	t.Helper()
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(DSN())
		if err != nil {
			reachErr = err
			return
		}
		cfg.MaxConns = 4
		if adminPool, err = pgxpool.NewWithConfig(context.Background(), cfg); err == nil {
			if err = adminPool.Ping(ctx); err != nil {
				adminPool.Close()
			}
		}
		reachErr = err
	})
	if reachErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL unreachable at %s (PARLEY_TEST_POSTGRES), and CI is set: %v", redact(DSN()), reachErr)
	}
	t.Skipf("PostgreSQL unreachable at %s: start it or set PARLEY_TEST_POSTGRES to run this test (%v)", redact(DSN()), reachErr)
}

// Schema creates an empty schema for the test, dropped when the test ends,
// and returns a DSN whose connections use it (search_path). Register the
// Close of stores opened on it after calling Schema, so that they close
// before it is dropped.
func Schema(t testing.TB) string {
	t.Helper()
	Require(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	admin(t, "CREATE SCHEMA "+name)
	t.Cleanup(func() { admin(t, "DROP SCHEMA IF EXISTS "+name+" CASCADE") })
	return WithSearchPath(DSN(), name)
}

// WithSearchPath returns dsn with its connections' search_path set to
// schema, in either form of DSN (URL or key=value).
func WithSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// admin runs one statement outside the tests' schemas.
func admin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adminPool.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// redact hides a password in a URL DSN.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

// KillRoutingLock ends the database session holding the routing leader's
// advisory lock (postgres.Leadership) of dsn's schema, as a failing server
// or network would, and fails the test unless exactly one held it.
func KillRoutingLock(t testing.TB, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted
		AND l.classid = hashtext('parley.routing')::oid AND l.objid = hashtext(current_schema())::oid`).Scan(&killed); err != nil {
		t.Fatalf("kill the session holding the routing lock: %v", err)
	}
	if killed != 1 {
		t.Fatalf("killed %d sessions holding the routing lock, want 1", killed)
	}
}
