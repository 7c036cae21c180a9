package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// privacyTests are the rules of chat.PrivacyStore: retention and erasure
// find exactly what they are to remove, and removing takes every row about
// it and nothing else.
var privacyTests = []test{
	{"a tenant's retention periods read back", func(t *testing.T, st chat.Store) {
		want := chat.Tenant{Host: "bank.example", Retention: chat.Retention{
			Chats: chat.Duration(720 * time.Hour), Files: chat.Duration(48 * time.Hour)}}
		if err := st.PutTenant(t.Context(), want); err != nil {
			t.Fatalf("PutTenant: %v", err)
		}
		got, err := st.Tenant(t.Context(), want.Host)
		if err != nil {
			t.Fatalf("Tenant: %v", err)
		}
		if got.Retention != want.Retention {
			t.Errorf("Retention = %+v, want %+v", got.Retention, want.Retention)
		}
	}},
	{"tenant hosts are listed sorted", func(t *testing.T, st chat.Store) {
		ps := privacyStore(t, st)
		for _, h := range []string{"b.example", "a.example", "c.example"} {
			if err := st.PutTenant(t.Context(), chat.Tenant{Host: h}); err != nil {
				t.Fatalf("PutTenant(%q): %v", h, err)
			}
		}
		got, err := ps.TenantHosts(t.Context())
		if err != nil {
			t.Fatalf("TenantHosts: %v", err)
		}
		if want := []string{"a.example", "b.example", "c.example"}; !slices.Equal(got, want) {
			t.Errorf("TenantHosts = %q, want %q", got, want)
		}
	}},
	{"ended sessions are listed by end, before the time only, never live ones", func(t *testing.T, st chat.Store) {
		ps := privacyStore(t, st)
		for i, id := range []string{"chat-late", "chat-early", "chat-mid", "chat-live", "chat-recent"} {
			create(t, st, newSession(id, key("client-"+id), at(i)))
		}
		end(t, st, "chat-late", at(30))
		end(t, st, "chat-early", at(10))
		end(t, st, "chat-mid", at(20))
		end(t, st, "chat-recent", at(100))
		other := newSession("chat-other-tenant", chat.ClientKey{Tenant: "other.example", AppID: appID, ClientID: "c"}, t0)
		create(t, st, other)
		end(t, st, other.ID, at(5))

		wantIDs(t, "EndedSessions(limit 10)", ended(t, ps, at(50), 10), "chat-early", "chat-mid", "chat-late")
		wantIDs(t, "EndedSessions(limit 2)", ended(t, ps, at(50), 2), "chat-early", "chat-mid")
		wantIDs(t, "EndedSessions(before the first end)", ended(t, ps, at(10), 10))
	}},
	{"deleting a session removes its events, files, wrap-ups and push rows and nothing of other chats", func(t *testing.T, st chat.Store) {
		ps := privacyStore(t, st)
		for _, id := range []string{"chat-1", "chat-2"} {
			create(t, st, newSession(id, key("client-1"), t0))
			appendEvents(t, st, id, []chat.Event{message(id, "m1", "hello from "+id)}, chat.SessionUpdate{})
			putFile(t, st, chat.File{ID: "file-" + id, ClientKey: key("client-1"), ChatID: id, Name: "a.txt", ContentType: "text/plain", Size: 1, Created: t0})
			if err := st.PutWrapUp(t.Context(), chat.WrapUp{ChatID: id, AgentID: "agent-1", Code: "done", Created: t0}); err != nil {
				t.Fatalf("PutWrapUp: %v", err)
			}
			queue(t, pushStore(t, st), chat.PushJob{ChatID: id, Seq: 2, NotBefore: at(1)})
			end(t, st, id, at(2))
		}
		if err := ps.DeleteSession(t.Context(), "chat-1"); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, err := st.Session(t.Context(), "chat-1")
		wantErr(t, "Session(deleted)", err, chat.ErrNotFound)
		if evs, err := st.Events(t.Context(), "chat-1", 0, 100); err == nil && len(evs) > 0 {
			t.Errorf("Events(deleted) = %d events, want none", len(evs))
		}
		_, err = st.File(t.Context(), "file-chat-1")
		wantErr(t, "File(of deleted chat)", err, chat.ErrNotFound)
		if w, err := st.WrapUps(t.Context(), "chat-1"); err != nil || len(w) != 0 {
			t.Errorf("WrapUps(deleted) = %v, %v; want none", w, err)
		}
		jobs, err := pushStore(t, st).ClaimPushes(t.Context(), at(10), at(20), 10)
		if err != nil {
			t.Fatalf("ClaimPushes: %v", err)
		}
		if len(jobs) != 1 || jobs[0].ChatID != "chat-2" {
			t.Errorf("push jobs after delete = %+v, want only chat-2's", jobs)
		}
		session(t, st, "chat-2")
		if got := texts(allEvents(t, st, "chat-2")); !slices.Contains(got, "hello from chat-2") {
			t.Errorf("chat-2 events = %q, want its message kept", got)
		}
		wantFile(t, st, chat.File{ID: "file-chat-2", ClientKey: key("client-1"), ChatID: "chat-2", Name: "a.txt", ContentType: "text/plain", Size: 1, Created: t0})
		if err := ps.DeleteSession(t.Context(), "chat-1"); err != nil {
			t.Errorf("DeleteSession(again) = %v, want nil", err)
		}
	}},
	{"files before a time are listed oldest first without agents' profile pictures", func(t *testing.T, st chat.Store) {
		ps := privacyStore(t, st)
		agentKey := chat.ClientKey{Tenant: host, ClientID: "agent:a1"}
		for _, f := range []chat.File{
			{ID: "file-b", ClientKey: key("client-1"), Created: at(20)},
			{ID: "file-a", ClientKey: key("client-2"), Created: at(10)},
			{ID: "file-new", ClientKey: key("client-1"), Created: at(100)},
			{ID: "photo", ClientKey: agentKey, Created: at(1)},
			{ID: "agent-sent", ClientKey: agentKey, ChatID: "chat-1", Created: at(2)},
			{ID: "elsewhere", ClientKey: chat.ClientKey{Tenant: "other.example", AppID: appID, ClientID: "c"}, Created: at(1)},
		} {
			f.Name, f.ContentType, f.Size = "x.bin", "application/octet-stream", 1
			putFile(t, st, f)
		}
		got, err := ps.FilesBefore(t.Context(), host, at(50), 10)
		if err != nil {
			t.Fatalf("FilesBefore: %v", err)
		}
		wantFileIDs(t, "FilesBefore", got, "agent-sent", "file-a", "file-b")
		got, err = ps.FilesBefore(t.Context(), host, at(50), 1)
		if err != nil {
			t.Fatalf("FilesBefore: %v", err)
		}
		wantFileIDs(t, "FilesBefore(limit 1)", got, "agent-sent")
		if err := ps.DeleteFiles(t.Context(), []string{"file-a", "file-b", "gone"}); err != nil {
			t.Fatalf("DeleteFiles: %v", err)
		}
		_, err = st.File(t.Context(), "file-a")
		wantErr(t, "File(deleted)", err, chat.ErrNotFound)
		_, err = st.File(t.Context(), "file-new")
		if err != nil {
			t.Errorf("File(kept) = %v", err)
		}
	}},
	{"a client's sessions, files and cases are listed and no one else's", func(t *testing.T, st chat.Store) {
		ps := privacyStore(t, st)
		me, other := key("client-1"), key("client-2")
		otherApp := chat.ClientKey{Tenant: host, AppID: "sales", ClientID: "client-1"}
		create(t, st, newSession("chat-1", me, at(1)))
		end(t, st, "chat-1", at(2))
		create(t, st, newSession("chat-2", me, at(3)))
		create(t, st, newSession("chat-3", other, at(1)))
		create(t, st, newSession("chat-4", otherApp, at(1)))
		for _, f := range []chat.File{
			{ID: "f1", ClientKey: me, ChatID: "chat-1", Created: at(1)},
			{ID: "f2", ClientKey: me, Created: at(2)},
			{ID: "f3", ClientKey: other, ChatID: "chat-3", Created: at(1)},
		} {
			f.Name, f.ContentType, f.Size = "x.bin", "application/octet-stream", 1
			putFile(t, st, f)
		}
		for _, c := range []chat.Case{
			{ID: "case-1", ClientKey: me, Created: at(1)},
			{ID: "case-2", ClientKey: me, Created: at(2)},
			{ID: "case-3", ClientKey: other, Created: at(1)},
		} {
			if err := st.PutCase(t.Context(), c); err != nil {
				t.Fatalf("PutCase: %v", err)
			}
		}
		sessions, err := ps.ClientSessions(t.Context(), me)
		if err != nil {
			t.Fatalf("ClientSessions: %v", err)
		}
		wantIDs(t, "ClientSessions", sessions, "chat-1", "chat-2")
		files, err := ps.ClientFiles(t.Context(), me)
		if err != nil {
			t.Fatalf("ClientFiles: %v", err)
		}
		wantFileIDs(t, "ClientFiles", files, "f1", "f2")
		attached, err := ps.SessionFiles(t.Context(), "chat-1")
		if err != nil {
			t.Fatalf("SessionFiles: %v", err)
		}
		wantFileIDs(t, "SessionFiles", attached, "f1")
		cases, err := ps.ClientCases(t.Context(), me)
		if err != nil {
			t.Fatalf("ClientCases: %v", err)
		}
		var ids []string
		for _, c := range cases {
			ids = append(ids, c.ID)
		}
		if want := []string{"case-1", "case-2"}; !slices.Equal(ids, want) {
			t.Errorf("ClientCases = %q, want %q", ids, want)
		}
		if err := ps.DeleteCase(t.Context(), "case-1"); err != nil {
			t.Fatalf("DeleteCase: %v", err)
		}
		_, err = st.Case(t.Context(), "case-1")
		wantErr(t, "Case(deleted)", err, chat.ErrNotFound)
		if _, err := st.Case(t.Context(), "case-2"); err != nil {
			t.Errorf("Case(kept) = %v", err)
		}
		if err := ps.DeleteCase(t.Context(), "case-1"); err != nil {
			t.Errorf("DeleteCase(again) = %v, want nil", err)
		}
	}},
}

func privacyStore(t *testing.T, st chat.Store) chat.PrivacyStore {
	t.Helper()
	ps, ok := st.(chat.PrivacyStore)
	if !ok {
		t.Fatalf("%T does not implement chat.PrivacyStore (retention and erasure)", st)
	}
	return ps
}

func ended(t *testing.T, ps chat.PrivacyStore, before time.Time, limit int) []chat.Session {
	t.Helper()
	got, err := ps.EndedSessions(t.Context(), host, before, limit)
	if err != nil {
		t.Fatalf("EndedSessions: %v", err)
	}
	return got
}

func wantIDs(t *testing.T, what string, got []chat.Session, want ...string) {
	t.Helper()
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("%s = %q, want %q", what, ids, want)
	}
}

func wantFileIDs(t *testing.T, what string, got []chat.File, want ...string) {
	t.Helper()
	var ids []string
	for _, f := range got {
		ids = append(ids, f.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("%s = %q, want %q", what, ids, want)
	}
}
