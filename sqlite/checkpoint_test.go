package sqlite

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// The log must start over under steady load, with checkpoints off the
// writer: a checkpoint running beside the writer never copies the log to
// its end by itself, and the log then grows as much as is written to it.
// Thresholds far below the defaults make many cycles out of a few thousand
// appends, by writers appending without pause and reading the log; the
// log must stay far below what is written to it (readers on its older
// pages defer some restarts: a few cycles' worth, not the whole).
func TestLogStartsOverUnderLoad(t *testing.T) {
	const every, restart = 10, 40
	path := filepath.Join(t.TempDir(), "parley.db")
	st, err := open(t.Context(), path, every, restart)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const chats = 64
	ids := make([]string, chats)
	for i := range ids {
		s := chat.Session{ID: fmt.Sprint("chat-", i), ClientKey: chat.ClientKey{Tenant: "t", AppID: "a", ClientID: fmt.Sprint(i)},
			State: chat.StateQueued, Created: time.Now()}
		if _, err := st.CreateSession(t.Context(), s, []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	const pageSize, bound = 4096, 6 << 20 // a restart every 40 pages: 160 KiB
	var wg sync.WaitGroup
	var mu sync.Mutex
	var largest int64
	const perChat = 150
	for _, id := range ids {
		wg.Go(func() {
			for n := range perChat {
				ev := chat.Event{ChatID: id, Type: chat.TypeMessage, PartyID: id, MsgID: fmt.Sprint("m", n), Time: time.Now(),
					Payload: chat.Payload{Msg: "Hello, I have a question about my order; could you please check where it is?"}}
				if _, err := st.Append(t.Context(), id, []chat.Event{ev}, chat.SessionUpdate{}); err != nil {
					t.Error(err)
					return
				}
				if _, err := st.Events(t.Context(), id, 0, 10); err != nil { // readers on the log
					t.Error(err)
					return
				}
				if fi, err := os.Stat(path + "-wal"); err == nil {
					mu.Lock()
					largest = max(largest, fi.Size())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	var logged int64
	onWriter(t, st, func(*sql.Tx) error { logged = st.ckpt.logged; return nil })
	if logged*pageSize < 3*bound {
		t.Fatalf("only %d KiB written to the log: too little to tell", logged*pageSize>>10)
	}
	if largest > bound {
		t.Errorf("the log grew to %d KiB, want at most %d KiB (%d KiB written to it)", largest>>10, bound>>10, logged*pageSize>>10)
	}
}

// A log that grew past logSizeLimit in one burst (here a commit of 80 MiB)
// is cut back to the limit once it starts over, instead of keeping its
// largest size on disk.
func TestLogCutBackAfterBurst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	st, err := open(t.Context(), path, 10, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := chat.Session{ID: "chat-1", ClientKey: chat.ClientKey{Tenant: "t", AppID: "a", ClientID: "c"}, State: chat.StateQueued, Created: time.Now()}
	if _, err := st.CreateSession(t.Context(), s, []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<20)
	burst := make([]chat.Event, 80)
	for i := range burst {
		burst[i] = chat.Event{ChatID: s.ID, Type: chat.TypeMessage, PartyID: s.ID, Time: time.Now(), Payload: chat.Payload{Msg: big}}
	}
	if _, err := st.Append(t.Context(), s.ID, burst, chat.SessionUpdate{}); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if size() <= logSizeLimit {
		t.Fatalf("the burst left a log of %d KiB, want more than %d KiB", size()>>10, logSizeLimit>>10)
	}
	for n := 0; size() > logSizeLimit; n++ {
		if n == 10000 {
			t.Fatalf("the log is still %d KiB after %d appends, want at most %d KiB", size()>>10, n, logSizeLimit>>10)
		}
		ev := chat.Event{ChatID: s.ID, Type: chat.TypeMessage, PartyID: s.ID, Time: time.Now(), Payload: chat.Payload{Msg: "small"}}
		if _, err := st.Append(t.Context(), s.ID, []chat.Event{ev}, chat.SessionUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
}
