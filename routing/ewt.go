package routing

import (
	"context"
	"math"
	"sort"
	"strings"
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
func (r *Router) estimate(c *routed) int { return r.estimateIn(c, c.queue, c.entry.Skills) }

// estimateIn is c's estimate were it waiting in queue q for agents with the
// skills (a transfer's destination); the caller holds the lock. A chat being
// offered already holds the slot it will be handled in: it waits no longer,
// and it is not ahead of anyone (counting it both ahead and in the agent's
// load would count it twice).
func (r *Router) estimateIn(c *routed, q queueKey, skills []string) int {
	if c.offer != nil {
		return 0
	}
	position := 1
	for _, o := range r.chats {
		if o != c && o.queued() && o.queue == q && o.order < c.order {
			position++
		}
	}
	capacity, free := r.slots(c.key.Tenant, skills)
	return Estimate(position, capacity, free, r.timesOf(q).average())
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
// chat waiting in its queue that is not being offered.
func (r *Router) EstimateWait(_ context.Context, e *chat.Entry) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := queueKey{e.Tenant, e.QueueName()}
	position := r.queuedN[q] + 1
	capacity, free := r.slots(e.Tenant, e.Skills)
	return Estimate(position, capacity, free, r.timesOf(q).average()), true
}

// updateWaits tells waiting customers whose estimate changed. Each chat's
// estimate is told holding its io lock, so that it never lands in the log
// after the agent who took the chat meanwhile joined.
//
// Estimates are computed in one pass over the queues (a position is the
// count of queued chats ahead, found by sorting each queue once), not chat
// by chat: thousands of waiting chats would make that quadratic, every five
// seconds. Only the chats whose estimate changed take their io lock.
func (r *Router) updateWaits(ctx context.Context) {
	r.mu.Lock()
	estimates := r.estimates()
	var changed []*routed
	for c, ewt := range estimates {
		if ewt != c.ewt {
			changed = append(changed, c)
		}
	}
	r.mu.Unlock()
	for _, c := range changed {
		c.io.Lock()
		r.mu.Lock()
		ewt, tell := 0, false
		if r.chats[c.id] == c && c.waiting() {
			if c.offer == nil {
				ewt = estimates[c]
			}
			tell, c.ewt = ewt != c.ewt, ewt
		}
		r.mu.Unlock()
		if tell {
			if err := r.svc.UpdateWait(ctx, c.id, ewt); err != nil {
				r.log.Debug("update wait", "chat_id", c.id, "err", err)
			}
		}
		c.io.Unlock()
	}
}

// estimates returns the estimate of every waiting chat, as estimate would
// give it; the caller holds the lock.
func (r *Router) estimates() map[*routed]int {
	out := map[*routed]int{}
	queues := map[queueKey][]*routed{}
	for _, c := range r.chats {
		switch {
		case !c.waiting():
		case c.offer != nil:
			out[c] = 0
		default:
			queues[c.queue] = append(queues[c.queue], c)
		}
	}
	type slotKey struct{ tenant, skills string }
	slots := map[slotKey][2]int{}
	for q, chats := range queues {
		sort.Slice(chats, func(i, j int) bool { return chats[i].order < chats[j].order })
		aht := r.timesOf(q).average()
		for i, c := range chats {
			k := slotKey{c.key.Tenant, strings.Join(c.entry.Skills, "\x00")}
			s, ok := slots[k]
			if !ok {
				capacity, free := r.slots(c.key.Tenant, c.entry.Skills)
				s = [2]int{capacity, free}
				slots[k] = s
			}
			out[c] = Estimate(i+1, s[0], s[1], aht)
		}
	}
	return out
}
