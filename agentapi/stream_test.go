package agentapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/chat"
)

// routingWith reports whether a message is a routing message for which
// cond holds.
func routingWith(cond func(v *routingView) bool) func(streamMessage) bool {
	return func(m streamMessage) bool { return m.Type == "routing" && m.Routing != nil && cond(m.Routing) }
}

// wantSeqs checks that evs are exactly the events from..to, in order.
func wantSeqs(t *testing.T, evs []wireEvent, from, to int64) {
	t.Helper()
	var want []int64
	for s := from; s <= to; s++ {
		want = append(want, s)
	}
	if got := seqs(evs); !slices.Equal(got, want) {
		t.Errorf("stream gave seqs %v, want %v", got, want)
	}
}

func TestTheStreamTellsOfStateOffersAndChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	s := a.stream("")

	first := s.next()
	if first.Type != "routing" || first.Routing == nil || first.Routing.State != "not_ready" ||
		first.Routing.Offers == nil || first.Routing.Chats == nil {
		t.Fatalf("first message %+v, want the routing view, not ready, with empty lists", first)
	}
	a.ready()
	s.until("alice is ready", routingWith(func(v *routingView) bool { return v.State == "ready" }))

	id := e.customer(webApp).requestChat()
	got := s.until("the offer arrives", routingWith(func(v *routingView) bool { return len(v.Offers) > 0 }))
	if o := got[len(got)-1].Routing.Offers; len(o) != 1 || o[0].ChatID != id || o[0].AppID != webApp {
		t.Errorf("offers %+v, want chat %s", o, id)
	}

	v := a.accept(id)
	var evs []wireEvent
	s.until("the chat is listed with its events", func(m streamMessage) bool {
		if m.Type == "events" {
			if m.ChatID != id {
				t.Errorf("events of chat %q, want %q", m.ChatID, id)
			}
			evs = append(evs, m.Events...)
		}
		return m.Type == "routing" && slices.Equal(m.Routing.Chats, []string{id}) && len(m.Routing.Offers) == 0
	})
	wantSeqs(t, evs, 1, v.LastSeq)
	if got := typesOf(evs); !slices.Equal(got, []string{"chat_session_status", "chat_session_party_joined", "chat_session_status"}) {
		t.Errorf("events %q, want the chat's log from the start", got)
	}
}

func TestTheStreamGivesEveryEventOfAssignedChatsInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c1, v1 := a.chatWith(webApp)
	c2, v2 := a.chatWith(plainApp)
	s := a.stream("")

	// Both customers and the agent write at once.
	done := make(chan error, 1)
	go func() {
		for i := range 10 {
			if _, err := c2.trySay(v2.ChatID, fmt.Sprintf("two %d", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range 10 {
		c1.say(v1.ChatID, fmt.Sprintf("one %d", i))
		a.say(v1.ChatID, fmt.Sprintf("reply %d", i))
	}
	if err := <-done; err != nil {
		t.Fatalf("second customer: %v", err)
	}
	last1, last2 := a.chat(v1.ChatID).Chat.LastSeq, a.chat(v2.ChatID).Chat.LastSeq

	got := map[string][]wireEvent{}
	s.until("both chats are complete", func(m streamMessage) bool {
		if m.Type == "events" {
			got[m.ChatID] = append(got[m.ChatID], m.Events...)
		}
		n1, n2 := len(got[v1.ChatID]), len(got[v2.ChatID])
		return n1 > 0 && got[v1.ChatID][n1-1].seq() >= last1 && n2 > 0 && got[v2.ChatID][n2-1].seq() >= last2
	})
	wantSeqs(t, got[v1.ChatID], 1, last1)
	wantSeqs(t, got[v2.ChatID], 1, last2)
	var texts []string
	for _, ev := range ofType(got[v1.ChatID], "chat_session_message") {
		texts = append(texts, ev.str("msg"))
	}
	for i := range 10 {
		if want := []string{fmt.Sprintf("one %d", i), fmt.Sprintf("reply %d", i)}; len(texts) < 2*i+2 || !slices.Equal(texts[2*i:2*i+2], want) {
			t.Fatalf("messages %q, want them in the order sent", texts)
		}
	}
}

func TestTheStreamResumesFromCursors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	_, other := a.chatWith(webApp)
	id := v.ChatID

	s := a.stream("")
	seen := s.eventsUntil(id, v.LastSeq)
	wantSeqs(t, seen, 1, v.LastSeq)
	s.close()

	// While the console is away, the customer and the agent write.
	c.say(id, "are you there?")
	a.say(id, "yes, sorry")
	c.say(id, "ok")
	missed := a.chat(id).Chat.LastSeq

	tests := []struct {
		name    string
		cursors string
		from    int64
	}{
		{"from the last event seen", fmt.Sprintf("%s:%d", id, v.LastSeq), v.LastSeq + 1},
		{"from an earlier event", id + ":1", 2},
		{"from the start", id + ":0", 1},
		{"from nothing missed", fmt.Sprintf("%s:%d", id, missed), missed + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := a.in(t), c.in(t)
			s := a.stream(tt.cursors + "," + other.ChatID + ":" + fmt.Sprint(other.LastSeq))
			var got []wireEvent
			if tt.from <= missed {
				got = s.eventsUntil(id, missed)
			}
			// One more, live: it comes once, right after what was missed.
			c.say(id, tt.name)
			last := a.chat(id).Chat.LastSeq
			got = append(got, s.eventsUntil(id, last)...)
			wantSeqs(t, got, tt.from, last)
			missed = last
			s.close()
		})
	}

	t.Run("a chat not listed starts from its beginning", func(t *testing.T) {
		a := a.in(t)
		s := a.stream(id + ":" + fmt.Sprint(missed))
		wantSeqs(t, s.eventsUntil(other.ChatID, other.LastSeq), 1, other.LastSeq)
	})
}

func TestTheStreamResumesAChatThatEndedWhileAway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	s := a.stream("")
	s.eventsUntil(v.ChatID, v.LastSeq)
	s.close()

	c.say(v.ChatID, "thanks, bye")
	if r := c.call("POST", "chats/"+v.ChatID+"/events", `{"events":[{"event":"chat_session_end"}]}`); r.status != http.StatusOK {
		t.Fatalf("customer ends the chat: %d %s", r.status, r.body)
	}
	last := a.chat(v.ChatID).Chat.LastSeq

	s = a.stream(fmt.Sprintf("%s:%d", v.ChatID, v.LastSeq))
	evs := s.eventsUntil(v.ChatID, last)
	wantSeqs(t, evs, v.LastSeq+1, last)
	if got := typesOf(evs); got[0] != "chat_session_message" || got[len(got)-1] != "chat_session_ended" {
		t.Errorf("events missed %q, want the customer's last message through the end", got)
	}
	s.until("the view without the chat", routingWith(func(v *routingView) bool { return len(v.Chats) == 0 }))
}

func TestTheStreamDeliversTheEndOfAChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	s := a.stream("")
	s.eventsUntil(v.ChatID, v.LastSeq)

	if r := c.call("POST", "chats/"+v.ChatID+"/events", `{"events":[{"event":"chat_session_end"}]}`); r.status != http.StatusOK {
		t.Fatalf("customer ends the chat: %d %s", r.status, r.body)
	}
	last := a.chat(v.ChatID).Chat.LastSeq
	evs := s.eventsUntil(v.ChatID, last)
	if got, want := typesOf(evs), []string{"chat_session_end", "chat_session_party_left", "chat_session_status", "chat_session_ended"}; !slices.Equal(got, want) {
		t.Errorf("events after the end %q, want %q", got, want)
	}
	s.until("the chat leaves the view", routingWith(func(v *routingView) bool { return len(v.Chats) == 0 }))
}

func TestTheStreamLetsGoOfAChatTransferredAway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	s := a.stream("")
	s.eventsUntil(v.ChatID, v.LastSeq)

	a.setState("not_ready", "")
	b := e.login(bob)
	b.ready()
	a.call("POST", "chats/"+v.ChatID+"/transfer", `{"agent_id":"`+b.id+`"}`).ok(t, new(map[string]any))
	b.accept(v.ChatID)
	c.say(v.ChatID, "after the transfer")
	// A change of alice's state makes a routing message; had the stream
	// still followed the chat, the message above would come before it.
	a.setState("not_ready", "break")

	var evs []wireEvent
	s.until("alice's state changes", func(m streamMessage) bool {
		if m.Type == "events" && m.ChatID == v.ChatID {
			evs = append(evs, m.Events...)
		}
		return m.Type == "routing" && m.Routing.Reason == "break"
	})
	if got, want := typesOf(evs), []string{"chat_session_party_left", "chat_session_status"}; !slices.Equal(got, want) {
		t.Errorf("after the transfer alice's stream gave %q, want only %q", got, want)
	}
}

func TestTheStreamRefusesBadHandshakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	tests := []struct {
		name    string
		agent   *agent
		cursors string
		status  int
		code    string
	}{
		{"without a valid token", &agent{e: e, username: "nobody", token: "nope"}, "", http.StatusUnauthorized, "4010"},
		{"with cursors without a sequence", a, "chat1", http.StatusBadRequest, "5003"},
		{"with a negative cursor", a, "chat1:-1", http.StatusBadRequest, "5003"},
		{"with a cursor without a chat", a, ":5", http.StatusBadRequest, "5003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := tt.agent.in(t).dialStream(tt.cursors)
			if err == nil || resp == nil {
				t.Fatalf("dial: %v, want a refused handshake", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got map[string]string
			if resp.StatusCode != tt.status || json.Unmarshal(body, &got) != nil || got["error_code"] != tt.code {
				t.Errorf("handshake answered %d %s, want %d with code %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}
	t.Run("a request that is not a WebSocket handshake", func(t *testing.T) {
		r := a.in(t).call("GET", "stream", "")
		if r.status < 400 || r.status >= 500 {
			t.Errorf("plain GET stream: status %d, want a client error", r.status)
		}
	})
}

func TestClosingTheHandlerEndsEveryStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	s := a.stream("")
	s.next()
	e.api.Close()
	e.api.Close() // http.Server runs shutdown hooks on every Shutdown
	ctx := t.Context()
	for {
		if _, _, err := s.conn.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Errorf("stream ended with %v, want a normal closure", err)
			}
			return
		}
	}
}

// storeUnwoken stores a message of the chat's customer without waking
// anyone, as a node killed between its commit and its wake-up leaves it.
func storeUnwoken(t *testing.T, e *env, chatID, msgID string) {
	t.Helper()
	ev := chat.Event{ChatID: chatID, PartyID: chatID, Type: chat.TypeMessage, MsgID: msgID, Time: time.Now(),
		Payload: chat.Payload{Msg: "lost wake-up", MsgText: "lost wake-up"}}
	if _, err := e.store.Append(t.Context(), chatID, []chat.Event{ev}, chat.SessionUpdate{}); err != nil {
		t.Fatalf("append: %v", err)
	}
}

func TestTheStreamLooksAgainWithoutAWakeUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, relook(100*time.Millisecond))
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	s := a.stream("")
	s.eventsUntil(v.ChatID, v.LastSeq)

	storeUnwoken(t, e, v.ChatID, "unwoken-1")
	evs := s.eventsUntil(v.ChatID, v.LastSeq+1)
	if len(evs) != 1 || evs[0].str("msg_id") != "unwoken-1" {
		t.Errorf("stream gave %v, want the message stored without a wake-up", evs)
	}
}

func TestAResentMessageWakesTheStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, relook(time.Hour)) // only a wake-up brings the message in time
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	s := a.stream("")
	s.eventsUntil(v.ChatID, v.LastSeq)

	// The customer got no answer for the first send: it sends again.
	storeUnwoken(t, e, v.ChatID, "resent-1")
	if r := c.call("POST", "chats/"+v.ChatID+"/events", `{"events":[{"event":"chat_session_message","msg_id":"resent-1","msg":"lost wake-up"}]}`); r.status != http.StatusOK {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	evs := s.eventsUntil(v.ChatID, v.LastSeq+1)
	if len(evs) != 1 || evs[0].str("msg_id") != "resent-1" {
		t.Errorf("stream gave %v, want the message once", evs)
	}
	if n := len(ofType(a.transcript(v.ChatID, v.LastSeq), "chat_session_message")); n != 1 {
		t.Errorf("the transcript holds %d messages after the resend, want 1", n)
	}
}
