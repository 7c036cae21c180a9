package routing

import (
	"sort"
	"time"
)

// Stats is a snapshot of what routing holds, for monitoring.
type Stats struct {
	// Live chats by routing state: waiting for an offer, offered to an
	// agent, or assigned to one.
	Queued, Offered, Assigned int
	// Agents counts the logged-in agents by state (StateReady,
	// StateNotReady).
	Agents map[string]int
	// Queues are the queues that have waiting chats or have measured a
	// handle time, by tenant then name.
	Queues []QueueStats
}

// QueueStats describes one queue.
type QueueStats struct {
	Tenant, Name string
	Waiting      int           // chats without an agent (queued or offered)
	OldestWait   time.Duration // how long the oldest of them has waited
	HandleTime   time.Duration // the recent average handle time (DefaultHandleTime until measured)
}

// Stats returns a snapshot of the queues and agents. It holds the Router's
// lock for one pass over the live chats and the agents, and calls nothing.
func (r *Router) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	st := Stats{Agents: map[string]int{StateReady: 0, StateNotReady: 0}}
	queues := map[queueKey]*QueueStats{}
	queue := func(k queueKey) *QueueStats {
		q := queues[k]
		if q == nil {
			q = &QueueStats{Tenant: k.tenant, Name: k.name, HandleTime: DefaultHandleTime}
			if h := r.times[k]; h != nil {
				q.HandleTime = h.average()
			}
			queues[k] = q
		}
		return q
	}
	for k := range r.times {
		queue(k)
	}
	for _, c := range r.chats {
		switch {
		case !c.waiting():
			st.Assigned++
			continue
		case c.offer != nil:
			st.Offered++
		default:
			st.Queued++
		}
		q := queue(c.queue)
		q.Waiting++
		if w := now.Sub(c.enqueued); w > q.OldestWait {
			q.OldestWait = w
		}
	}
	for _, a := range r.agents {
		st.Agents[a.state]++
	}
	st.Queues = make([]QueueStats, 0, len(queues))
	for _, q := range queues {
		st.Queues = append(st.Queues, *q)
	}
	sort.Slice(st.Queues, func(i, j int) bool {
		a, b := st.Queues[i], st.Queues[j]
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		return a.Name < b.Name
	})
	return st
}
