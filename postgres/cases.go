package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/chat"
)

// PutCase stores a new case.
func (s *Store) PutCase(ctx context.Context, c chat.Case) error {
	if _, err := s.exec(ctx, `INSERT INTO cases (id, tenant, app_id, client_id, created, closed) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.Tenant, c.AppID, c.ClientID, c.Created, timeOrNil(c.Closed)); err != nil {
		return fmt.Errorf("put case: %w", err)
	}
	return nil
}

const caseColumns = `id, tenant, app_id, client_id, created, closed`

// Case returns the case id.
func (s *Store) Case(ctx context.Context, id string) (chat.Case, error) {
	return scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, id))
}

// OpenCase returns the client's most recent open case on its entry.
func (s *Store) OpenCase(ctx context.Context, k chat.ClientKey) (chat.Case, error) {
	return scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE tenant = $1 AND app_id = $2 AND client_id = $3 AND closed IS NULL
		ORDER BY created DESC, created_order DESC LIMIT 1`, k.Tenant, k.AppID, k.ClientID))
}

func scanCase(row pgx.Row) (chat.Case, error) {
	var c chat.Case
	var closed *time.Time
	if err := row.Scan(&c.ID, &c.Tenant, &c.AppID, &c.ClientID, &c.Created, &closed); err != nil {
		return chat.Case{}, notFound(err)
	}
	c.Closed = timeOrZero(closed)
	return c, nil
}

// CloseCase closes the case id; closing a closed case keeps its first close.
func (s *Store) CloseCase(ctx context.Context, id string) error {
	if err := s.mustChange(ctx, `UPDATE cases SET closed = coalesce(closed, $2) WHERE id = $1`, id, time.Now()); err != nil {
		return fmt.Errorf("close case: %w", err)
	}
	return nil
}

// CaseSessions returns the sessions linked to the case, oldest first.
func (s *Store) CaseSessions(ctx context.Context, caseID string) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE case_id = $1
		ORDER BY created, created_order`, caseID)
}
