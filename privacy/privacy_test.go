package privacy_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/files"
	"github.com/parley-chat/parley/privacy"
	"github.com/parley-chat/parley/sqlite"
)

var t0 = time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	dir    string
	st     *sqlite.Store
	eraser *privacy.Eraser
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := files.OpenDisk(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatalf("open disk: %v", err)
	}
	return &fixture{dir: dir, st: st, eraser: &privacy.Eraser{Store: st, Blobs: blobs}}
}

// conversation stores an ended chat of k with messages, a file, a wrap-up,
// a push subscription and outbox row, linked to caseID when not "".
func (f *fixture) conversation(t *testing.T, k chat.ClientKey, id, caseID string, msgs ...string) {
	t.Helper()
	ctx := t.Context()
	s := chat.Session{ID: id, ClientKey: k, State: chat.StateQueued, Created: t0, From: "Ann <b>", CaseID: caseID,
		Parameters: json.RawMessage(`{"email":"` + k.ClientID + `@example.com"}`)}
	first := []chat.Event{{ChatID: id, Type: chat.TypeStatus, Time: t0, Payload: chat.Payload{State: chat.StateQueued}}}
	if _, err := f.st.CreateSession(ctx, s, first); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	evs := []chat.Event{{ChatID: id, Type: chat.TypePartyJoined, PartyID: "agent-party", Time: t0,
		Payload: chat.Payload{DisplayName: "Bob <i>Agent</i>", PartyType: chat.PartyInternal}}}
	for i, m := range msgs {
		party := id
		if i%2 == 1 {
			party = "agent-party"
		}
		evs = append(evs, chat.Event{ChatID: id, Type: chat.TypeMessage, PartyID: party, MsgID: "m" + string(rune('a'+i)),
			Time: t0.Add(time.Duration(i) * time.Second), Payload: chat.Payload{Msg: m, MsgText: m}})
	}
	fileID := "file-" + id
	if _, err := f.eraser.Blobs.Put(ctx, fileID, strings.NewReader("secret bytes"), 1<<20); err != nil {
		t.Fatalf("put blob: %v", err)
	}
	if err := f.st.PutFile(ctx, chat.File{ID: fileID, ClientKey: k, ChatID: id, Name: "id.png", ContentType: "image/png", Size: 12, Created: t0}); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	evs = append(evs, chat.Event{ChatID: id, Type: chat.TypeFile, PartyID: id, MsgID: "f", Time: t0,
		Payload: chat.Payload{FileID: fileID, FileName: "id.png", FileType: "image/png"}})
	if _, err := f.st.Append(ctx, id, evs, chat.SessionUpdate{}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := f.st.SetPush(ctx, id, chat.PushToken{Kind: chat.PushAPNs, Token: "device-" + k.ClientID}); err != nil {
		t.Fatalf("SetPush: %v", err)
	}
	if err := f.st.QueuePush(ctx, chat.PushJob{ChatID: id, Seq: 2, NotBefore: t0}); err != nil {
		t.Fatalf("QueuePush: %v", err)
	}
	if err := f.st.PutWrapUp(ctx, chat.WrapUp{ChatID: id, AgentID: "agent-1", Code: "solved", Notes: "called back", Created: t0}); err != nil {
		t.Fatalf("PutWrapUp: %v", err)
	}
	end := []chat.Event{{ChatID: id, Type: chat.TypeEnded, Time: t0.Add(time.Hour)}}
	if _, err := f.st.Append(ctx, id, end, chat.SessionUpdate{State: chat.StateCompleted, End: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("end: %v", err)
	}
}

// mentions returns every "table: row" of the database holding any of
// needles in any column: the test looks at the tables themselves, so a
// table added later is checked too.
func (f *fixture) mentions(t *testing.T, needles ...string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "parley.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			var line strings.Builder
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					line.WriteString(v + "|")
				case []byte:
					line.Write(v)
					line.WriteString("|")
				}
			}
			for _, n := range needles {
				if strings.Contains(line.String(), n) {
					found = append(found, table+": "+line.String())
				}
			}
		}
		rows.Close()
	}
	return found
}

func (f *fixture) blobExists(id string) bool {
	found := false
	filepath.WalkDir(filepath.Join(f.dir, "files"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, id) {
			found = true
		}
		return nil
	})
	return found
}

func TestEraseClientLeavesNothingAboutThem(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	ann := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann-client"}
	bob := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "bob-client"}
	if err := f.st.PutCase(ctx, chat.Case{ID: "ann-case", ClientKey: ann, Created: t0}); err != nil {
		t.Fatal(err)
	}
	f.conversation(t, ann, "ann-chat-1", "ann-case", "hello", "hi Ann")
	f.conversation(t, ann, "ann-chat-2", "", "again")
	f.conversation(t, bob, "bob-chat", "", "bob here")
	// An upload never attached to a chat.
	if _, err := f.eraser.Blobs.Put(ctx, "ann-loose-file", strings.NewReader("x"), 10); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutFile(ctx, chat.File{ID: "ann-loose-file", ClientKey: ann, Name: "a", ContentType: "text/plain", Size: 1, Created: t0}); err != nil {
		t.Fatal(err)
	}

	n, err := f.eraser.EraseClient(ctx, ann)
	if err != nil {
		t.Fatalf("EraseClient: %v", err)
	}
	if n != (privacy.Erased{Chats: 2, Files: 3, Cases: 1}) {
		t.Errorf("erased %+v, want 2 chats, 3 files, 1 case", n)
	}
	if left := f.mentions(t, "ann-"); len(left) > 0 {
		t.Errorf("rows about the client remain:\n%s", strings.Join(left, "\n"))
	}
	for _, id := range []string{"file-ann-chat-1", "file-ann-chat-2", "ann-loose-file"} {
		if f.blobExists(id) {
			t.Errorf("the bytes of %s remain on disk", id)
		}
	}
	if len(f.mentions(t, "bob-chat")) == 0 || !f.blobExists("file-bob-chat") {
		t.Error("another client's data was erased too")
	}
	if n, err := f.eraser.EraseClient(ctx, ann); err != nil || n != (privacy.Erased{}) {
		t.Errorf("erasing again = %+v, %v; want nothing and no error", n, err)
	}
}

func TestEraseCaseRemovesItsChats(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	ann := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann"}
	if err := f.st.PutCase(ctx, chat.Case{ID: "case-x", ClientKey: ann, Created: t0}); err != nil {
		t.Fatal(err)
	}
	f.conversation(t, ann, "in-case-1", "case-x", "one")
	f.conversation(t, ann, "in-case-2", "case-x", "two")
	f.conversation(t, ann, "outside", "", "three")
	n, err := f.eraser.EraseCase(ctx, "case-x")
	if err != nil {
		t.Fatalf("EraseCase: %v", err)
	}
	if n != (privacy.Erased{Chats: 2, Files: 2, Cases: 1}) {
		t.Errorf("erased %+v", n)
	}
	if left := f.mentions(t, "in-case-", "case-x"); len(left) > 0 {
		t.Errorf("rows about the case remain:\n%s", strings.Join(left, "\n"))
	}
	if f.blobExists("file-in-case-1") {
		t.Error("a file of the case remains on disk")
	}
	if _, err := f.st.Session(ctx, "outside"); err != nil {
		t.Errorf("a chat outside the case: %v", err)
	}
	if _, err := f.eraser.EraseCase(ctx, "case-x"); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("erasing a gone case = %v, want ErrNotFound", err)
	}
}

func TestEraseRefusesALiveChat(t *testing.T) {
	f := newFixture(t)
	k := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann"}
	s := chat.Session{ID: "live", ClientKey: k, State: chat.StateQueued, Created: t0}
	if _, err := f.st.CreateSession(t.Context(), s, []chat.Event{{ChatID: "live", Type: chat.TypeStatus, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eraser.EraseClient(t.Context(), k); !errors.Is(err, chat.ErrConflict) {
		t.Errorf("EraseClient(live) = %v, want ErrConflict", err)
	}
	if _, err := f.st.Session(t.Context(), "live"); err != nil {
		t.Errorf("the live chat: %v", err)
	}
}

const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`

func TestExportsHoldEveryMessageAndEscapeHTML(t *testing.T) {
	f := newFixture(t)
	k := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "ann"}
	if err := f.st.PutCase(t.Context(), chat.Case{ID: "case-1", ClientKey: k, Created: t0}); err != nil {
		t.Fatal(err)
	}
	msgs := []string{"Hello, I need help", evil, "Sure & welcome", "Thanks \"a lot\""}
	f.conversation(t, k, "chat-1", "case-1", msgs[:2]...)
	f.conversation(t, k, "chat-2", "case-1", msgs[2:]...)
	h := privacy.NewHandler(f.eraser, privacy.BearerToken("s3cret"), slog.New(slog.DiscardHandler))

	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer s3cret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, w.Code, w.Body)
		}
		return w
	}
	t.Run("case as JSON", func(t *testing.T) {
		var x privacy.CaseExport
		if err := json.Unmarshal(get(privacy.Prefix+"cases/case-1/export?format=json").Body.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		if len(x.Chats) != 2 || x.Chats[0].Chat.ChatID != "chat-1" {
			t.Fatalf("chats = %+v", x.Chats)
		}
		var all string
		for _, c := range x.Chats {
			var evs []map[string]any
			if err := json.Unmarshal(c.Events, &evs); err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev["event"] == string(chat.TypeMessage) {
					all += ev["msg"].(string) + "\n"
				}
			}
		}
		for _, m := range msgs {
			if !strings.Contains(all, m) {
				t.Errorf("message %q missing from %q", m, all)
			}
		}
	})
	for _, path := range []string{"chats/chat-1/export?format=html", "cases/case-1/export?format=html"} {
		t.Run(path, func(t *testing.T) {
			w := get(privacy.Prefix + path)
			body := w.Body.String()
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
			if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<img") || strings.Contains(body, "<i>Agent") {
				t.Errorf("unescaped markup in the page:\n%s", body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
				t.Errorf("the escaped message is missing:\n%s", body)
			}
			if !strings.Contains(body, "Bob &lt;i&gt;Agent&lt;/i&gt;") || !strings.Contains(body, "Hello, I need help") {
				t.Errorf("names or messages missing:\n%s", body)
			}
		})
	}
	t.Run("an unknown format is refused", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, privacy.Prefix+"chats/chat-1/export?format=pdf", nil)
		r.Header.Set("Authorization", "Bearer s3cret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest {
			t.Errorf("format=pdf: %d, want 400", w.Code)
		}
	})
}

func TestPrivacyRoutesNeedTheAdminToken(t *testing.T) {
	f := newFixture(t)
	h := privacy.NewHandler(f.eraser, privacy.BearerToken("s3cret"), slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"without a token", "", http.StatusUnauthorized},
		{"with a wrong token", "Bearer nope", http.StatusForbidden},
		{"with the token", "Bearer s3cret", http.StatusNotFound}, // the case does not exist
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, privacy.Prefix+"erase", strings.NewReader(`{"case_id":"nope"}`))
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}
