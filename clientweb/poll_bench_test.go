package clientweb

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// BenchmarkPollWakeUp measures what a customer waits for between an event
// being stored and its poll's answer arriving: the wake-up on the memory
// bus, the poll's look at the log (a store read and the cursor move), the
// encoding and the write, over HTTP on loopback. The append itself (a
// durable commit) is not part of it. "goroutine" is a poll waiting in its
// request's goroutine; "parked" a poll parked off the HTTP server (what a
// node does with plain HTTP/1.1), answered from a goroutine started at the
// wake-up and handed back to the server afterwards. Run with
//
//	go test -run='^$' -bench=PollWakeUp -benchmem ./clientweb/
//
// Each iteration is a whole poll (request, wait, answer), so ns/op and the
// allocations are those of a poll answered by a wake-up; wake-p50-µs and
// wake-p99-µs are the wake-up latency alone, from the publish to the
// answer read by the client. (Stopping the benchmark timer around the
// untimed part would read the memory statistics, stopping the world, at
// each iteration: the latencies are measured by hand instead.)
func BenchmarkPollWakeUp(b *testing.B) {
	for _, mode := range []struct {
		name string
		park bool
	}{{"goroutine", false}, {"parked", true}} {
		b.Run(mode.name, func(b *testing.B) {
			n := newTestNode(b, mode.park, func(h *Handler) {
				h.PollTimeout = time.Minute
				h.Limits = Limits{} // one client polling as fast as it can
			})
			chatID := n.startChat(b, "bench-client")
			topic := chat.CustomerTopic(chatID)
			answered := make(chan error, 1)
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := n.request(b, "GET", "chats/"+chatID+"/events", "bench-client", "")
				go func() {
					resp, err := n.hc.Do(req)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					answered <- err
				}()
				n.waitPending(b, 1)
				n.agentMessage(b, chatID, "Your parcel left our warehouse this morning.")
				t0 := time.Now()
				n.bus.Publish(context.Background(), topic)
				if err := <-answered; err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "wake-p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "wake-p99-µs")
		})
	}
}
