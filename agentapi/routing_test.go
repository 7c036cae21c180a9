package agentapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestAgentsSetTheirState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	tests := []struct {
		name       string
		body       string
		wantState  string
		wantReason string
	}{
		{"ready clears the reason", `{"state":"ready","reason":"ignored"}`, "ready", ""},
		{"not ready keeps a reason", `{"state":"not_ready","reason":"lunch"}`, "not_ready", "lunch"},
		{"not ready without a reason", `{"state":"not_ready"}`, "not_ready", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := a.in(t)
			var got routingView
			a.call("PUT", "me/state", tt.body).ok(t, &got)
			if got.State != tt.wantState || got.Reason != tt.wantReason || got.Offers == nil || got.Chats == nil {
				t.Errorf("answer %+v, want %s (%q) with empty lists", got, tt.wantState, tt.wantReason)
			}
			if me := a.me().Routing; me.State != tt.wantState || me.Reason != tt.wantReason {
				t.Errorf("me: %+v, want %s (%q)", me, tt.wantState, tt.wantReason)
			}
		})
	}
	refused := []struct{ name, body string }{
		{"an unknown state", `{"state":"away"}`},
		{"logged_out, which is not set but done", `{"state":"logged_out"}`},
		{"no state", `{}`},
		{"a state that is not a string", `{"state":1}`},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			a.call("PUT", "me/state", tt.body).fails(t, http.StatusBadRequest, "5003")
		})
	}
}

func TestAReadyAgentIsOfferedAChatAndAcceptsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c := e.customer(webApp)
	id := c.requestChat()

	me := a.me().Routing
	if len(me.Offers) != 1 {
		t.Fatalf("offers %+v, want one", me.Offers)
	}
	o := me.Offers[0]
	if want := e.clock.Now().Add(time.Minute); o.ChatID != id || o.AppID != webApp || o.Queue != webApp ||
		o.Waited < 0 || o.Expires.Before(want.Add(-5*time.Second)) || o.Expires.After(want.Add(time.Second)) {
		t.Errorf("offer %+v, want chat %s of %s in queue %s expiring in a minute", o, id, webApp, webApp)
	}

	// While offered, the chat may be read but not acted on.
	if got := a.chat(id).Chat; got.ChatID != id || got.State != "queued" || got.PartyID != "" || got.AgentID != "" {
		t.Errorf("offered chat %+v, want it queued without an agent", got)
	}
	if got := typesOf(a.transcript(id, 0)); !slices.Equal(got, []string{"chat_session_status"}) {
		t.Errorf("transcript of the offered chat %q, want its first status", got)
	}
	a.call("POST", "chats/"+id+"/events", `{"events":[{"event":"chat_session_typing"}]}`).fails(t, http.StatusNotFound, "5005")

	v := a.accept(id)
	if v.ChatID != id || v.AppID != webApp || v.State != "connected" || v.Ended || v.EndedAt != nil ||
		v.ClientID != c.clientID || v.PhoneNumber != "+15550100" || v.AgentID != a.id || v.PartyID == "" || v.LastSeq < 3 {
		t.Errorf("accepted chat %+v, want it connected to alice with a party id", v)
	}
	var params map[string]string
	if err := json.Unmarshal(v.Parameters, &params); err != nil || params["first_name"] != "Pat" {
		t.Errorf("parameters %s, want the customer's", v.Parameters)
	}
	if me := a.me().Routing; len(me.Offers) != 0 || !slices.Equal(me.Chats, []string{id}) {
		t.Errorf("after accepting: %+v, want no offer and the chat", me)
	}
	var list struct {
		Chats []chatView `json:"chats"`
	}
	a.call("GET", "chats", "").ok(t, &list)
	if len(list.Chats) != 1 || list.Chats[0].ChatID != id || list.Chats[0].PartyID != v.PartyID {
		t.Errorf("chats %+v, want the accepted chat", list.Chats)
	}

	evs := c.pollUntil(id, func(evs []wireEvent) bool {
		return slices.ContainsFunc(evs, func(ev wireEvent) bool { return ev.str("state") == "connected" })
	})
	if got, want := typesOf(evs), []string{"chat_session_status", "chat_session_party_joined", "chat_session_status"}; !slices.Equal(got, want) {
		t.Errorf("customer is given %q, want %q", got, want)
	}
	joined := ofType(evs, "chat_session_party_joined")[0]
	if joined.str("party_id") != v.PartyID || joined.str("type") != "internal" ||
		joined.str("first_name") != "Alice" || joined.str("display_name") != "Alice" {
		t.Errorf("customer sees %v, want alice joining as party %s", joined, v.PartyID)
	}
	if status := evs[len(evs)-1]; status.str("state") != "connected" || status.str("ewt") != "0" {
		t.Errorf("customer sees %v, want status connected with ewt 0", status)
	}
}

func TestAcceptingOrRejectingAChatNotOfferedIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.login(alice), e.login(bob)
	a.ready()
	_, mine := a.chatWith(webApp)
	a.setState("not_ready", "busy")
	b.ready()
	bobs := e.customer(webApp).requestChat()
	tests := []struct {
		name, action, chatID string
	}{
		{"accepting a chat offered to another agent", "accept", bobs},
		{"rejecting a chat offered to another agent", "reject", bobs},
		{"accepting an unknown chat", "accept", "no-such-chat"},
		{"rejecting an unknown chat", "reject", "no-such-chat"},
		{"accepting a chat already accepted", "accept", mine.ChatID},
		{"rejecting a chat already accepted", "reject", mine.ChatID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.call("POST", "chats/"+tt.chatID+"/"+tt.action, "").fails(t, http.StatusNotFound, "5005")
		})
	}
	if got := b.offers(); !slices.Equal(got, []string{bobs}) {
		t.Errorf("bob's offers after alice's attempts: %q, want [%s]", got, bobs)
	}
}

func TestARejectedChatIsOfferedToTheNextAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.login(alice), e.login(bob)
	a.ready()
	b.ready() // after alice: alice has been idle longest
	id := e.customer(webApp).requestChat()
	if got := a.offers(); !slices.Equal(got, []string{id}) {
		t.Fatalf("alice, idle longest, is offered %q, want [%s]", got, id)
	}
	if got := a.call("POST", "chats/"+id+"/reject", "").object(t); len(got) != 0 {
		t.Errorf("reject answered %v, want {}", got)
	}
	if got := b.offers(); !slices.Equal(got, []string{id}) {
		t.Errorf("bob is offered %q after alice rejected, want [%s]", got, id)
	}
	if got := a.me().Routing; got.State != "ready" || len(got.Offers) != 0 {
		t.Errorf("alice after rejecting: %+v, want ready without offers", got)
	}
}

func TestChatsGoToTheLeastBusyThenLongestIdleAgentUpToCapacity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.login(alice), e.login(bob)
	b.ready() // bob first: idle longest
	a.ready()
	var got []string
	for range 4 {
		id := e.customer(webApp).requestChat()
		for _, ag := range []*agent{a, b} {
			if offers := ag.offers(); slices.Contains(offers, id) {
				got = append(got, ag.username)
				ag.accept(id)
			}
		}
	}
	// Fewest chats first, then idle longest (accepting a chat does not
	// reset the idle time): bob, alice, then bob and alice again, until
	// both are at their capacity of 2.
	if want := []string{bob, alice, bob, alice}; !slices.Equal(got, want) {
		t.Errorf("chats went to %q, want %q", got, want)
	}
	fifth := e.customer(webApp).requestChat()
	if len(a.offers())+len(b.offers()) != 0 {
		t.Errorf("chat %s is offered although every agent is at capacity", fifth)
	}
}

func TestAnAgentWhoLetsAnOfferExpireIsMadeNotReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t, offerTimeout(150*time.Millisecond))
	a := e.login(alice)
	a.ready()
	id := e.customer(webApp).requestChat()
	if got := a.offers(); !slices.Equal(got, []string{id}) {
		t.Fatalf("offers %q, want [%s]", got, id)
	}
	eventually(t, "the offer expires", func() bool { return a.me().Routing.State != "ready" })
	if got := a.me().Routing; got.State != "not_ready" || got.Reason != "missed offer" || len(got.Offers) != 0 {
		t.Errorf("alice after the offer expired: %+v, want not_ready (missed offer) without offers", got)
	}
	a.call("POST", "chats/"+id+"/accept", "").fails(t, http.StatusNotFound, "5005")

	// The chat waits for the next agent. (Read from the answer of going
	// ready, which is taken right after the offer is made: the offer
	// itself lapses again in 150 ms.)
	b := e.login(bob)
	if got := b.setState("ready", ""); len(got.Offers) != 1 || got.Offers[0].ChatID != id {
		t.Errorf("bob is offered %+v, want the chat alice missed", got.Offers)
	}
}

func TestGoingNotReadyWithdrawsOffers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.login(alice), e.login(bob)
	a.ready()
	id := e.customer(webApp).requestChat()
	b.ready()
	if got := a.setState("not_ready", "break"); len(got.Offers) != 0 {
		t.Errorf("alice not ready still has offers %+v", got.Offers)
	}
	if got := b.offers(); !slices.Equal(got, []string{id}) {
		t.Errorf("bob is offered %q, want [%s]", got, id)
	}
}

func TestCustomersAreToldTheWaitOfTheDocumentedFormula(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice) // capacity 2; no handle time measured yet: 120 s
	request := func() string {
		t.Helper()
		var got struct {
			EWT string `json:"ewt"`
		}
		r := e.customer(webApp).call("POST", "chats", `{}`)
		if r.status != http.StatusOK {
			t.Fatalf("request chat: %d %s", r.status, r.body)
		}
		r.decode(t, &got)
		return got.EWT
	}
	// ⌈(position − free) × aht / max(capacity, 1)⌉, or 0 within the free slots.
	if got := request(); got != "120" {
		t.Errorf("with no agent ready: ewt %s, want 120 (one slot assumed)", got)
	}
	a.ready() // the first chat is offered to alice: one of her 2 slots is left
	if got := request(); got != "0" {
		t.Errorf("with a free slot: ewt %s, want 0", got)
	}
	// Both slots hold offers now.
	if got := request(); got != "60" {
		t.Errorf("first in the queue, no free slot, capacity 2: ewt %s, want ⌈1 × 120 / 2⌉ = 60", got)
	}
	if got := request(); got != "120" {
		t.Errorf("second in the queue: ewt %s, want ⌈2 × 120 / 2⌉ = 120", got)
	}
}
