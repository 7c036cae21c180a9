package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Tenants returns every tenant ordered by host, without entries.
func (s *Store) Tenants(ctx context.Context) ([]chat.Tenant, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT config FROM tenants ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []chat.Tenant
	for rows.Next() {
		var doc []byte
		var t chat.Tenant
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		if err := json.Unmarshal(doc, &t); err != nil {
			return nil, fmt.Errorf("decode tenant: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// PutAdminToken creates or replaces an admin token.
func (s *Store) PutAdminToken(ctx context.Context, t chat.AdminToken) error {
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return fmt.Errorf("put admin token: %w", err)
	}
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO admin_tokens (id, hash, name, scopes, created, disabled) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, name = excluded.name,
				scopes = excluded.scopes, created = excluded.created, disabled = excluded.disabled`,
			t.ID, t.Hash, t.Name, string(scopes), t.Created.UnixMilli(), t.Disabled)
		if isUnique(err) {
			return chat.ErrConflict
		}
		return err
	})
}

const adminTokenColumns = `id, hash, name, scopes, created, disabled`

// AdminToken returns the admin token stored with that hash.
func (s *Store) AdminToken(ctx context.Context, hash string) (chat.AdminToken, error) {
	return scanAdminToken(s.read.QueryRowContext(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = ?`, hash))
}

// AdminTokens returns every admin token, oldest first.
func (s *Store) AdminTokens(ctx context.Context) ([]chat.AdminToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	defer rows.Close()
	var out []chat.AdminToken
	for rows.Next() {
		t, err := scanAdminToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanAdminToken(row interface{ Scan(...any) error }) (chat.AdminToken, error) {
	var t chat.AdminToken
	var scopes string
	var created int64
	err := row.Scan(&t.ID, &t.Hash, &t.Name, &scopes, &created, &t.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return t, chat.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("read admin token: %w", err)
	}
	t.Created = time.UnixMilli(created).UTC()
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return t, fmt.Errorf("decode admin token scopes: %w", err)
	}
	return t, nil
}

// AppendAudit records an audit entry and returns it with its ID.
func (s *Store) AppendAudit(ctx context.Context, e chat.AuditEntry) (chat.AuditEntry, error) {
	var detail any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	err := s.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`INSERT INTO audit_log (time, token_id, token_name, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
			e.Time.UnixMilli(), e.TokenID, e.TokenName, e.Action, e.Target, detail)
		if err != nil {
			return err
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return e, fmt.Errorf("append audit: %w", err)
	}
	return e, nil
}

// Audit returns up to limit audit entries with an ID below before (0: no
// bound), newest first.
func (s *Store) Audit(ctx context.Context, before int64, limit int) ([]chat.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, time, token_id, token_name, action, target, detail
		FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []chat.AuditEntry
	for rows.Next() {
		var e chat.AuditEntry
		var ms int64
		var detail sql.NullString
		if err := rows.Scan(&e.ID, &ms, &e.TokenID, &e.TokenName, &e.Action, &e.Target, &detail); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		e.Time = time.UnixMilli(ms).UTC()
		if detail.Valid {
			e.Detail = json.RawMessage(detail.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
