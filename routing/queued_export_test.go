package routing

import "fmt"

// QueuedCountsConsistent checks the counts of queued chats kept by change
// against a count of the chats.
func (r *Router) QueuedCountsConsistent() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := map[queueKey]int{}
	for _, c := range r.chats {
		if c.queued() {
			want[c.queue]++
		}
	}
	for q, n := range r.queuedN {
		if n != want[q] {
			return fmt.Errorf("queue %v: counted %d queued chats, there are %d", q, n, want[q])
		}
	}
	for q, n := range want {
		if r.queuedN[q] != n {
			return fmt.Errorf("queue %v: counted %d queued chats, there are %d", q, r.queuedN[q], n)
		}
	}
	return nil
}
