// Package metrics is the Prometheus view of a Parley node: what it counts
// as requests are served and events stored, and what it reads at each
// scrape from the parts that keep their own numbers (pending polls,
// routing's queues and agents, the push outbox's counters, the bus).
//
// It reads the other packages; none of them imports it. Every metric is
// named parley_* (besides the Go runtime's go_* and process_*), and
// docs/operations.md lists them.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/push"
	"github.com/parley-chat/parley/routing"
)

// Metrics holds a node's metrics in a registry of its own, so that two
// nodes in one process (tests) do not collide.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	appends  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// Sources are what a scrape reads from the running node. A nil source is
// left out of the metrics.
type Sources struct {
	PendingPolls func() int           // clientweb.Handler.Pending
	Routing      func() routing.Stats // routing.Router.Stats
	// RoutingLeader reports whether this node makes routing's decisions:
	// always on a node of its own, on one node at a time when nodes share
	// a store (cluster.Node.Leading).
	RoutingLeader func() bool
	Push          func() push.Counts            // the push outbox's counters
	BusRTT        func() (time.Duration, error) // round trip to a shared bus; bound it well under the scrape timeout
	BusDropped    func() int64                  // wake-ups a shared bus dropped
	Writer        func() WriterStats            // the embedded store's writer
}

// WriterStats are the embedded store's writer totals (sqlite.WriterStats).
type WriterStats struct {
	Commits, Writes int64
	Busy            time.Duration
}

// requestBuckets reach past the long poll's 10 s hold, so that held polls
// fall in a bucket of their own instead of skewing the rest.
var requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60}

// appendBuckets run from half a millisecond (an uncontended group commit
// on an SSD) to a few seconds (a disk in trouble).
var appendBuckets = prometheus.ExponentialBuckets(0.0005, 2, 14)

// New returns the metrics of a node of the given version, with the Go
// runtime's and the process's.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern (long polls are held up to the poll timeout).",
			Buckets: requestBuckets,
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_http_requests_in_flight",
			Help: "HTTP requests being served, held polls included.",
		}),
		appends: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_store_write_duration_seconds",
			Help:    "Time to store chat events durably, by operation (append: events of a live chat; create: a new chat with its first events).",
			Buckets: appendBuckets,
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_store_write_errors_total",
			Help: "Event writes that failed for another reason than a missing or ended chat, by operation.",
		}, []string{"op"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "parley_build_info",
		Help:        "Always 1; the labels tell the version of the running binary.",
		ConstLabels: buildLabels(version),
	})
	build.Set(1)
	// Both operations show from the start, errors at 0, so that rates and
	// alerts have a series before the first write or failure.
	for _, op := range []string{"append", "create"} {
		m.appends.WithLabelValues(op)
		m.errors.WithLabelValues(op)
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.appends, m.errors, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func buildLabels(version string) prometheus.Labels {
	l := prometheus.Labels{"version": version, "goversion": "", "revision": ""}
	if info, ok := debug.ReadBuildInfo(); ok {
		l["goversion"] = info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				l["revision"] = s.Value
			}
		}
	}
	return l
}

// Handler serves the metrics in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Registry is where the metrics are registered, for tests and for adding
// more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Watch registers the metrics read from the node at each scrape. Call it
// once.
func (m *Metrics) Watch(src Sources) {
	m.reg.MustRegister(&snapshots{src: src, seen: map[[2]string]bool{}})
}

// RequestStarted counts a request in flight; RequestDone ends it.
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// RequestDone records an answered request under its route pattern
// (http.Request.Pattern once routed; "" when nothing matched, counted as
// "unmatched"), method and status code.
func (m *Metrics) RequestDone(route, method string, code int, took time.Duration) {
	m.inFlight.Dec()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, knownMethod(method), codeLabel(code)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// codeLabels are the status codes as label values, made once: requests are
// counted on the hot path.
var codeLabels = func() (l [600]string) {
	for c := range l {
		l[c] = strconv.Itoa(c)
	}
	return l
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(codeLabels) {
		return codeLabels[code]
	}
	return strconv.Itoa(code)
}

// knownMethod keeps the method label to a known few: a client sending
// made-up methods must not grow the metrics without bound.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// TimeStore returns st with its event writes timed. The chat service is
// given the result; the node keeps st for what else it does with it.
func (m *Metrics) TimeStore(st chat.Store) chat.Store {
	return &timedStore{Store: st, m: m}
}

type timedStore struct {
	chat.Store
	m *Metrics
}

func (s *timedStore) Append(ctx context.Context, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	start := time.Now()
	stored, err := s.Store.Append(ctx, chatID, evs, u)
	s.m.observeWrite("append", start, err)
	return stored, err
}

func (s *timedStore) CreateSession(ctx context.Context, sess chat.Session, first []chat.Event) ([]chat.Event, error) {
	start := time.Now()
	stored, err := s.Store.CreateSession(ctx, sess, first)
	s.m.observeWrite("create", start, err)
	return stored, err
}

func (m *Metrics) observeWrite(op string, start time.Time, err error) {
	switch {
	case err == nil:
		m.appends.WithLabelValues(op).Observe(time.Since(start).Seconds())
	case errors.Is(err, chat.ErrNotFound), errors.Is(err, chat.ErrConflict),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The chat ended, the client already has one, the caller left:
		// answers, not failures of the store.
	default:
		m.errors.WithLabelValues(op).Inc()
	}
}

// snapshots is the collector of what is read at scrape time.
type snapshots struct {
	src Sources

	mu   sync.Mutex
	seen map[[2]string]bool // queues reported before: an emptied queue shows 0, not nothing
}

var (
	descPending = prometheus.NewDesc("parley_polls_pending",
		"Customer long polls held open, waiting for events.", nil, nil)
	descChats = prometheus.NewDesc("parley_chats_live",
		"Live chats this node routes, by state: queued (waiting for an offer), offered (to an agent), assigned (to an agent).", []string{"state"}, nil)
	descQueueWaiting = prometheus.NewDesc("parley_queue_waiting_chats",
		"Chats waiting for an agent in a queue (queued or offered).", []string{"tenant", "queue"}, nil)
	descQueueOldest = prometheus.NewDesc("parley_queue_oldest_wait_seconds",
		"How long the oldest chat waiting in a queue has waited; 0 when none waits.", []string{"tenant", "queue"}, nil)
	descQueueHandle = prometheus.NewDesc("parley_queue_handle_time_seconds",
		"Recent average handle time of a queue's chats (from an agent joining to the end or a transfer), as estimated waits use it.", []string{"tenant", "queue"}, nil)
	descLeader = prometheus.NewDesc("parley_routing_leader",
		"1 on the node that makes routing's decisions (always, on a node of its own; the elected leader among nodes sharing a store), 0 on the others.", nil, nil)
	descAgents = prometheus.NewDesc("parley_agents",
		"Logged-in agents on this node, by state (ready, not_ready).", []string{"state"}, nil)
	descPush = prometheus.NewDesc("parley_push_notifications_total",
		"Push outbox rows by outcome: queued, sent, skipped (the app polled first), retried, failed (given up), dropped (device token rejected).", []string{"outcome"}, nil)
	descBusRTT = prometheus.NewDesc("parley_bus_rtt_seconds",
		"Round trip to the shared bus's server, measured at the scrape: the least delay of a wake-up between nodes.", nil, nil)
	descBusUp = prometheus.NewDesc("parley_bus_up",
		"1 when the shared bus's server answered the scrape's round trip, 0 otherwise.", nil, nil)
	descBusDropped = prometheus.NewDesc("parley_bus_dropped_total",
		"Times wake-ups from the shared bus were dropped because this node read them too slowly (its watchers were all woken instead).", nil, nil)
	descCommits = prometheus.NewDesc("parley_store_commits_total",
		"Transactions the embedded store's writer committed, each with one fsync.", nil, nil)
	descCommitted = prometheus.NewDesc("parley_store_committed_writes_total",
		"Writes (appends, chat creations, …) in the embedded store's commits: over parley_store_commits_total, the writes each fsync carries.", nil, nil)
	descWriterBusy = prometheus.NewDesc("parley_store_writer_busy_seconds_total",
		"Time the embedded store's one writer spent committing; its rate near 1 means writes queue behind it.", nil, nil)
)

func (s *snapshots) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descChats, descQueueWaiting, descQueueOldest,
		descQueueHandle, descAgents, descLeader, descPush, descBusRTT, descBusUp, descBusDropped,
		descCommits, descCommitted, descWriterBusy} {
		ch <- d
	}
}

func (s *snapshots) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if s.src.PendingPolls != nil {
		gauge(descPending, float64(s.src.PendingPolls()))
	}
	if s.src.Routing != nil {
		st := s.src.Routing()
		gauge(descChats, float64(st.Queued), "queued")
		gauge(descChats, float64(st.Offered), "offered")
		gauge(descChats, float64(st.Assigned), "assigned")
		for state, n := range st.Agents {
			gauge(descAgents, float64(n), state)
		}
		s.mu.Lock()
		now := map[[2]string]bool{}
		for _, q := range st.Queues {
			key := [2]string{q.Tenant, q.Name}
			now[key], s.seen[key] = true, true
			gauge(descQueueWaiting, float64(q.Waiting), q.Tenant, q.Name)
			gauge(descQueueOldest, q.OldestWait.Seconds(), q.Tenant, q.Name)
			gauge(descQueueHandle, q.HandleTime.Seconds(), q.Tenant, q.Name)
		}
		for key := range s.seen {
			if !now[key] {
				gauge(descQueueWaiting, 0, key[0], key[1])
				gauge(descQueueOldest, 0, key[0], key[1])
			}
		}
		s.mu.Unlock()
	}
	if s.src.RoutingLeader != nil {
		v := 0.0
		if s.src.RoutingLeader() {
			v = 1
		}
		gauge(descLeader, v)
	}
	if s.src.Push != nil {
		c := s.src.Push()
		for _, o := range []struct {
			name string
			n    int64
		}{{"queued", c.Queued}, {"sent", c.Sent}, {"skipped", c.Skipped}, {"retried", c.Retried}, {"failed", c.Failed}, {"dropped", c.Dropped}} {
			counter(descPush, float64(o.n), o.name)
		}
	}
	if s.src.BusRTT != nil {
		rtt, err := s.src.BusRTT()
		if err != nil {
			gauge(descBusUp, 0)
		} else {
			gauge(descBusUp, 1)
			gauge(descBusRTT, rtt.Seconds())
		}
	}
	if s.src.BusDropped != nil {
		counter(descBusDropped, float64(s.src.BusDropped()))
	}
	if s.src.Writer != nil {
		w := s.src.Writer()
		counter(descCommits, float64(w.Commits))
		counter(descCommitted, float64(w.Writes))
		counter(descWriterBusy, w.Busy.Seconds())
	}
}
