package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

var _ chat.PrivacyStore = (*Store)(nil)

// TenantHosts returns the host of every tenant, sorted.
func (s *Store) TenantHosts(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT host FROM tenants ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("tenant hosts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("tenant hosts: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// EndedSessions returns up to limit sessions of the tenant that ended
// before t, earliest end first.
func (s *Store) EndedSessions(ctx context.Context, tenant string, before time.Time, limit int) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant = ? AND ended <> 0 AND ended < ? ORDER BY ended, rowid LIMIT ?`,
		tenant, before.UnixMilli(), limit)
}

// ClientSessions returns every session of the client, oldest first.
func (s *Store) ClientSessions(ctx context.Context, k chat.ClientKey) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant = ? AND app_id = ? AND client_id = ? ORDER BY created, rowid`, k.Tenant, k.AppID, k.ClientID)
}

// DeleteSession removes a session with its events, file rows, wrap-ups and
// push outbox rows.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	defer s.live.forget(id) // live.go
	return s.exec(ctx, func(tx *sql.Tx) error {
		s.dedup.forget(id)
		for _, q := range []string{
			`DELETE FROM events WHERE chat_id = ?`,
			`DELETE FROM files WHERE chat_id = ?`,
			`DELETE FROM wrapups WHERE chat_id = ?`,
			`DELETE FROM push_outbox WHERE chat_id = ?`,
			`DELETE FROM sessions WHERE id = ?`,
		} {
			if _, err := tx.Exec(q, id); err != nil {
				return fmt.Errorf("delete session: %w", err)
			}
		}
		return nil
	})
}

const fileColumns = `id, tenant, app_id, client_id, chat_id, name, content_type, size, created`

// SessionFiles returns the files attached to the chat.
func (s *Store) SessionFiles(ctx context.Context, chatID string) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files WHERE chat_id = ? ORDER BY created, id`, chatID)
}

// FilesBefore returns up to limit files of the tenant uploaded before t,
// oldest first, without agents' unattached files.
func (s *Store) FilesBefore(ctx context.Context, tenant string, before time.Time, limit int) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files
		WHERE tenant = ? AND created < ? AND NOT (client_id LIKE 'agent:%' AND chat_id = '')
		ORDER BY created, id LIMIT ?`, tenant, before.UnixMilli(), limit)
}

// ClientFiles returns every file the client uploaded.
func (s *Store) ClientFiles(ctx context.Context, k chat.ClientKey) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files
		WHERE tenant = ? AND app_id = ? AND client_id = ? ORDER BY created, id`, k.Tenant, k.AppID, k.ClientID)
}

// DeleteFiles removes the rows of the files ids.
func (s *Store) DeleteFiles(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `DELETE FROM files WHERE id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	return s.exec(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("delete files: %w", err)
		}
		return nil
	})
}

// ClientCases returns every case of the client, oldest first.
func (s *Store) ClientCases(ctx context.Context, k chat.ClientKey) ([]chat.Case, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE tenant = ? AND app_id = ? AND client_id = ? ORDER BY created, rowid`, k.Tenant, k.AppID, k.ClientID)
	if err != nil {
		return nil, fmt.Errorf("client cases: %w", err)
	}
	defer rows.Close()
	var out []chat.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCase removes the case row.
func (s *Store) DeleteCase(ctx context.Context, id string) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM cases WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete case: %w", err)
		}
		return nil
	})
}

func (s *Store) files(ctx context.Context, query string, args ...any) ([]chat.File, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	defer rows.Close()
	var out []chat.File
	for rows.Next() {
		var f chat.File
		var created int64
		if err := rows.Scan(&f.ID, &f.Tenant, &f.AppID, &f.ClientID, &f.ChatID,
			&f.Name, &f.ContentType, &f.Size, &created); err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		f.Created = time.UnixMilli(created)
		out = append(out, f)
	}
	return out, rows.Err()
}
