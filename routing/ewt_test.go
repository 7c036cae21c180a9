package routing_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

func TestEstimate(t *testing.T) {
	cases := []struct {
		name                     string
		position, capacity, free int
		aht                      time.Duration
		want                     int
	}{
		{"the next chat with a free slot is offered at once", 1, 1, 1, time.Minute, 0},
		{"every chat within the free slots is offered at once", 3, 5, 3, time.Minute, 0},
		{"the next chat behind one busy slot waits one handle time", 1, 1, 0, 2 * time.Minute, 120},
		{"each chat further back waits one more handle time", 3, 1, 0, 2 * time.Minute, 360},
		{"more slots drain the queue faster", 3, 2, 0, 2 * time.Minute, 180},
		{"only the chats beyond the free slots wait", 3, 4, 1, time.Minute, 30},
		{"without ready agents the queue drains as if one slot were open", 2, 0, 0, 90 * time.Second, 180},
		{"parts of a second round up", 1, 3, 0, 100 * time.Second, 34},
		{"a short handle time still waits a second", 1, 1, 0, 300 * time.Millisecond, 1},
		{"nothing measured takes no time", 4, 1, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := routing.Estimate(tc.position, tc.capacity, tc.free, tc.aht); got != tc.want {
				t.Fatalf("Estimate(%d, %d, %d, %v) = %d, want %d", tc.position, tc.capacity, tc.free, tc.aht, got, tc.want)
			}
		})
	}
}

func TestEstimateGrowsWithThePosition(t *testing.T) {
	for capacity := 0; capacity <= 4; capacity++ {
		for free := 0; free <= capacity; free++ {
			prev := -1
			for position := 1; position <= 20; position++ {
				got := routing.Estimate(position, capacity, free, routing.DefaultHandleTime)
				if got < prev {
					t.Fatalf("capacity %d free %d: position %d waits %d s, less than the one before (%d s)", capacity, free, position, got, prev)
				}
				prev = got
			}
		}
	}
}

// estimateNow is what a chat requested now on the entry would be told.
func (h *harness) estimateNow(appID string) int {
	h.t.Helper()
	e := h.entry(tenant, appID)
	ewt, ok := h.svc.EstimateWait(h.ctx, &e)
	if !ok {
		h.t.Fatal("routing gave no estimate")
	}
	return ewt
}

// told returns the estimates a chat's customer was told, in order.
func (h *harness) told(chatID string) []int {
	var out []int
	for _, ev := range h.events(chatID) {
		if ev.Type == chat.TypeStatus && ev.State == chat.StateQueued {
			out = append(out, ev.EWT)
		}
	}
	return out
}

func TestRequestChatTellsTheEstimatedWait(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")

	free := h.request(salesApp)
	if free.EWT != 0 {
		t.Fatalf("ewt with a free agent = %d, want 0", free.EWT)
	}
	h.accept("ann", free.ID)

	busy := h.request(salesApp)
	if want := int(routing.DefaultHandleTime.Seconds()); busy.EWT != want {
		t.Fatalf("ewt behind a busy agent = %d, want one default handle time (%d)", busy.EWT, want)
	}
	status := h.seen(busy)[0]
	if status.Type != chat.TypeStatus || status.State != chat.StateQueued || status.EWT != busy.EWT {
		t.Fatalf("first event = %s %q ewt %d, want status queued with ewt %d", status.Type, status.State, status.EWT, busy.EWT)
	}
	if wire := string(status.AppendJSON(nil)); !strings.Contains(wire, `"ewt":"`+strconv.Itoa(busy.EWT)+`"`) {
		t.Fatalf("status on the wire = %s, want ewt %q", wire, strconv.Itoa(busy.EWT))
	}
}

func TestEstimateWaitGrowsWithTheQueue(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	h.accept("ann", h.request(salesApp).ID)

	prev := 0
	for i := range 5 {
		before := h.estimateNow(salesApp)
		if before <= prev {
			t.Fatalf("with %d chats waiting the estimate is %d s, not more than with one fewer (%d s)", i, before, prev)
		}
		s := h.request(salesApp)
		if s.EWT != before {
			t.Fatalf("chat %d was told %d s, EstimateWait said %d s", i, s.EWT, before)
		}
		prev = before
	}
	// Chats waiting in another queue are not ahead (and nobody can take
	// billing chats: it drains as if one slot were open).
	if got, want := h.estimateNow(billingApp), int(routing.DefaultHandleTime.Seconds()); got != want {
		t.Fatalf("estimate in an empty billing queue = %d, want %d", got, want)
	}
}

func TestEstimatesShrinkAsTheChatsAheadAreServed(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	current := h.request(salesApp)
	h.accept("ann", current.ID)

	var waiting []chat.Session
	for range 5 {
		waiting = append(waiting, h.request(salesApp))
	}
	for i, s := range waiting {
		if want := (i + 1) * 120; s.EWT != want {
			t.Fatalf("chat %d was told %d s, want %d", i, s.EWT, want)
		}
	}

	for len(waiting) > 0 {
		h.advance(routing.DefaultHandleTime) // chats take as long as assumed
		if err := h.router.End(h.ctx, "ann", current.ID); err != nil {
			t.Fatal(err)
		}
		h.router.UpdateWaits(h.ctx) // the head is offered, not yet accepted
		current, waiting = waiting[0], waiting[1:]
		h.accept("ann", current.ID)
		h.router.UpdateWaits(h.ctx)

		for i, s := range waiting {
			told := h.told(s.ID)
			for j := 1; j < len(told); j++ {
				if told[j] >= told[j-1] {
					t.Fatalf("chat %d was told %v: estimates must only shrink", i, told)
				}
			}
			if want := (i + 1) * 120; told[len(told)-1] != want {
				t.Fatalf("chat %d at position %d was last told %v, want %d", i, i+1, told, want)
			}
			if sess := h.session(s.ID); sess.EWT != told[len(told)-1] {
				t.Fatalf("chat %d: session ewt %d, last told %d", i, sess.EWT, told[len(told)-1])
			}
		}
	}
}

func TestAChatBeingOfferedIsNotCountedTwice(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	offered := h.request(salesApp)
	h.wantOffers("ann", offered.ID)

	// The offered chat holds ann's only slot: the next chat waits for it
	// to be handled, one handle time, not for it twice.
	if got, want := h.estimateNow(salesApp), 120; got != want {
		t.Fatalf("estimate behind a chat being offered = %d, want %d", got, want)
	}
	next := h.request(salesApp)
	h.router.UpdateWaits(h.ctx)
	if got := h.told(next.ID); got[len(got)-1] != 120 {
		t.Fatalf("the chat behind the offer was told %v, want 120 last", got)
	}
	if got := h.told(offered.ID); got[len(got)-1] != 0 {
		t.Fatalf("the chat being offered was told %v, want 0 last", got)
	}
}

func TestEstimatesLearnTheQueuesHandleTime(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	for _, d := range []time.Duration{20 * time.Second, 40 * time.Second} {
		s := h.request(salesApp)
		h.accept("ann", s.ID)
		h.advance(d)
		h.endByCustomer(s)
	}
	h.accept("ann", h.request(salesApp).ID)
	if got := h.estimateNow(salesApp); got != 30 {
		t.Fatalf("estimate after chats of 20 s and 40 s = %d, want their average, 30", got)
	}
	// Other queues keep the default.
	h.login("biller", 1, "billing")
	h.ready("biller")
	h.accept("biller", h.request(billingApp).ID)
	if got, want := h.estimateNow(billingApp), int(routing.DefaultHandleTime.Seconds()); got != want {
		t.Fatalf("estimate in the billing queue = %d, want the default %d", got, want)
	}
}

func TestRunTellsWaitingCustomersNewEstimates(t *testing.T) {
	h := newHarness(t, running(5*time.Millisecond))
	h.login("ann", 1)
	h.ready("ann")
	first := h.request(salesApp)
	h.accept("ann", first.ID)
	second := h.request(salesApp)
	third := h.request(salesApp)
	if third.EWT != 240 {
		t.Fatalf("third chat told %d, want 240", third.EWT)
	}
	h.advance(time.Minute)
	h.endByCustomer(first)
	h.accept("ann", second.ID)

	h.eventually("the third chat to be told its new estimate", func() bool {
		told := h.told(third.ID)
		return told[len(told)-1] == 60
	})
}
