package postgres

import (
	"context"
	"embed"
	"fmt"
	"github.com/parley-chat/parley/internal/migration"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrations, "migrations")
}

// lockMigrations serializes migrators of one schema: nodes starting together
// take turns, and each finds what the others have applied. The lock is the
// transaction's, so it is released by its commit or rollback.
const lockMigrations = `SELECT pg_advisory_xact_lock(hashtext('parley.migrate'), hashtext(current_schema()))`

// migrate brings the schema forward, one transaction per migration, each
// under the migration lock. A schema written by a newer binary is refused
// rather than misread.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	latest := migration.Latest(ms)
	for _, m := range ms {
		var current int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY, name text NOT NULL,
				applied timestamptz NOT NULL DEFAULT now())`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if current > latest {
				return fmt.Errorf("store schema version %d is newer than this binary's %d: upgrade parley", current, latest)
			}
			if m.Version <= current {
				return nil // applied before, or by another node meanwhile
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
