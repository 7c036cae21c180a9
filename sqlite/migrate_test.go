package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// openAt creates a store file at path with the migrations up to version
// applied, as a binary of that time left it.
func openAt(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version <= version {
			if err := apply(t.Context(), db, m); err != nil {
				t.Fatalf("migration %s: %v", m.Name, err)
			}
		}
	}
	return db
}

// A store whose sessions kept their last sequence in a column (before
// migration 0007) goes on numbering each chat's events after its newest
// one, live or read back after a restart.
func TestLastSeqAfterMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	old := openAt(t, path, 5)
	for _, q := range []string{
		`INSERT INTO sessions (id, tenant, app_id, client_id, state, created, last_seq) VALUES ('chat-1', 't', 'a', 'c1', 'queued', 1, 3)`,
		`INSERT INTO sessions (id, tenant, app_id, client_id, state, created, last_seq) VALUES ('chat-2', 't', 'a', 'c2', 'queued', 1, 0)`,
		`INSERT INTO events (chat_id, seq, type, party_id, msg_id, dedup_key, created, payload) VALUES
			('chat-1', 1, 'chat_session_status', '', '', NULL, 1, '{}'),
			('chat-1', 2, 'chat_session_message', 'chat-1', 'm1', 'chat-1' || char(0) || 'm1', 1, '{"msg":"a"}'),
			('chat-1', 3, 'chat_session_message', 'chat-1', 'm2', 'chat-1' || char(0) || 'm2', 1, '{"msg":"b"}')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	wantLast := func(st *Store, id string, want int64) {
		t.Helper()
		if s, err := st.Session(ctx, id); err != nil || s.LastSeq != want {
			t.Errorf("Session(%s).LastSeq = %d, %v; want %d", id, s.LastSeq, err, want)
		}
	}
	wantLast(st, "chat-1", 3)
	wantLast(st, "chat-2", 0)
	msg := func(id, msgID string) []chat.Event {
		return []chat.Event{{ChatID: id, Type: chat.TypeMessage, PartyID: id, MsgID: msgID, Time: time.Now(), Payload: chat.Payload{Msg: msgID}}}
	}
	if got, err := st.Append(ctx, "chat-1", msg("chat-1", "m3"), chat.SessionUpdate{}); err != nil || len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("Append after migration = %+v, %v; want seq 4", got, err)
	}
	if got, err := st.Append(ctx, "chat-1", msg("chat-1", "m2"), chat.SessionUpdate{}); err != nil || len(got) != 0 {
		t.Fatalf("Append of a msg_id stored before the migration = %+v, %v; want nothing stored", got, err)
	}
	if got, err := st.Append(ctx, "chat-2", msg("chat-2", "m1"), chat.SessionUpdate{}); err != nil || len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("Append to an empty log = %+v, %v; want seq 1", got, err)
	}
	wantLast(st, "chat-1", 4)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantLast(st, "chat-1", 4)
	wantLast(st, "chat-2", 1)
	if got, err := st.Append(ctx, "chat-1", msg("chat-1", "m4"), chat.SessionUpdate{}); err != nil || len(got) != 1 || got[0].Seq != 5 {
		t.Fatalf("Append after a restart = %+v, %v; want seq 5", got, err)
	}
	ss, err := st.LiveSessions(ctx)
	if err != nil || len(ss) != 2 || ss[0].LastSeq != 5 || ss[1].LastSeq != 1 {
		t.Errorf("LiveSessions = %+v, %v; want last sequences 5 and 1", ss, err)
	}
}
