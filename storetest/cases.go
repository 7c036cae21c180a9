package storetest

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/chat"
)

var caseTests = []test{
	{"a case reads back as it was put", func(t *testing.T, st chat.Store) {
		for _, want := range []chat.Case{
			{ID: "case-open", ClientKey: key("client-1"), Created: at(3)},
			{ID: "case-closed", ClientKey: key("client-1"), Created: at(4), Closed: at(9)},
		} {
			t.Run(want.ID, func(t *testing.T) {
				putCase(t, st, want)
				wantCase(t, st, want)
			})
		}
	}},
	{"an unknown case is not found", func(t *testing.T, st chat.Store) {
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: key("client-1"), Created: t0})
		_, err := st.Case(t.Context(), "case-2")
		wantErr(t, "Case(unknown)", err, chat.ErrNotFound)
	}},
	{"closing a case stamps it closed", func(t *testing.T, st chat.Store) {
		c := chat.Case{ID: "case-1", ClientKey: key("client-1"), Created: t0}
		putCase(t, st, c)
		if err := st.CloseCase(t.Context(), c.ID); err != nil {
			t.Fatalf("CloseCase: %v", err)
		}
		got, err := st.Case(t.Context(), c.ID)
		if err != nil {
			t.Fatalf("Case: %v", err)
		}
		if got.Closed.IsZero() || got.ID != c.ID || got.ClientKey != c.ClientKey || !sameTime(got.Created, c.Created) {
			t.Errorf("Case after CloseCase = %+v, want %+v closed", got, c)
		}
	}},
	{"closing a case twice keeps it closed", func(t *testing.T, st chat.Store) {
		c := chat.Case{ID: "case-1", ClientKey: key("client-1"), Created: t0}
		putCase(t, st, c)
		for i := range 2 {
			if err := st.CloseCase(t.Context(), c.ID); err != nil {
				t.Fatalf("CloseCase #%d: %v", i+1, err)
			}
		}
		if got, err := st.Case(t.Context(), c.ID); err != nil || got.Closed.IsZero() {
			t.Errorf("Case = %+v, %v; want closed", got, err)
		}
		_, err := st.OpenCase(t.Context(), c.ClientKey)
		wantErr(t, "OpenCase", err, chat.ErrNotFound)
	}},
	{"closing an unknown case is not found", func(t *testing.T, st chat.Store) {
		wantErr(t, "CloseCase(unknown)", st.CloseCase(t.Context(), "case-x"), chat.ErrNotFound)
	}},
	{"the open case is the client's most recent open one", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		for _, c := range []chat.Case{
			{ID: "case-old", ClientKey: k, Created: at(10)},
			{ID: "case-new", ClientKey: k, Created: at(30)},
			{ID: "case-mid", ClientKey: k, Created: at(20)},
			{ID: "case-other-client", ClientKey: key("client-2"), Created: at(40)},
			{ID: "case-other-entry", ClientKey: chat.ClientKey{Tenant: host, AppID: "sales", ClientID: "client-1"}, Created: at(40)},
			{ID: "case-other-tenant", ClientKey: chat.ClientKey{Tenant: "other.parley.local", AppID: appID, ClientID: "client-1"}, Created: at(40)},
		} {
			putCase(t, st, c)
		}
		for _, step := range []struct {
			name  string
			close string
			want  string // "" for none
		}{
			{"the newest of three open cases", "", "case-new"},
			{"the newest closed, the next newest", "case-new", "case-mid"},
			{"an older one closed, still the newest open", "case-old", "case-mid"},
			{"all closed, none", "case-mid", ""},
		} {
			t.Run(step.name, func(t *testing.T) {
				if step.close != "" {
					if err := st.CloseCase(t.Context(), step.close); err != nil {
						t.Fatalf("CloseCase(%q): %v", step.close, err)
					}
				}
				got, err := st.OpenCase(t.Context(), k)
				if step.want == "" {
					wantErr(t, "OpenCase", err, chat.ErrNotFound)
					return
				}
				if err != nil {
					t.Fatalf("OpenCase: %v", err)
				}
				if got.ID != step.want || got.ClientKey != k || !got.Closed.IsZero() {
					t.Errorf("OpenCase = %+v, want %q open", got, step.want)
				}
			})
		}
	}},
	{"a client without cases has no open case", func(t *testing.T, st chat.Store) {
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: key("client-2"), Created: t0})
		_, err := st.OpenCase(t.Context(), key("client-1"))
		wantErr(t, "OpenCase", err, chat.ErrNotFound)
	}},
	{"case sessions are the linked sessions oldest first", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: k, Created: t0})
		putCase(t, st, chat.Case{ID: "case-2", ClientKey: k, Created: t0})
		// Ids sort against the order of creation, so that an order by id
		// cannot pass for oldest first.
		steps := []struct {
			id     string
			caseID string // set at creation
			link   string // set by a later append
		}{
			{id: "chat-e", caseID: "case-1"},
			{id: "chat-d"},
			{id: "chat-c", link: "case-1"},
			{id: "chat-b", caseID: "case-2"},
			{id: "chat-a", caseID: "case-2", link: "case-1"},
		}
		for i, step := range steps {
			s := newSession(step.id, k, at(10*i))
			s.CaseID = step.caseID
			create(t, st, s)
			if step.link != "" {
				set := chat.Event{ChatID: s.ID, Type: chat.TypeCaseSet, Time: at(10*i + 1), Payload: chat.Payload{CaseID: step.link}}
				appendEvents(t, st, s.ID, []chat.Event{set}, chat.SessionUpdate{CaseID: &step.link})
			}
			end(t, st, s.ID, at(10*i+2))
		}
		for _, tc := range []struct {
			caseID string
			want   []string
		}{
			{"case-1", []string{"chat-e", "chat-c", "chat-a"}},
			{"case-2", []string{"chat-b"}},
		} {
			t.Run(tc.caseID, func(t *testing.T) {
				got, err := st.CaseSessions(t.Context(), tc.caseID)
				if err != nil {
					t.Fatalf("CaseSessions: %v", err)
				}
				ids := make([]string, len(got))
				for i, s := range got {
					ids[i] = s.ID
					if s.CaseID != tc.caseID || s.ClientKey != k || s.Live() {
						t.Errorf("CaseSessions: session %q = case %q, key %+v, ended %v", s.ID, s.CaseID, s.ClientKey, s.Ended)
					}
				}
				if !slices.Equal(ids, tc.want) {
					t.Errorf("CaseSessions = %q, want %q", ids, tc.want)
				}
			})
		}
	}},
	{"a case without sessions has none", func(t *testing.T, st chat.Store) {
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: key("client-1"), Created: t0})
		create(t, st, newSession("chat-1", key("client-1"), t0))
		got, err := st.CaseSessions(t.Context(), "case-1")
		if err != nil || len(got) != 0 {
			t.Errorf("CaseSessions = %d sessions, %v; want none", len(got), err)
		}
	}},
}

func putCase(t *testing.T, st chat.Store, c chat.Case) {
	t.Helper()
	if err := st.PutCase(t.Context(), c); err != nil {
		t.Fatalf("PutCase(%q): %v", c.ID, err)
	}
}

func wantCase(t *testing.T, st chat.Store, want chat.Case) {
	t.Helper()
	got, err := st.Case(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Case(%q): %v", want.ID, err)
	}
	if got.ID != want.ID || got.ClientKey != want.ClientKey || !sameTime(got.Created, want.Created) || !sameTime(got.Closed, want.Closed) {
		t.Errorf("Case(%q) = %+v, want %+v", want.ID, got, want)
	}
}

var pingTests = []test{
	{"a store answers a ping", func(t *testing.T, st chat.Store) {
		if err := st.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}},
}
