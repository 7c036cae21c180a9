package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

var agentTests = []test{
	{"an agent reads back with every field", func(t *testing.T, st chat.Store) {
		// PasswordHash is not part of the agent's JSON, but it is stored.
		want := fullAgent("agent-1", host, "grace")
		putAgent(t, st, want)
		wantAgent(t, st, want)
	}},
	{"an agent without skills reads back without them", func(t *testing.T, st chat.Store) {
		want := chat.Agent{ID: "agent-1", Tenant: host, Username: "ada", Role: chat.RoleAgent}
		putAgent(t, st, want)
		wantAgent(t, st, want)
	}},
	{"an unknown agent is not found", func(t *testing.T, st chat.Store) {
		putAgent(t, st, fullAgent("agent-1", host, "grace"))
		_, err := st.Agent(t.Context(), "agent-2")
		wantErr(t, "Agent(unknown)", err, chat.ErrNotFound)
		for _, tc := range []struct{ name, tenant, username string }{
			{"an unknown username", host, "ada"},
			{"a username of another tenant", "other.parley.local", "grace"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.AgentByUsername(t.Context(), tc.tenant, tc.username)
				wantErr(t, "AgentByUsername("+tc.tenant+", "+tc.username+")", err, chat.ErrNotFound)
			})
		}
	}},
	{"an agent is found by its tenant and username", func(t *testing.T, st chat.Store) {
		here := fullAgent("agent-1", host, "grace")
		there := fullAgent("agent-2", "other.parley.local", "grace")
		putAgent(t, st, here)
		putAgent(t, st, there)
		for _, want := range []chat.Agent{here, there} {
			got, err := st.AgentByUsername(t.Context(), want.Tenant, want.Username)
			if err != nil {
				t.Fatalf("AgentByUsername(%q, %q): %v", want.Tenant, want.Username, err)
			}
			if d := diffAgent(got, want); d != "" {
				t.Errorf("AgentByUsername(%q, %q) differs:%s", want.Tenant, want.Username, d)
			}
		}
	}},
	{"putting an agent again replaces it", func(t *testing.T, st chat.Store) {
		putAgent(t, st, fullAgent("agent-1", host, "grace"))
		want := chat.Agent{ID: "agent-1", Tenant: host, Username: "grace.hopper", PasswordHash: "$2a$10$new",
			DisplayName: "G. Hopper", Skills: []string{"billing"}, Capacity: 1, Role: chat.RoleAgent, Disabled: true}
		putAgent(t, st, want)
		wantAgent(t, st, want)
		_, err := st.AgentByUsername(t.Context(), host, "grace")
		wantErr(t, "AgentByUsername(old username)", err, chat.ErrNotFound)
	}},
	{"an agent read before it is replaced reads back replaced", func(t *testing.T, st chat.Store) {
		putAgent(t, st, fullAgent("agent-1", host, "grace"))
		wantAgent(t, st, fullAgent("agent-1", host, "grace"))
		replaced := fullAgent("agent-1", host, "grace")
		replaced.Capacity, replaced.Disabled = 7, false
		putAgent(t, st, replaced)
		wantAgent(t, st, replaced)
	}},
	{"a token read before it is deleted is not found after", func(t *testing.T, st chat.Store) {
		tok := chat.Token{Hash: "sha256:read-then-deleted", AgentID: "agent-1", Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
		if err := st.PutToken(t.Context(), tok); err != nil {
			t.Fatalf("PutToken: %v", err)
		}
		for range 2 {
			if _, err := st.Token(t.Context(), tok.Hash); err != nil {
				t.Fatalf("Token: %v", err)
			}
		}
		if err := st.DeleteToken(t.Context(), tok.Hash); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
		_, err := st.Token(t.Context(), tok.Hash)
		wantErr(t, "Token(deleted after reads)", err, chat.ErrNotFound)
	}},
	{"a username taken by another agent of the tenant conflicts", func(t *testing.T, st chat.Store) {
		grace := fullAgent("agent-1", host, "grace")
		putAgent(t, st, grace)
		ada := fullAgent("agent-2", host, "ada")
		putAgent(t, st, ada)
		for _, tc := range []struct {
			name string
			a    chat.Agent
		}{
			{"a new agent", fullAgent("agent-3", host, "grace")},
			{"a renamed agent", fullAgent("agent-2", host, "grace")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, "PutAgent", st.PutAgent(t.Context(), tc.a), chat.ErrConflict)
				wantAgent(t, st, grace)
				wantAgent(t, st, ada)
				_, err := st.Agent(t.Context(), "agent-3")
				wantErr(t, "Agent(refused agent)", err, chat.ErrNotFound)
			})
		}
	}},
	{"agents lists every agent of the tenant and no other", func(t *testing.T, st chat.Store) {
		putAgent(t, st, fullAgent("agent-1", host, "grace"))
		putAgent(t, st, fullAgent("agent-2", host, "ada"))
		putAgent(t, st, fullAgent("agent-3", "other.parley.local", "linus"))
		for _, tc := range []struct {
			tenant string
			want   []string
		}{
			{host, []string{"agent-1", "agent-2"}},
			{"other.parley.local", []string{"agent-3"}},
			{"empty.parley.local", nil},
		} {
			as, err := st.Agents(t.Context(), tc.tenant)
			if err != nil {
				t.Fatalf("Agents(%q): %v", tc.tenant, err)
			}
			var ids []string
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.want) {
				t.Errorf("Agents(%q) = %q, want %q", tc.tenant, ids, tc.want)
			}
		}
	}},
	{"a token reads back until it is deleted", func(t *testing.T, st chat.Store) {
		putAgent(t, st, fullAgent("agent-1", host, "grace"))
		// Tokens that have not expired: a store may purge expired ones.
		soon := time.Now().Add(time.Hour).Truncate(time.Second)
		want := chat.Token{Hash: "sha256:9f86d081884c7d659a2feaa0c55ad015", AgentID: "agent-1", Expires: soon}
		other := chat.Token{Hash: "sha256:other", AgentID: "agent-1", Expires: soon.Add(time.Hour)}
		for _, tok := range []chat.Token{want, other} {
			if err := st.PutToken(t.Context(), tok); err != nil {
				t.Fatalf("PutToken: %v", err)
			}
		}
		got, err := st.Token(t.Context(), want.Hash)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if got.Hash != want.Hash || got.AgentID != want.AgentID || !sameTime(got.Expires, want.Expires) {
			t.Errorf("Token = %+v, want %+v", got, want)
		}
		if err := st.DeleteToken(t.Context(), want.Hash); err != nil {
			t.Fatalf("DeleteToken: %v", err)
		}
		_, err = st.Token(t.Context(), want.Hash)
		wantErr(t, "Token(deleted)", err, chat.ErrNotFound)
		if _, err := st.Token(t.Context(), other.Hash); err != nil {
			t.Errorf("Token(other token): %v", err)
		}
	}},
	{"an unknown token is not found", func(t *testing.T, st chat.Store) {
		_, err := st.Token(t.Context(), "sha256:unknown")
		wantErr(t, "Token(unknown)", err, chat.ErrNotFound)
	}},
	{"live sessions are the sessions not ended, oldest first", func(t *testing.T, st chat.Store) {
		// Ids sort against the order of creation, so that an order by id
		// cannot pass for oldest first.
		for i, id := range []string{"chat-e", "chat-d", "chat-c", "chat-b", "chat-a"} {
			create(t, st, newSession(id, key(id), at(i)))
		}
		end(t, st, "chat-d", at(10))
		end(t, st, "chat-a", at(10))
		got, err := st.LiveSessions(t.Context())
		if err != nil {
			t.Fatalf("LiveSessions: %v", err)
		}
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
			if !s.Live() || s.LastSeq != 1 {
				t.Errorf("LiveSessions: %q has ended %v, last seq %d", s.ID, s.Ended, s.LastSeq)
			}
		}
		if want := []string{"chat-e", "chat-c", "chat-b"}; !slices.Equal(ids, want) {
			t.Errorf("LiveSessions = %q, want %q", ids, want)
		}
	}},
	{"an agent's sessions are the chats last assigned to it, newest first", func(t *testing.T, st chat.Store) {
		for i, step := range []struct{ id, agents string }{
			{"chat-e", "agent-1"},
			{"chat-d", "agent-2"},
			{"chat-c", "agent-1"},
			{"chat-b", "agent-1 agent-2"}, // transferred away
			{"chat-a", "agent-2 agent-1"}, // transferred here
			{"chat-f", ""},
		} {
			create(t, st, newSession(step.id, key(step.id), at(i)))
			for _, a := range strings.Fields(step.agents) {
				appendEvents(t, st, step.id, []chat.Event{{ChatID: step.id, Type: chat.TypePartyJoined, PartyID: a, Time: at(i)}},
					chat.SessionUpdate{AgentID: &a})
			}
		}
		end(t, st, "chat-e", at(10)) // ended chats stay in the agent's history
		for _, tc := range []struct {
			agent string
			limit int
			want  []string
		}{
			{"agent-1", 10, []string{"chat-a", "chat-c", "chat-e"}},
			{"agent-1", 2, []string{"chat-a", "chat-c"}},
			{"agent-2", 10, []string{"chat-b", "chat-d"}},
			{"agent-3", 10, nil},
		} {
			got, err := st.AgentSessions(t.Context(), tc.agent, tc.limit)
			if err != nil {
				t.Fatalf("AgentSessions(%q, %d): %v", tc.agent, tc.limit, err)
			}
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("AgentSessions(%q, %d) = %q, want %q", tc.agent, tc.limit, ids, tc.want)
			}
		}
	}},
	{"a wrap-up reads back and the agent's next one replaces it", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		other := create(t, st, newSession("chat-2", key("client-2"), t0))
		for _, w := range []chat.WrapUp{
			{ChatID: s.ID, AgentID: "agent-1", Code: "billing", Notes: "first draft", Created: at(1)},
			{ChatID: s.ID, AgentID: "agent-2", Code: "transfer", Notes: "handed on\nto billing ✓", Created: at(2)},
			{ChatID: s.ID, AgentID: "agent-1", Code: "resolved", Notes: "refund issued", Created: at(3)},
			{ChatID: other.ID, AgentID: "agent-1", Code: "spam", Created: at(4)},
		} {
			if err := st.PutWrapUp(t.Context(), w); err != nil {
				t.Fatalf("PutWrapUp(%+v): %v", w, err)
			}
		}
		got, err := st.WrapUps(t.Context(), s.ID)
		if err != nil {
			t.Fatalf("WrapUps: %v", err)
		}
		slices.SortFunc(got, func(a, b chat.WrapUp) int { return strings.Compare(a.AgentID, b.AgentID) })
		want := []chat.WrapUp{
			{ChatID: s.ID, AgentID: "agent-1", Code: "resolved", Notes: "refund issued", Created: at(3)},
			{ChatID: s.ID, AgentID: "agent-2", Code: "transfer", Notes: "handed on\nto billing ✓", Created: at(2)},
		}
		if len(got) != len(want) {
			t.Fatalf("WrapUps = %+v, want %+v", got, want)
		}
		for i := range got {
			var d diff
			d.time("Created", got[i].Created, want[i].Created)
			got[i].Created = want[i].Created
			d.fields(got[i], want[i])
			if len(d) > 0 {
				t.Errorf("WrapUps: wrap-up %d differs:%s", i, d)
			}
		}
		if none, err := st.WrapUps(t.Context(), "chat-3"); err != nil || len(none) != 0 {
			t.Errorf("WrapUps(chat without wrap-ups) = %+v, %v; want none", none, err)
		}
	}},
}

// fullAgent returns an agent with every field set.
func fullAgent(id, tenant, username string) chat.Agent {
	return chat.Agent{
		ID: id, Tenant: tenant, Username: username,
		PasswordHash: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		FirstName:    "Grace", LastName: "Hopper", DisplayName: "Grace H. (Support) ✓",
		PhotoID: "file-photo-1", Skills: []string{"billing", "de", "video"}, Capacity: 3,
		Role: chat.RoleAdmin, Disabled: true,
	}
}

func putAgent(t *testing.T, st chat.Store, a chat.Agent) {
	t.Helper()
	if err := st.PutAgent(t.Context(), a); err != nil {
		t.Fatalf("PutAgent(%q): %v", a.ID, err)
	}
}

func wantAgent(t *testing.T, st chat.Store, want chat.Agent) {
	t.Helper()
	got, err := st.Agent(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Agent(%q): %v", want.ID, err)
	}
	if d := diffAgent(got, want); d != "" {
		t.Errorf("Agent(%q) differs:%s", want.ID, d)
	}
}

// diffAgent describes how got differs from want; an empty skill list may
// come back as nil or empty.
func diffAgent(got, want chat.Agent) string {
	if len(got.Skills) == 0 && len(want.Skills) == 0 {
		got.Skills, want.Skills = nil, nil
	}
	var d diff
	d.fields(got, want)
	return d.String()
}
