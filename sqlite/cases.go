package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

// PutCase stores a new case.
func (s *Store) PutCase(ctx context.Context, c chat.Case) error {
	var closed int64
	if !c.Closed.IsZero() {
		closed = c.Closed.UnixMilli()
	}
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO cases (id, tenant, app_id, client_id, created, closed) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.Tenant, c.AppID, c.ClientID, c.Created.UnixMilli(), closed)
		if isUnique(err) {
			return chat.ErrConflict
		}
		return err
	})
}

const caseColumns = `id, tenant, app_id, client_id, created, closed`

// Case returns the case id.
func (s *Store) Case(ctx context.Context, id string) (chat.Case, error) {
	return scanCase(s.read.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id))
}

// OpenCase returns the client's most recent open case on its entry.
func (s *Store) OpenCase(ctx context.Context, k chat.ClientKey) (chat.Case, error) {
	return scanCase(s.read.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE tenant = ? AND app_id = ? AND client_id = ? AND closed = 0
		ORDER BY created DESC, rowid DESC LIMIT 1`, k.Tenant, k.AppID, k.ClientID))
}

func scanCase(row scanner) (chat.Case, error) {
	var c chat.Case
	var created, closed int64
	err := row.Scan(&c.ID, &c.Tenant, &c.AppID, &c.ClientID, &created, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Case{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Case{}, fmt.Errorf("read case: %w", err)
	}
	c.Created = time.UnixMilli(created)
	if closed != 0 {
		c.Closed = time.UnixMilli(closed)
	}
	return c, nil
}

// CloseCase closes the case id; closing a closed case keeps its first close.
func (s *Store) CloseCase(ctx context.Context, id string) error {
	now := time.Now().UnixMilli()
	return s.exec(ctx, func(tx *sql.Tx) error {
		return mustChange(tx.Exec(`UPDATE cases SET closed = CASE WHEN closed = 0 THEN ? ELSE closed END WHERE id = ?`, now, id))
	})
}

// CaseSessions returns the sessions linked to the case, oldest first.
func (s *Store) CaseSessions(ctx context.Context, caseID string) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE case_id = ? ORDER BY created, rowid`, caseID)
}
