package routing

import (
	"context"
	"math"
	"time"

	"github.com/parley-chat/parley/chat"
)

// DefaultHandleTime is the handle time assumed until a queue has measured
// its own.
const DefaultHandleTime = 2 * time.Minute

// handleTimes is a rolling window of a queue's recent handle times (from an
// agent joining a chat to its end or transfer).
type handleTimes struct {
	window  [50]time.Duration
	n, next int
}

func (h *handleTimes) add(d time.Duration) {
	h.window[h.next] = d
	h.next = (h.next + 1) % len(h.window)
	if h.n < len(h.window) {
		h.n++
	}
}

func (h *handleTimes) average() time.Duration {
	if h.n == 0 {
		return DefaultHandleTime
	}
	var sum time.Duration
	for _, d := range h.window[:h.n] {
		sum += d
	}
	return sum / time.Duration(h.n)
}

// timesOf returns a queue's handle times; the caller holds the lock.
func (r *Router) timesOf(q queueKey) *handleTimes {
	h := r.times[q]
	if h == nil {
		h = &handleTimes{}
		r.times[q] = h
	}
	return h
}

// Estimate is the estimated wait, in seconds, of the chat at position
// (1 = next) in a queue whose ready agents have capacity slots in all, free
// of them free now, and whose chats take aht on average.
//
// Chats within the free slots are offered at once (0). The others wait for
// slots to free up: capacity slots each free one chat per aht, so the queue
// drains at capacity/aht chats per second. Without ready agents the queue
// is assumed to drain as if one slot were open, so that the estimate still
// grows with the position instead of being unknown.
func Estimate(position, capacity, free int, aht time.Duration) int {
	if position <= free {
		return 0
	}
	ahead := float64(position - free)
	slots := float64(max(capacity, 1))
	return int(math.Ceil(ahead * aht.Seconds() / slots))
}

// estimate computes c's estimate from its place in its queue; the caller
// holds the lock.
func (r *Router) estimate(c *routed) int {
	position := 1
	for _, o := range r.chats {
		if o != c && o.waiting() && o.queue == c.queue && o.order < c.order {
			position++
		}
	}
	capacity, free := r.slots(c.key.Tenant, c.entry.Skills)
	return Estimate(position, capacity, free, r.timesOf(c.queue).average())
}

// slots counts the capacity and free slots of the tenant's ready agents
// with the skills.
func (r *Router) slots(tenant string, skills []string) (capacity, free int) {
	for _, a := range r.agents {
		if a.state == StateReady && a.agent.Tenant == tenant && a.agent.HasSkills(skills) {
			capacity += a.agent.Capacity
			free += max(a.agent.Capacity-a.load(), 0)
		}
	}
	return capacity, free
}

// EstimateWait is the estimate of a chat requested now on e: behind every
// chat waiting in its queue.
func (r *Router) EstimateWait(_ context.Context, e *chat.Entry) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := queueKey{e.Tenant, e.QueueName()}
	position := 1
	for _, c := range r.chats {
		if c.waiting() && c.queue == q {
			position++
		}
	}
	capacity, free := r.slots(e.Tenant, e.Skills)
	return Estimate(position, capacity, free, r.timesOf(q).average()), true
}

// updateWaits tells waiting customers whose estimate changed.
func (r *Router) updateWaits(ctx context.Context) {
	type change struct {
		chatID string
		ewt    int
	}
	var changes []change
	r.mu.Lock()
	for _, c := range r.chats {
		if !c.waiting() {
			continue
		}
		if e := r.estimate(c); e != c.ewt {
			c.ewt = e
			changes = append(changes, change{c.id, e})
		}
	}
	r.mu.Unlock()
	for _, ch := range changes {
		if err := r.svc.UpdateWait(ctx, ch.chatID, ch.ewt); err != nil {
			r.log.Debug("update wait", "chat_id", ch.chatID, "err", err)
		}
	}
}
