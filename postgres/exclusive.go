package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// lockStartup is taken by Exclusive. It is a session lock on a connection of
// its own, released when that connection closes, by Exclusive or by the
// death of its process.
const lockStartup = `SELECT pg_advisory_lock(hashtext('parley.startup'), hashtext(current_schema()))`

// Exclusive runs fn while no other Exclusive runs on the same schema, on any
// node: nodes starting together seed the store and apply their
// configuration one after the other instead of racing to create the same
// rows. empty tells fn whether the store holds no tenant yet, so that a new
// store is seeded once, by whichever node gets there first.
//
// The lock is held on a connection outside the pool, so fn may use the
// store freely, whatever the pool's size.
func (s *Store) Exclusive(ctx context.Context, fn func(ctx context.Context, empty bool) error) (err error) {
	if err := s.usable(ctx); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("exclusive: %w", storeErr(err))
	}
	defer func() { err = errors.Join(err, conn.Close(context.WithoutCancel(ctx))) }()
	if _, err := conn.Exec(ctx, lockStartup); err != nil {
		return fmt.Errorf("exclusive: lock: %w", storeErr(err))
	}
	var empty bool
	if err := conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM tenants)`).Scan(&empty); err != nil {
		return fmt.Errorf("exclusive: %w", storeErr(err))
	}
	return fn(ctx, empty)
}
