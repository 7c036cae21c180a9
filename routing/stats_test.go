package routing_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/routing"
)

func TestStatsCountChatsQueuesAndAgents(t *testing.T) {
	h := newHarness(t)
	if got := h.router.Stats(); got.Queued+got.Offered+got.Assigned != 0 || len(got.Queues) != 0 {
		t.Fatalf("stats of an empty router = %+v, want nothing", got)
	}
	first := h.request(salesApp)
	h.advance(10 * time.Second)
	h.request(salesApp)
	h.request(billingApp)
	h.advance(5 * time.Second)

	h.login("ann", 1)
	h.login("bob", 1, "billing")
	h.ready("ann") // a second later
	h.wantOffers("ann", first.ID)

	got := h.router.Stats()
	want := routing.Stats{
		Queued: 2, Offered: 1, Assigned: 0,
		Agents: map[string]int{routing.StateReady: 1, routing.StateNotReady: 1},
		Queues: []routing.QueueStats{
			{Tenant: tenant, Name: billingQueue, Waiting: 1, OldestWait: 6 * time.Second, HandleTime: routing.DefaultHandleTime},
			{Tenant: tenant, Name: salesApp, Waiting: 2, OldestWait: 16 * time.Second, HandleTime: routing.DefaultHandleTime},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats with an offer =\n%+v\nwant\n%+v", got, want)
	}

	h.accept("ann", first.ID)
	h.advance(time.Minute)
	if err := h.router.End(h.ctx, "ann", first.ID); err != nil {
		t.Fatal(err)
	}
	got = h.router.Stats()
	// ann is free again and is offered the second sales chat at once.
	if got.Queued != 1 || got.Offered != 1 || got.Assigned != 0 {
		t.Errorf("chats after the end = %d queued, %d offered, %d assigned; want 1, 1, 0", got.Queued, got.Offered, got.Assigned)
	}
	for _, q := range got.Queues {
		if q.Name == salesApp && q.HandleTime != time.Minute {
			t.Errorf("sales handle time = %v, want the measured 1m", q.HandleTime)
		}
	}
}
