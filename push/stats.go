package push

import (
	"encoding/json"
	"sync/atomic"
)

// Stats count what the outbox did since the node started. A Stats is an
// expvar.Var: expvar.Publish("push", n.Stats()) shows it at /debug/vars.
type Stats struct {
	Queued  atomic.Int64 // rows written: events a subscribed device may be told about
	Sent    atomic.Int64 // notifications the service accepted
	Skipped atomic.Int64 // rows not sent: the app had polled the event, or the subscription was gone
	Retried atomic.Int64 // failed attempts scheduled again (429, 5xx, network)
	Failed  atomic.Int64 // rows given up: attempts exhausted, credentials or payload refused
	Dropped atomic.Int64 // rows dropped because the service rejected the device token (unsubscribed)
}

// Counts is a snapshot of Stats.
type Counts struct {
	Queued  int64 `json:"queued"`
	Sent    int64 `json:"sent"`
	Skipped int64 `json:"skipped"`
	Retried int64 `json:"retried"`
	Failed  int64 `json:"failed"`
	Dropped int64 `json:"dropped"`
}

// Snapshot returns the counters' current values.
func (s *Stats) Snapshot() Counts {
	return Counts{
		Queued: s.Queued.Load(), Sent: s.Sent.Load(), Skipped: s.Skipped.Load(),
		Retried: s.Retried.Load(), Failed: s.Failed.Load(), Dropped: s.Dropped.Load(),
	}
}

// String returns the counters as a JSON object (expvar.Var).
func (s *Stats) String() string {
	b, _ := json.Marshal(s.Snapshot())
	return string(b)
}
