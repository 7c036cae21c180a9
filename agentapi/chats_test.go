package agentapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOnlyTheAssignedAgentActsOnAChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	id := v.ChatID
	before := a.transcript(id, 0)

	outsider := e.loginAt(otherTenant, olga) // an administrator, of another tenant
	colleague := e.login(bob)
	admin := e.login(root)
	type attempt struct{ method, path, body string }
	reads := []attempt{
		{"GET", "chats/" + id, ""},
		{"GET", "chats/" + id + "/events", ""},
	}
	writes := []attempt{
		{"POST", "chats/" + id + "/events", `{"events":[{"event":"chat_session_message","msg":"hijack"}]}`},
		{"POST", "chats/" + id + "/accept", ""},
		{"POST", "chats/" + id + "/reject", ""},
		{"POST", "chats/" + id + "/transfer", `{"agent_id":"` + a.id + `"}`},
		{"POST", "chats/" + id + "/transfer", `{"queue":"no-such-queue"}`},
		{"POST", "chats/" + id + "/transfer", `{}`},
		{"POST", "chats/" + id + "/end", ""},
		{"POST", "chats/" + id + "/wrapup", `{"code":"spam"}`},
		{"POST", "chats/" + id + "/case", `{}`},
	}
	caseMethods := []attempt{
		{"GET", "chats/" + id + "/casehistory", ""},
		{"POST", "chats/" + id + "/case/close", ""},
	}
	tests := []struct {
		who      *agent
		attempts []attempt
	}{
		{outsider, slices.Concat(reads, writes, caseMethods)},
		{colleague, slices.Concat(reads, writes, caseMethods)},
		{admin, writes}, // an administrator reads every chat of the tenant, acts on none
	}
	for _, tt := range tests {
		for _, at := range tt.attempts {
			name := fmt.Sprintf("%s may not %s %s %s", tt.who.username, at.method, strings.Replace(at.path, id, "{chatId}", 1), at.body)
			t.Run(name, func(t *testing.T) {
				tt.who.call(at.method, at.path, at.body).fails(t, http.StatusNotFound, "5005")
			})
		}
	}
	t.Run("root reads the chat", func(t *testing.T) {
		admin := admin.in(t)
		if got := admin.chat(id).Chat; got.ChatID != id || got.AgentID != a.id {
			t.Errorf("chat %+v", got)
		}
		if got := admin.transcript(id, 0); len(got) != len(before) {
			t.Errorf("transcript of %d events, want %d", len(got), len(before))
		}
	})
	if got := a.transcript(id, 0); len(got) != len(before) {
		t.Errorf("the chat has %d events after the refused attempts, want %d: %q", len(got), len(before), typesOf(got))
	}
	if got := a.me().Routing.Chats; !slices.Equal(got, []string{id}) {
		t.Errorf("alice's chats %q, want [%s]", got, id)
	}
}

// msgIDPattern is what server-made message ids look like: NewID's 22
// URL-safe characters.
var msgIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func TestAgentsSendEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	hello := c.say(id, "hello")

	tests := []struct {
		name  string
		event string
		check func(t *testing.T, ev wireEvent)
	}{
		{"a message gets a server msg_id", `{"event":"chat_session_message","msg":"Hi, how can I help?"}`, func(t *testing.T, ev wireEvent) {
			if !msgIDPattern.MatchString(ev.str("msg_id")) || ev.str("msg") != "Hi, how can I help?" || ev.str("msg_text") != "Hi, how can I help?" {
				t.Errorf("message %v, want a server msg_id and the text as msg and msg_text", ev)
			}
		}},
		{"a message keeps the agent's msg_id", `{"event":"chat_session_message","msg_id":"console-1","msg":"One moment"}`, func(t *testing.T, ev wireEvent) {
			if ev.str("msg_id") != "console-1" {
				t.Errorf("message %v, want msg_id console-1", ev)
			}
		}},
		{"typing", `{"event":"chat_session_typing"}`, nil},
		{"not typing", `{"event":"chat_session_not_typing"}`, nil},
		{"a read receipt", `{"event":"chat_session_message_read","ref_msg_id":"` + hello + `"}`, func(t *testing.T, ev wireEvent) {
			if ev.str("ref_msg_id") != hello {
				t.Errorf("receipt %v, want ref_msg_id %s", ev, hello)
			}
		}},
		{"a delivery receipt", `{"event":"chat_session_message_delivered","ref_msg_id":"unknown-is-fine"}`, nil},
		{"a location", `{"event":"chat_session_location","latitude":52.37,"longitude":"4.89"}`, func(t *testing.T, ev wireEvent) {
			if ev.str("latitude") != "52.37" || ev.str("longitude") != "4.89" {
				t.Errorf("location %v, want the coordinates as strings", ev)
			}
		}},
		{"signaling goes to the customer by default", `{"event":"chat_session_signaling","data":{"type":"OFFER_CALL","sdp":"v=0","sdpMLineIndex":0}}`, func(t *testing.T, ev wireEvent) {
			data, _ := ev["data"].(map[string]any)
			if ev.str("destination_party_id") != id || data["type"] != "OFFER_CALL" || data["sdpMLineIndex"] != "0" {
				t.Errorf("signaling %v, want OFFER_CALL to the customer (%s)", ev, id)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := a.in(t), c.in(t)
			last := a.chat(id).Chat.LastSeq
			evs := a.send(id, tt.event)
			if len(evs) != 1 {
				t.Fatalf("stored %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.seq() != last+1 || ev.str("party_id") != v.PartyID || ev.str("timestamp") == "" {
				t.Errorf("stored %v, want seq %d, party_id %s and a timestamp", ev, last+1, v.PartyID)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
			seen := c.sees(id, ev.typ())
			if seen.seq() != ev.seq() {
				t.Errorf("customer sees %v, want the stored event %v", seen, ev)
			}
		})
	}

	t.Run("a batch is stored in order", func(t *testing.T) {
		a := a.in(t)
		last := a.chat(id).Chat.LastSeq
		evs := a.send(id, `{"event":"chat_session_typing"}`, `{"event":"chat_session_message","msg":"two"}`, `{"event":"chat_session_not_typing"}`)
		if got, want := seqs(evs), []int64{last + 1, last + 2, last + 3}; !slices.Equal(got, want) {
			t.Errorf("seqs %v, want %v", got, want)
		}
	})
	t.Run("a resent msg_id is stored once", func(t *testing.T) {
		a := a.in(t)
		first := a.send(id, `{"event":"chat_session_message","msg_id":"retry-1","msg":"once"}`)
		again := a.send(id, `{"event":"chat_session_message","msg_id":"retry-1","msg":"once"}`)
		if len(first) != 1 || len(again) != 0 {
			t.Errorf("stored %d then %d events, want 1 then 0", len(first), len(again))
		}
		n := 0
		for _, ev := range a.transcript(id, 0) {
			if ev.str("msg_id") == "retry-1" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the transcript holds %d messages retry-1, want 1", n)
		}
	})
	t.Run("a msg_id the customer used is still the agent's to use", func(t *testing.T) {
		a := a.in(t)
		if got := a.send(id, `{"event":"chat_session_message","msg_id":"`+hello+`","msg":"same id"}`); len(got) != 1 {
			t.Errorf("stored %d events, want 1: ids are per sender", len(got))
		}
	})
}

func TestAgentsMayNotSendWhatIsNotTheirs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	id := v.ChatID
	before := a.chat(id).Chat.LastSeq
	tests := []struct{ name, body string }{
		{"chat_session_ended", `{"events":[{"event":"chat_session_ended"}]}`},
		{"chat_session_end", `{"events":[{"event":"chat_session_end"}]}`},
		{"chat_session_status", `{"events":[{"event":"chat_session_status","state":"completed"}]}`},
		{"chat_session_party_joined", `{"events":[{"event":"chat_session_party_joined"}]}`},
		{"chat_session_party_left", `{"events":[{"event":"chat_session_party_left"}]}`},
		{"chat_session_case_set", `{"events":[{"event":"chat_session_case_set","case_id":"x"}]}`},
		{"chat_session_disconnect", `{"events":[{"event":"chat_session_disconnect"}]}`},
		{"chat_session_form_data", `{"events":[{"event":"chat_session_form_data","form_request_id":"1","data":{}}]}`},
		{"chat_session_timeout_warning", `{"events":[{"event":"chat_session_timeout_warning","msg":"bye"}]}`},
		{"an unknown type", `{"events":[{"event":"chat_session_bogus"}]}`},
		{"an event without a type", `{"events":[{"msg":"hi"}]}`},
		{"a message without msg", `{"events":[{"event":"chat_session_message"}]}`},
		{"a receipt without ref_msg_id", `{"events":[{"event":"chat_session_message_read"}]}`},
		{"a file without file_id", `{"events":[{"event":"chat_session_file"}]}`},
		{"a file nobody uploaded", `{"events":[{"event":"chat_session_file","file_id":"no-such-file"}]}`},
		{"a location off the globe", `{"events":[{"event":"chat_session_location","latitude":91,"longitude":0}]}`},
		{"an unknown signaling type", `{"events":[{"event":"chat_session_signaling","data":{"type":"HANG_UP"}}]}`},
		{"a form without form_name", `{"events":[{"event":"chat_session_form_show"}]}`},
		{"a form with a timeout that is not seconds", `{"events":[{"event":"chat_session_form_show","form_name":"f","form_timeout":"soon"}]}`},
		{"a good event before a bad one", `{"events":[{"event":"chat_session_message","msg":"ok"},{"event":"chat_session_ended"}]}`},
		{"events that are not a list", `{"events":{"event":"chat_session_message","msg":"hi"}}`},
		{"no events", `{}`},
		{"an empty body", ``},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			a.call("POST", "chats/"+id+"/events", tt.body).fails(t, http.StatusBadRequest, "5003")
		})
	}
	if got := a.chat(id).Chat; got.LastSeq != before || got.Ended {
		t.Errorf("after the refusals the chat is at seq %d (ended %v), want %d, live", got.LastSeq, got.Ended, before)
	}
}

func TestCallsAndFormsNeedAnEntryThatEnablesThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, web := a.chatWith(webApp)
	_, plain := a.chatWith(plainApp)
	signal := `{"event":"chat_session_signaling","data":{"type":"REQUEST_CALL"}}`
	form := `{"event":"chat_session_form_show","form_name":"survey"}`
	tests := []struct {
		name   string
		chatID string
		event  string
		ok     bool
	}{
		{"signaling on an entry with calls", web.ChatID, signal, true},
		{"signaling on an entry without calls", plain.ChatID, signal, false},
		{"a form on an entry with forms", web.ChatID, form, true},
		{"a form on an entry without forms", plain.ChatID, form, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call("POST", "chats/"+tt.chatID+"/events", `{"events":[`+tt.event+`]}`)
			if tt.ok {
				r.ok(t, new(map[string]any))
			} else {
				r.fails(t, http.StatusBadRequest, "5003")
			}
		})
	}
}

func TestAFormReachesTheCustomerWithStringFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                         string
		event                        string
		channel, request, formTimout string // "" request: any integer
	}{
		{"with defaults", `{"event":"chat_session_form_show","form_name":"survey"}`, "chat", "", "0"},
		{"as the agent sets it", `{"event":"chat_session_form_show","form_name":"survey","form_request_id":"42","form_timeout":90,"channel":"sms"}`, "sms", "42", "90"},
		{"with a timeout as a string", `{"event":"chat_session_form_show","form_name":"survey","form_timeout":"30"}`, "chat", "", "30"},
	}
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, c := a.in(t), c.in(t)
			stored := a.send(v.ChatID, tt.event)[0]
			seen := c.sees(v.ChatID, "chat_session_form_show")
			for _, ev := range []wireEvent{stored, seen} {
				for _, k := range []string{"channel", "form_name", "form_request_id", "form_timeout", "timestamp"} {
					if _, ok := ev[k].(string); !ok {
						t.Errorf("%s: %s is %#v, want a string", ev.typ(), k, ev[k])
					}
				}
				if _, err := strconv.ParseUint(ev.str("form_request_id"), 10, 31); err != nil || (tt.request != "" && ev.str("form_request_id") != tt.request) {
					t.Errorf("form_request_id %q, want a string of an integer (%q)", ev.str("form_request_id"), tt.request)
				}
				if ev.str("channel") != tt.channel || ev.str("form_timeout") != tt.formTimout || ev.str("form_name") != "survey" {
					t.Errorf("form %v, want channel %q, form_timeout %q", ev, tt.channel, tt.formTimout)
				}
			}
			if seen.seq() != stored.seq() {
				t.Errorf("customer sees seq %d, stored %d", seen.seq(), stored.seq())
			}
		})
	}
}

func TestTheTranscriptListsEveryEventAfterACursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	c.say(id, "one")
	a.say(id, "two")
	c.say(id, "three")

	all := a.transcript(id, 0)
	want := []string{"chat_session_status", "chat_session_party_joined", "chat_session_status",
		"chat_session_message", "chat_session_message", "chat_session_message"}
	if got := typesOf(all); !slices.Equal(got, want) {
		t.Fatalf("transcript %q, want %q", got, want)
	}
	for i, ev := range all {
		if ev.seq() != int64(i+1) {
			t.Errorf("event %d has seq %d, want %d", i, ev.seq(), i+1)
		}
	}
	if all[3].str("party_id") != id || all[4].str("party_id") != v.PartyID {
		t.Errorf("messages from parties %q and %q, want the customer (%s) then alice (%s)",
			all[3].str("party_id"), all[4].str("party_id"), id, v.PartyID)
	}
	for _, after := range []int64{0, 2, 5, 6, 100} {
		t.Run(fmt.Sprintf("after=%d", after), func(t *testing.T) {
			a := a.in(t)
			got := a.transcript(id, after)
			var want []int64
			for s := after + 1; s <= 6; s++ {
				want = append(want, s)
			}
			if !slices.Equal(seqs(got), want) {
				t.Errorf("seqs %v, want %v", seqs(got), want)
			}
		})
	}
	for _, bad := range []string{"-1", "x", "1.5"} {
		t.Run("refuses after="+bad, func(t *testing.T) {
			a.call("GET", "chats/"+id+"/events?after="+bad, "").fails(t, http.StatusBadRequest, "5003")
		})
	}
}

func TestEndingAChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	c.pollUntil(id, func(evs []wireEvent) bool { return len(evs) >= 3 })

	if got := a.call("POST", "chats/"+id+"/end", "").object(t); len(got) != 0 {
		t.Errorf("end answered %v, want {}", got)
	}
	evs := c.pollUntil(id, func(evs []wireEvent) bool { return len(ofType(evs, "chat_session_ended")) > 0 })
	if got, want := typesOf(evs), []string{"chat_session_party_left", "chat_session_status", "chat_session_ended"}; !slices.Equal(got, want) {
		t.Errorf("customer is given %q, want %q", got, want)
	} else if evs[0].str("party_id") != v.PartyID || evs[1].str("state") != "completed" {
		t.Errorf("customer is given %v, want alice's party leaving and status completed", evs)
	}
	c.call("GET", "chats/"+id+"/events", "").fails(t, http.StatusNotFound, "5005")

	if got := a.me().Routing.Chats; len(got) != 0 {
		t.Errorf("alice still has chats %q", got)
	}
	var current struct {
		Chats []chatView `json:"chats"`
	}
	a.call("GET", "chats", "").ok(t, &current)
	if len(current.Chats) != 0 {
		t.Errorf("current chats %+v, want none", current.Chats)
	}
	got := a.chat(id).Chat
	if !got.Ended || got.EndedAt == nil || got.State != "completed" || got.PartyID != "" || got.AgentID != a.id {
		t.Errorf("ended chat %+v, want ended, completed, handled by alice, without a party", got)
	}
	for _, action := range []struct{ path, body string }{
		{"end", ""},
		{"events", `{"events":[{"event":"chat_session_message","msg":"late"}]}`},
		{"transfer", `{}`},
		{"case", `{}`},
	} {
		t.Run("refuses "+action.path+" after the end", func(t *testing.T) {
			a.call("POST", "chats/"+id+"/"+action.path, action.body).fails(t, http.StatusNotFound, "5005")
		})
	}
}

func TestEndedChatsAreListedNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	var ended []string
	for range 3 {
		_, v := a.chatWith(webApp)
		a.call("POST", "chats/"+v.ChatID+"/end", "").ok(t, new(map[string]any))
		ended = append([]string{v.ChatID}, ended...)
	}
	_, live := a.chatWith(webApp)

	list := func(query string) []string {
		t.Helper()
		var got struct {
			Chats []chatView `json:"chats"`
		}
		a.call("GET", "chats"+query, "").ok(t, &got)
		ids := []string{}
		for _, c := range got.Chats {
			ids = append(ids, c.ChatID)
		}
		return ids
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{live.ChatID}},
		{"?ended=1", ended},
		{"?ended=1&limit=2", ended[:2]},
		{"?ended=1&limit=0", ended},
		{"?ended=1&limit=x", ended},
	}
	for _, tt := range tests {
		t.Run("GET chats"+tt.query, func(t *testing.T) {
			if got := list(tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("chats %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWrapUpAfterTheEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	id := v.ChatID
	a.call("POST", "chats/"+id+"/end", "").ok(t, new(map[string]any))

	var wu wrapUp
	a.call("POST", "chats/"+id+"/wrapup", `{"code":"resolved","notes":"reset the password"}`).ok(t, &wu)
	if wu.ChatID != id || wu.AgentID != a.id || wu.Code != "resolved" || wu.Notes != "reset the password" || wu.Created.IsZero() {
		t.Errorf("wrap-up %+v", wu)
	}
	got := a.chat(id)
	if len(got.WrapUps) != 1 || got.WrapUps[0].Code != "resolved" || got.WrapUps[0].Notes != "reset the password" {
		t.Errorf("wrap-ups %+v, want the one recorded", got.WrapUps)
	}

	a.call("POST", "chats/"+id+"/wrapup", `{"code":"escalated"}`).ok(t, &wu)
	if got := a.chat(id).WrapUps; len(got) != 1 || got[0].Code != "escalated" || got[0].Notes != "" {
		t.Errorf("wrap-ups after a second one %+v, want it to replace the first", got)
	}

	b := e.login(bob)
	b.call("POST", "chats/"+id+"/wrapup", `{"code":"mine"}`).fails(t, http.StatusNotFound, "5005")
	a.call("POST", "chats/"+id+"/wrapup", `{"code":7}`).fails(t, http.StatusBadRequest, "5003")

	var fresh chatAnswer
	a.setState("not_ready", "")
	b.ready()
	_, other := b.chatWith(webApp)
	b.call("GET", "chats/"+other.ChatID, "").ok(t, &fresh)
	if fresh.WrapUps == nil || len(fresh.WrapUps) != 0 {
		t.Errorf("wrap-ups of a chat without any: %#v, want []", fresh.WrapUps)
	}
}
