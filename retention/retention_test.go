package retention_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/files"
	"github.com/parley-chat/parley/privacy"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/sqlite"
)

var t0 = time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st    *sqlite.Store
	blobs *files.Disk
	job   *retention.Job
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
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
	f := &fixture{st: st, blobs: blobs, now: t0}
	f.job = &retention.Job{Eraser: &privacy.Eraser{Store: st, Blobs: blobs},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }, Batch: 2}
	return f
}

func (f *fixture) tenant(t *testing.T, host string, r chat.Retention) {
	t.Helper()
	if err := f.st.PutTenant(t.Context(), chat.Tenant{Host: host, Retention: r}); err != nil {
		t.Fatalf("PutTenant: %v", err)
	}
}

// chat stores a chat of host created at created with a message and a file;
// a non-zero ended ends it then.
func (f *fixture) chat(t *testing.T, host, id string, created, ended time.Time) {
	t.Helper()
	ctx := t.Context()
	k := chat.ClientKey{Tenant: host, AppID: "support", ClientID: "client-" + id}
	s := chat.Session{ID: id, ClientKey: k, State: chat.StateQueued, Created: created}
	first := []chat.Event{{ChatID: id, Type: chat.TypeStatus, Time: created, Payload: chat.Payload{State: chat.StateQueued}}}
	if _, err := f.st.CreateSession(ctx, s, first); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	f.file(t, k, id, "file-"+id, created)
	if !ended.IsZero() {
		end := []chat.Event{{ChatID: id, Type: chat.TypeEnded, Time: ended}}
		if _, err := f.st.Append(ctx, id, end, chat.SessionUpdate{State: chat.StateCompleted, End: ended}); err != nil {
			t.Fatalf("end: %v", err)
		}
	}
}

func (f *fixture) file(t *testing.T, k chat.ClientKey, chatID, id string, created time.Time) {
	t.Helper()
	if _, err := f.blobs.Put(t.Context(), id, strings.NewReader("bytes of "+id), 1<<20); err != nil {
		t.Fatalf("put blob: %v", err)
	}
	if err := f.st.PutFile(t.Context(), chat.File{ID: id, ClientKey: k, ChatID: chatID, Name: id + ".txt",
		ContentType: "text/plain", Size: 9, Created: created}); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
}

func (f *fixture) wantChat(t *testing.T, id string, kept bool) {
	t.Helper()
	_, err := f.st.Session(t.Context(), id)
	if kept && err != nil {
		t.Errorf("chat %s: %v, want kept", id, err)
	}
	if !kept && !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("chat %s: err %v, want deleted", id, err)
	}
}

func (f *fixture) wantFile(t *testing.T, id string, kept bool) {
	t.Helper()
	_, rowErr := f.st.File(t.Context(), id)
	r, blobErr := f.blobs.Open(context.Background(), id)
	if blobErr == nil {
		io.Copy(io.Discard, r)
		r.Close()
	}
	if kept && (rowErr != nil || blobErr != nil) {
		t.Errorf("file %s: row %v, bytes %v; want kept", id, rowErr, blobErr)
	}
	if !kept && (!errors.Is(rowErr, chat.ErrNotFound) || !errors.Is(blobErr, chat.ErrNotFound)) {
		t.Errorf("file %s: row %v, bytes %v; want both deleted", id, rowErr, blobErr)
	}
}

func TestOldEndedChatsAreDeletedAndLiveAndRecentOnesKept(t *testing.T) {
	f := newFixture(t)
	f.tenant(t, "bank.example", chat.Retention{Chats: chat.Duration(30 * 24 * time.Hour)})
	f.tenant(t, "keep.example", chat.Retention{})
	day := 24 * time.Hour
	for _, id := range []string{"old-1", "old-2", "old-3"} { // more than a batch
		f.chat(t, "bank.example", id, t0, t0.Add(time.Hour))
	}
	f.chat(t, "bank.example", "recent", t0, t0.Add(40*day))
	f.chat(t, "bank.example", "live", t0, time.Time{})
	f.chat(t, "keep.example", "forever", t0, t0.Add(time.Hour))
	f.now = t0.Add(60 * day)

	res, err := f.job.Once(t.Context())
	if err != nil {
		t.Fatalf("Once: %v", err)
	}
	if res.Chats != 3 {
		t.Errorf("deleted %d chats, want 3", res.Chats)
	}
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		f.wantChat(t, id, false)
		f.wantFile(t, "file-"+id, false)
		if evs, _ := f.st.Events(t.Context(), id, 0, 10); len(evs) != 0 {
			t.Errorf("chat %s still has %d events", id, len(evs))
		}
	}
	for _, id := range []string{"recent", "live", "forever"} {
		f.wantChat(t, id, true)
		f.wantFile(t, "file-"+id, true)
	}

	// Once the recent chat is as old, the next run takes it.
	f.now = t0.Add(71 * day)
	if res, err := f.job.Once(t.Context()); err != nil || res.Chats != 1 {
		t.Errorf("second run = %+v, %v; want 1 chat", res, err)
	}
	f.wantChat(t, "recent", false)
	f.wantChat(t, "live", true)
}

func TestOldFilesAreDeletedAndTheirChatsKept(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	f.tenant(t, "bank.example", chat.Retention{Files: chat.Duration(7 * day)})
	f.chat(t, "bank.example", "live", t0, time.Time{})
	k := chat.ClientKey{Tenant: "bank.example", AppID: "support", ClientID: "client-live"}
	f.file(t, k, "live", "new-file", t0.Add(5*day))
	f.file(t, chat.ClientKey{Tenant: "bank.example", ClientID: "agent:a1"}, "", "agent-photo", t0)
	f.now = t0.Add(10 * day)

	res, err := f.job.Once(t.Context())
	if err != nil {
		t.Fatalf("Once: %v", err)
	}
	if res.Files != 1 || res.Chats != 0 {
		t.Errorf("deleted %+v, want 1 file and no chat", res)
	}
	f.wantFile(t, "file-live", false)
	f.wantFile(t, "new-file", true)
	f.wantFile(t, "agent-photo", true)
	f.wantChat(t, "live", true)
}

func TestRunDeletesAtStartAndStopsWithItsContext(t *testing.T) {
	f := newFixture(t)
	f.tenant(t, "bank.example", chat.Retention{Chats: chat.Duration(time.Hour)})
	f.chat(t, "bank.example", "old", t0, t0)
	f.now = t0.Add(2 * time.Hour)
	f.job.Interval = time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.job.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := f.st.Session(t.Context(), "old"); errors.Is(err, chat.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the chat was not deleted at start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}
