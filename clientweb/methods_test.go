package clientweb_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
)

func TestGetVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	obj := e.customer(demoApp, androidClient).call("GET", "version", "").ok(t)
	if !reflect.DeepEqual(obj, map[string]any{"server_version": "parley test"}) {
		t.Errorf("version answered %v", obj)
	}
}

// fixedWait is a routing stand-in that estimates every wait the same.
type fixedWait int

func (w fixedWait) EstimateWait(context.Context, *chat.Entry) (int, bool) { return int(w), true }

func TestCheckAvailability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name  string
		appID string
		want  map[string]any
	}{
		{"an entry without hours is available", demoApp, map[string]any{"chat": "available"}},
		{"a closed entry is notAvailable by default", closedApp, map[string]any{"chat": "notAvailable"}},
		{"a closed entry for Android 2.1.0 apps is unavailable", closedApp21, map[string]any{"chat": "unavailable"}},
		{"a disabled entry is notAvailable rather than unknown", retiredApp, map[string]any{"chat": "notAvailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := e.customer(tt.appID, androidClient).call("GET", "availability", "").ok(t)
			if !reflect.DeepEqual(obj, tt.want) {
				t.Errorf("availability answered %v, want %v", obj, tt.want)
			}
		})
	}
	t.Run("with routing the estimated wait is a string of seconds", func(t *testing.T) {
		e := newEnv(t)
		e.svc.Waits = fixedWait(42)
		obj := e.customer(demoApp, androidClient).call("GET", "availability", "").ok(t)
		if !reflect.DeepEqual(obj, map[string]any{"chat": "available", "ewt": "42"}) {
			t.Errorf("availability answered %v", obj)
		}
		obj = e.customer(retiredApp, androidClient).call("GET", "availability", "").ok(t)
		if !reflect.DeepEqual(obj, map[string]any{"chat": "notAvailable"}) {
			t.Errorf("a disabled entry answered %v, want no ewt", obj)
		}
		obj = e.customer(closedApp, androidClient).call("GET", "availability", "").ok(t)
		if !reflect.DeepEqual(obj, map[string]any{"chat": "notAvailable"}) {
			t.Errorf("a closed entry answered %v, want no ewt", obj)
		}
	})
}

func TestGetICEServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("servers come in the docs' shape with urls for browsers", func(t *testing.T) {
		r := e.customer(mobileApp, iosClient).call("GET", "iceservers", "")
		r.ok(t)
		var got struct {
			Servers []map[string]any `json:"servers"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		want := []map[string]any{
			{"url": "stun:stun.example.com:3478", "urls": []any{"stun:stun.example.com:3478"}},
			{"url": "turn:turn.example.com:3478", "urls": []any{"turn:turn.example.com:3478", "turns:turn.example.com:5349"},
				"username": "u1", "credential": "secret"},
		}
		if !reflect.DeepEqual(got.Servers, want) {
			t.Errorf("servers = %v, want %v", got.Servers, want)
		}
	})
	t.Run("an entry without servers answers an empty list", func(t *testing.T) {
		obj := e.customer(demoApp, iosClient).call("GET", "iceservers", "").ok(t)
		if s, ok := obj["servers"].([]any); !ok || len(s) != 0 {
			t.Errorf("servers = %#v, want []", obj["servers"])
		}
	})
}

func TestGetChatWidgetConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("the entry's widgets are served verbatim", func(t *testing.T) {
		obj := e.customer(demoApp, androidClient).call("GET", "configuration", "").ok(t)
		widgets, _ := obj["widgets"].([]any)
		if len(widgets) != 1 {
			t.Fatalf("widgets = %v, want one", obj["widgets"])
		}
		w := widgets[0].(map[string]any)
		tab := w["definition"].(map[string]any)["contact_tab"].(map[string]any)
		if w["name"] != "chat" || tab["enabled"] != true || tab["location"] != "bottom_right" || tab["show_ewt_out_of_hours"] != false {
			t.Errorf("widget = %v", w)
		}
		var want []any
		if err := json.Unmarshal(config.Demo().Tenants[0].Entries[0].Widgets, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(widgets, want) {
			t.Errorf("widgets = %v, want the configured %v", widgets, want)
		}
	})
	t.Run("an entry without widgets answers an empty list", func(t *testing.T) {
		obj := e.customer(mobileApp, androidClient).call("GET", "configuration", "").ok(t)
		if w, ok := obj["widgets"].([]any); !ok || len(w) != 0 {
			t.Errorf("widgets = %#v, want []", obj["widgets"])
		}
	})
}

func TestExpectedParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	obj := e.customer(demoApp, androidClient).call("GET", "parameters", "").ok(t)
	want := map[string]any{"parameters": []any{
		map[string]any{"first_name": "FIRST_NAME"},
		map[string]any{"last_name": "LAST_NAME"},
		map[string]any{"email": "EMAIL"},
	}}
	if !reflect.DeepEqual(obj, want) {
		t.Errorf("parameters = %v, want %v", obj, want)
	}
	obj = e.customer(mobileApp, androidClient).call("GET", "parameters", "").ok(t)
	if p, ok := obj["parameters"].([]any); !ok || len(p) != 0 {
		t.Errorf("an entry without parameters answered %#v, want []", obj["parameters"])
	}
}

func TestRequestChat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		phone string
	}{
		{"iOS nests user_platform in parameters", `{"phone_number":"+4930123456","from":"Ada","parameters":{"first_name":"Ada","user_platform":{"os":"iOS","name":"iPhone","manufacturer":"Apple","model":"iPhone15,2","identifier":"x"}}}`, "+4930123456"},
		{"Android sends a numeric sdk", `{"parameters":{"user_platform":{"os":"Android","sdk":34,"manufacturer":"Google","model":"Pixel 8","hardware":"shiba","patch":"2024-05-05"}}}`, ""},
		{"the web script sends only parameters", `{"parameters":{"email":"ada@example.com"}}`, ""},
		{"parameters may be null", `{"parameters":null}`, ""},
		{"an empty object is enough", `{}`, ""},
		{"no body at all is enough", ``, ""},
		{"unknown keys are ignored", `{"parameters":{},"channel":"web","extra":[1,2,3]}`, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.customer(demoApp, androidClient[:len(androidClient)-1]+string(rune('a'+i)))
			obj := c.call("POST", "chats", tt.body).ok(t)
			id, _ := obj["chat_id"].(string)
			want := map[string]any{"chat_id": id, "state": "queued", "ewt": "0", "is_new_chat": true, "phone_number": tt.phone}
			if id == "" || !reflect.DeepEqual(obj, want) {
				t.Errorf("Request Chat answered %v, want %v", obj, want)
			}
			if len(id) < 22 || strings.ContainsAny(id, "/?#%+ ") {
				t.Errorf("chat id %q is not an opaque URL-safe id of 128 bits", id)
			}
			evs := c.poll(id)
			if got := types(evs); len(got) < 1 || got[0] != string(chat.TypeStatus) || evs[0]["state"] != "queued" || evs[0]["ewt"] != "0" {
				t.Errorf("first events %v, want a queued status with ewt \"0\"", evs)
			}
		})
	}
	t.Run("twice answers the same chat with is_new_chat false", func(t *testing.T) {
		e := newEnv(t)
		e.svc.Waits = fixedWait(30)
		c := e.customer(demoApp, androidClient)
		first := c.call("POST", "chats", `{"phone_number":"+1555","parameters":{}}`).ok(t)
		if first["ewt"] != "30" || first["is_new_chat"] != true {
			t.Errorf("first request answered %v", first)
		}
		again := c.call("POST", "chats", `{"phone_number":"+1999","parameters":{}}`).ok(t)
		want := map[string]any{"chat_id": first["chat_id"], "state": "queued", "ewt": "30", "is_new_chat": false, "phone_number": "+1555"}
		if !reflect.DeepEqual(again, want) {
			t.Errorf("second request answered %v, want %v", again, want)
		}
	})
	t.Run("after the chat ended a new chat is started", func(t *testing.T) {
		e := newEnv(t)
		c := e.customer(demoApp, androidClient)
		first := c.startChat()
		c.send(first, `{"event":"chat_session_end"}`)
		obj := c.call("POST", "chats", `{}`).ok(t)
		if obj["chat_id"] == first || obj["is_new_chat"] != true {
			t.Errorf("Request Chat after the end answered %v, want a new chat", obj)
		}
	})
	t.Run("parameters are kept as every store holds them", func(t *testing.T) {
		// PostgreSQL's jsonb refuses unpaired surrogate escapes and numbers
		// past a float64's range: the first read as U+FFFD, the second are
		// refused here, whatever the store.
		e := newEnv(t)
		c := e.customer(demoApp, androidClient)
		id := c.call("POST", "chats", `{"parameters":{"name":"A\ud800","b":[1, 2.5e3]}}`).ok(t)["chat_id"].(string)
		if got := string(e.session(id).Parameters); got != "{\"name\":\"A\uFFFD\",\"b\":[1,2.5e3]}" {
			t.Errorf("stored parameters %s", got)
		}
		for _, n := range []string{"1e400", "-1e400", "1e-400"} {
			other := e.customer(demoApp, anotherClient)
			other.call("POST", "chats", `{"parameters":{"n":`+n+`}}`).fails(t, http.StatusBadRequest, chat.CodeInvalid)
		}
	})
	t.Run("another client gets its own chat", func(t *testing.T) {
		e := newEnv(t)
		a := e.customer(demoApp, androidClient).requestChat()
		b := e.customer(demoApp, anotherClient).requestChat()
		if a == b {
			t.Errorf("two clients share chat %s", a)
		}
	})
}

func TestGetActiveChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	c.call("GET", "chats/active", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	id := c.requestChat()
	// An agent takes the chat: the status and the session's state change together.
	connected := []chat.Event{{ChatID: id, Type: chat.TypeStatus, Time: time.Now(), Payload: chat.Payload{State: chat.StateConnected}}}
	if _, err := e.svc.Append(t.Context(), id, connected, chat.SessionUpdate{State: chat.StateConnected}); err != nil {
		t.Fatalf("connect chat: %v", err)
	}
	obj := c.call("GET", "chats/active", "").ok(t)
	want := map[string]any{"chat_id": id, "state": "connected", "ewt": "0", "is_new_chat": false, "phone_number": ""}
	if !reflect.DeepEqual(obj, want) {
		t.Errorf("active chat = %v, want %v", obj, want)
	}
	c.send(id, `{"event":"chat_session_end"}`)
	c.call("GET", "chats/active", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
}

func TestMobileNotificationSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(mobileApp, iosClient)
	id := c.startChat()
	subscribe := func(t *testing.T, body string) {
		t.Helper()
		if obj := c.call("POST", "chats/"+id+"/notifications", body).ok(t); len(obj) != 0 {
			t.Errorf("subscription answered %v, want {}", obj)
		}
	}
	t.Run("an APNs token with its bundle id subscribes", func(t *testing.T) {
		subscribe(t, `{"ios_apns_device_token":"A1B2c3d4","ios_app_bundle_id":"com.example.app"}`)
		want := chat.PushToken{Kind: chat.PushAPNs, Token: "A1B2c3d4", Topic: "com.example.app"}
		if got := e.session(id).Push; got != want {
			t.Errorf("push = %+v, want %+v", got, want)
		}
	})
	t.Run("an empty object cancels", func(t *testing.T) {
		subscribe(t, `{}`)
		if got := e.session(id).Push; got != (chat.PushToken{}) {
			t.Errorf("push after cancel = %+v", got)
		}
	})
	t.Run("an empty token of one kind cancels too", func(t *testing.T) {
		subscribe(t, `{"ios_apns_device_token":"abcdef","ios_app_bundle_id":"com.example.app"}`)
		subscribe(t, `{"ios_apns_device_token":""}`)
		if got := e.session(id).Push; got != (chat.PushToken{}) {
			t.Errorf("push after cancel = %+v", got)
		}
	})
}

func TestSendEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	// One of each client event of §4.1, in the shapes the SDKs send.
	c.send(id,
		`{"event":"chat_session_message","msg_id":"0c1d:1","msg":"line one<br>line two","msg_text":"line one\nline two","party_id":"random-android-party","timestamp":"752000000"}`,
		`{"event":"chat_session_message_delivered","ref_msg_id":"agent-msg-1","party_id":"x"}`,
		`{"event":"chat_session_message_read","ref_msg_id":"agent-msg-1"}`,
		`{"event":"chat_session_typing","msg":"draft"}`,
		`{"event":"chat_session_not_typing"}`,
		`{"event":"chat_session_location","latitude":52.52,"longitude":"13.405","msg_id":"loc-1"}`,
		`{"event":"chat_session_signaling","destination_party_id":"agent-1","msg_id":"sig-1","data":{"candidate":"candidate:1 1 UDP 2122252543 10.0.0.2 54321 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"event":"chat_session_form_data","form_request_id":7,"form_name":"survey","data":{"rating":5,"comment":"great"}}`,
		`{"event":"chat_session_disconnect"}`,
	)
	h := c.history(id)
	got := types(h)
	want := []string{"chat_session_status", "chat_session_case_set", "chat_session_message",
		"chat_session_message_delivered", "chat_session_message_read", "chat_session_typing",
		"chat_session_not_typing", "chat_session_location"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v (signaling, form data and disconnect are not for customers)", got, want)
	}
	msg := h[2]
	for k, v := range map[string]any{"msg_id": "0c1d:1", "party_id": id, "msg": "line one<br>line two", "msg_text": "line one\nline two"} {
		if msg[k] != v {
			t.Errorf("message %s = %#v, want %#v", k, msg[k], v)
		}
	}
	if h[3]["ref_msg_id"] != "agent-msg-1" || h[3]["party_id"] != id {
		t.Errorf("receipt = %v, want ref_msg_id verbatim and party_id the chat id", h[3])
	}
	loc := h[7]
	if loc["latitude"] != "52.52" || loc["longitude"] != "13.405" || loc["url"] != nil || loc["msg_id"] != "loc-1" {
		t.Errorf("location = %v, want string coordinates and a null url", loc)
	}
	// The session stays live after a disconnect.
	if s := e.session(id); !s.Live() {
		t.Errorf("chat_session_disconnect ended the chat")
	}
}

func TestIdempotentSends(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	msgs := func(msgID string) int {
		n := 0
		for _, ev := range c.history(id) {
			if ev["event"] == string(chat.TypeMessage) && ev["msg_id"] == msgID {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name  string
		msgID string
		want  int
	}{
		{"a message resent with the same msg_id is stored once", "6a3e2f1c-1d2b-4c3d-9e8f-0a1b2c3d4e5f", 1},
		{"an iOS uuid:n msg_id is deduplicated verbatim", "B7C2D1E0-0000-4000-8000-000000000001:3", 1},
		{`Android's "null" msg_id is not deduplicated`, "null", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := `{"event":"chat_session_message","msg_id":"` + tt.msgID + `","msg":"hi"}`
			c.send(id, ev)
			c.send(id, ev) // Android's automatic retry
			if n := msgs(tt.msgID); n != tt.want {
				t.Errorf("history holds %d messages with msg_id %q, want %d", n, tt.msgID, tt.want)
			}
		})
	}
	t.Run("a duplicate inside one batch is stored once", func(t *testing.T) {
		ev := `{"event":"chat_session_message","msg_id":"same-batch","msg":"hi"}`
		c.send(id, ev, ev)
		if n := msgs("same-batch"); n != 1 {
			t.Errorf("history holds %d copies, want 1", n)
		}
	})
	t.Run("files are deduplicated too", func(t *testing.T) {
		file := c.uploadFile("a.png", pngBytes(100))
		ev := `{"event":"chat_session_file","msg_id":"file-9","file_id":"` + file + `"}`
		c.send(id, ev)
		c.send(id, ev)
		n := 0
		for _, h := range c.history(id) {
			if h["msg_id"] == "file-9" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("history holds %d copies of the file, want 1", n)
		}
	})
	t.Run("locations are deduplicated too", func(t *testing.T) {
		ev := `{"event":"chat_session_location","msg_id":"loc-9","latitude":"1","longitude":"2"}`
		c.send(id, ev)
		c.send(id, ev)
		n := 0
		for _, h := range c.history(id) {
			if h["msg_id"] == "loc-9" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("history holds %d copies of the location, want 1", n)
		}
	})
}

func TestGetChatHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	c.send(id, `{"event":"chat_session_message","msg_id":"c1","msg":"hello","party_id":"0f9e8d7c-android"}`)
	e.agentSays(id, "hi, how can I help?")
	e.agentSends(id, chat.Event{Type: chat.TypeSignaling, PartyID: defaultAgentID, MsgID: "sig-a",
		Payload: chat.Payload{Destination: id, Signal: chat.Signal{Type: "OFFER_CALL", SDP: "v=0"}}})
	c.send(id, `{"event":"chat_session_signaling","msg_id":"sig-c","destination_party_id":"agent-1","data":{"type":"ANSWER_CALL","sdp":"v=0"}}`)

	h := c.history(id)
	want := []string{"chat_session_status", "chat_session_case_set", "chat_session_message", "chat_session_message"}
	if got := types(h); !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	if own := h[2]; own["party_id"] != id || own["msg_id"] != "c1" {
		t.Errorf("own message in history = %v, want party_id the chat id and the client's msg_id", own)
	}
	if agent := h[3]; agent["party_id"] != defaultAgentID {
		t.Errorf("agent message in history = %v", agent)
	}
	for i := 1; i < len(h); i++ {
		if seqOf(t, h[i]) <= seqOf(t, h[i-1]) {
			t.Errorf("history not in order: seq %v after %v", h[i]["seq"], h[i-1]["seq"])
		}
	}
	// The poll, unlike history, carries the agent's message and signaling
	// but not the client's own message.
	if got := types(c.poll(id)); !reflect.DeepEqual(got, []string{"chat_session_message", "chat_session_signaling"}) {
		t.Errorf("poll = %v, want the agent's message and signaling", got)
	}
}

func TestCaseHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	first := c.startChat()
	c.send(first, `{"event":"chat_session_message","msg_id":"a","msg":"first chat"}`)
	c.send(first, `{"event":"chat_session_end"}`)
	second := c.startChat()
	c.send(second, `{"event":"chat_session_message","msg_id":"b","msg":"second chat"}`)

	check := func(t *testing.T, obj map[string]any) {
		t.Helper()
		sessions, _ := obj["sessions"].([]any)
		if len(sessions) != 2 {
			t.Fatalf("sessions = %v, want both chats of the case", obj["sessions"])
		}
		for i, want := range []string{first, second} {
			s := sessions[i].(map[string]any)
			if s["chat_id"] != want {
				t.Errorf("sessions[%d].chat_id = %v, want %s (oldest first)", i, s["chat_id"], want)
			}
			if ct, ok := s["created_time"].(string); !ok || len(ct) < 10 || strings.Trim(ct, "0123456789") != "" {
				t.Errorf("sessions[%d].created_time = %#v, want a string of Unix seconds", i, s["created_time"])
			}
			evs := wireEvents(t, s)
			found := false
			for _, ev := range evs {
				found = found || ev["event"] == string(chat.TypeMessage)
			}
			if !found {
				t.Errorf("sessions[%d] events %v lack the chat's message", i, types(evs))
			}
		}
	}
	t.Run("by chat id it lists every chat of the case", func(t *testing.T) {
		check(t, c.call("GET", "chats/"+second+"/casehistory", "").ok(t))
	})
	t.Run("by an ended chat's id it stays readable", func(t *testing.T) {
		check(t, c.call("GET", "chats/"+first+"/casehistory", "").ok(t))
	})
	t.Run("without a chat id it is the live chat's case", func(t *testing.T) {
		check(t, c.call("GET", "casehistory", "").ok(t))
	})
}

func TestCloseCase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path func(chatID string) string
		body string
	}{
		{"iOS closes by chat id without a body", func(id string) string { return "chats/" + id + "/closecase" }, ""},
		{"Android's chat_session_end body does not end the chat", func(id string) string { return "chats/" + id + "/closecase" }, `{"events":[{"event":"chat_session_end"}]}`},
		{"the docs close the live chat's case", func(string) string { return "closecase" }, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.customer(demoApp, androidClient)
			id := c.startChat()
			before := len(c.history(id))
			if obj := c.call("POST", tt.path(id), tt.body).ok(t); len(obj) != 0 {
				t.Errorf("close case answered %v, want {}", obj)
			}
			s := e.session(id)
			if !s.Live() {
				t.Fatalf("closing the case ended the chat")
			}
			cs, err := e.store.Case(t.Context(), s.CaseID)
			if err != nil || cs.Closed.IsZero() {
				t.Errorf("case %s not closed (err %v)", s.CaseID, err)
			}
			if after := c.history(id); len(after) != before {
				t.Errorf("closing the case added events: %v", types(after))
			}
			c.send(id, `{"event":"chat_session_message","msg_id":"still","msg":"still here"}`)
			// A chat requested after the close starts a new case.
			c.send(id, `{"event":"chat_session_end"}`)
			next := c.requestChat()
			if ns := e.session(next); ns.CaseID == "" || ns.CaseID == s.CaseID {
				t.Errorf("the next chat's case is %q, want a new one (closed %q)", ns.CaseID, s.CaseID)
			}
		})
	}
}

func TestProfilePhoto(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	photo := e.putFile("agent.png", pngBytes(64))
	e.agentSends(id, chat.Event{Type: chat.TypePartyJoined, PartyID: photoPartyID,
		Payload: chat.Payload{FirstName: "Grace", DisplayName: "Grace", PartyType: chat.PartyInternal, PhotoID: photo}})
	e.agentSends(id, chat.Event{Type: chat.TypePartyJoined, PartyID: "agent-without-photo",
		Payload: chat.Payload{FirstName: "Alan", DisplayName: "Alan", PartyType: chat.PartyInternal}})

	t.Run("the photo is served by chat id alone", func(t *testing.T) {
		r := e.do(e.newRequest("GET", "/clientweb/api/v2/chats/"+id+"/profilephotos/"+photoPartyID, nil))
		if r.status != http.StatusOK || string(r.body) != string(pngBytes(64)) {
			t.Fatalf("status %d, %d bytes", r.status, len(r.body))
		}
		if ct := r.header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("Content-Type %q, want image/png", ct)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("no nosniff on a photo")
		}
	})
	for _, tt := range []struct{ name, path string }{
		{"a party without a photo is 404", "chats/" + id + "/profilephotos/agent-without-photo"},
		{"an unknown party is 404", "chats/" + id + "/profilephotos/nobody"},
		{"an unknown chat is 404", "chats/" + chat.NewID() + "/profilephotos/" + photoPartyID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(e.newRequest("GET", "/clientweb/api/v2/"+tt.path, nil))
			if r.status != http.StatusNotFound {
				t.Errorf("status %d, want 404", r.status)
			}
		})
	}
}
