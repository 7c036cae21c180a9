package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/sqlite"
)

// TestSnapshotWhileWriting copies a store while writers append to it: the
// copy opens as a store, holds every event stored before the copy began,
// and each chat's log in it is whole (no gap, whatever moment it caught).
func TestSnapshotWhileWriting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const host = "acme.example"
	k := chat.ClientKey{Tenant: host, AppID: "sales"}
	if err := st.PutTenant(ctx, chat.Tenant{Host: host}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEntry(ctx, host, chat.Entry{AppID: "sales"}); err != nil {
		t.Fatal(err)
	}
	const chats = 4
	for i := range chats {
		k.ClientID = fmt.Sprint("client-", i)
		s := chat.Session{ID: fmt.Sprint("chat-", i), ClientKey: k, State: chat.StateQueued, Created: time.Now()}
		if _, err := st.CreateSession(ctx, s, []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	appendOne := func(ctx context.Context, chatID string, n int) error {
		_, err := st.Append(ctx, chatID, []chat.Event{{ChatID: chatID, Type: chat.TypeMessage, PartyID: chatID,
			MsgID: fmt.Sprint("m", n), Time: time.Now(), Payload: chat.Payload{Msg: "hello"}}}, chat.SessionUpdate{})
		return err
	}
	for i := range chats {
		for n := range 10 {
			if err := appendOne(ctx, fmt.Sprint("chat-", i), n); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Writers keep appending until the copy is done.
	writing, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range chats {
		wg.Go(func() {
			for n := 10; writing.Err() == nil; n++ {
				if err := appendOne(context.Background(), fmt.Sprint("chat-", i), n); err != nil {
					t.Errorf("append during the copy: %v", err)
					return
				}
			}
		})
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	schema, err := sqlite.Snapshot(ctx, filepath.Join(dir, "parley.db"), dest)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if latest, _ := sqlite.LatestSchema(); schema != latest {
		t.Errorf("the copy's schema = %d, want %d", schema, latest)
	}

	cp, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer cp.Close()
	for i := range chats {
		evs, err := cp.Events(ctx, fmt.Sprint("chat-", i), 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) < 11 {
			t.Errorf("chat-%d in the copy has %d events, want at least the 11 stored before it", i, len(evs))
		}
		for j, ev := range evs {
			if ev.Seq != int64(j+1) {
				t.Fatalf("chat-%d in the copy: event %d has seq %d: a gap", i, j, ev.Seq)
			}
		}
	}
}

func TestCheckRefusesANewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := sqlite.Check(ctx, path); err != nil {
		t.Fatalf("Check of a fresh store: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := sqlite.Check(ctx, path); !errors.Is(err, sqlite.ErrNewerSchema) {
		t.Errorf("Check of a newer store = %v, want ErrNewerSchema", err)
	}
	if _, err := sqlite.Open(ctx, path); !errors.Is(err, sqlite.ErrNewerSchema) {
		t.Errorf("Open of a newer store = %v, want ErrNewerSchema", err)
	}
	if _, err := sqlite.Check(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("Check of a missing file succeeded")
	}
}
