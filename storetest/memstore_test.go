package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/chat"
)

// TestRun checks the suite itself against memStore, the simplest store that
// keeps the contract: a failure here is a bug of the suite, not of a store.
func TestRun(t *testing.T) {
	Run(t, func(t *testing.T) chat.Store { return newMemStore() })
}

// memStore is a chat.Store in maps behind one mutex.
type memStore struct {
	mu       sync.Mutex
	tenants  map[string]chat.Tenant
	entries  map[string]map[string]chat.Entry
	sessions map[string]*chat.Session
	order    []string // session ids in order of creation
	events   map[string][]chat.Event
	files    map[string]chat.File
	cases    map[string]chat.Case
	agents   map[string]chat.Agent
	tokens   map[string]chat.Token
	wrapUps  []chat.WrapUp
	states   map[string]chat.AgentState
	outbox   map[pushKey]chat.PushJob // made on first use
	admin    memAdmin                 // admin tokens and audit log
}

var _ chat.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		tenants: map[string]chat.Tenant{}, entries: map[string]map[string]chat.Entry{},
		sessions: map[string]*chat.Session{}, events: map[string][]chat.Event{},
		files: map[string]chat.File{}, cases: map[string]chat.Case{},
		agents: map[string]chat.Agent{}, tokens: map[string]chat.Token{},
		states: map[string]chat.AgentState{},
	}
}

func (m *memStore) Ping(context.Context) error { return nil }
func (m *memStore) Close() error               { return nil }

func (m *memStore) PutTenant(_ context.Context, t chat.Tenant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Entries = nil
	m.tenants[t.Host] = t
	return nil
}

func (m *memStore) Tenant(_ context.Context, host string) (chat.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[host]
	if !ok {
		return chat.Tenant{}, chat.ErrNotFound
	}
	return t, nil
}

func (m *memStore) PutEntry(_ context.Context, host string, e chat.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[host] == nil {
		m.entries[host] = map[string]chat.Entry{}
	}
	e.Tenant = host
	m.entries[host][e.AppID] = e
	return nil
}

func (m *memStore) Entry(_ context.Context, host, appID string) (chat.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[host][appID]
	if !ok {
		return chat.Entry{}, chat.ErrNotFound
	}
	return e, nil
}

func (m *memStore) Entries(_ context.Context, host string) ([]chat.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Entry
	for _, e := range m.entries[host] {
		out = append(out, e)
	}
	return out, nil
}

func (m *memStore) CreateSession(_ context.Context, s chat.Session, first []chat.Event) ([]chat.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return nil, fmt.Errorf("session %q: %w", s.ID, chat.ErrConflict)
	}
	if _, err := m.live(s.ClientKey); err == nil {
		return nil, fmt.Errorf("live session of %v: %w", s.ClientKey, chat.ErrConflict)
	}
	s.LastSeq, s.Cursor, s.Push = 0, 0, chat.PushToken{}
	m.sessions[s.ID] = &s
	m.order = append(m.order, s.ID)
	return m.appendLocked(&s, first), nil
}

func (m *memStore) Session(_ context.Context, id string) (chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return chat.Session{}, chat.ErrNotFound
	}
	return *s, nil
}

func (m *memStore) LiveSession(_ context.Context, k chat.ClientKey) (chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live(k)
}

func (m *memStore) live(k chat.ClientKey) (chat.Session, error) {
	for _, s := range m.sessions {
		if s.ClientKey == k && s.Live() {
			return *s, nil
		}
	}
	return chat.Session{}, chat.ErrNotFound
}

func (m *memStore) Append(_ context.Context, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[chatID]
	if !ok || !s.Live() {
		return nil, chat.ErrNotFound
	}
	stored := m.appendLocked(s, evs)
	if u.State != "" {
		s.State = u.State
	}
	if u.EWT != nil {
		s.EWT = *u.EWT
	}
	if u.CaseID != nil {
		s.CaseID = *u.CaseID
	}
	if u.AgentID != nil {
		s.AgentID = *u.AgentID
	}
	if !u.End.IsZero() {
		s.Ended = u.End
	}
	return stored, nil
}

func (m *memStore) appendLocked(s *chat.Session, evs []chat.Event) []chat.Event {
	stored := []chat.Event{}
	for _, ev := range evs {
		if m.duplicate(s.ID, ev) {
			continue
		}
		s.LastSeq++
		ev.ChatID, ev.Seq = s.ID, s.LastSeq
		m.events[s.ID] = append(m.events[s.ID], ev)
		stored = append(stored, ev)
	}
	return stored
}

func (m *memStore) duplicate(chatID string, ev chat.Event) bool {
	key := ev.DedupKey()
	if key == "" {
		return false
	}
	return slices.ContainsFunc(m.events[chatID], func(old chat.Event) bool {
		return old.DedupKey() == key
	})
}

func (m *memStore) Events(_ context.Context, chatID string, after int64, limit int) ([]chat.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Event
	for _, ev := range m.events[chatID] {
		if ev.Seq > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (m *memStore) SetCursor(_ context.Context, chatID string, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[chatID]
	if !ok {
		return chat.ErrNotFound
	}
	s.Cursor = max(s.Cursor, seq)
	return nil
}

func (m *memStore) SetPush(_ context.Context, chatID string, p chat.PushToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[chatID]
	if !ok {
		return chat.ErrNotFound
	}
	s.Push = p
	return nil
}

func (m *memStore) PutFile(_ context.Context, f chat.File) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[f.ID] = f
	return nil
}

func (m *memStore) File(_ context.Context, id string) (chat.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[id]
	if !ok {
		return chat.File{}, chat.ErrNotFound
	}
	return f, nil
}

func (m *memStore) AttachFile(_ context.Context, fileID, chatID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[fileID]
	if !ok {
		return chat.ErrNotFound
	}
	f.ChatID = chatID
	m.files[fileID] = f
	return nil
}

func (m *memStore) PutCase(_ context.Context, c chat.Case) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cases[c.ID] = c
	return nil
}

func (m *memStore) Case(_ context.Context, id string) (chat.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return chat.Case{}, chat.ErrNotFound
	}
	return c, nil
}

func (m *memStore) OpenCase(_ context.Context, k chat.ClientKey) (chat.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best chat.Case
	for _, c := range m.cases {
		if c.ClientKey == k && c.Closed.IsZero() && (best.ID == "" || c.Created.After(best.Created)) {
			best = c
		}
	}
	if best.ID == "" {
		return chat.Case{}, chat.ErrNotFound
	}
	return best, nil
}

func (m *memStore) CloseCase(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return chat.ErrNotFound
	}
	c.Closed = t0.AddDate(1, 0, 0)
	m.cases[id] = c
	return nil
}

func (m *memStore) CaseSessions(_ context.Context, caseID string) ([]chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Session
	for _, id := range m.order {
		if s := m.sessions[id]; s.CaseID == caseID {
			out = append(out, *s)
		}
	}
	slices.SortStableFunc(out, func(a, b chat.Session) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (m *memStore) PutAgent(_ context.Context, a chat.Agent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.agents {
		if o.ID != a.ID && o.Tenant == a.Tenant && o.Username == a.Username {
			return chat.ErrConflict
		}
	}
	m.agents[a.ID] = a
	return nil
}

func (m *memStore) Agent(_ context.Context, id string) (chat.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.agents[id]
	if !ok {
		return chat.Agent{}, chat.ErrNotFound
	}
	return a, nil
}

func (m *memStore) AgentByUsername(_ context.Context, tenant, username string) (chat.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.agents {
		if a.Tenant == tenant && a.Username == username {
			return a, nil
		}
	}
	return chat.Agent{}, chat.ErrNotFound
}

func (m *memStore) Agents(_ context.Context, tenant string) ([]chat.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Agent
	for _, a := range m.agents {
		if a.Tenant == tenant {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memStore) PutToken(_ context.Context, t chat.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[t.Hash] = t
	return nil
}

func (m *memStore) Token(_ context.Context, hash string) (chat.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok {
		return chat.Token{}, chat.ErrNotFound
	}
	return t, nil
}

func (m *memStore) DeleteToken(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, hash)
	return nil
}

func (m *memStore) LiveSessions(context.Context) ([]chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Session
	for _, id := range m.order {
		if s := m.sessions[id]; s.Live() {
			out = append(out, *s)
		}
	}
	slices.SortStableFunc(out, func(a, b chat.Session) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (m *memStore) AgentSessions(_ context.Context, agentID string, limit int) ([]chat.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.Session
	for _, id := range m.order {
		if s := m.sessions[id]; s.AgentID == agentID {
			out = append(out, *s)
		}
	}
	slices.SortStableFunc(out, func(a, b chat.Session) int { return b.Created.Compare(a.Created) })
	return out[:min(limit, len(out))], nil
}

func (m *memStore) PutWrapUp(_ context.Context, w chat.WrapUp) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wrapUps = slices.DeleteFunc(m.wrapUps, func(o chat.WrapUp) bool { return o.ChatID == w.ChatID && o.AgentID == w.AgentID })
	m.wrapUps = append(m.wrapUps, w)
	return nil
}

func (m *memStore) WrapUps(_ context.Context, chatID string) ([]chat.WrapUp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.WrapUp
	for _, w := range m.wrapUps {
		if w.ChatID == chatID {
			out = append(out, w)
		}
	}
	return out, nil
}

func (m *memStore) PutAgentState(_ context.Context, st chat.AgentState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[st.AgentID] = st
	return nil
}

func (m *memStore) DeleteAgentState(_ context.Context, agentID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, agentID)
	return nil
}

func (m *memStore) AgentStates(context.Context) ([]chat.AgentState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []chat.AgentState
	for _, st := range m.states {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b chat.AgentState) int { return strings.Compare(a.AgentID, b.AgentID) })
	return out, nil
}
