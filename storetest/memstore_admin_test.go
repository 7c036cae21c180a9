package storetest

import (
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley/chat"
)

var _ chat.AdminStore = (*memStore)(nil)

// memAdmin is memStore's admin tokens and audit log.
type memAdmin struct {
	tokens []chat.AdminToken
	audit  []chat.AuditEntry
}

func (m *memStore) Tenants(context.Context) ([]chat.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Tenant
	for _, t := range m.tenants {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b chat.Tenant) int { return strings.Compare(a.Host, b.Host) })
	return out, nil
}

func (m *memStore) PutAdminToken(_ context.Context, t chat.AdminToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Scopes = slices.Clone(t.Scopes)
	for i, o := range m.admin.tokens {
		if o.Hash == t.Hash && o.ID != t.ID {
			return chat.ErrConflict
		}
		if o.ID == t.ID {
			m.admin.tokens[i] = t
			return nil
		}
	}
	m.admin.tokens = append(m.admin.tokens, t)
	return nil
}

func (m *memStore) AdminToken(_ context.Context, hash string) (chat.AdminToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.admin.tokens {
		if t.Hash == hash {
			return t, nil
		}
	}
	return chat.AdminToken{}, chat.ErrNotFound
}

func (m *memStore) AdminTokens(context.Context) ([]chat.AdminToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.admin.tokens)
	slices.SortStableFunc(out, func(a, b chat.AdminToken) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (m *memStore) AppendAudit(_ context.Context, e chat.AuditEntry) (chat.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.admin.audit) + 1)
	m.admin.audit = append(m.admin.audit, e)
	return e, nil
}

func (m *memStore) Audit(_ context.Context, before int64, limit int) ([]chat.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.AuditEntry
	for i := len(m.admin.audit) - 1; i >= 0 && len(out) < limit; i-- {
		if e := m.admin.audit[i]; before <= 0 || e.ID < before {
			out = append(out, e)
		}
	}
	return out, nil
}
