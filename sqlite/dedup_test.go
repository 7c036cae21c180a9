package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// The writer's msg_id sets (dedup.go) in the situations the contract suite
// cannot bring about: a set dropped or never read, keys of undone writes,
// hashes that collide.
func TestDedupSets(t *testing.T) {
	msg := func(chatID, msgID string) chat.Event {
		return chat.Event{ChatID: chatID, Type: chat.TypeMessage, PartyID: chatID, MsgID: msgID, Time: time.Now(), Payload: chat.Payload{Msg: msgID}}
	}
	tests := []struct {
		name string
		// between runs after m1 was stored, before m1 and m2 are sent
		// again; stored are the msg_ids that must then be stored.
		between func(t *testing.T, st *Store, path, chatID string) *Store
		stored  []string
	}{
		{"a resend is skipped while the writer holds the chat's set",
			func(t *testing.T, st *Store, path, chatID string) *Store { return st },
			[]string{"m2"}},
		{"a resend is skipped once the set was dropped",
			func(t *testing.T, st *Store, path, chatID string) *Store {
				onWriter(t, st, func(tx *sql.Tx) error { st.dedup.forget(chatID); return nil })
				return st
			},
			[]string{"m2"}},
		{"a resend is skipped after a restart",
			func(t *testing.T, st *Store, path, chatID string) *Store {
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				return openTest(t, path)
			},
			[]string{"m2"}},
		{"a msg_id of an undone write is stored when sent again",
			func(t *testing.T, st *Store, path, chatID string) *Store {
				undone := errors.New("undone")
				err := st.exec(t.Context(), func(tx *sql.Tx) error {
					if _, _, err := st.appendEvents(tx, chatID, []chat.Event{msg(chatID, "m2")}, chat.SessionUpdate{}); err != nil {
						return err
					}
					return undone
				})
				if !errors.Is(err, undone) {
					t.Fatalf("exec = %v, want the write's error", err)
				}
				return st
			},
			[]string{"m2"}},
		{"a msg_id whose hash collides with one the chat holds is stored",
			func(t *testing.T, st *Store, path, chatID string) *Store {
				onWriter(t, st, func(tx *sql.Tx) error {
					ds, err := st.dedup.set(st.stmt(tx, st.st.loadDedup), chatID)
					if err != nil {
						return err
					}
					key := msg(chatID, "m2")
					ds.add(st.dedup.hash(key.DedupKey()))
					return nil
				})
				return st
			},
			[]string{"m2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			st := openTest(t, path)
			s := chat.Session{ID: "chat-1", ClientKey: chat.ClientKey{Tenant: "t", AppID: "a", ClientID: "c"}, State: chat.StateQueued, Created: time.Now()}
			if _, err := st.CreateSession(t.Context(), s, []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Append(t.Context(), s.ID, []chat.Event{msg(s.ID, "m1")}, chat.SessionUpdate{}); err != nil {
				t.Fatal(err)
			}
			st = tc.between(t, st, path, s.ID)
			got, err := st.Append(t.Context(), s.ID, []chat.Event{msg(s.ID, "m1"), msg(s.ID, "m2"), msg(s.ID, "m2")}, chat.SessionUpdate{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range got {
				ids = append(ids, ev.MsgID)
			}
			if !slices.Equal(ids, tc.stored) {
				t.Errorf("Append stored %q, want %q", ids, tc.stored)
			}
			evs, err := st.Events(t.Context(), s.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 3 || evs[1].MsgID != "m1" || evs[2].MsgID != "m2" || evs[2].Seq != 3 {
				t.Errorf("log = %+v, want the status, m1 and m2", evs)
			}
		})
	}
}

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	st, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onWriter runs fn on the writer goroutine, in a group of its own.
func onWriter(t *testing.T, st *Store, fn func(tx *sql.Tx) error) {
	t.Helper()
	if err := st.exec(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}
