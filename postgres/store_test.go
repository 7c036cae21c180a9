package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
	"github.com/parley-chat/parley/storetest"
)

// open opens a store on dsn, closed when the test ends.
func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

func TestStoreContract(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) chat.Store {
		t.Helper()
		return open(t, pgtest.Schema(t))
	})
}

func TestTwoNodesAppendingToOneChatKeepItGapFreeAndInEachWritersOrder(t *testing.T) {
	// Two pools on one schema are two nodes: only PostgreSQL's row lock
	// stands between their appends.
	dsn := pgtest.Schema(t)
	nodes := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const chatID, writers, perWriter = "chat-1", 16, 25
	k := chat.ClientKey{Tenant: "demo.parley.local", AppID: "support", ClientID: "client-1"}
	if _, err := nodes[0].CreateSession(t.Context(), chat.Session{ID: chatID, ClientKey: k, State: chat.StateQueued, Created: time.Now()},
		[]chat.Event{{Type: chat.TypeStatus, Time: time.Now(), Payload: chat.Payload{State: chat.StateQueued}}}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range writers {
		wg.Go(func() {
			node := nodes[g%2]
			<-start
			last := int64(0)
			for i := 0; i < perWriter; {
				n := min(1+g%4, perWriter-i) // batches of 1 to 4
				batch := make([]chat.Event, n)
				for j := range batch {
					tag := fmt.Sprintf("g%02d-%02d", g, i+j)
					// Every message is sent twice, once by each node: the
					// resend must be skipped without taking a number.
					batch[j] = chat.Event{Type: chat.TypeMessage, PartyID: chatID, MsgID: tag, Time: time.Now(),
						Payload: chat.Payload{Msg: tag}}
				}
				got, err := node.Append(t.Context(), chatID, batch, chat.SessionUpdate{})
				if err != nil {
					t.Errorf("writer %d: Append: %v", g, err)
					return
				}
				if len(got) != n || got[0].Seq <= last || got[n-1].Seq != got[0].Seq+int64(n-1) {
					t.Errorf("writer %d: Append of %d returned seqs %v after %d", g, n, seqs(got), last)
					return
				}
				last = got[n-1].Seq
				resent, err := nodes[(g+1)%2].Append(t.Context(), chatID, batch, chat.SessionUpdate{})
				if err != nil || len(resent) != 0 {
					t.Errorf("writer %d: resend through the other node stored %v, %v; want nothing", g, seqs(resent), err)
					return
				}
				i += n
			}
		})
	}
	close(start)
	wg.Wait()

	evs, err := nodes[1].Events(t.Context(), chatID, 0, 10_000)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if want := 1 + writers*perWriter; len(evs) != want {
		t.Fatalf("Events = %d events, want %d", len(evs), want)
	}
	next := make([]int, writers)
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the log has a gap", i, ev.Seq)
		}
		if i == 0 {
			continue
		}
		var g, n int
		if _, err := fmt.Sscanf(ev.Msg, "g%d-%d", &g, &n); err != nil || n != next[g] {
			t.Fatalf("seq %d is %q, want writer %d's message %d", ev.Seq, ev.Msg, g, next[g])
		}
		next[g]++
	}
	for _, node := range nodes {
		if s, err := node.Session(t.Context(), chatID); err != nil || s.LastSeq != int64(len(evs)) {
			t.Errorf("Session = last seq %d, %v; want %d", s.LastSeq, err, len(evs))
		}
	}
}

func TestNodesOpeningANewSchemaTogetherMigrateItOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	const nodes = 6
	var wg sync.WaitGroup
	for range nodes {
		wg.Go(func() { open(t, dsn) })
	}
	wg.Wait()
	conn := connect(t, dsn)
	var versions, applied int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &versions); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if applied != versions || applied == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", applied, versions)
	}
}

func TestASchemaNewerThanTheBinaryIsRefused(t *testing.T) {
	dsn := pgtest.Schema(t)
	open(t, dsn)
	conn := connect(t, dsn)
	if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err == nil {
		st.Close()
		t.Fatal("Open of a schema newer than the binary succeeded")
	}
	if !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("Open: error = %v, want one saying the schema is newer than this binary", err)
	}
}

func TestReopeningAStoreKeepsItsData(t *testing.T) {
	dsn := pgtest.Schema(t)
	first := open(t, dsn)
	if err := first.PutTenant(t.Context(), chat.Tenant{Host: "demo.parley.local", Name: "Demo"}); err != nil {
		t.Fatalf("PutTenant: %v", err)
	}
	first.Close()
	if got, err := open(t, dsn).Tenant(t.Context(), "demo.parley.local"); err != nil || got.Name != "Demo" {
		t.Errorf("Tenant after reopening = %+v, %v; want Demo", got, err)
	}
}

func TestTextWithANulCharacterIsRefusedAsInvalidAndStoresNothing(t *testing.T) {
	// PostgreSQL text and jsonb cannot hold U+0000. A client that sends it
	// is told its request is invalid rather than to retry a server error.
	st := open(t, pgtest.Schema(t))
	k := chat.ClientKey{Tenant: "demo.parley.local", AppID: "support", ClientID: "client-1"}
	if _, err := st.CreateSession(t.Context(), chat.Session{ID: "chat-1", ClientKey: k, State: chat.StateQueued, Created: time.Now()},
		[]chat.Event{{Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	for _, ev := range []chat.Event{
		{Type: chat.TypeMessage, PartyID: "chat-1", MsgID: "m1", Time: time.Now(), Payload: chat.Payload{Msg: "a\x00b"}},
		{Type: chat.TypeMessage, PartyID: "chat-1", MsgID: "m\x001", Time: time.Now(), Payload: chat.Payload{Msg: "ab"}},
	} {
		_, err := st.Append(t.Context(), "chat-1", []chat.Event{ev}, chat.SessionUpdate{State: chat.StateConnected})
		if code := chat.ErrorCode(err); code != chat.CodeInvalid {
			t.Errorf("Append(%q, %q): error = %v (code %s), want code %s", ev.MsgID, ev.Msg, err, code, chat.CodeInvalid)
		}
	}
	if s, err := st.Session(t.Context(), "chat-1"); err != nil || s.LastSeq != 1 || s.State != chat.StateQueued {
		t.Errorf("Session = last seq %d, state %q, %v; want 1, queued", s.LastSeq, s.State, err)
	}
}

func TestExclusiveRunsOneNodeAtATimeAndTellsWhetherTheStoreIsEmpty(t *testing.T) {
	dsn := pgtest.Schema(t)
	const nodes = 4
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		stores[i] = open(t, dsn)
	}
	var inside, seeded atomic.Int32
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			err := st.Exclusive(t.Context(), func(ctx context.Context, empty bool) error {
				if n := inside.Add(1); n != 1 {
					t.Errorf("node %d: %d nodes inside Exclusive at once", i, n)
				}
				defer inside.Add(-1)
				time.Sleep(20 * time.Millisecond) // give another node the chance to break in
				if !empty {
					return nil
				}
				seeded.Add(1)
				return st.PutTenant(ctx, chat.Tenant{Host: "demo.parley.local"})
			})
			if err != nil {
				t.Errorf("node %d: Exclusive: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := seeded.Load(); n != 1 {
		t.Errorf("%d nodes found the store empty, want 1", n)
	}
	wantErr := errors.New("seeding failed")
	if err := stores[0].Exclusive(t.Context(), func(context.Context, bool) error { return wantErr }); !errors.Is(err, wantErr) {
		t.Errorf("Exclusive: error = %v, want %v", err, wantErr)
	}
}

func TestAClosedStoreIsUnavailable(t *testing.T) {
	st := open(t, pgtest.Schema(t))
	st.Close()
	if err := st.Ping(t.Context()); !errors.Is(err, chat.ErrUnavailable) {
		t.Errorf("Ping after Close: error = %v, want %v", err, chat.ErrUnavailable)
	}
	if err := st.PutTenant(t.Context(), chat.Tenant{Host: "x"}); !errors.Is(err, chat.ErrUnavailable) {
		t.Errorf("PutTenant after Close: error = %v, want %v", err, chat.ErrUnavailable)
	}
}

func BenchmarkAppend(b *testing.B) {
	st := open(b, pgtest.Schema(b))
	ctx := context.Background()
	k := chat.ClientKey{Tenant: "demo.parley.local", AppID: "support", ClientID: "client-1"}
	if _, err := st.CreateSession(ctx, chat.Session{ID: "chat-1", ClientKey: k, State: chat.StateQueued, Created: time.Now()},
		[]chat.Event{{Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
		b.Fatalf("CreateSession: %v", err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		ev := chat.Event{Type: chat.TypeMessage, PartyID: "chat-1", MsgID: fmt.Sprint(i), Time: time.Now(), Payload: chat.Payload{Msg: "hello"}}
		if _, err := st.Append(ctx, "chat-1", []chat.Event{ev}, chat.SessionUpdate{}); err != nil {
			b.Fatal(err)
		}
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func seqs(evs []chat.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// TestAFailedAppendRollsBackAndLeavesItsConnectionUsable: an append sends
// BEGIN with its first batch and COMMIT with its last; one that fails on
// the way must roll back (no lock kept, nothing stored) and leave the
// connection fit for the next write. One connection in the pool makes the
// next writes use the same one.
func TestAFailedAppendRollsBackAndLeavesItsConnectionUsable(t *testing.T) {
	st := open(t, pgtest.Schema(t)+"&pool_max_conns=1")
	k := chat.ClientKey{Tenant: "demo.parley.local", AppID: "support", ClientID: "client-1"}
	if _, err := st.CreateSession(t.Context(), chat.Session{ID: "chat-1", ClientKey: k, State: chat.StateQueued, Created: time.Now()},
		[]chat.Event{{Type: chat.TypeStatus, Time: time.Now()}}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	msg := func(id, text string) []chat.Event {
		return []chat.Event{{Type: chat.TypeMessage, PartyID: "chat-1", MsgID: id, Time: time.Now(), Payload: chat.Payload{Msg: text}}}
	}
	// Fails in the first batch (no live session to lock), then in the
	// second (text PostgreSQL refuses), each followed by an append that
	// must go through on the same connection.
	if _, err := st.Append(t.Context(), "chat-x", msg("m0", "lost"), chat.SessionUpdate{}); !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("Append to an unknown chat: %v, want ErrNotFound", err)
	}
	if _, err := st.Append(t.Context(), "chat-1", msg("m1", "one"), chat.SessionUpdate{}); err != nil {
		t.Fatalf("Append after a failed one: %v", err)
	}
	if _, err := st.Append(t.Context(), "chat-1", msg("m2", "a\x00b"), chat.SessionUpdate{}); err == nil {
		t.Fatal("Append of a NUL character succeeded")
	}
	stored, err := st.Append(t.Context(), "chat-1", msg("m3", "two"), chat.SessionUpdate{})
	if err != nil || len(stored) != 1 || stored[0].Seq != 3 {
		t.Fatalf("Append after a failed one = %+v, %v; want one event at seq 3", stored, err)
	}
	evs, err := st.Events(t.Context(), "chat-1", 0, 10)
	if err != nil || len(evs) != 3 || evs[1].Msg != "one" || evs[2].Msg != "two" {
		t.Fatalf("Events = %+v, %v; want the status, one, two", evs, err)
	}
}
