package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/sqlite"
)

// The hot paths of the embedded store: appending events (what every send
// waits for: a commit, durable with synchronous=FULL) and reading a chat's
// new events (what every poll does). Run with
//
//	go test -run='^$' -bench=. -benchmem ./sqlite/
//
// Append is one writer waiting for each commit: the latency floor of a
// send, an fsync per event. AppendParallel is many concurrent senders, as a
// busy node has: their appends share commits (group commit), so the cost
// per event is far below an fsync.
//
// AppendParallel also reports the process's CPU time per event (user and
// system, the kernel's side of the log's writes and fsyncs included): on a
// machine shared with other work the time per event varies with the load,
// the CPU spent on an event much less. And the writer's busy time per
// event: the share of the one writer's time an event takes, which bounds
// the appends a node can take.

func openBench(b *testing.B) *sqlite.Store {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// benchChats creates n live chats and returns their ids.
func benchChats(b *testing.B, st *sqlite.Store, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		s := chat.Session{ID: chat.NewID(), ClientKey: chat.ClientKey{Tenant: "bench.example.com", AppID: "app", ClientID: fmt.Sprint("client-", i)},
			State: chat.StateQueued, Created: time.Now()}
		first := []chat.Event{{ChatID: s.ID, Type: chat.TypeStatus, Time: time.Now(), Payload: chat.Payload{State: chat.StateQueued}}}
		if _, err := st.CreateSession(context.Background(), s, first); err != nil {
			b.Fatal(err)
		}
		ids[i] = s.ID
	}
	return ids
}

func message(chatID string, n int64) []chat.Event {
	return []chat.Event{{ChatID: chatID, Type: chat.TypeMessage, PartyID: chatID, MsgID: fmt.Sprint("m-", n), Time: time.Now(),
		Payload: chat.Payload{Msg: "Hello, I have a question about my order; could you please check where it is?"}}}
}

func BenchmarkAppend(b *testing.B) {
	st := openBench(b)
	id := benchChats(b, st, 1)[0]
	ctx := context.Background()
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		n++
		if _, err := st.Append(ctx, id, message(id, n), chat.SessionUpdate{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	st := openBench(b)
	ids := benchChats(b, st, 256)
	ctx := context.Background()
	var next, n atomic.Int64
	b.SetParallelism(64) // 64 senders per CPU, each waiting for its commit
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, busy0 := cpuTime(), st.WriterBusy()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1))%len(ids)]
		for pb.Next() {
			if _, err := st.Append(ctx, id, message(id, n.Add(1)), chat.SessionUpdate{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
	b.ReportMetric(float64(st.WriterBusy()-busy0)/float64(b.N)/1e3, "writer-µs/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkEvents(b *testing.B) {
	st := openBench(b)
	id := benchChats(b, st, 1)[0]
	ctx := context.Background()
	for i := range int64(20) {
		if _, err := st.Append(ctx, id, message(id, i), chat.SessionUpdate{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		// A poll's look: the last few events after the cursor.
		if evs, err := st.Events(ctx, id, 18, chat.PollBatch); err != nil || len(evs) != 3 {
			b.Fatal(len(evs), err)
		}
	}
}

func BenchmarkSession(b *testing.B) {
	st := openBench(b)
	id := benchChats(b, st, 1)[0]
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Session(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetCursor(b *testing.B) {
	st := openBench(b)
	id := benchChats(b, st, 1)[0]
	ctx := context.Background()
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		n++
		if err := st.SetCursor(ctx, id, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAgentAuth is what every request of the agent API reads: the
// login token of its bearer and the token's agent.
func BenchmarkAgentAuth(b *testing.B) {
	st := openBench(b)
	ctx := context.Background()
	a := chat.Agent{ID: "agent-1", Tenant: "bench.example.com", Username: "ada", PasswordHash: "$2a$10$x",
		DisplayName: "Ada", Skills: []string{"billing", "de"}, Capacity: 100, Role: chat.RoleAgent}
	if err := st.PutAgent(ctx, a); err != nil {
		b.Fatal(err)
	}
	tok := chat.Token{Hash: "sha256:bench", AgentID: a.ID, Expires: time.Now().Add(time.Hour)}
	if err := st.PutToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := st.Token(ctx, tok.Hash)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Agent(ctx, t.AgentID); err != nil {
			b.Fatal(err)
		}
	}
}
