package storetest

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

var _ chat.PrivacyStore = (*memStore)(nil)

func (m *memStore) TenantHosts(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.tenants)), nil
}

// sessionsWhere returns the sessions keep accepts, in order of creation.
func (m *memStore) sessionsWhere(keep func(s *chat.Session) bool) []chat.Session {
	var out []chat.Session
	for _, id := range m.order {
		if s, ok := m.sessions[id]; ok && keep(s) {
			out = append(out, *s)
		}
	}
	return out
}

func (m *memStore) EndedSessions(_ context.Context, tenant string, before time.Time, limit int) ([]chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sessionsWhere(func(s *chat.Session) bool {
		return s.Tenant == tenant && !s.Live() && s.Ended.Before(before)
	})
	slices.SortStableFunc(out, func(a, b chat.Session) int { return a.Ended.Compare(b.Ended) })
	return out[:min(limit, len(out))], nil
}

func (m *memStore) ClientSessions(_ context.Context, k chat.ClientKey) ([]chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sessionsWhere(func(s *chat.Session) bool { return s.ClientKey == k })
	slices.SortStableFunc(out, func(a, b chat.Session) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (m *memStore) filesWhere(keep func(f chat.File) bool) []chat.File {
	var out []chat.File
	for _, f := range m.files {
		if keep(f) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b chat.File) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func (m *memStore) SessionFiles(_ context.Context, chatID string) ([]chat.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.filesWhere(func(f chat.File) bool { return f.ChatID == chatID }), nil
}

func (m *memStore) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	delete(m.events, id)
	maps.DeleteFunc(m.files, func(_ string, f chat.File) bool { return f.ChatID == id })
	m.wrapUps = slices.DeleteFunc(m.wrapUps, func(w chat.WrapUp) bool { return w.ChatID == id })
	maps.DeleteFunc(m.outbox, func(k pushKey, _ chat.PushJob) bool { return k.chatID == id })
	return nil
}

func (m *memStore) FilesBefore(_ context.Context, tenant string, before time.Time, limit int) ([]chat.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.filesWhere(func(f chat.File) bool {
		profile := strings.HasPrefix(f.ClientID, "agent:") && f.ChatID == ""
		return f.Tenant == tenant && f.Created.Before(before) && !profile
	})
	return out[:min(limit, len(out))], nil
}

func (m *memStore) ClientFiles(_ context.Context, k chat.ClientKey) ([]chat.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.filesWhere(func(f chat.File) bool { return f.ClientKey == k }), nil
}

func (m *memStore) DeleteFiles(_ context.Context, ids []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.files, id)
	}
	return nil
}

func (m *memStore) ClientCases(_ context.Context, k chat.ClientKey) ([]chat.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Case
	for _, c := range m.cases {
		if c.ClientKey == k {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b chat.Case) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (m *memStore) DeleteCase(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cases, id)
	return nil
}
