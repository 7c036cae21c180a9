package storetest

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/chat"
)

var sessionTests = []test{
	{"a created session returns its first events numbered from 1", func(t *testing.T, st chat.Store) {
		s := newSession("chat-1", key("client-1"), t0)
		first := []chat.Event{
			status(s.ID, chat.StateQueued, 30),
			{ChatID: s.ID, Type: chat.TypeCaseSet, Time: at(1), Payload: chat.Payload{CaseID: "case-1"}},
			{ChatID: s.ID, Type: chat.TypePartyJoined, PartyID: "scenario-1", Time: at(2),
				Payload: chat.Payload{FirstName: "Parley", DisplayName: "Parley Bot", PartyType: chat.PartyScenario}},
		}
		got, err := st.CreateSession(t.Context(), s, first)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		wantEvents(t, "CreateSession", got, first, 1)
		wantEvents(t, "Events", allEvents(t, st, s.ID), first, 1)
		if got := session(t, st, s.ID).LastSeq; got != 3 {
			t.Errorf("Session.LastSeq = %d, want 3", got)
		}
	}},
	{"a session reads back with every field", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		putCase(t, st, chat.Case{ID: "case-1", ClientKey: k, Created: t0})
		want := chat.Session{
			ID: "chat-1", ClientKey: k, State: chat.StateQueued, EWT: 42,
			PhoneNumber: "+49 30 1234567", From: "Ada Lovelace <ada@example.com>",
			Parameters: json.RawMessage(`{"first_name": "Ada", "vip": true, "orders": [1, 2.5], "note": "ünïcode \u2028 <b>"}`),
			CaseID:     "case-1", AgentID: "agent-7", Created: at(7),
		}
		create(t, st, want)
		want.LastSeq = 1
		if d := diffSession(session(t, st, want.ID), want); d != "" {
			t.Errorf("Session differs:%s", d)
		}
	}},
	{"a session without parameters reads back without them", func(t *testing.T, st chat.Store) {
		want := create(t, st, newSession("chat-1", key("client-1"), t0))
		want.LastSeq = 1
		if d := diffSession(session(t, st, want.ID), want); d != "" {
			t.Errorf("Session differs:%s", d)
		}
	}},
	{"an unknown session is not found", func(t *testing.T, st chat.Store) {
		create(t, st, newSession("chat-1", key("client-1"), t0))
		_, err := st.Session(t.Context(), "chat-2")
		wantErr(t, "Session(unknown)", err, chat.ErrNotFound)
	}},
	{"the live session of a client is found by its key", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		create(t, st, newSession("chat-2", key("client-2"), t0))
		got, err := st.LiveSession(t.Context(), s.ClientKey)
		if err != nil {
			t.Fatalf("LiveSession: %v", err)
		}
		s.LastSeq = 1
		if d := diffSession(got, s); d != "" {
			t.Errorf("LiveSession differs:%s", d)
		}
	}},
	{"a client without a live session has none", func(t *testing.T, st chat.Store) {
		create(t, st, newSession("chat-1", key("client-1"), t0))
		for _, tc := range []struct {
			name string
			k    chat.ClientKey
		}{
			{"another client", key("client-2")},
			{"the client on another entry", chat.ClientKey{Tenant: host, AppID: "sales", ClientID: "client-1"}},
			{"the client on another tenant", chat.ClientKey{Tenant: "other.parley.local", AppID: appID, ClientID: "client-1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.LiveSession(t.Context(), tc.k)
				wantErr(t, "LiveSession", err, chat.ErrNotFound)
			})
		}
	}},
	{"a second live session of a client conflicts and changes nothing", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		create(t, st, newSession("chat-1", k, t0))
		_, err := st.CreateSession(t.Context(), newSession("chat-2", k, at(1)), []chat.Event{status("chat-2", chat.StateQueued, 0)})
		wantErr(t, "CreateSession(second live session)", err, chat.ErrConflict)
		_, err = st.Session(t.Context(), "chat-2")
		wantErr(t, "Session(refused session)", err, chat.ErrNotFound)
		if evs, err := st.Events(t.Context(), "chat-2", 0, 10); err == nil && len(evs) > 0 {
			t.Errorf("Events(refused session) = %d events, want none", len(evs))
		}
		if live, err := st.LiveSession(t.Context(), k); err != nil || live.ID != "chat-1" {
			t.Errorf("LiveSession = %q, %v; want chat-1", live.ID, err)
		}
	}},
	{"a session with an id in use conflicts", func(t *testing.T, st chat.Store) {
		create(t, st, newSession("chat-1", key("client-1"), t0))
		_, err := st.CreateSession(t.Context(), newSession("chat-1", key("client-2"), at(1)), []chat.Event{status("chat-1", chat.StateQueued, 0)})
		wantErr(t, "CreateSession(same id)", err, chat.ErrConflict)
		if got := session(t, st, "chat-1"); got.ClientID != "client-1" || got.LastSeq != 1 {
			t.Errorf("Session = client %q, last seq %d; want client-1, 1", got.ClientID, got.LastSeq)
		}
	}},
	{"other clients, entries and tenants have live sessions at once", func(t *testing.T, st chat.Store) {
		keys := []chat.ClientKey{
			key("client-1"),
			key("client-2"),
			{Tenant: host, AppID: "sales", ClientID: "client-1"},
			{Tenant: "other.parley.local", AppID: appID, ClientID: "client-1"},
		}
		for i, k := range keys {
			create(t, st, newSession("chat-"+k.Tenant+"-"+k.AppID+"-"+k.ClientID, k, at(i)))
		}
		for _, k := range keys {
			live, err := st.LiveSession(t.Context(), k)
			if err != nil {
				t.Fatalf("LiveSession(%+v): %v", k, err)
			}
			if live.ClientKey != k {
				t.Errorf("LiveSession(%+v) = session of %+v", k, live.ClientKey)
			}
		}
	}},
	{"an ended session is no longer live but still readable", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		end(t, st, s.ID, at(60))
		_, err := st.LiveSession(t.Context(), s.ClientKey)
		wantErr(t, "LiveSession(after end)", err, chat.ErrNotFound)
		got := session(t, st, s.ID)
		if got.Live() || !sameTime(got.Ended, at(60)) {
			t.Errorf("Session.Ended = %v, want %v", got.Ended, at(60))
		}
		if got.State != chat.StateCompleted || got.LastSeq != 2 {
			t.Errorf("Session = state %q, last seq %d; want %q, 2", got.State, got.LastSeq, chat.StateCompleted)
		}
		if evs := allEvents(t, st, s.ID); len(evs) != 2 {
			t.Errorf("Events(ended chat) = %d events, want 2", len(evs))
		}
	}},
	{"ending a session without events ends it", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		if _, err := st.Append(t.Context(), s.ID, nil, chat.SessionUpdate{End: at(5)}); err != nil {
			t.Fatalf("Append(no events, end): %v", err)
		}
		if got := session(t, st, s.ID); got.Live() || got.LastSeq != 1 {
			t.Errorf("Session = ended %v, last seq %d; want ended, 1", got.Ended, got.LastSeq)
		}
		_, err := st.LiveSession(t.Context(), s.ClientKey)
		wantErr(t, "LiveSession(after end)", err, chat.ErrNotFound)
	}},
	{"a client whose session ended starts a new one", func(t *testing.T, st chat.Store) {
		k := key("client-1")
		create(t, st, newSession("chat-1", k, t0))
		end(t, st, "chat-1", at(1))
		next := create(t, st, newSession("chat-2", k, at(2)))
		live, err := st.LiveSession(t.Context(), k)
		if err != nil {
			t.Fatalf("LiveSession: %v", err)
		}
		if live.ID != next.ID {
			t.Errorf("LiveSession = %q, want %q", live.ID, next.ID)
		}
		if got := allEvents(t, st, next.ID); len(got) != 1 || got[0].Seq != 1 {
			t.Errorf("Events(new chat) seqs = %v, want [1]", seqs(got))
		}
		end(t, st, "chat-2", at(3))
		create(t, st, newSession("chat-3", k, at(4)))
	}},
}

// wantEvents checks that got are want numbered from first on.
func wantEvents(t *testing.T, what string, got, want []chat.Event, first int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events %q, want %d", what, len(got), texts(got), len(want))
	}
	for i := range got {
		w := want[i]
		w.Seq = first + int64(i)
		if d := diffEvent(got[i], w); d != "" {
			t.Errorf("%s: event %d differs:%s", what, i, d)
		}
	}
}
