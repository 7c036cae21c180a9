package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

// PutTenant creates or replaces a tenant's settings (its entries are kept).
func (s *Store) PutTenant(ctx context.Context, t chat.Tenant) error {
	t.Entries = nil
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put tenant: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO tenants (host, config) VALUES ($1, $2)
		ON CONFLICT (host) DO UPDATE SET config = excluded.config`, t.Host, doc); err != nil {
		return fmt.Errorf("put tenant: %w", err)
	}
	s.tenants.drop(t.Host)
	return nil
}

// Tenant returns the tenant stored under host.
func (s *Store) Tenant(ctx context.Context, host string) (chat.Tenant, error) {
	if t, ok := s.tenants.get(host); ok {
		return t, nil
	}
	at := time.Now()
	var t chat.Tenant
	err := s.getJSON(ctx, &t, `SELECT config FROM tenants WHERE host = $1`, host)
	if err == nil {
		s.tenants.put(host, t, at)
	}
	return t, err
}

// PutEntry creates or replaces a scenario entry of a stored tenant; an
// unknown tenant is chat.ErrNotFound.
func (s *Store) PutEntry(ctx context.Context, host string, e chat.Entry) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("put entry: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO entries (host, app_id, config) VALUES ($1, $2, $3)
		ON CONFLICT (host, app_id) DO UPDATE SET config = excluded.config`, host, e.AppID, doc); err != nil {
		return fmt.Errorf("put entry: %w", err)
	}
	s.entries.drop([2]string{host, e.AppID})
	return nil
}

// Entry returns the scenario entry appID of the tenant host.
func (s *Store) Entry(ctx context.Context, host, appID string) (chat.Entry, error) {
	key := [2]string{host, appID}
	if e, ok := s.entries.get(key); ok {
		return e, nil
	}
	at := time.Now()
	var e chat.Entry
	err := s.getJSON(ctx, &e, `SELECT config FROM entries WHERE host = $1 AND app_id = $2`, host, appID)
	e.Tenant = host
	if err == nil {
		s.entries.put(key, e, at)
	}
	return e, err
}

// Entries returns the tenant's scenario entries ordered by appId.
func (s *Store) Entries(ctx context.Context, host string) ([]chat.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT config FROM entries WHERE host = $1 ORDER BY app_id`, host)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.Entry
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		e := chat.Entry{Tenant: host}
		if err := json.Unmarshal(doc, &e); err != nil {
			return nil, fmt.Errorf("decode entry: %w", err)
		}
		e.Tenant = host
		out = append(out, e)
	}
	return out, storeErr(rows.Err())
}

// getJSON reads the one JSON document a query selects into v.
func (s *Store) getJSON(ctx context.Context, v any, query string, args ...any) error {
	var doc []byte
	if err := s.pool.QueryRow(ctx, query, args...).Scan(&doc); err != nil {
		return notFound(err)
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
