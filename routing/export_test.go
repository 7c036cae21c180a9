package routing

import (
	"context"
	"time"
)

// Hooks into the Router for the tests of package routing_test.

// SetTick makes Run check inactivity every d (and estimates every 5 d),
// so that timeouts of milliseconds can be tested. Call it before Run.
func (r *Router) SetTick(d time.Duration) { r.tick = d }

// UpdateWaits tells waiting customers their changed estimates now, as Run
// does every few ticks.
func (r *Router) UpdateWaits(ctx context.Context) { r.updateWaits(ctx) }

// Waiting returns the ids of the chats without an agent, in the order they
// are offered.
func (r *Router) Waiting() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := []string{}
	for _, c := range r.waitingChats() {
		ids = append(ids, c.id)
	}
	return ids
}

// Tracked reports whether routing knows the chat (waiting or assigned).
func (r *Router) Tracked(chatID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chats[chatID] != nil
}
