package agentapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/chat"
)

// agentCalls are the methods of the agent API that read a JSON body; %s
// stands for the chat id of the fuzzing agent's chat, or for the id of the
// agent an administrator changes.
var agentCalls = []struct {
	method, path string
	as           string // who calls: "" nobody, alice, or root (an administrator)
}{
	{"POST", "login", ""},
	{"PUT", "me/state", alice},
	{"POST", "chats/%s/events", alice},
	{"POST", "chats/%s/transfer", alice},
	{"POST", "chats/%s/wrapup", alice},
	{"POST", "chats/%s/case", alice},
	{"POST", "agents", root},
	{"PUT", "agents/%s", root},
}

// fuzzChatLength is how many events the fuzzing agent's chat may hold
// before it is ended and another taken.
const fuzzChatLength = 300

// FuzzAgentAPI sends a body to each agent API method that reads one,
// through the whole handler with a real store and router, as alice (an
// agent who owns a chat on an entry with calls and forms) or root (an
// administrator, who changes bob). The answer is 200 with JSON, or a 4xx
// error object, never a server error; a refusal changes nothing the
// fuzzer watches (the chat, its case and wrap-ups, alice's routing state,
// the tenant's agents). Seeds are in testdata/fuzz/FuzzAgentAPI: call
// indexes agentCalls.
func FuzzAgentAPI(f *testing.F) {
	base := startEnv(f)
	var alice1, root1 *agent
	chatID, bobID := "", ""
	f.Fuzz(func(t *testing.T, call uint8, body []byte) {
		e := base.in(t)
		if alice1 == nil {
			alice1, root1 = e.login(alice), e.login(root)
			bobID = e.agentNamed(bob).ID // by id: a PUT may rename him
		}
		a, admin := alice1.in(t), root1.in(t)
		chatID = e.fuzzChat(a, chatID)
		m := agentCalls[int(call)%len(agentCalls)]
		path := m.path
		if strings.Contains(path, "%s") && m.as == root {
			path = fmt.Sprintf(path, bobID)
		} else if strings.Contains(path, "%s") {
			path = fmt.Sprintf(path, chatID)
		}
		header := jsonHeader()
		switch m.as {
		case alice:
			header.Set("Authorization", "Bearer "+a.token)
		case root:
			header.Set("Authorization", "Bearer "+admin.token)
		}
		before := e.watched(chatID, a.id)
		rep := e.serve(m.method, agentapi.Prefix+path, header, body)
		if rep.status != http.StatusOK {
			checkErrorReply(t, rep)
			if after := e.watched(chatID, a.id); !reflect.DeepEqual(after, before) {
				t.Fatalf("%s %q: refused with %s, but what is watched changed from %+v to %+v", rep.what, body, rep.body, before, after)
			}
			return
		}
		if got := rep.header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("%s: Cache-Control %q, want no-store", rep.what, got)
		}
		var obj map[string]json.RawMessage
		rep.decode(t, &obj)
		if m.path == "chats/%s/events" {
			var sent struct {
				Events []wireEvent `json:"events"`
			}
			rep.decode(t, &sent)
			for i, ev := range sent.Events {
				if ev.seq() <= before.LastSeq || ev.typ() == "" {
					t.Fatalf("%s %q: events[%d] = %v, want a typed event after seq %d", rep.what, body, i, ev, before.LastSeq)
				}
			}
		}
	})
}

// watched is what FuzzAgentAPI checks a refusal leaves alone.
type watched struct {
	LastSeq  int64
	CaseID   string
	Owner    string
	WrapUps  int
	State    string
	Reason   string
	Agents   []chat.Agent
	Sessions int
}

func (e *env) watched(chatID, agentID string) watched {
	e.t.Helper()
	ctx := e.t.Context()
	sess, err := e.store.Session(ctx, chatID)
	if err != nil {
		e.t.Fatalf("session %s: %v", chatID, err)
	}
	owner, _, _ := e.router.Assignment(chatID)
	wrapups, err := e.store.WrapUps(ctx, chatID)
	if err != nil {
		e.t.Fatal(err)
	}
	agents, err := e.store.Agents(ctx, tenant)
	if err != nil {
		e.t.Fatal(err)
	}
	view := e.router.View(agentID)
	return watched{LastSeq: sess.LastSeq, CaseID: sess.CaseID, Owner: owner, WrapUps: len(wrapups),
		State: view.State, Reason: view.Reason, Agents: agents, Sessions: len(view.Chats)}
}

// agentNamed returns an agent of the test tenant from the store.
func (e *env) agentNamed(username string) chat.Agent {
	e.t.Helper()
	a, err := e.store.AgentByUsername(e.t.Context(), tenant, username)
	if err != nil {
		e.t.Fatalf("agent %s: %v", username, err)
	}
	return a
}

// fuzzChat returns a live chat that a owns: current while it is, otherwise
// a new customer's, offered to a (made ready, with no other chats or
// offers) and accepted.
func (e *env) fuzzChat(a *agent, current string) string {
	e.t.Helper()
	if current != "" {
		sess, err := e.store.Session(e.t.Context(), current)
		owner, _, _ := e.router.Assignment(current)
		if err == nil && sess.Live() && owner == a.id && sess.LastSeq < fuzzChatLength {
			return current
		}
	}
	a.ready()
	// Offers left by transfers to a queue are taken and ended: a rejected
	// one would be offered again to a, the only ready agent.
	for _, id := range a.offers() {
		a.call("POST", "chats/"+id+"/accept", "")
	}
	for _, id := range a.me().Routing.Chats {
		a.call("POST", "chats/"+id+"/end", "")
	}
	_, v := a.chatWith(webApp)
	return v.ChatID
}

// errorCodePattern is the form of every error_code: a string of digits.
var errorCodePattern = regexp.MustCompile(`^[0-9]{4}$`)

// checkErrorReply checks that a refusal is the error object of the API
// with a client error status: a server error means the input was not
// handled.
func checkErrorReply(t *testing.T, r *reply) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Fatalf("%s: status %d %s, want 200 or a 4xx", r.what, r.status, r.body)
	}
	var obj map[string]any
	r.decode(t, &obj)
	code, _ := obj["error_code"].(string)
	msg, _ := obj["error_message"].(string)
	if !errorCodePattern.MatchString(code) || msg == "" || len(obj) != 2 {
		t.Fatalf("%s: error body %s, want only a string error_code of digits and an error_message", r.what, r.body)
	}
}
