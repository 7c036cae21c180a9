package routing_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// restart gives the harness a new Router over the same store and bus, as
// after a restart of the process, and returns it without running it.
func (h *harness) restart() *routing.Router {
	h.t.Helper()
	h.svc = h.newService()
	h.router = routing.New(h.svc, discard(), h.options())
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

// stored logs an agent in as login does and writes them to the store, where
// a restored Router finds their profile.
func (h *harness) stored(id string, capacity int) chat.Agent {
	h.t.Helper()
	a := h.login(id, capacity)
	if err := h.store.PutAgent(h.ctx, a); err != nil {
		h.t.Fatalf("put agent %s: %v", id, err)
	}
	return a
}

func TestANewRouterKeepingAgentsStatesFindsTheAgentsAsTheyWere(t *testing.T) {
	h := newHarness(t, offerTimeout(150*time.Millisecond), keepingStates())
	h.stored("ann", 1)
	h.stored("bob", 1)
	h.stored("cat", 1)
	dan := h.stored("dan", 1)
	h.stored("eve", 1)
	h.ready("ann", "eve")
	if err := h.router.SetState("bob", routing.StateNotReady, "lunch"); err != nil {
		t.Fatal(err)
	}
	h.router.Logout("cat")
	dan.Disabled = true
	if err := h.store.PutAgent(h.ctx, dan); err != nil {
		t.Fatal(err)
	}
	s := h.request(salesApp)
	h.assign("ann", s.ID)
	// eve lets the next chat's offer expire: not ready for a missed offer.
	missed := h.request(salesApp)
	h.wantOffers("eve", missed.ID)
	h.eventually("eve's missed offer to be recorded", func() bool {
		states, err := h.store.AgentStates(h.ctx)
		return err == nil && slices.ContainsFunc(states, func(s chat.AgentState) bool {
			return s.AgentID == "eve" && s.Reason == "missed offer"
		})
	})

	r := h.restart()
	if err := r.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		agent, state, reason string
		chats                []string
	}{
		{"ann", routing.StateReady, "", []string{s.ID}},
		{"bob", routing.StateNotReady, "lunch", []string{}},
		{"cat", routing.StateLoggedOut, "", []string{}},
		{"dan", routing.StateLoggedOut, "", []string{}}, // disabled since
		{"eve", routing.StateNotReady, "missed offer", []string{}},
	} {
		v := r.View(tc.agent)
		if v.State != tc.state || v.Reason != tc.reason || !slices.Equal(v.Chats, tc.chats) {
			t.Errorf("%s restored as %+v, want %s (%q) with chats %q", tc.agent, v, tc.state, tc.reason, tc.chats)
		}
	}
	// Restored ready with a free slot, ann is offered what waits once her
	// chat ends.
	h.endByCustomer(s)
	h.wantOffers("ann", missed.ID)
}

func TestAnAgentStateIsWrittenOnlyWhenItChanges(t *testing.T) {
	h := newHarness(t, keepingStates())
	h.stored("ann", 1)
	h.ready("ann")
	want := func(state, reason string) {
		t.Helper()
		states, err := h.store.AgentStates(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if state == "" {
			if len(states) != 0 {
				t.Fatalf("recorded states = %+v, want none", states)
			}
			return
		}
		if len(states) != 1 || states[0].AgentID != "ann" || states[0].State != state || states[0].Reason != reason {
			t.Fatalf("recorded states = %+v, want ann %s (%q)", states, state, reason)
		}
	}
	want(routing.StateReady, "")
	h.advance(time.Minute)
	h.login("ann", 2) // a second browser: nothing changes
	states, _ := h.store.AgentStates(h.ctx)
	if len(states) != 1 || !states[0].Updated.Equal(h.clock.Now().Add(-time.Minute)) {
		t.Errorf("a login that changed nothing rewrote the state: %+v", states)
	}
	if err := h.router.SetState("ann", routing.StateNotReady, "meeting"); err != nil {
		t.Fatal(err)
	}
	want(routing.StateNotReady, "meeting")
	h.router.Logout("ann")
	want("", "")
}

func TestReconcilingTakesUpChatsRoutingWasNotToldOfAndLetsGoOfChatsEndedUnseen(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 2)
	h.ready("ann")
	seen := h.request(salesApp)
	h.assign("ann", seen.ID)

	// Another service over the same store, as another node's: the router
	// hears nothing of what happens through it.
	other := h.newService()
	e := h.entry(tenant, salesApp)
	unseen, _, err := other.RequestChat(h.ctx, chat.ClientKey{Tenant: tenant, AppID: salesApp, ClientID: "elsewhere"}, &e, chat.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Send(h.ctx, &seen, []chat.Event{{Type: chat.TypeEnd}}); err != nil {
		t.Fatal(err)
	}
	if h.router.Tracked(unseen.ID) || !h.router.Tracked(seen.ID) {
		t.Fatal("the router heard of what happened through the other service")
	}

	if err := h.router.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	if h.router.Tracked(seen.ID) {
		t.Error("a chat that ended unseen is still routed")
	}
	h.wantChats("ann")
	h.wantOffers("ann", unseen.ID)
}

func TestARouterNotKeepingAgentsStatesRecordsNoneAndRestoresNone(t *testing.T) {
	h := newHarness(t)
	h.stored("ann", 1)
	h.ready("ann")
	if states, err := h.store.AgentStates(h.ctx); err != nil || len(states) != 0 {
		t.Fatalf("recorded states = %+v, %v; want none", states, err)
	}
	if err := h.store.PutAgentState(h.ctx, chat.AgentState{AgentID: "ann", State: routing.StateReady}); err != nil {
		t.Fatal(err)
	}
	r := h.restart()
	if err := r.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	if v := r.View("ann"); v.State != routing.StateLoggedOut {
		t.Errorf("after a restart ann is %s, want logged out until her console comes back", v.State)
	}
}
