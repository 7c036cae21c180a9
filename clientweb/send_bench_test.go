package clientweb

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
)

// BenchmarkSendEvents is the Send Events request of the wrk benchmark
// (scripts/bench.sh): a chat_session_message with a new msg_id, round
// robin over 100 chats, answered {} once durable, many senders at once so
// that appends share commits. The handler is called directly, without the
// HTTP server and its connections: what is measured is the customer API's
// own work (authentication, decoding, sanitizing, the append through the
// SQLite store and its commit) and its allocations. Run with
//
//	go test -run='^$' -bench=SendEvents -benchmem ./clientweb/
//
// cpu-µs/op is the process's CPU time per request, which depends far less
// than ns/op on what else runs on the machine.
func BenchmarkSendEvents(b *testing.B) {
	n := newTestNode(b, false, func(h *Handler) { h.Limits = Limits{} })
	chats := make([][2]string, 100)
	for i := range chats {
		client := fmt.Sprint("bench-", i)
		chats[i] = [2]string{n.startChat(b, client), client}
	}
	var next atomic.Int64
	b.SetParallelism(50) // 100 senders on 2 CPUs, as wrk's connections
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			c := chats[i%int64(len(chats))]
			body := `{"events":[{"event":"chat_session_message","msg_id":"m-` + fmt.Sprint(i) +
				`","msg":"Hello, I have a question about my order; could you please check where it is?"}]}`
			r := httptest.NewRequest("POST", Prefix+"chats/"+c[0]+"/events?tenantUrl="+config.DemoTenant, strings.NewReader(body))
			r.Header.Set("Authorization", Scheme+" appId="+config.DemoApp+", clientId="+c[1])
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			w := httptest.NewRecorder()
			n.h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || w.Body.String() != "{}" {
				b.Fatalf("send events: %d %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
