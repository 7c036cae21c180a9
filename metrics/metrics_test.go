package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/push"
	"github.com/parley-chat/parley/routing"
)

// scrape returns what the metrics handler serves.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("metrics lack the line %q", l)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}

func TestRequestsAreCountedByRouteMethodAndCode(t *testing.T) {
	m := metrics.New("1.2.3")
	for _, r := range []struct {
		route, method string
		code          int
	}{{"GET /healthz", "GET", 200}, {"GET /healthz", "GET", 200}, {"", "BREW", 404}} {
		m.RequestStarted()
		m.RequestDone(r.route, r.method, r.code, time.Millisecond)
	}
	m.RequestStarted() // still in flight at the scrape
	body := scrape(t, m)
	wantLines(t, body,
		`parley_http_requests_total{code="200",method="GET",route="GET /healthz"} 2`,
		`parley_http_requests_total{code="404",method="OTHER",route="unmatched"} 1`,
		`parley_http_request_duration_seconds_count{route="GET /healthz"} 2`,
		`parley_http_requests_in_flight 1`,
	)
	m.RequestDone("GET /healthz", "GET", 200, time.Millisecond)
	if !strings.Contains(scrape(t, m), "\nparley_http_requests_in_flight 0\n") {
		t.Error("a finished request is still in flight")
	}
	if !strings.Contains(body, `parley_build_info{goversion="`) || !strings.Contains(body, `version="1.2.3"} 1`) {
		t.Error("parley_build_info does not tell the version")
	}
	if !strings.Contains(body, "go_goroutines") {
		t.Error("the Go runtime's metrics are missing")
	}
}

func TestSourcesAreReadAtEachScrape(t *testing.T) {
	m := metrics.New("dev")
	pending := 3
	stats := routing.Stats{
		Queued: 2, Offered: 1, Assigned: 4,
		Agents: map[string]int{routing.StateReady: 2, routing.StateNotReady: 1},
		Queues: []routing.QueueStats{{Tenant: "acme.example", Name: "sales", Waiting: 3, OldestWait: 42 * time.Second, HandleTime: 90 * time.Second}},
	}
	var counts push.Counts
	counts.Sent, counts.Failed = 5, 1
	busErr := error(nil)
	leading := true
	m.Watch(metrics.Sources{
		PendingPolls:  func() int { return pending },
		Routing:       func() routing.Stats { return stats },
		RoutingLeader: func() bool { return leading },
		Push:          func() push.Counts { return counts },
		BusRTT:        func() (time.Duration, error) { return 3 * time.Millisecond, busErr },
		BusDropped:    func() int64 { return 7 },
		Writer: func() metrics.WriterStats {
			return metrics.WriterStats{Commits: 40, Writes: 300, Busy: 1500 * time.Millisecond}
		},
	})
	wantLines(t, scrape(t, m),
		`parley_polls_pending 3`,
		`parley_chats_live{state="queued"} 2`,
		`parley_chats_live{state="offered"} 1`,
		`parley_chats_live{state="assigned"} 4`,
		`parley_agents{state="ready"} 2`,
		`parley_agents{state="not_ready"} 1`,
		`parley_queue_waiting_chats{queue="sales",tenant="acme.example"} 3`,
		`parley_queue_oldest_wait_seconds{queue="sales",tenant="acme.example"} 42`,
		`parley_queue_handle_time_seconds{queue="sales",tenant="acme.example"} 90`,
		`parley_routing_leader 1`,
		`parley_push_notifications_total{outcome="sent"} 5`,
		`parley_push_notifications_total{outcome="failed"} 1`,
		`parley_bus_up 1`,
		`parley_bus_rtt_seconds 0.003`,
		`parley_bus_dropped_total 7`,
		`parley_store_commits_total 40`,
		`parley_store_committed_writes_total 300`,
		`parley_store_writer_busy_seconds_total 1.5`,
	)

	// The queue empties and the bus goes away: the queue shows 0 rather
	// than vanishing, and the bus is down.
	// The node no longer leads routing.
	pending, stats.Queues, busErr, leading = 0, nil, errors.New("no servers"), false
	body := scrape(t, m)
	wantLines(t, body,
		`parley_polls_pending 0`,
		`parley_routing_leader 0`,
		`parley_queue_waiting_chats{queue="sales",tenant="acme.example"} 0`,
		`parley_queue_oldest_wait_seconds{queue="sales",tenant="acme.example"} 0`,
		`parley_bus_up 0`,
	)
	if strings.Contains(body, "parley_bus_rtt_seconds ") {
		t.Error("a round trip is reported for a bus that did not answer")
	}
}

// fakeStore is the part of a store TimeStore times.
type fakeStore struct {
	chat.Store
	err error
}

func (s fakeStore) Append(context.Context, string, []chat.Event, chat.SessionUpdate) ([]chat.Event, error) {
	return nil, s.err
}

func (s fakeStore) CreateSession(context.Context, chat.Session, []chat.Event) ([]chat.Event, error) {
	return nil, s.err
}

func TestStoreWritesAreTimed(t *testing.T) {
	m := metrics.New("dev")
	ctx := context.Background()
	ok := m.TimeStore(fakeStore{})
	ok.Append(ctx, "c", nil, chat.SessionUpdate{})
	ok.Append(ctx, "c", nil, chat.SessionUpdate{})
	ok.CreateSession(ctx, chat.Session{}, nil)
	m.TimeStore(fakeStore{err: chat.ErrNotFound}).Append(ctx, "c", nil, chat.SessionUpdate{})
	m.TimeStore(fakeStore{err: chat.ErrConflict}).CreateSession(ctx, chat.Session{}, nil)
	m.TimeStore(fakeStore{err: errors.New("disk I/O error")}).Append(ctx, "c", nil, chat.SessionUpdate{})

	if n := testutil.CollectAndCount(m.Registry(), "parley_store_write_duration_seconds"); n != 2 {
		t.Errorf("%d write histograms, want append and create", n)
	}
	body := scrape(t, m)
	wantLines(t, body,
		`parley_store_write_duration_seconds_count{op="append"} 2`,
		`parley_store_write_duration_seconds_count{op="create"} 1`,
		`parley_store_write_errors_total{op="append"} 1`,
		// A conflict (the client has a chat already) is not a store error.
		`parley_store_write_errors_total{op="create"} 0`,
	)
}
