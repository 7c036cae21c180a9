package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parley-chat/parley/chat"
)

// Tenants returns every tenant ordered by host, without entries.
func (s *Store) Tenants(ctx context.Context) ([]chat.Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT config FROM tenants ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", storeErr(err))
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
	return out, storeErr(rows.Err())
}

// PutAdminToken creates or replaces an admin token.
func (s *Store) PutAdminToken(ctx context.Context, t chat.AdminToken) error {
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return fmt.Errorf("put admin token: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO admin_tokens (id, hash, name, scopes, created, disabled) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, name = excluded.name,
			scopes = excluded.scopes, created = excluded.created, disabled = excluded.disabled`,
		t.ID, t.Hash, t.Name, string(scopes), t.Created, t.Disabled); err != nil {
		return fmt.Errorf("put admin token: %w", err)
	}
	return nil
}

const adminTokenColumns = `id, hash, name, scopes::text, created, disabled`

// AdminToken returns the admin token stored with that hash.
func (s *Store) AdminToken(ctx context.Context, hash string) (chat.AdminToken, error) {
	return scanAdminToken(s.pool.QueryRow(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = $1`, hash))
}

// AdminTokens returns every admin token, oldest first.
func (s *Store) AdminTokens(ctx context.Context) ([]chat.AdminToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", storeErr(err))
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
	return out, storeErr(rows.Err())
}

func scanAdminToken(row interface{ Scan(...any) error }) (chat.AdminToken, error) {
	var t chat.AdminToken
	var scopes string
	if err := row.Scan(&t.ID, &t.Hash, &t.Name, &scopes, &t.Created, &t.Disabled); err != nil {
		return t, notFound(err)
	}
	t.Created = t.Created.UTC()
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return t, fmt.Errorf("decode admin token scopes: %w", err)
	}
	return t, nil
}

// AppendAudit records an audit entry and returns it with its ID.
func (s *Store) AppendAudit(ctx context.Context, e chat.AuditEntry) (chat.AuditEntry, error) {
	if err := s.usable(ctx); err != nil {
		return e, err
	}
	var detail *string
	if len(e.Detail) > 0 {
		d := string(e.Detail)
		detail = &d
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_log (time, token_id, token_name, action, target, detail)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id`,
		e.Time, e.TokenID, e.TokenName, e.Action, e.Target, detail).Scan(&e.ID)
	if err != nil {
		return e, fmt.Errorf("append audit: %w", storeErr(err))
	}
	return e, nil
}

// Audit returns up to limit audit entries with an ID below before (0: no
// bound), newest first.
func (s *Store) Audit(ctx context.Context, before int64, limit int) ([]chat.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT id, time, token_id, token_name, action, target, detail::text
		FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.AuditEntry
	for rows.Next() {
		var e chat.AuditEntry
		var detail *string
		if err := rows.Scan(&e.ID, &e.Time, &e.TokenID, &e.TokenName, &e.Action, &e.Target, &detail); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		e.Time = e.Time.UTC()
		if detail != nil {
			e.Detail = json.RawMessage(*detail)
		}
		out = append(out, e)
	}
	return out, storeErr(rows.Err())
}
