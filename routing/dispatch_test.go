package routing_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/routing"
)

func TestWaitingChatsAreOfferedOldestFirst(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for range 4 {
		ids = append(ids, h.request(salesApp).ID)
		h.advance(1)
	}
	if got := h.router.Waiting(); !slices.Equal(got, ids) {
		t.Fatalf("queue = %q, want the chats in order of arrival %q", got, ids)
	}
	h.login("ann", 1)
	h.ready("ann")
	for i, id := range ids {
		h.wantOffers("ann", id)
		h.accept("ann", id)
		if err := h.router.End(h.ctx, "ann", id); err != nil {
			t.Fatalf("end chat %d: %v", i, err)
		}
	}
	h.wantOffers("ann")
}

func TestTheLongestIdleReadyAgentGetsTheOffer(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"ann", "bob", "cat"} {
		h.login(id, 1)
	}
	h.ready("cat", "ann", "bob") // cat has waited longest, then ann, then bob

	first := h.request(salesApp)
	h.wantOffers("cat", first.ID)
	h.wantOffers("ann")
	h.accept("cat", first.ID)

	second := h.request(salesApp)
	h.wantOffers("ann", second.ID)
	h.accept("ann", second.ID)

	// cat finishes before bob gets a chat: bob has now waited longest.
	h.advance(1)
	if err := h.router.End(h.ctx, "cat", first.ID); err != nil {
		t.Fatal(err)
	}
	third := h.request(salesApp)
	h.wantOffers("bob", third.ID)
	h.wantOffers("cat")
	h.accept("bob", third.ID)

	fourth := h.request(salesApp)
	h.wantOffers("cat", fourth.ID)
}

func TestAgentsWhoCannotTakeAChatAreNeverOfferedIt(t *testing.T) {
	cases := []struct {
		name  string
		app   string
		setup func(h *harness) // logs in "wrong", the agent who must not be offered
	}{
		{"an agent without the entry's skill", supportApp, func(h *harness) {
			h.login("wrong", 5, "sales")
			h.ready("wrong")
		}},
		{"an agent with only some of the queue's skills", billingApp, func(h *harness) {
			h.login("wrong", 5, "support")
			h.ready("wrong")
		}},
		{"an agent of another tenant", salesApp, func(h *harness) {
			h.loginAt(otherTenant, "wrong", 5, "support", "billing")
			h.ready("wrong")
		}},
		{"an agent who logged in but is not ready", salesApp, func(h *harness) {
			h.login("wrong", 5, "support", "billing")
		}},
		{"an agent who went not ready", salesApp, func(h *harness) {
			h.login("wrong", 5, "support", "billing")
			h.ready("wrong")
			if err := h.router.SetState("wrong", routing.StateNotReady, "lunch"); err != nil {
				h.t.Fatal(err)
			}
		}},
		{"an agent who logged out", salesApp, func(h *harness) {
			h.login("wrong", 5, "support", "billing")
			h.ready("wrong")
			h.router.Logout("wrong")
		}},
		{"an agent with no capacity", salesApp, func(h *harness) {
			h.login("wrong", 0, "support", "billing")
			h.ready("wrong")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.setup(h)
			s := h.request(tc.app)
			h.wantOffers("wrong")
			if got := h.router.Waiting(); !slices.Equal(got, []string{s.ID}) {
				t.Fatalf("queue = %q, want the chat waiting", got)
			}

			// A suitable agent who became ready later still gets it.
			h.login("right", 1, "support", "billing")
			h.ready("right")
			h.wantOffers("right", s.ID)
			h.wantOffers("wrong")
		})
	}
}

func TestAnAgentWithEverySkillOfTheEntryIsOffered(t *testing.T) {
	h := newHarness(t)
	h.login("generalist", 1)
	h.login("specialist", 1, "billing", "support")
	h.ready("generalist", "specialist")

	s := h.request(billingApp)
	h.wantOffers("specialist", s.ID)
	h.wantOffers("generalist")
}

func TestAnAgentNeverHoldsMoreChatsAndOffersThanCapacity(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 2)
	h.ready("ann")
	a, b, c := h.request(salesApp), h.request(salesApp), h.request(salesApp)

	h.wantOffers("ann", a.ID, b.ID)
	h.accept("ann", a.ID)
	h.wantOffers("ann", b.ID)
	h.accept("ann", b.ID)
	h.wantChats("ann", a.ID, b.ID)
	h.wantOffers("ann")
	if got := h.router.Waiting(); !slices.Equal(got, []string{c.ID}) {
		t.Fatalf("queue = %q, want the third chat waiting", got)
	}

	// Capacity frees up when the customer ends a chat ...
	h.endByCustomer(a)
	h.wantChats("ann", b.ID)
	h.wantOffers("ann", c.ID)
	h.accept("ann", c.ID)

	// ... and when the agent ends one.
	d := h.request(salesApp)
	h.wantOffers("ann")
	if err := h.router.End(h.ctx, "ann", b.ID); err != nil {
		t.Fatal(err)
	}
	h.wantChats("ann", c.ID)
	h.wantOffers("ann", d.ID)
}

func TestRaisingAnAgentsCapacityOffersMoreChats(t *testing.T) {
	h := newHarness(t)
	a := h.login("ann", 1)
	h.ready("ann")
	first, second := h.request(salesApp), h.request(salesApp)
	h.wantOffers("ann", first.ID)

	a.Capacity = 2
	h.router.UpdateAgent(a)
	h.wantOffers("ann", first.ID, second.ID)
}

func TestAgentStateIsShownInTheirView(t *testing.T) {
	h := newHarness(t)
	if v := h.router.View("ann"); v.State != routing.StateLoggedOut {
		t.Fatalf("state before login = %q, want %q", v.State, routing.StateLoggedOut)
	}
	h.login("ann", 1)
	if v := h.router.View("ann"); v.State != routing.StateNotReady {
		t.Fatalf("state after login = %q, want %q", v.State, routing.StateNotReady)
	}
	h.ready("ann")
	if v := h.router.View("ann"); v.State != routing.StateReady || v.Reason != "" {
		t.Fatalf("view after ready = %+v, want ready without reason", v)
	}
	if err := h.router.SetState("ann", routing.StateNotReady, "lunch"); err != nil {
		t.Fatal(err)
	}
	if v := h.router.View("ann"); v.State != routing.StateNotReady || v.Reason != "lunch" {
		t.Fatalf("view after not ready = %+v, want not_ready for lunch", v)
	}
	if err := h.router.SetState("ann", "asleep", ""); err == nil {
		t.Fatal("SetState accepted an unknown state")
	}
	if err := h.router.SetState("nobody", routing.StateReady, ""); err == nil {
		t.Fatal("SetState accepted an agent who is not logged in")
	}
}

func TestGoingNotReadyWithdrawsOffers(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(salesApp)
	h.wantOffers("ann", s.ID)

	if err := h.router.SetState("ann", routing.StateNotReady, "break"); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("ann")
	h.wantOffers("bob", s.ID)
	if err := h.router.Accept(h.ctx, "ann", s.ID); err == nil {
		t.Fatal("an agent accepted an offer withdrawn when they went not ready")
	}
}

func TestLoggingOutWithdrawsOffersButKeepsChats(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 2)
	h.login("bob", 1)
	h.ready("ann")
	kept, offered := h.request(salesApp), h.request(salesApp)
	h.accept("ann", kept.ID)
	h.wantOffers("ann", offered.ID)
	h.ready("bob") // the offer stays with ann

	h.router.Logout("ann")
	h.wantOffers("bob", offered.ID)
	if agent, _, ok := h.router.Assignment(kept.ID); !ok || agent != "ann" {
		t.Fatalf("assignment after logout = %q, %v; want ann's still", agent, ok)
	}

	h.login("ann", 2)
	h.wantChats("ann", kept.ID)
}

func TestAgentsAreToldWhenTheirOffersChange(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	wake, stop := h.bus.Watch(routing.AgentTopic("ann"))
	defer stop()

	s := h.request(salesApp)
	select {
	case <-wake:
	default:
		t.Fatal("no wake-up on the agent's topic when a chat was offered")
	}
	h.accept("ann", s.ID)
	select {
	case <-wake:
	default:
		t.Fatal("no wake-up on the agent's topic when a chat was assigned")
	}
}

func TestAnAgentWithFewerChatsIsOfferedBeforeALongerIdleOne(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 3)
	h.ready("ann")
	first := h.request(salesApp)
	h.accept("ann", first.ID)
	h.clock.Advance(time.Minute)
	h.login("bob", 3)
	h.ready("bob") // idle for less time than ann, but with no chat
	next := h.request(salesApp)
	h.wantOffers("bob", next.ID)
	h.wantOffers("ann")
}
