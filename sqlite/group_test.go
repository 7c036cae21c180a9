package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// A group of writes runs without savepoints until one fails after writing:
// then the group runs again, each write in a savepoint. Whatever the way,
// a failed write leaves nothing and the others of its group are all kept,
// in order.
func TestGroupWithFailedWrites(t *testing.T) {
	ctx := t.Context()
	st := openTest(t, filepath.Join(t.TempDir(), "parley.db"))
	newChat := func(id, client string) {
		t.Helper()
		s := chat.Session{ID: id, ClientKey: chat.ClientKey{Tenant: "t", AppID: "a", ClientID: client}, State: chat.StateQueued, Created: time.Now()}
		if _, err := st.CreateSession(ctx, s, []chat.Event{{ChatID: id, Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	newChat("chat-a", "client-a")
	newChat("chat-b", "client-b")
	newChat("chat-c", "client-c")
	if _, err := st.Append(ctx, "chat-c", nil, chat.SessionUpdate{State: chat.StateCompleted, End: time.Now()}); err != nil {
		t.Fatal(err)
	}
	msg := func(id, text string) []chat.Event {
		return []chat.Event{{ChatID: id, Type: chat.TypeMessage, PartyID: id, MsgID: text, Time: time.Now(), Payload: chat.Payload{Msg: text}}}
	}

	broken := errors.New("broken after writing")
	writes := []struct {
		name string
		run  func() error
		want error
	}{
		{"an append", func() error {
			_, err := st.Append(ctx, "chat-a", msg("chat-a", "a1"), chat.SessionUpdate{})
			return err
		}, nil},
		{"a write that fails after writing", func() error {
			return st.exec(ctx, func(tx *sql.Tx) error {
				if _, _, err := st.appendEvents(tx, "chat-b", msg("chat-b", "lost"), chat.SessionUpdate{}); err != nil {
					return err
				}
				return broken
			})
		}, broken},
		{"an append after it", func() error {
			_, err := st.Append(ctx, "chat-a", msg("chat-a", "a2"), chat.SessionUpdate{})
			return err
		}, nil},
		{"an append to an ended chat", func() error {
			_, err := st.Append(ctx, "chat-c", msg("chat-c", "c1"), chat.SessionUpdate{})
			return err
		}, chat.ErrNotFound},
		{"a second live chat of a client", func() error {
			s := chat.Session{ID: "chat-a2", ClientKey: chat.ClientKey{Tenant: "t", AppID: "a", ClientID: "client-a"}, State: chat.StateQueued, Created: time.Now()}
			_, err := st.CreateSession(ctx, s, []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now()}})
			return err
		}, chat.ErrConflict},
		{"an append to the chat of the failed write", func() error {
			_, err := st.Append(ctx, "chat-b", msg("chat-b", "b1"), chat.SessionUpdate{})
			return err
		}, nil},
	}

	// Hold the writer in a group of its own until every write is queued:
	// they then make one group, in this order.
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() { held <- st.exec(ctx, func(*sql.Tx) error { close(started); <-release; return nil }) }()
	<-started
	results := make([]chan error, len(writes))
	for i, w := range writes {
		results[i] = make(chan error, 1)
		go func() { results[i] <- w.run() }()
		waitFor(t, func() bool { return len(st.ops) == i+1 })
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, w := range writes {
		if err := <-results[i]; !errors.Is(err, w.want) || (w.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", w.name, err, w.want)
		}
	}

	for id, want := range map[string][]string{"chat-a": {"a1", "a2"}, "chat-b": {"b1"}, "chat-c": {}} {
		evs, err := st.Events(ctx, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, ev := range evs {
			if ev.Seq != int64(i)+1 {
				t.Errorf("%s: event %d has seq %d", id, i, ev.Seq)
			}
			if ev.Type == chat.TypeMessage {
				got = append(got, ev.Msg)
			}
		}
		if len(got) != len(want) || (len(want) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Errorf("%s: messages %q, want %q", id, got, want)
		}
	}
	if s, err := st.Session(ctx, "chat-b"); err != nil || s.LastSeq != 2 {
		t.Errorf("chat-b: last seq %d, %v; want 2", s.LastSeq, err)
	}
}

// waitFor waits until cond holds, for a few seconds at most.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met in time")
		case <-time.After(time.Millisecond):
		}
	}
}
