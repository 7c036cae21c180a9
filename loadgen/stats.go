package loadgen

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/client"
)

// Histogram counts durations in microseconds in log-linear buckets: exact
// below 128 µs, then 64 buckets per power of two (a relative error under
// 1.6%). It is safe for concurrent use without locks, allocates nothing to
// record, and two histograms add and subtract bucket by bucket, so workers'
// histograms merge and a window is a difference of two snapshots.
type Histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	sum    atomic.Int64 // µs
	max    atomic.Int64 // µs
}

const (
	histExact   = 128 // values below are their own bucket
	histSub     = 64  // buckets per power of two above
	histShifts  = 40  // up to 2^46 µs, far beyond any run
	histBuckets = histExact + histShifts*histSub
)

// bucketOf returns the bucket index of v µs.
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v < histExact {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 7 // keep the top 7 bits: 64…127
	i := histExact + (shift-1)*histSub + int(v>>shift) - histSub
	return min(i, histBuckets-1)
}

// bucketValue returns a value representing bucket i: its midpoint.
func bucketValue(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	shift := (i-histExact)/histSub + 1
	m := int64((i-histExact)%histSub + histSub)
	lo := m << shift
	return lo + (int64(1)<<shift)/2
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sum.Add(us)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Snapshot copies the histogram into its serializable form.
func (h *Histogram) Snapshot() HistSnapshot {
	s := HistSnapshot{N: h.n.Load(), Sum: h.sum.Load(), Max: h.max.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			if s.Buckets == nil {
				s.Buckets = map[int]int64{}
			}
			s.Buckets[i] = c
		}
	}
	return s
}

// HistSnapshot is a histogram at one moment: sparse bucket counts, the
// number of values, their sum and the largest (µs).
type HistSnapshot struct {
	Buckets map[int]int64 `json:"buckets,omitempty"`
	N       int64         `json:"n"`
	Sum     int64         `json:"sum_us"`
	Max     int64         `json:"max_us"`
}

// Add returns the histogram of the values of both.
func (s HistSnapshot) Add(o HistSnapshot) HistSnapshot {
	out := HistSnapshot{N: s.N + o.N, Sum: s.Sum + o.Sum, Max: max(s.Max, o.Max), Buckets: map[int]int64{}}
	for i, c := range s.Buckets {
		out.Buckets[i] += c
	}
	for i, c := range o.Buckets {
		out.Buckets[i] += c
	}
	return out
}

// Sub returns the histogram of the values recorded in s after base. The
// maximum cannot be subtracted: it is s's, the largest of the whole run so
// far, unless the window's own largest bucket says less.
func (s HistSnapshot) Sub(base HistSnapshot) HistSnapshot {
	out := HistSnapshot{N: s.N - base.N, Sum: s.Sum - base.Sum, Buckets: map[int]int64{}}
	top := -1
	for i, c := range s.Buckets {
		if d := c - base.Buckets[i]; d > 0 {
			out.Buckets[i] = d
			top = max(top, i)
		}
	}
	if top >= 0 {
		out.Max = min(s.Max, bucketValue(top+1))
	}
	return out
}

// Quantile returns the value below which the fraction q of values lie.
func (s HistSnapshot) Quantile(q float64) time.Duration {
	if s.N <= 0 {
		return 0
	}
	idx := make([]int, 0, len(s.Buckets))
	for i := range s.Buckets {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	rank := int64(q*float64(s.N) + 0.5)
	rank = max(rank, 1)
	var seen int64
	for _, i := range idx {
		seen += s.Buckets[i]
		if seen >= rank {
			return time.Duration(min(bucketValue(i), s.Max)) * time.Microsecond
		}
	}
	return time.Duration(s.Max) * time.Microsecond
}

// Mean returns the average value.
func (s HistSnapshot) Mean() time.Duration {
	if s.N <= 0 {
		return 0
	}
	return time.Duration(s.Sum/s.N) * time.Microsecond
}

// stats are the counters of one engine (one process of a run). Every field
// only grows; rates and windows are differences of snapshots.
type stats struct {
	customers   atomic.Int64 // customers started
	sessions    atomic.Int64 // chats requested and not ended
	connected   atomic.Int64 // chats an agent has joined
	polls       atomic.Int64 // polls in flight
	agentsReady atomic.Int64 // agents ready with their stream open
	accepted    atomic.Int64 // chats accepted by agents

	customerMsgs atomic.Int64 // messages customers sent, acknowledged {}
	agentMsgs    atomic.Int64 // messages agents sent, acknowledged
	typing       atomic.Int64
	receipts     atomic.Int64
	pollAnswers  atomic.Int64
	requests     atomic.Int64 // every request answered or failed

	c2a Histogram // customer send → agent's stream
	a2c Histogram // agent send → customer's poll

	mu     sync.Mutex
	errors map[string]int64
}

func newStats() *stats { return &stats{errors: map[string]int64{}} }

// fail counts an error under its kind: the HTTP status and error code of an
// API answer, or the class of a transport failure.
func (s *stats) fail(op string, err error) {
	key := op + ": " + errorKind(err)
	s.mu.Lock()
	s.errors[key]++
	s.mu.Unlock()
}

// errorKind names the class of an error for the report.
func errorKind(err error) string {
	if e, ok := client.AsAPIError(err); ok {
		if e.Code != "" {
			return fmt.Sprintf("%d/%s", e.Status, e.Code)
		}
		return fmt.Sprintf("%d", e.Status)
	}
	if errors.Is(err, client.ErrBadResponse) {
		return "bad response"
	}
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "broken pipe", "timeout", "deadline exceeded",
		"EOF", "too many open files", "cannot assign requested address", "websocket"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return msg
}

// Snapshot is the counters of one engine, or the sum of several, at one
// moment: what workers send their parent and what reports are made of.
type Snapshot struct {
	Elapsed     time.Duration    `json:"elapsed"`
	Customers   int64            `json:"customers"`
	Sessions    int64            `json:"sessions"`
	Connected   int64            `json:"connected"`
	Polls       int64            `json:"polls"`
	AgentsReady int64            `json:"agents_ready"`
	Accepted    int64            `json:"accepted"`
	CustomerMsg int64            `json:"customer_msgs"`
	AgentMsg    int64            `json:"agent_msgs"`
	Typing      int64            `json:"typing"`
	Receipts    int64            `json:"receipts"`
	PollAnswers int64            `json:"poll_answers"`
	Requests    int64            `json:"requests"`
	Errors      map[string]int64 `json:"errors,omitempty"`
	C2A         HistSnapshot     `json:"c2a"`
	A2C         HistSnapshot     `json:"a2c"`
}

func (s *stats) snapshot(elapsed time.Duration) Snapshot {
	out := Snapshot{
		Elapsed: elapsed, Customers: s.customers.Load(), Sessions: s.sessions.Load(), Connected: s.connected.Load(),
		Polls: s.polls.Load(), AgentsReady: s.agentsReady.Load(), Accepted: s.accepted.Load(),
		CustomerMsg: s.customerMsgs.Load(), AgentMsg: s.agentMsgs.Load(), Typing: s.typing.Load(),
		Receipts: s.receipts.Load(), PollAnswers: s.pollAnswers.Load(), Requests: s.requests.Load(),
		C2A: s.c2a.Snapshot(), A2C: s.a2c.Snapshot(),
	}
	s.mu.Lock()
	if len(s.errors) > 0 {
		out.Errors = make(map[string]int64, len(s.errors))
		for k, v := range s.errors {
			out.Errors[k] = v
		}
	}
	s.mu.Unlock()
	return out
}

// Add sums two engines' snapshots (gauges and counters alike).
func (s Snapshot) Add(o Snapshot) Snapshot {
	out := Snapshot{
		Elapsed: max(s.Elapsed, o.Elapsed), Customers: s.Customers + o.Customers, Sessions: s.Sessions + o.Sessions,
		Connected: s.Connected + o.Connected, Polls: s.Polls + o.Polls, AgentsReady: s.AgentsReady + o.AgentsReady,
		Accepted: s.Accepted + o.Accepted, CustomerMsg: s.CustomerMsg + o.CustomerMsg, AgentMsg: s.AgentMsg + o.AgentMsg,
		Typing: s.Typing + o.Typing, Receipts: s.Receipts + o.Receipts, PollAnswers: s.PollAnswers + o.PollAnswers,
		Requests: s.Requests + o.Requests, C2A: s.C2A.Add(o.C2A), A2C: s.A2C.Add(o.A2C),
		Errors: addErrors(s.Errors, o.Errors, 1),
	}
	return out
}

// Sub returns what happened between base and s: counters are differences,
// gauges (sessions, connected, polls, agents ready) are s's.
func (s Snapshot) Sub(base Snapshot) Snapshot {
	out := s
	out.Elapsed = s.Elapsed - base.Elapsed
	out.Customers = s.Customers - base.Customers
	out.Accepted = s.Accepted - base.Accepted
	out.CustomerMsg = s.CustomerMsg - base.CustomerMsg
	out.AgentMsg = s.AgentMsg - base.AgentMsg
	out.Typing = s.Typing - base.Typing
	out.Receipts = s.Receipts - base.Receipts
	out.PollAnswers = s.PollAnswers - base.PollAnswers
	out.Requests = s.Requests - base.Requests
	out.C2A = s.C2A.Sub(base.C2A)
	out.A2C = s.A2C.Sub(base.A2C)
	out.Errors = addErrors(s.Errors, base.Errors, -1)
	return out
}

func addErrors(a, b map[string]int64, sign int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range a {
		out[k] += v
	}
	for k, v := range b {
		out[k] += sign * v
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ErrorCount is the number of errors in the snapshot.
func (s Snapshot) ErrorCount() int64 {
	var n int64
	for _, v := range s.Errors {
		n += v
	}
	return n
}
