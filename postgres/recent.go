package postgres

import (
	"sync"
	"time"
)

// recentFor is how long a row read from the database answers again
// without a query. Tenants, scenario entries, agents and login tokens are
// read at every request (a customer's poll and send resolve their tenant
// and entry, an agent's request its token and account) and change seldom;
// reading them each time made those queries the larger part of the
// database's work. A change this node makes is seen by it at once; one
// made through another node is seen here within recentFor.
const recentFor = time.Second

// recentStale is how long an expired row still answers while one reader
// reads it again: when every request of a busy node missed the cache at
// the same moment, the reads queued for the pool together and the cache
// saved nothing. Past it, every reader reads.
const recentStale = 5 * time.Second

// recentMax bounds each cache; past it, it is emptied and refills.
const recentMax = 100000

// recent remembers rows read lately, each for recentFor. A cached row
// shares its slices and maps with every caller, who treat it as read-only
// (as the SQLite store's configuration cache).
type recent[K comparable, V any] struct {
	mu   sync.Mutex
	rows map[K]recentRow[V]
}

type recentRow[V any] struct {
	v          V
	at         time.Time
	gone       bool // changed by this node at at: reads begun before are stale
	refreshing bool // a reader is reading the expired row again
}

// get returns the row under k if it was read within recentFor. Once it is
// older, the first caller is told to read it (false) and the others are
// given it as it was until that read is put, for up to recentStale.
func (c *recent[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	r, ok := c.rows[k]
	if !ok || r.gone {
		return zero, false
	}
	switch age := time.Since(r.at); {
	case age < recentFor:
		return r.v, true
	case age >= recentStale:
		return zero, false
	case r.refreshing:
		return r.v, true
	}
	r.refreshing = true
	c.rows[k] = r
	return zero, false
}

// put remembers a row read at the time at, taken before the read: a change
// made meanwhile (drop) is not hidden by a read that began before it.
func (c *recent[K, V]) put(k K, v V, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil || len(c.rows) >= recentMax {
		c.rows = map[K]recentRow[V]{}
	}
	if r, ok := c.rows[k]; ok && r.at.After(at) {
		return
	}
	c.rows[k] = recentRow[V]{v: v, at: at}
}

// drop forgets the row under k, as this node changes it.
func (c *recent[K, V]) drop(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = map[K]recentRow[V]{}
	}
	c.rows[k] = recentRow[V]{at: time.Now(), gone: true}
}
