package routing_test

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/chat"
)

func TestTransferToAnAgentOffersThemTheChatFirst(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"ann", "bob", "cat"} {
		h.login(id, 1)
	}
	h.ready("ann")
	s := h.request(salesApp)
	h.assign("ann", s.ID)
	_, annParty, _ := h.router.Assignment(s.ID)
	h.ready("cat", "bob") // cat has waited longer, but ann chose bob

	if err := h.router.Transfer(h.ctx, "ann", s.ID, "bob", ""); err != nil {
		t.Fatal(err)
	}
	h.wantChats("ann")
	h.wantOffers("cat")
	h.wantOffers("bob", s.ID)
	if _, _, ok := h.router.Assignment(s.ID); ok {
		t.Fatal("a chat being transferred is still assigned")
	}
	if sess := h.session(s.ID); sess.AgentID != "" || sess.State != chat.StateQueued {
		t.Fatalf("session during transfer = agent %q state %q, want none and queued", sess.AgentID, sess.State)
	}
	h.accept("bob", s.ID)

	seen := h.seen(s)
	want := []chat.Type{
		chat.TypeStatus, chat.TypePartyJoined, chat.TypeStatus, // ann joins
		chat.TypePartyLeft, chat.TypeStatus, // ann leaves, queued again
		chat.TypePartyJoined, chat.TypeStatus, // bob joins
	}
	if got := types(seen); !slices.Equal(got, want) {
		t.Fatalf("customer sees %v, want %v", got, want)
	}
	if left := seen[3]; left.PartyID != annParty {
		t.Errorf("party left = %q, want ann's party %q", left.PartyID, annParty)
	}
	if queued := seen[4]; queued.State != chat.StateQueued {
		t.Errorf("status after party left = %q, want queued", queued.State)
	}
	joined := seen[5]
	if joined.AgentID != "bob" || joined.DisplayName != "Agent bob" || joined.PartyType != chat.PartyInternal {
		t.Errorf("second join = %+v, want bob as an internal party", joined.Payload)
	}
	if joined.PartyID == annParty || joined.PartyID == s.ID {
		t.Errorf("bob joined as party %q, want a new party id", joined.PartyID)
	}
	if connected := seen[6]; connected.State != chat.StateConnected {
		t.Errorf("status after bob joined = %q, want connected", connected.State)
	}
	if agent, party, ok := h.router.Assignment(s.ID); !ok || agent != "bob" || party != joined.PartyID {
		t.Errorf("Assignment = %q, %q, %v; want bob as %q", agent, party, ok, joined.PartyID)
	}
	if sess := h.session(s.ID); sess.AgentID != "bob" {
		t.Errorf("session agent = %q, want bob", sess.AgentID)
	}
}

func TestATransferTheTargetRejectsGoesToTheNextAgent(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"ann", "bob", "cat"} {
		h.login(id, 1)
	}
	h.ready("ann")
	s := h.request(salesApp)
	h.assign("ann", s.ID)
	h.ready("cat", "bob")

	if err := h.router.Transfer(h.ctx, "ann", s.ID, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if err := h.router.Reject("bob", s.ID); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("cat", s.ID)
	h.wantOffers("ann") // ann handed it over: she is not offered it back
}

func TestTransferToAQueueOffersItToThatQueuesAgents(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("generalist", 1)
	h.login("biller", 1, "billing")
	h.ready("ann")
	s := h.request(salesApp)
	h.assign("ann", s.ID)
	h.ready("generalist", "biller") // generalist waited longer but lacks the skill

	if err := h.router.Transfer(h.ctx, "ann", s.ID, "", billingQueue); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("generalist")
	offers := h.router.View("biller").Offers
	if len(offers) != 1 || offers[0].ChatID != s.ID || offers[0].Queue != billingQueue {
		t.Fatalf("biller's offers = %+v, want the chat from queue %s", offers, billingQueue)
	}
	h.accept("biller", s.ID)
	if got := types(h.seen(s)); !slices.Equal(got[3:], []chat.Type{chat.TypePartyLeft, chat.TypeStatus, chat.TypePartyJoined, chat.TypeStatus}) {
		t.Fatalf("customer sees %v, want ann to leave, status queued, the biller to join, status connected", got)
	}
}

func TestTransferBackToItsOwnQueueGoesToAnotherAgent(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(salesApp)
	h.accept("ann", s.ID)

	if err := h.router.Transfer(h.ctx, "ann", s.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	h.wantOffers("ann")
	h.wantOffers("bob", s.ID)
}

func TestTransfersThatCannotBeDoneChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.login("bob", 1)
	h.loginAt(otherTenant, "stranger", 1)
	h.ready("ann", "bob", "stranger")
	s := h.request(salesApp)
	h.accept("ann", s.ID)
	before := len(h.events(s.ID))

	cases := []struct {
		name             string
		agent            string
		toAgent, toQueue string
		code             chat.Code
	}{
		{"to a queue no entry routes to", "ann", "", "no-such-queue", chat.CodeInvalid},
		{"to a queue of another tenant only", "ann", "", "elsewhere", chat.CodeInvalid},
		{"to an agent who is not logged in", "ann", "nobody", "", chat.CodeInvalid},
		{"to an agent of another tenant", "ann", "stranger", "", chat.CodeInvalid},
		{"by an agent whose chat it is not", "bob", "", "", chat.CodeChatNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.router.Transfer(h.ctx, tc.agent, s.ID, tc.toAgent, tc.toQueue), tc.code)
			if agent, _, ok := h.router.Assignment(s.ID); !ok || agent != "ann" {
				t.Fatalf("after a failed transfer the chat is with %q (%v), want ann", agent, ok)
			}
			h.wantChats("ann", s.ID)
			h.wantOffers("bob")
			if n := len(h.events(s.ID)); n != before {
				t.Fatalf("a failed transfer appended %d events", n-before)
			}
		})
	}
	wantCode(t, h.router.Transfer(h.ctx, "ann", "no-such-chat", "", billingQueue), chat.CodeChatNotFound)
}

func TestAnAgentEndingAChatClosesItAndFreesThem(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)
	next := h.request(salesApp)
	h.assign("ann", s.ID)
	_, party, _ := h.router.Assignment(s.ID)

	wantCode(t, h.router.End(h.ctx, "bob", s.ID), chat.CodeChatNotFound)
	if err := h.router.End(h.ctx, "ann", s.ID); err != nil {
		t.Fatal(err)
	}

	seen := h.seen(s)
	tail := seen[len(seen)-3:]
	if got := types(tail); !slices.Equal(got, []chat.Type{chat.TypePartyLeft, chat.TypeStatus, chat.TypeEnded}) {
		t.Fatalf("customer's last events = %v, want party left, status, ended", got)
	}
	if tail[0].PartyID != party {
		t.Errorf("party left = %q, want ann's party %q", tail[0].PartyID, party)
	}
	if tail[1].State != chat.StateCompleted {
		t.Errorf("final status = %q, want completed", tail[1].State)
	}
	if sess := h.session(s.ID); sess.Live() {
		t.Error("the session lives on after the agent ended it")
	}
	h.wantChats("ann")
	h.wantOffers("ann", next.ID)
	if _, _, ok := h.router.Assignment(s.ID); ok || h.router.Tracked(s.ID) {
		t.Error("routing still tracks the ended chat")
	}
	wantCode(t, h.router.End(h.ctx, "ann", s.ID), chat.CodeChatNotFound)
}

func TestACustomerEndingAChatFreesTheAgent(t *testing.T) {
	h := newHarness(t)
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(salesApp)
	h.assign("ann", s.ID)
	wake, stop := h.bus.Watch("agent.ann")
	defer stop()

	h.endByCustomer(s)
	h.wantChats("ann")
	if v := h.router.View("ann"); v.State != "ready" {
		t.Fatalf("state after the customer left = %q, want ready", v.State)
	}
	select {
	case <-wake:
	default:
		t.Fatal("the agent's stream was not woken when the customer ended the chat")
	}
	next := h.request(salesApp)
	h.wantOffers("ann", next.ID)
}

func TestAChatEndedWhileWaitingLeavesTheQueue(t *testing.T) {
	h := newHarness(t)
	first, second := h.request(salesApp), h.request(salesApp)
	h.endByCustomer(first)
	if got := h.router.Waiting(); !slices.Equal(got, []string{second.ID}) {
		t.Fatalf("queue = %q, want only the chat still live", got)
	}
}
