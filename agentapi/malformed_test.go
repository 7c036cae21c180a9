package agentapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/agentapi"
)

// garbage are bodies no JSON method can take.
var garbage = []struct{ name, body string }{
	{"an unfinished object", `{`},
	{"a lone brace", `}`},
	{"text", `not json at all`},
	{"an array", `[]`},
	{"a string", `"ready"`},
	{"a number", `42`},
	{"a boolean", `true`},
	{"an unfinished member", `{"events":`},
	{"binary", "\x00\xff\xfe\x01"},
	{"two objects", `{"a":1}{"b":2}`},
	{"deep nesting", strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000)},
	{"a body over the limit", `{"notes":"` + strings.Repeat("x", 1<<20) + `"}`},
}

func TestMalformedBodiesAreRefusedNeverAServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	admin := e.login(root)
	a.ready()
	_, v := a.chatWith(webApp)
	id := v.ChatID
	before := a.chat(id).Chat.LastSeq

	jsonMethods := []struct {
		who          *agent // nil: no login
		method, path string
		wrongTypes   []string // well-formed JSON with a field of the wrong type
	}{
		{nil, "POST", "login", []string{`{"username":1}`, `{"password":["x"]}`, `{"tenant":{}}`}},
		{a, "PUT", "me/state", []string{`{"state":{}}`, `{"reason":1}`}},
		{a, "POST", "chats/" + id + "/events", []string{`{"events":[1]}`, `{"events":[{"event":1}]}`, `{"events":[null]}`,
			`{"events":[{"event":"chat_session_message","msg":5}]}`, `{"events":[{"event":"chat_session_message","msg":"x","msg_id":{}}]}`,
			`{"events":[{"event":"chat_session_signaling","data":"x"}]}`, `{"events":[{"event":"chat_session_signaling","data":{"type":5}}]}`,
			`{"events":[{"event":"chat_session_location","latitude":{},"longitude":[]}]}`,
			`{"events":[{"event":"chat_session_form_show","form_name":"f","form_timeout":{}}]}`,
			`{"events":[{"event":"chat_session_form_show","form_name":"f","form_timeout":1e400}]}`,
			`{"events":[{"event":"chat_session_file","file_id":["x"]}]}`, `{"events":"all"}`, `{"events":null}`}},
		{a, "POST", "chats/" + id + "/transfer", []string{`{"agent_id":[]}`, `{"queue":1}`}},
		{a, "POST", "chats/" + id + "/wrapup", []string{`{"code":{}}`, `{"notes":false}`}},
		{a, "POST", "chats/" + id + "/case", []string{`{"case_id":5}`}},
		{admin, "POST", "agents", []string{`{"username":5}`, `{"capacity":"x"}`, `{"capacity":1e100}`, `{"skills":[1]}`, `{"disabled":"yes"}`}},
		{admin, "PUT", "agents/" + a.id, []string{`{"username":5}`, `{"capacity":"x"}`, `{"capacity":-1}`, `{"skills":"a"}`, `{"role":null,"capacity":0}`}},
	}
	for _, m := range jsonMethods {
		bodies := append([]struct{ name, body string }(nil), garbage...)
		for _, w := range m.wrongTypes {
			bodies = append(bodies, struct{ name, body string }{w, w})
		}
		for _, b := range bodies {
			t.Run(m.method+" "+strings.Replace(m.path, id, "{chatId}", 1)+" with "+b.name, func(t *testing.T) {
				h := jsonHeader()
				if m.who != nil {
					h.Set("Authorization", "Bearer "+m.who.token)
				}
				e.in(t).do(m.method, agentapi.Prefix+m.path, h, []byte(b.body)).fails(t, http.StatusBadRequest, "5003")
			})
		}
	}

	for _, path := range []string{"files", "me/photo"} {
		method := map[string]string{"files": "POST", "me/photo": "PUT"}[path]
		for _, b := range garbage {
			t.Run(method+" "+path+" with "+b.name, func(t *testing.T) {
				h := http.Header{"Authorization": {"Bearer " + a.token}, "Content-Type": {"multipart/form-data; boundary=b"}}
				e.in(t).do(method, agentapi.Prefix+path, h, []byte(b.body)).fails(t, http.StatusBadRequest, "5003")
			})
		}
	}

	if got := a.chat(id).Chat; got.LastSeq != before || got.Ended || got.AgentID != a.id {
		t.Errorf("after the garbage the chat is %+v, want it unchanged at seq %d", got, before)
	}
	if got := a.me(); got.Routing.State != "ready" || got.Agent.Capacity != 2 || got.Agent.Role != "agent" {
		t.Errorf("after the garbage alice is %+v", got)
	}
}

func TestMethodsThatIgnoreTheirBodyTakeGarbage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	a.setCase(v.ChatID, `{}`)
	offered := e.customer(webApp).requestChat()
	tests := []struct {
		method, path string
	}{
		{"POST", "chats/" + offered + "/reject"},
		{"POST", "chats/" + v.ChatID + "/case/close"},
		{"POST", "chats/" + v.ChatID + "/end"},
		{"POST", "logout"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a.call(tt.method, tt.path, "\x00{garbage").ok(t, new(map[string]any))
		})
	}
}

func TestMalformedQueriesAndPathsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, v := a.chatWith(webApp)
	tests := []struct {
		name, method, target string
		status               int
		code                 string
	}{
		{"a cursor that is not a number", "GET", "chats/" + v.ChatID + "/events?after=1e3", 400, "5003"},
		{"a huge cursor", "GET", "chats/" + v.ChatID + "/events?after=99999999999999999999", 400, "5003"},
		{"a chat id that is not one", "GET", "chats/%00%ff", 404, "5005"},
		{"a file id that climbs out", "GET", "files/..%2F..%2Fparley.db", 404, "5502"},
		{"a file id too short to be one", "GET", "files/a", 404, "5502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + a.token}}
			e.in(t).do(tt.method, agentapi.Prefix+tt.target, h, nil).fails(t, tt.status, tt.code)
		})
	}
	t.Run("GET chats?ended=1 with a limit that is not a number", func(t *testing.T) {
		var got struct {
			Chats []chatView `json:"chats"`
		}
		a.in(t).call("GET", "chats?ended=1&limit=-5", "").ok(t, &got)
	})
	if r := e.do("POST", agentapi.Prefix+"login", http.Header{"Content-Type": {"application/json"}}, bytes.Repeat([]byte("x"), 2<<20)); r.status != http.StatusBadRequest {
		t.Errorf("a login of 2 MiB: status %d, want 400", r.status)
	}
}
