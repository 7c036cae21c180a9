package routing_test

import (
	"testing"
	"time"
)

// TestQueuedCountsFollowEveryChange runs chats through everything that
// moves them in or out of a queue (requests, offers, rejections, expired
// offers, accepts, transfers, ends) and checks at each step the counts that
// estimates use instead of looking at every chat.
func TestQueuedCountsFollowEveryChange(t *testing.T) {
	h := newHarness(t, offerTimeout(time.Minute))
	check := func(step string) {
		t.Helper()
		if err := h.router.QueuedCountsConsistent(); err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
	}
	h.login("ann", 2)
	h.login("bob", 1)
	a := h.request(salesApp)
	b := h.request(salesApp)
	c := h.request(salesApp)
	check("three requests, no agent ready")
	h.ready("ann")
	check("ann ready: two offers")
	h.wantOffers("ann", a.ID, b.ID)
	if err := h.router.Reject("ann", a.ID); err != nil {
		t.Fatal(err)
	}
	check("a rejection")
	h.accept("ann", b.ID)
	check("an accept")
	h.ready("bob")
	check("bob ready")
	h.advance(2 * time.Minute)
	check("offers expired")
	if err := h.router.Transfer(h.ctx, "ann", b.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	check("a transfer back to the queue")
	h.endByCustomer(c)
	h.eventually("routing lets the ended chat go", func() bool { return !h.router.Tracked(c.ID) })
	check("a chat ended while queued")
	h.ready("ann", "bob")
	check("both ready again")
}
