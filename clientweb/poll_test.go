package clientweb_test

import (
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

func TestPollGivesEventsOnceAndNotTheClientsOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.requestChat()

	first := c.poll(id)
	if got := types(first); !reflect.DeepEqual(got, []string{"chat_session_status", "chat_session_case_set"}) {
		t.Fatalf("first poll = %v, want the queued status and the case", got)
	}
	if cs := first[1]["case_id"]; cs == "" || cs != e.session(id).CaseID {
		t.Errorf("case_set case_id = %v, want the chat's case", cs)
	}
	c.send(id, `{"event":"chat_session_message","msg_id":"own-1","msg":"hello"}`,
		`{"event":"chat_session_typing"}`)
	e.agentSays(id, "welcome")
	c.send(id, `{"event":"chat_session_message_read","ref_msg_id":"x"}`)

	evs := c.poll(id)
	if got := types(evs); !reflect.DeepEqual(got, []string{"chat_session_message"}) {
		t.Fatalf("poll = %v, want only the agent's message", got)
	}
	msg := evs[0]
	for k, want := range map[string]any{"msg": "welcome", "msg_text": "welcome", "party_id": defaultAgentID} {
		if msg[k] != want {
			t.Errorf("agent message %s = %#v, want %#v", k, msg[k], want)
		}
	}
	if seqOf(t, evs[0]) <= seqOf(t, first[1]) {
		t.Errorf("seq did not increase: %v after %v", evs[0]["seq"], first[1]["seq"])
	}
	// Nothing is given twice: the next poll waits and answers empty.
	if evs := c.poll(id); len(evs) != 0 {
		t.Errorf("second poll = %v, want nothing new", types(evs))
	}
}

func TestIdlePollAnswersEmptyAfterTheTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	start := time.Now()
	r := c.call("GET", "chats/"+id+"/events", "")
	took := time.Since(start)
	if obj := r.ok(t); len(obj) != 1 || len(wireEvents(t, obj)) != 0 || string(r.body) != `{"events":[]}` {
		t.Errorf("idle poll answered %s, want {\"events\":[]}", r.body)
	}
	if took < testPollLimit {
		t.Errorf("idle poll answered after %v, before the %v timeout", took, testPollLimit)
	}
}

func TestPollIsWokenByAnEventSentMeanwhile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(h *clientweb.Handler) { h.PollTimeout = 10 * time.Second })
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	pending := c.pollAsync(id)
	waitFor(t, "the poll is pending", func() bool { return e.h.Pending() == 1 })
	e.agentSays(id, "are you there?")
	r := await(t, pending, 5*time.Second)
	evs := wireEvents(t, r.ok(t))
	if len(evs) != 1 || evs[0]["msg"] != "are you there?" {
		t.Errorf("woken poll = %v, want the agent's message", evs)
	}
	if n := e.h.Pending(); n != 0 {
		t.Errorf("%d polls still registered after the answer", n)
	}
}

func TestSecondPollSupersedesTheFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(h *clientweb.Handler) { h.PollTimeout = 10 * time.Second })
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	first := c.pollAsync(id)
	waitFor(t, "the first poll is pending", func() bool { return e.h.Pending() == 1 })
	second := c.pollAsync(id)

	r := await(t, first, 5*time.Second) // far less than the 10 s timeout
	if r.status != http.StatusOK || string(r.body) != `{"events":[]}` {
		t.Fatalf("superseded poll answered %d %s, want {\"events\":[]}", r.status, r.body)
	}
	e.agentSays(id, "for the newer poll")
	r = await(t, second, 5*time.Second)
	evs := wireEvents(t, r.ok(t))
	if len(evs) != 1 || evs[0]["msg"] != "for the newer poll" {
		t.Errorf("second poll = %v, want the agent's message", evs)
	}
}

func TestShutdownAnswersPendingPolls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(h *clientweb.Handler) { h.PollTimeout = 10 * time.Second })
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	pending := c.pollAsync(id)
	waitFor(t, "the poll is pending", func() bool { return e.h.Pending() == 1 })
	e.h.Close()
	if r := await(t, pending, 5*time.Second); string(r.body) != `{"events":[]}` {
		t.Errorf("poll at shutdown answered %d %s", r.status, r.body)
	}
}

func TestPollAfterRecoversLostAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	e.agentSays(id, "one")
	e.agentSays(id, "two")
	lost := c.poll(id) // the answer the client never saw
	if len(lost) != 2 {
		t.Fatalf("poll = %v, want two messages", types(lost))
	}
	before := seqOf(t, lost[0]) - 1

	again := wireEvents(t, c.call("GET", "chats/"+id+"/events?after="+strconv.FormatInt(before, 10), "").ok(t))
	if !reflect.DeepEqual(again, lost) {
		t.Errorf("?after=%d gave %v, want the lost events again %v", before, again, lost)
	}
	e.agentSays(id, "three")
	fromTwo := wireEvents(t, c.call("GET", "chats/"+id+"/events?after="+strconv.FormatInt(seqOf(t, lost[0]), 10), "").ok(t))
	if len(fromTwo) != 2 || fromTwo[0]["msg"] != "two" || fromTwo[1]["msg"] != "three" {
		t.Errorf("?after the first message gave %v, want two and three", fromTwo)
	}
	if evs := c.poll(id); len(evs) != 0 {
		t.Errorf("after recovery the plain poll gave %v again", types(evs))
	}
	t.Run("after=0 gives everything for the client", func(t *testing.T) {
		all := wireEvents(t, c.call("GET", "chats/"+id+"/events?after=0", "").ok(t))
		if got := types(all); len(got) != 5 || got[0] != "chat_session_status" {
			t.Errorf("after=0 gave %v", got)
		}
	})
}

func TestEndOfChatIsDeliveredOnceThen404(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	e.agentSays(id, "before you go")
	c.send(id, `{"event":"chat_session_message","msg_id":"bye","msg":"bye"}`,
		`{"event":"chat_session_end"}`,
		`{"event":"chat_session_message","msg_id":"after-end","msg":"dropped"}`)

	evs := c.poll(id)
	got := types(evs)
	if len(got) == 0 || got[len(got)-1] != string(chat.TypeEnded) {
		t.Fatalf("poll after the end = %v, want chat_session_ended last", got)
	}
	if got[0] != string(chat.TypeMessage) || evs[0]["msg"] != "before you go" {
		t.Errorf("poll after the end = %v, want the agent's message first", got)
	}
	for _, ev := range evs {
		if ev["event"] == string(chat.TypeStatus) && ev["state"] != chat.StateCompleted {
			t.Errorf("status after the end = %v, want completed", ev["state"])
		}
	}
	c.call("GET", "chats/"+id+"/events", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	c.call("GET", "chats/"+id+"/events", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)

	h := c.history(id)
	for _, ev := range h {
		if ev["msg_id"] == "after-end" {
			t.Errorf("an event after chat_session_end in the same batch was stored")
		}
	}
	if ht := types(h); ht[len(ht)-1] != string(chat.TypeEnded) {
		t.Errorf("history = %v, want it readable and ending with chat_session_ended", ht)
	}
}

func TestChatEndingWhilePollWaitsWakesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(h *clientweb.Handler) { h.PollTimeout = 10 * time.Second })
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	pending := c.pollAsync(id)
	waitFor(t, "the poll is pending", func() bool { return e.h.Pending() == 1 })
	// The agent side ends the chat.
	closing := []chat.Event{
		{Type: chat.TypePartyLeft, PartyID: defaultAgentID},
		{Type: chat.TypeStatus, Payload: chat.Payload{State: chat.StateCompleted}},
		{Type: chat.TypeEnded},
	}
	for i := range closing {
		closing[i].ChatID, closing[i].Time = id, time.Now()
	}
	if _, err := e.svc.Append(t.Context(), id, closing, chat.SessionUpdate{State: chat.StateCompleted, End: time.Now()}); err != nil {
		t.Fatal(err)
	}
	evs := wireEvents(t, await(t, pending, 5*time.Second).ok(t))
	if got := types(evs); !reflect.DeepEqual(got, []string{"chat_session_party_left", "chat_session_status", "chat_session_ended"}) {
		t.Errorf("woken poll = %v", got)
	}
	c.call("GET", "chats/"+id+"/events", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
}

func TestServerEventsKeepTheirWireTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	e.agentSends(id,
		chat.Event{Type: chat.TypePartyJoined, PartyID: defaultAgentID, Payload: chat.Payload{FirstName: "Grace", PartyType: chat.PartyInternal}},
		chat.Event{Type: chat.TypeStatus, Payload: chat.Payload{State: chat.StateConnected}},
		chat.Event{Type: chat.TypeLocation, PartyID: defaultAgentID, MsgID: "l1", Payload: chat.Payload{Latitude: "52.5", Longitude: "13.4"}},
		chat.Event{Type: chat.TypeFormShow, Payload: chat.Payload{Channel: "chat", FormName: "survey", FormRequest: "7", FormTimeout: 300}},
		chat.Event{Type: chat.TypeSignaling, PartyID: defaultAgentID, MsgID: "s1", Payload: chat.Payload{Destination: id, Signal: chat.Signal{Type: "REQUEST_CALL", SDPMLineIndex: "0"}}},
		chat.Event{Type: chat.TypeFormData, PartyID: id}, // client-only: never sent to customers
		chat.Event{Type: chat.TypeCaseSet, Payload: chat.Payload{}},
	)
	evs := c.poll(id)
	want := map[string]map[string]any{
		"chat_session_party_joined": {"party_id": defaultAgentID, "first_name": "Grace", "last_name": "", "display_name": "", "type": "internal"},
		"chat_session_status":       {"state": "connected", "ewt": "0"},
		"chat_session_location":     {"latitude": "52.5", "longitude": "13.4", "url": nil, "msg_id": "l1"},
		"chat_session_form_show":    {"channel": "chat", "form_name": "survey", "form_request_id": "7", "form_timeout": "300"},
		"chat_session_signaling":    {"destination_party_id": id, "msg_id": "s1"},
		"chat_session_case_set":     {"case_id": ""},
	}
	if len(evs) != len(want) {
		t.Fatalf("poll = %v, want %d events", types(evs), len(want))
	}
	for _, ev := range evs {
		for k, v := range want[ev["event"].(string)] {
			if got, ok := ev[k]; !ok || got != v {
				t.Errorf("%s.%s = %#v, want %#v", ev["event"], k, got, v)
			}
		}
	}
	sig := evs[4]["data"].(map[string]any)
	for k, v := range map[string]any{"type": "REQUEST_CALL", "sdp": "", "candidate": "", "sdpMid": "", "sdpMLineIndex": "0", "offerVideo": "false", "reason_code": "", "reason": ""} {
		if sig[k] != v {
			t.Errorf("signaling data.%s = %#v, want %#v", k, sig[k], v)
		}
	}
}

func TestEntriesWithoutCallsOrFormsHoldThoseEventsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(mobileApp, androidClient) // calls and forms off: safe for Android 2.0.0
	id := c.startChat()
	e.agentSends(id,
		chat.Event{Type: chat.TypeSignaling, PartyID: defaultAgentID, MsgID: "s1", Payload: chat.Payload{Destination: id, Signal: chat.Signal{Type: "OFFER_CALL"}}},
		chat.Event{Type: chat.TypeFormShow, Payload: chat.Payload{FormName: "survey", FormRequest: "1"}},
	)
	e.agentSays(id, "plain text is fine")
	if got := types(c.poll(id)); !reflect.DeepEqual(got, []string{"chat_session_message"}) {
		t.Errorf("poll = %v, want only the message", got)
	}
}
