package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chat"
)

// PutTenant creates or replaces a tenant's settings (its entries are kept).
func (s *Store) PutTenant(ctx context.Context, t chat.Tenant) error {
	t.Entries = nil
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put tenant: %w", err)
	}
	defer s.config.changed()
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO tenants (host, config) VALUES (?, ?)
			ON CONFLICT (host) DO UPDATE SET config = excluded.config`, t.Host, doc)
		return err
	})
}

// Tenant returns the tenant stored under host.
func (s *Store) Tenant(ctx context.Context, host string) (chat.Tenant, error) {
	t, gen, ok := s.config.tenant(host)
	if ok && !s.closed() {
		return t, nil // every customer request: no allocation
	}
	return s.readTenant(ctx, host, gen)
}

func (s *Store) readTenant(ctx context.Context, host string, gen uint64) (t chat.Tenant, err error) {
	err = s.getJSON(ctx, &t, `SELECT config FROM tenants WHERE host = ?`, host)
	if err == nil {
		s.config.putTenant(gen, host, t)
	}
	return t, err
}

// PutEntry creates or replaces a scenario entry of a stored tenant.
func (s *Store) PutEntry(ctx context.Context, host string, e chat.Entry) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("put entry: %w", err)
	}
	defer s.config.changed()
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO entries (host, app_id, config) VALUES (?, ?, ?)
			ON CONFLICT (host, app_id) DO UPDATE SET config = excluded.config`, host, e.AppID, doc)
		return err
	})
}

// Entry returns the scenario entry appID of the tenant host.
func (s *Store) Entry(ctx context.Context, host, appID string) (chat.Entry, error) {
	e, gen, ok := s.config.entry(host, appID)
	if ok && !s.closed() {
		return e, nil // every customer request: no allocation
	}
	return s.readEntry(ctx, host, appID, gen)
}

func (s *Store) readEntry(ctx context.Context, host, appID string, gen uint64) (e chat.Entry, err error) {
	err = s.getJSON(ctx, &e, `SELECT config FROM entries WHERE host = ? AND app_id = ?`, host, appID)
	e.Tenant = host
	if err == nil && e.AppID == appID {
		s.config.putEntry(gen, e)
	}
	return e, err
}

// Entries returns the tenant's scenario entries ordered by appId.
func (s *Store) Entries(ctx context.Context, host string) ([]chat.Entry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT config FROM entries WHERE host = ? ORDER BY app_id`, host)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rows.Close()
	var out []chat.Entry
	for rows.Next() {
		var doc []byte
		var e chat.Entry
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(doc, &e); err != nil {
			return nil, fmt.Errorf("decode entry: %w", err)
		}
		e.Tenant = host
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) getJSON(ctx context.Context, v any, query string, args ...any) error {
	return s.onReader(ctx, func() error {
		var doc []byte
		err := s.read.QueryRowContext(ctx, query, args...).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return chat.ErrNotFound
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(doc, v)
	})
}
