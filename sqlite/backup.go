package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/parley-chat/parley/internal/migration"
	"net/url"
	"os"
)

// Snapshot copies the store at path into a new file dest (which must not
// exist) as one consistent moment of it, with SQLite's VACUUM INTO: a
// read transaction, so it runs beside a node that is writing, in this
// process or another, without stopping it. The copy is compacted and
// checked, and its schema version returned.
func Snapshot(ctx context.Context, path, dest string) (schema int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	// Not query_only: SQLite counts VACUUM INTO as a write, though it
	// writes only dest.
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return 0, fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return 0, fmt.Errorf("snapshot %s: %w", path, err)
	}
	schema, err = Check(ctx, dest)
	if err != nil {
		return 0, fmt.Errorf("snapshot: the copy: %w", err)
	}
	return schema, nil
}

// Check verifies that path holds a sound Parley store, without changing
// it, and returns its schema version; it refuses a schema newer than this
// binary's, which it could not serve.
func Check(ctx context.Context, path string) (schema int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", dsn(path)+"&_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var verdict string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&verdict); err != nil {
		return 0, fmt.Errorf("check %s: %w", path, err)
	}
	if verdict != "ok" {
		return 0, fmt.Errorf("check %s: %s", path, verdict)
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&schema); err != nil {
		return 0, fmt.Errorf("check %s: not a Parley store: %w", path, err)
	}
	latest, err := LatestSchema()
	if err != nil {
		return 0, err
	}
	if schema > latest {
		return schema, fmt.Errorf("%s has schema version %d, newer than this binary's %d: %w", path, schema, latest, ErrNewerSchema)
	}
	return schema, nil
}

// ErrNewerSchema is the error of a store written by a newer binary.
var ErrNewerSchema = errors.New("upgrade parley")

// LatestSchema is the schema version this binary migrates stores to.
func LatestSchema() (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	return migration.Latest(ms), nil
}

// dsn is the database/sql name of the store at path, with the pragmas
// every connection needs.
func dsn(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
}
