package routing_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// restart gives the harness a new Router over the same store and bus, as
// after a restart of the process, and returns it without running it.
func (h *harness) restart() *routing.Router {
	h.t.Helper()
	h.svc = h.newService()
	h.router = routing.New(h.svc, discard(), routing.Options{OfferTimeout: h.offer})
	return h.router
}

func TestANewRouterRestoresQueuesAndAssignments(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	assigned := h.request(salesApp)
	h.accept("ann", assigned.ID)
	_, party, _ := h.router.Assignment(assigned.ID)
	var waiting []string
	for range 3 {
		h.advance(1)
		waiting = append(waiting, h.request(salesApp).ID)
	}
	h.advance(1)
	ended := h.request(salesApp)
	h.endByCustomer(ended)
	billing := h.request(billingApp)

	r := h.restart()
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	h.eventually("the router to restore the live chats", func() bool { return r.Tracked(billing.ID) })

	want := append(slices.Clone(waiting), billing.ID)
	if got := r.Waiting(); !slices.Equal(got, want) {
		t.Fatalf("restored queue = %q, want %q", got, want)
	}
	if r.Tracked(ended.ID) {
		t.Fatal("an ended chat was restored")
	}
	agent, restoredParty, ok := r.Assignment(assigned.ID)
	if !ok || agent != "ann" || restoredParty != party {
		t.Fatalf("restored assignment = %q, %q, %v; want ann as party %q", agent, restoredParty, ok, party)
	}

	// ann logs in again: her chat is hers, and it counts against her capacity.
	h.login("ann", 2)
	h.wantChats("ann", assigned.ID)
	h.ready("ann")
	h.wantOffers("ann", waiting[0])

	// The restored assignment works: ann can end the chat as her party.
	if err := r.End(h.ctx, "ann", assigned.ID); err != nil {
		t.Fatal(err)
	}
	evs := h.events(assigned.ID)
	if left := ofType(evs, chat.TypePartyLeft); len(left) != 1 || left[0].PartyID != party {
		t.Fatalf("party left events = %+v, want ann's party %q", left, party)
	}
	h.wantOffers("ann", waiting[0], waiting[1])
}

func TestRestoringGivesChatsBackToAgentsAlreadyLoggedIn(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)
	h.accept("ann", s.ID)
	waiting := h.request(salesApp)

	r := h.restart()
	h.login("ann", 1) // her console reconnected before the router restored
	h.ready("ann")
	if err := r.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.wantChats("ann", s.ID)
	h.wantOffers("ann") // her one slot is taken by the restored chat
	if got := r.Waiting(); !slices.Equal(got, []string{waiting.ID}) {
		t.Fatalf("queue = %q, want the waiting chat", got)
	}
}

func TestChatsRequestedBeforeTheRestoreAreRoutedOnce(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(salesApp) // before Run restored anything
	h.wantOffers("ann", s.ID)

	if err := h.router.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("ann", s.ID)
	h.wantOffers("bob")
	h.accept("ann", s.ID)
	h.wantChats("ann", s.ID)
	h.wantOffers("bob")
}
