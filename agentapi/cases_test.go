package agentapi_test

import (
	"net/http"
	"slices"
	"testing"
)

// caseHistory is the answer of GET chats/{chatId}/casehistory.
type caseHistory struct {
	CaseID   string `json:"case_id"`
	Sessions []struct {
		Chat   chatView    `json:"chat"`
		Events []wireEvent `json:"events"`
	} `json:"sessions"`
}

func (a *agent) setCase(chatID, body string) string {
	a.e.t.Helper()
	var got struct {
		CaseID string `json:"case_id"`
	}
	a.call("POST", "chats/"+chatID+"/case", body).ok(a.e.t, &got)
	if got.CaseID == "" {
		a.e.t.Fatalf("set case of %s: no case_id", chatID)
	}
	return got.CaseID
}

func TestCases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, first := a.chatWith(webApp)

	t.Run("a chat without a case has no case history", func(t *testing.T) {
		a.call("GET", "chats/"+first.ChatID+"/casehistory", "").fails(t, http.StatusNotAcceptable, "5601")
		a.call("POST", "chats/"+first.ChatID+"/case/close", "").fails(t, http.StatusNotAcceptable, "5601")
	})

	caseID := a.setCase(first.ChatID, `{}`)
	t.Run("creating a case tells the customer", func(t *testing.T) {
		a, c := a.in(t), c.in(t)
		if got := c.sees(first.ChatID, "chat_session_case_set"); got.str("case_id") != caseID {
			t.Errorf("customer sees %v, want case %s", got, caseID)
		}
		if got := a.chat(first.ChatID).Chat.CaseID; got != caseID {
			t.Errorf("chat's case_id %q, want %q", got, caseID)
		}
	})

	_, otherChat := a.chatWith(webApp)
	otherCase := a.setCase(otherChat.ChatID, ``)
	t.Run("a case of another customer cannot be attached", func(t *testing.T) {
		a := a.in(t)
		a.call("POST", "chats/"+first.ChatID+"/case", `{"case_id":"`+otherCase+`"}`).fails(t, http.StatusBadRequest, "5003")
		a.call("POST", "chats/"+first.ChatID+"/case", `{"case_id":"no-such-case"}`).fails(t, http.StatusBadRequest, "5003")
		if got := a.chat(first.ChatID).Chat.CaseID; got != caseID {
			t.Errorf("chat's case_id %q after the refusals, want %q", got, caseID)
		}
	})

	// The customer comes back in a new chat, which is attached to the case.
	a.call("POST", "chats/"+first.ChatID+"/end", "").ok(t, new(map[string]any))
	second := c.requestChat()
	a.take(second)
	if got := a.setCase(second, `{"case_id":"`+caseID+`"}`); got != caseID {
		t.Errorf("attached case %q, want %q", got, caseID)
	}

	t.Run("the case history holds every chat of the case with its events", func(t *testing.T) {
		a := a.in(t)
		var h caseHistory
		a.call("GET", "chats/"+second+"/casehistory", "").ok(t, &h)
		if h.CaseID != caseID || len(h.Sessions) != 2 {
			t.Fatalf("case history of case %q with %d sessions, want %s with 2", h.CaseID, len(h.Sessions), caseID)
		}
		if h.Sessions[0].Chat.ChatID != first.ChatID || h.Sessions[1].Chat.ChatID != second {
			t.Errorf("sessions %s, %s, want %s then %s", h.Sessions[0].Chat.ChatID, h.Sessions[1].Chat.ChatID, first.ChatID, second)
		}
		if !h.Sessions[0].Chat.Ended || h.Sessions[1].Chat.Ended {
			t.Errorf("ended: %v, %v, want the first chat ended and the second live", h.Sessions[0].Chat.Ended, h.Sessions[1].Chat.Ended)
		}
		got := typesOf(h.Sessions[0].Events)
		if !slices.Contains(got, "chat_session_case_set") || got[len(got)-1] != "chat_session_ended" {
			t.Errorf("events of the first chat %q, want the case set and the end", got)
		}
		if n := len(h.Sessions[1].Events); int64(n) != a.chat(second).Chat.LastSeq {
			t.Errorf("the second chat has %d events in the history, want all %d", n, a.chat(second).Chat.LastSeq)
		}
	})

	t.Run("closing the case", func(t *testing.T) {
		if got := a.call("POST", "chats/"+second+"/case/close", "").object(t); len(got) != 0 {
			t.Errorf("close case answered %v, want {}", got)
		}
		// The handler of an ended chat may close its case too.
		a.call("POST", "chats/"+first.ChatID+"/case/close", "").ok(t, new(map[string]any))
	})
}

func TestTransfers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	c.pollUntil(id, func(evs []wireEvent) bool { return len(evs) >= 3 })
	b := e.login(bob)
	olgaID := e.loginAt(otherTenant, olga).id
	carolAgent, err := e.store.AgentByUsername(t.Context(), tenant, carol)
	if err != nil {
		t.Fatalf("find carol: %v", err)
	}

	refused := []struct {
		name, body string
	}{
		{"to an unknown agent", `{"agent_id":"nobody"}`},
		{"to yourself", `{"agent_id":"` + a.id + `"}`},
		{"to an agent of another tenant", `{"agent_id":"` + olgaID + `"}`},
		{"to an agent who is not logged in", `{"agent_id":"` + carolAgent.ID + `"}`},
		{"to a queue no entry routes to", `{"queue":"nowhere"}`},
		{"with an agent_id that is not a string", `{"agent_id":7}`},
	}
	for _, tt := range refused {
		t.Run("refuses a transfer "+tt.name, func(t *testing.T) {
			a.call("POST", "chats/"+id+"/transfer", tt.body).fails(t, http.StatusBadRequest, "5003")
		})
	}
	if got := a.me().Routing.Chats; !slices.Equal(got, []string{id}) {
		t.Fatalf("alice's chats after the refusals: %q, want [%s]", got, id)
	}

	t.Run("to another agent", func(t *testing.T) {
		a, b, c := a.in(t), b.in(t), c.in(t)
		b.ready()
		if got := a.call("POST", "chats/"+id+"/transfer", `{"agent_id":"`+b.id+`"}`).object(t); len(got) != 0 {
			t.Errorf("transfer answered %v, want {}", got)
		}
		if got := a.me().Routing.Chats; len(got) != 0 {
			t.Errorf("alice still has %q", got)
		}
		if got := b.offers(); !slices.Equal(got, []string{id}) {
			t.Fatalf("bob is offered %q, want [%s]", got, id)
		}
		evs := c.pollUntil(id, func(evs []wireEvent) bool { return len(evs) >= 2 })
		if got := typesOf(evs); !slices.Equal(got, []string{"chat_session_party_left", "chat_session_status"}) ||
			evs[0].str("party_id") != v.PartyID || evs[1].str("state") != "queued" || evs[1].str("ewt") == "" {
			t.Errorf("customer is given %v, want alice leaving and status queued with an ewt", evs)
		}
		taken := b.accept(id)
		if taken.PartyID == "" || taken.PartyID == v.PartyID || taken.AgentID != b.id {
			t.Errorf("bob's chat %+v, want a new party of bob's", taken)
		}
		if joined := c.sees(id, "chat_session_party_joined"); joined.str("first_name") != "Bob" || joined.str("party_id") != taken.PartyID {
			t.Errorf("customer sees %v, want bob joining", joined)
		}
		// Alice handed it over: it is no longer hers to read or act on.
		a.call("GET", "chats/"+id, "").fails(t, http.StatusNotFound, "5005")
	})

	t.Run("back to the queue, offered to anyone but the sender", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		b.call("POST", "chats/"+id+"/transfer", `{}`).ok(t, new(map[string]any))
		if got := b.offers(); len(got) != 0 {
			t.Errorf("bob is offered back the chat he transferred: %q", got)
		}
		if got := a.offers(); !slices.Equal(got, []string{id}) {
			t.Errorf("alice is offered %q, want [%s]", got, id)
		}
	})

	t.Run("to a named queue", func(t *testing.T) {
		a, b := a.in(t), b.in(t)
		a.accept(id)
		a.call("POST", "chats/"+id+"/transfer", `{"queue":"`+plainApp+`"}`).ok(t, new(map[string]any))
		me := b.me().Routing
		if len(me.Offers) != 1 || me.Offers[0].ChatID != id || me.Offers[0].Queue != plainApp || me.Offers[0].AppID != webApp {
			t.Errorf("bob's offers %+v, want the chat of %s in queue %s", me.Offers, webApp, plainApp)
		}
	})
}
