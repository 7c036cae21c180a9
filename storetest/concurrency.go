package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/chat"
)

var concurrencyTests = []test{
	{"concurrent appends to one chat are numbered without gaps in each writer's order", func(t *testing.T, st chat.Store) {
		const writers, perWriter = 50, 20
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		writeConcurrently(t, st, []string{s.ID}, writers, perWriter)
		log := allEvents(t, st, s.ID)
		if len(log) != 1+writers*perWriter {
			t.Fatalf("Events = %d events, want %d", len(log), 1+writers*perWriter)
		}
		wantGapFree(t, "Events", log, 1)
		wantWriterOrder(t, log[1:], writers, perWriter)
		if last := session(t, st, s.ID).LastSeq; last != int64(len(log)) {
			t.Errorf("LastSeq = %d, want %d", last, len(log))
		}
	}},
	{"concurrent appends to several chats keep every log gap-free", func(t *testing.T, st chat.Store) {
		const chats, writers, perWriter = 5, 40, 10
		ids := make([]string, chats)
		for i := range ids {
			ids[i] = create(t, st, newSession(fmt.Sprintf("chat-%d", i), key(fmt.Sprintf("client-%d", i)), t0)).ID
		}
		writeConcurrently(t, st, ids, writers, perWriter)
		for _, id := range ids {
			log := allEvents(t, st, id)
			if want := 1 + writers/chats*perWriter; len(log) != want {
				t.Fatalf("Events(%s) = %d events, want %d", id, len(log), want)
			}
			wantGapFree(t, "Events("+id+")", log, 1)
			for _, ev := range log {
				if ev.ChatID != id {
					t.Fatalf("Events(%s): seq %d belongs to %q", id, ev.Seq, ev.ChatID)
				}
			}
			if last := session(t, st, id).LastSeq; last != int64(len(log)) {
				t.Errorf("LastSeq(%s) = %d, want %d", id, last, len(log))
			}
		}
	}},
	{"concurrent resends of one msg_id store one event", func(t *testing.T, st chat.Store) {
		const senders = 20
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		var stored atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range senders {
			wg.Go(func() {
				<-start
				got, err := st.Append(t.Context(), s.ID, []chat.Event{message(s.ID, "m1", fmt.Sprint(g))}, chat.SessionUpdate{})
				if err != nil {
					t.Errorf("sender %d: Append: %v", g, err)
				}
				stored.Add(int64(len(got)))
			})
		}
		close(start)
		wg.Wait()
		if n := stored.Load(); n != 1 {
			t.Errorf("appends returned %d stored events in all, want 1", n)
		}
		if log := allEvents(t, st, s.ID); len(log) != 2 {
			t.Errorf("Events = %d events %q, want the status and one message", len(log), texts(log))
		}
	}},
	{"concurrent requests of one client create one live session", func(t *testing.T, st chat.Store) {
		const requests = 20
		k := key("client-1")
		var wg sync.WaitGroup
		start := make(chan struct{})
		created := make(chan string, requests)
		for g := range requests {
			wg.Go(func() {
				<-start
				id := fmt.Sprintf("chat-%d", g)
				_, err := st.CreateSession(t.Context(), newSession(id, k, t0), []chat.Event{status(id, chat.StateQueued, 0)})
				switch {
				case err == nil:
					created <- id
				case !errors.Is(err, chat.ErrConflict):
					t.Errorf("request %d: CreateSession: error = %v, want nil or %v", g, err, chat.ErrConflict)
				}
			})
		}
		close(start)
		wg.Wait()
		close(created)
		var ids []string
		for id := range created {
			ids = append(ids, id)
		}
		if len(ids) != 1 {
			t.Fatalf("%d sessions created (%q), want 1", len(ids), ids)
		}
		if live, err := st.LiveSession(t.Context(), k); err != nil || live.ID != ids[0] {
			t.Errorf("LiveSession = %q, %v; want %q", live.ID, err, ids[0])
		}
	}},
	{"failed writes among concurrent ones change nothing and undo nothing", func(t *testing.T, st chat.Store) {
		// Stores may commit concurrent writes together; a write that fails
		// must neither leave a trace nor take the others down with it.
		const rounds = 20
		live := create(t, st, newSession("chat-live", key("client-live"), t0))
		ended := create(t, st, newSession("chat-ended", key("client-ended"), t0))
		end(t, st, ended.ID, at(1))
		create(t, st, newSession("chat-taken", key("client-taken"), t0))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range rounds {
			wg.Go(func() {
				<-start
				id := fmt.Sprintf("chat-refused-%d", g)
				_, err := st.CreateSession(t.Context(), newSession(id, key("client-taken"), t0), []chat.Event{status(id, chat.StateQueued, 0)})
				if !errors.Is(err, chat.ErrConflict) {
					t.Errorf("CreateSession(taken client) %d: error = %v, want %v", g, err, chat.ErrConflict)
				}
			})
			wg.Go(func() {
				<-start
				_, err := st.Append(t.Context(), ended.ID, []chat.Event{message(ended.ID, "", "late")}, chat.SessionUpdate{State: chat.StateConnected})
				if !errors.Is(err, chat.ErrNotFound) {
					t.Errorf("Append(ended chat) %d: error = %v, want %v", g, err, chat.ErrNotFound)
				}
			})
			wg.Go(func() {
				<-start
				if _, err := st.Append(t.Context(), live.ID, []chat.Event{message(live.ID, fmt.Sprint(g), "kept")}, chat.SessionUpdate{}); err != nil {
					t.Errorf("Append(live chat) %d: %v", g, err)
				}
			})
			wg.Go(func() {
				<-start
				id := fmt.Sprintf("chat-new-%d", g)
				if _, err := st.CreateSession(t.Context(), newSession(id, key(id), t0), []chat.Event{status(id, chat.StateQueued, 0)}); err != nil {
					t.Errorf("CreateSession(new client) %d: %v", g, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if log := allEvents(t, st, live.ID); len(log) != 1+rounds {
			t.Errorf("Events(live chat) = %d events, want %d", len(log), 1+rounds)
		}
		if log := allEvents(t, st, ended.ID); len(log) != 2 {
			t.Errorf("Events(ended chat) = %d events %q, want 2", len(log), texts(log))
		}
		if got := session(t, st, ended.ID); got.State != chat.StateCompleted || got.LastSeq != 2 {
			t.Errorf("Session(ended chat) = state %q, last seq %d; want %q, 2", got.State, got.LastSeq, chat.StateCompleted)
		}
		for g := range rounds {
			if _, err := st.Session(t.Context(), fmt.Sprintf("chat-refused-%d", g)); !errors.Is(err, chat.ErrNotFound) {
				t.Errorf("Session(chat-refused-%d): error = %v, want %v", g, err, chat.ErrNotFound)
			}
			if s := session(t, st, fmt.Sprintf("chat-new-%d", g)); s.LastSeq != 1 {
				t.Errorf("Session(chat-new-%d).LastSeq = %d, want 1", g, s.LastSeq)
			}
		}
	}},
	{"a state is never seen before the event announcing it", func(t *testing.T, st chat.Store) {
		// Each append announces a state and sets it; a reader that sees
		// the session at some LastSeq must find the event of its state there.
		const appends = 100
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(done)
			for i := range appends {
				state := fmt.Sprintf("s%03d", i)
				ev := status(s.ID, state, i)
				if _, err := st.Append(t.Context(), s.ID, []chat.Event{ev}, chat.SessionUpdate{State: state, EWT: &i}); err != nil {
					t.Errorf("Append %d: %v", i, err)
					return
				}
			}
		})
		check := func() bool {
			sess, err := st.Session(t.Context(), s.ID)
			if err != nil {
				t.Errorf("Session: %v", err)
				return false
			}
			evs, err := st.Events(t.Context(), s.ID, sess.LastSeq-1, 1)
			if err != nil {
				t.Errorf("Events: %v", err)
				return false
			}
			if len(evs) != 1 || evs[0].Seq != sess.LastSeq || evs[0].State != sess.State || evs[0].EWT != sess.EWT {
				t.Errorf("Session = last seq %d, state %q, ewt %d; the event at that seq is %+v", sess.LastSeq, sess.State, sess.EWT, evs)
				return false
			}
			return true
		}
		for reading := true; reading; {
			select {
			case <-done:
				reading = false
			default:
			}
			if !check() {
				break
			}
		}
		wg.Wait()
		if sess := session(t, st, s.ID); sess.LastSeq != appends+1 || sess.State != fmt.Sprintf("s%03d", appends-1) {
			t.Errorf("Session = last seq %d, state %q; want %d, s%03d", sess.LastSeq, sess.State, appends+1, appends-1)
		}
	}},
}

// writeConcurrently starts writers goroutines that each append perWriter
// messages, in batches of a size that depends on the writer, to the chats
// in turn (writer g writes to ids[g%len(ids)]). Each message's text names
// its writer and its place: "g07-13".
func writeConcurrently(t *testing.T, st chat.Store, ids []string, writers, perWriter int) {
	t.Helper()
	batchSizes := [][]int{{1}, {2}, {5}, {3, 7, 10}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range writers {
		wg.Go(func() {
			chatID := ids[g%len(ids)]
			sizes := batchSizes[g%len(batchSizes)]
			<-start
			last := int64(0)
			for i, b := 0, 0; i < perWriter; b++ {
				n := min(sizes[b%len(sizes)], perWriter-i)
				batch := make([]chat.Event, n)
				for j := range batch {
					tag := fmt.Sprintf("g%02d-%02d", g, i+j)
					batch[j] = message(chatID, tag, tag)
				}
				got, err := st.Append(t.Context(), chatID, batch, chat.SessionUpdate{})
				if err != nil {
					t.Errorf("writer %d: Append(%d events): %v", g, n, err)
					return
				}
				if len(got) != n {
					t.Errorf("writer %d: Append(%d events) stored %d", g, n, len(got))
					return
				}
				// A batch is one transaction: its events are contiguous.
				for j, ev := range got {
					if ev.Seq <= last || (j > 0 && ev.Seq != got[j-1].Seq+1) {
						t.Errorf("writer %d: Append returned seqs %v after %d", g, seqs(got), last)
						return
					}
					if ev.Msg != batch[j].Msg {
						t.Errorf("writer %d: Append returned %q at %d, want %q", g, ev.Msg, j, batch[j].Msg)
					}
				}
				last = got[n-1].Seq
				i += n
			}
		})
	}
	close(start)
	wg.Wait()
}

// wantWriterOrder checks that each writer's messages are all in the log,
// once, in the order it sent them.
func wantWriterOrder(t *testing.T, log []chat.Event, writers, perWriter int) {
	t.Helper()
	next := make([]int, writers)
	for _, ev := range log {
		var g, i int
		if _, err := fmt.Sscanf(ev.Msg, "g%d-%d", &g, &i); err != nil || g < 0 || g >= writers {
			t.Fatalf("seq %d: unexpected event %q", ev.Seq, ev.Msg)
		}
		if i != next[g] {
			t.Fatalf("seq %d: writer %d's message %d, want its message %d", ev.Seq, g, i, next[g])
		}
		next[g]++
	}
	for g, n := range next {
		if n != perWriter {
			t.Errorf("writer %d: %d messages in the log, want %d", g, n, perWriter)
		}
	}
}
