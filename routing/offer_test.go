package routing_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

func TestAcceptingJoinsTheAgentToTheChat(t *testing.T) {
	h := newHarness(t)
	ann := h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)

	offer := h.router.View("ann").Offers
	if len(offer) != 1 || offer[0].ChatID != s.ID || offer[0].AppID != salesApp || offer[0].Queue != salesApp {
		t.Fatalf("offers = %+v, want one of chat %s on %s", offer, s.ID, salesApp)
	}
	h.accept("ann", s.ID)

	seen := h.seen(s)
	want := []chat.Type{chat.TypeStatus, chat.TypePartyJoined, chat.TypeStatus}
	if got := types(seen); !slices.Equal(got, want) {
		t.Fatalf("customer sees %v, want %v", got, want)
	}
	joined, connected := seen[1], seen[2]
	if joined.PartyType != chat.PartyInternal {
		t.Errorf("joined party type = %q, want %q", joined.PartyType, chat.PartyInternal)
	}
	if joined.FirstName != ann.FirstName || joined.LastName != ann.LastName || joined.DisplayName != ann.DisplayName {
		t.Errorf("joined party names = %q %q %q, want the agent's", joined.FirstName, joined.LastName, joined.DisplayName)
	}
	if joined.PartyID == "" || joined.PartyID == s.ID {
		t.Errorf("joined party id = %q, want an id of its own, not the chat id", joined.PartyID)
	}
	if connected.State != chat.StateConnected || connected.EWT != 0 {
		t.Errorf("status after join = %q ewt %d, want connected ewt 0", connected.State, connected.EWT)
	}
	for _, field := range []string{`"type":"internal"`, `"party_id":"` + joined.PartyID + `"`, `"display_name":"Agent ann"`} {
		if wire := string(joined.AppendJSON(nil)); !strings.Contains(wire, field) {
			t.Errorf("party_joined on the wire = %s, want %s", wire, field)
		}
	}
	if wire := string(connected.AppendJSON(nil)); !strings.Contains(wire, `"state":"connected"`) || !strings.Contains(wire, `"ewt":"0"`) {
		t.Errorf("status on the wire = %s, want connected with ewt \"0\"", wire)
	}

	if sess := h.session(s.ID); sess.AgentID != "ann" || sess.State != chat.StateConnected || sess.EWT != 0 {
		t.Errorf("session = agent %q state %q ewt %d, want ann, connected, 0", sess.AgentID, sess.State, sess.EWT)
	}
	agent, party, ok := h.router.Assignment(s.ID)
	if !ok || agent != "ann" || party != joined.PartyID {
		t.Errorf("Assignment = %q, %q, %v; want ann as party %q", agent, party, ok, joined.PartyID)
	}
	h.wantChats("ann", s.ID)
	h.wantOffers("ann")
	if got := h.router.Waiting(); len(got) != 0 {
		t.Errorf("queue after accept = %q, want empty", got)
	}
}

func TestOnlyTheAgentOfferedAChatMayAcceptIt(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(salesApp)
	h.wantOffers("ann", s.ID)

	cases := []struct {
		name          string
		agent, chatID string
	}{
		{"an agent who was not offered the chat", "bob", s.ID},
		{"an agent who is not logged in", "nobody", s.ID},
		{"an agent offered another chat", "ann", "no-such-chat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.router.Accept(h.ctx, tc.agent, tc.chatID), chat.CodeChatNotFound)
		})
	}
	wantCode(t, h.router.Reject("bob", s.ID), chat.CodeChatNotFound)

	h.accept("ann", s.ID)
	wantCode(t, h.router.Accept(h.ctx, "ann", s.ID), chat.CodeChatNotFound)
	if n := len(ofType(h.events(s.ID), chat.TypePartyJoined)); n != 1 {
		t.Fatalf("%d parties joined, want 1", n)
	}
}

func TestARejectedChatIsOfferedToTheNextAgent(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"ann", "bob", "cat"} {
		h.login(id, 1)
	}
	h.ready("ann", "bob", "cat")
	s := h.request(salesApp)
	h.wantOffers("ann", s.ID)

	if err := h.router.Reject("ann", s.ID); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("ann")
	h.wantOffers("bob", s.ID)
	if v := h.router.View("ann"); v.State != routing.StateReady {
		t.Fatalf("state after reject = %q, want ready", v.State)
	}

	if err := h.router.Reject("bob", s.ID); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("cat", s.ID)

	// Once everyone declined, the round starts again rather than leave the
	// customer waiting while agents are free.
	if err := h.router.Reject("cat", s.ID); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("ann", s.ID)
}

func TestAnOfferNobodyAnswersMovesOnAndTheAgentBecomesNotReady(t *testing.T) {
	h := newHarness(t, offerTimeout(150*time.Millisecond))
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(salesApp)
	h.wantOffers("ann", s.ID)

	h.eventually("the offer to move to bob", func() bool { return slices.Contains(h.offers("bob"), s.ID) })
	v := h.router.View("ann")
	if v.State != routing.StateNotReady || v.Reason != "missed offer" || len(v.Offers) != 0 {
		t.Fatalf("ann's view = %+v, want not_ready for missed offer without offers", v)
	}
	wantCode(t, h.router.Accept(h.ctx, "ann", s.ID), chat.CodeChatNotFound)

	// Nobody is left to miss it: bob's offer expires too, and the chat waits.
	h.eventually("bob to miss the offer", func() bool { return h.router.View("bob").State == routing.StateNotReady })
	h.wantOffers("bob")
	if got := h.router.Waiting(); !slices.Equal(got, []string{s.ID}) {
		t.Fatalf("queue = %q, want the chat still waiting", got)
	}
	h.ready("ann")
	h.wantOffers("ann", s.ID)
	h.accept("ann", s.ID)
}

func TestAnAgentWhoMissesAnOfferKeepsNoOtherOffers(t *testing.T) {
	h := newHarness(t, offerTimeout(150*time.Millisecond))
	h.login("ann", 2)
	h.ready("ann")
	first := h.request(salesApp)
	second := h.request(salesApp)
	h.wantOffers("ann", first.ID, second.ID)

	// Each look at the view is atomic: an agent routing set not ready for
	// missing one offer must never still hold the other.
	h.eventually("ann to miss her offers", func() bool {
		v := h.router.View("ann")
		if v.State == routing.StateNotReady && len(v.Offers) > 0 {
			t.Fatalf("ann is not ready (%s) yet still offered %+v", v.Reason, v.Offers)
		}
		return v.State == routing.StateNotReady
	})
	if got := h.router.Waiting(); !slices.Equal(got, []string{first.ID, second.ID}) {
		t.Fatalf("queue = %q, want both chats back in order", got)
	}
}

func TestAnOfferShowsWhenItExpires(t *testing.T) {
	h := newHarness(t, offerTimeout(45*time.Second))
	h.login("ann", 1)
	h.ready("ann")
	h.request(salesApp)
	offers := h.router.View("ann").Offers
	if len(offers) != 1 {
		t.Fatalf("offers = %+v, want one", offers)
	}
	if want := h.clock.Now().Add(45 * time.Second); !offers[0].Expires.Equal(want) {
		t.Fatalf("offer expires %v, want %v", offers[0].Expires, want)
	}
	h.advance(7 * time.Second)
	if w := h.router.View("ann").Offers[0].Waited; w != 7 {
		t.Fatalf("waited = %d s, want 7", w)
	}
}

func TestAnAcceptThatCannotJoinPutsTheChatBack(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)

	gone, cancel := context.WithCancel(h.ctx)
	cancel() // the agent's request went away before the join was stored
	if err := h.router.Accept(gone, "ann", s.ID); err == nil {
		t.Fatal("accept with a cancelled context succeeded")
	}
	if agent, _, ok := h.router.Assignment(s.ID); ok {
		t.Fatalf("chat assigned to %q although the join was never stored", agent)
	}
	h.wantChats("ann")
	if n := len(ofType(h.events(s.ID), chat.TypePartyJoined)); n != 0 {
		t.Fatalf("%d parties joined, want none", n)
	}
	// The chat is not lost: it is offered again and can be accepted.
	h.wantOffers("ann", s.ID)
	h.accept("ann", s.ID)
	h.wantChats("ann", s.ID)
}

func TestAcceptingAChatTheCustomerEndedFails(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)
	h.wantOffers("ann", s.ID)

	h.endByCustomer(s)
	h.wantOffers("ann")
	wantCode(t, h.router.Accept(h.ctx, "ann", s.ID), chat.CodeChatNotFound)
	h.wantChats("ann")
	if h.router.Tracked(s.ID) {
		t.Fatal("routing still tracks an ended chat")
	}
}
