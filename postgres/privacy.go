package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/chat"
)

var _ chat.PrivacyStore = (*Store)(nil)

// TenantHosts returns the host of every tenant, sorted.
func (s *Store) TenantHosts(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT host FROM tenants ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("tenant hosts: %w", storeErr(err))
	}
	hosts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("tenant hosts: %w", storeErr(err))
	}
	return hosts, nil
}

// EndedSessions returns up to limit sessions of the tenant that ended
// before t, earliest end first.
func (s *Store) EndedSessions(ctx context.Context, tenant string, before time.Time, limit int) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant = $1 AND ended IS NOT NULL AND ended < $2 ORDER BY ended, created_order LIMIT $3`,
		tenant, before, limit)
}

// ClientSessions returns every session of the client, oldest first.
func (s *Store) ClientSessions(ctx context.Context, k chat.ClientKey) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant = $1 AND app_id = $2 AND client_id = $3 ORDER BY created, created_order`,
		k.Tenant, k.AppID, k.ClientID)
}

// DeleteSession removes a session with its events, file rows, wrap-ups and
// push outbox rows, in one transaction.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, q := range []string{
			`DELETE FROM events WHERE chat_id = $1`,
			`DELETE FROM files WHERE chat_id = $1`,
			`DELETE FROM wrapups WHERE chat_id = $1`,
			`DELETE FROM push_outbox WHERE chat_id = $1`,
			`DELETE FROM sessions WHERE id = $1`,
		} {
			b.Queue(q, id)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", storeErr(err))
	}
	return nil
}

const fileColumns = `id, tenant, app_id, client_id, chat_id, name, content_type, size, created`

// SessionFiles returns the files attached to the chat.
func (s *Store) SessionFiles(ctx context.Context, chatID string) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files WHERE chat_id = $1 ORDER BY created, id`, chatID)
}

// FilesBefore returns up to limit files of the tenant uploaded before t,
// oldest first, without agents' unattached files.
func (s *Store) FilesBefore(ctx context.Context, tenant string, before time.Time, limit int) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files
		WHERE tenant = $1 AND created < $2 AND NOT (client_id LIKE 'agent:%' AND chat_id = '')
		ORDER BY created, id LIMIT $3`, tenant, before, limit)
}

// ClientFiles returns every file the client uploaded.
func (s *Store) ClientFiles(ctx context.Context, k chat.ClientKey) ([]chat.File, error) {
	return s.files(ctx, `SELECT `+fileColumns+` FROM files
		WHERE tenant = $1 AND app_id = $2 AND client_id = $3 ORDER BY created, id`, k.Tenant, k.AppID, k.ClientID)
}

// DeleteFiles removes the rows of the files ids.
func (s *Store) DeleteFiles(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, `DELETE FROM files WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("delete files: %w", err)
	}
	return nil
}

// ClientCases returns every case of the client, oldest first.
func (s *Store) ClientCases(ctx context.Context, k chat.ClientKey) ([]chat.Case, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+caseColumns+` FROM cases
		WHERE tenant = $1 AND app_id = $2 AND client_id = $3 ORDER BY created, created_order`,
		k.Tenant, k.AppID, k.ClientID)
	if err != nil {
		return nil, fmt.Errorf("client cases: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("client cases: %w", err)
		}
		out = append(out, c)
	}
	return out, storeErr(rows.Err())
}

// DeleteCase removes the case row.
func (s *Store) DeleteCase(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM cases WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete case: %w", err)
	}
	return nil
}

func (s *Store) files(ctx context.Context, query string, args ...any) ([]chat.File, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.File
	for rows.Next() {
		var f chat.File
		if err := rows.Scan(&f.ID, &f.Tenant, &f.AppID, &f.ClientID, &f.ChatID,
			&f.Name, &f.ContentType, &f.Size, &f.Created); err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		out = append(out, f)
	}
	return out, storeErr(rows.Err())
}
