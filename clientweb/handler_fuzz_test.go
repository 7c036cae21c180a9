package clientweb_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// customerCalls are the methods of the customer API that read what a client
// sends, a body or query parameters; %s stands for the chat id.
var customerCalls = []struct{ method, path, app string }{
	{"POST", "chats", demoApp},
	{"POST", "chats/%s/notifications", mobileApp}, // the entry with APNs
	{"POST", "chats/%s/events", demoApp},          // calls and forms on
	{"POST", "chats/%s/closecase", demoApp},       // cases on
	{"GET", "chats/%s/events", demoApp},           // ?after=
	{"GET", "chats/%s/history", demoApp},
}

// fuzzChatLength is how many events a fuzzed chat may hold before it is
// ended and another started, so that history stays quick to read.
const fuzzChatLength = 300

// FuzzCustomerAPI sends a body and query parameters to the methods that read
// them, through the whole handler and the SQLite store, and checks the
// answer against §2: 200 with a JSON object, or a 4xx error object, never a
// server error; and an error leaves the store as it was. Seeds are in
// testdata/fuzz/FuzzCustomerAPI: call indexes customerCalls.
func FuzzCustomerAPI(f *testing.F) {
	fuzzCustomerAPI(f, startEnv(f, fuzzing))
}

// FuzzCustomerAPIPostgres is FuzzCustomerAPI on the PostgreSQL store, which
// holds what clients send in jsonb and text columns with rules of their
// own. Its seeds are FuzzCustomerAPI's.
func FuzzCustomerAPIPostgres(f *testing.F) {
	store, err := postgres.Open(f.Context(), pgtest.Schema(f))
	if err != nil {
		f.Fatalf("open store: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	cfg := testConfig()
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	if err := cfg.Apply(f.Context(), store); err != nil {
		f.Fatalf("configure store: %v", err)
	}
	fuzzCustomerAPI(f, serveStore(f, store, fuzzing))
}

// fuzzing sets a handler up for one client sending as fast as it can.
func fuzzing(h *clientweb.Handler) {
	h.Limits = clientweb.Limits{}
	h.MaxPollsPerClient = 0
	h.PollTimeout = time.Millisecond
}

func fuzzCustomerAPI(f *testing.F, base *env) {
	chats := map[string]string{} // appId → the live chat of the fuzzing client
	newClients := 0
	f.Fuzz(func(t *testing.T, call uint8, query string, body []byte) {
		e := base.in(t)
		m := customerCalls[int(call)%len(customerCalls)]
		if m.path == "chats" {
			// Each Request Chat is a new client's, so that it creates a
			// chat from what was sent.
			newClients++
			c := e.customer(m.app, fmt.Sprintf("fuzz-new-%d", newClients))
			rep := e.serve(fuzzRequest(c, m.method, m.path, query, body))
			live := c.liveChat()
			if rep.status != http.StatusOK {
				checkErrorReply(t, rep)
				if live != nil {
					t.Fatalf("%s %q: refused with %d but started chat %s", rep.what, body, rep.status, live.ID)
				}
				return
			}
			info := checkChatInfo(t, rep)
			if live == nil || live.ID != info["chat_id"] || info["is_new_chat"] != true {
				t.Fatalf("%s %q: answered %v, but the client's live chat is %+v", rep.what, body, info, live)
			}
			req, err := clientweb.DecodeChatRequest(body)
			if err != nil || live.PhoneNumber != req.PhoneNumber || live.From != req.From || !sameJSON(live.Parameters, req.Parameters) {
				t.Fatalf("%s %q: stored phone %q, from %q, parameters %s; the body reads as %+v, %v",
					rep.what, body, live.PhoneNumber, live.From, live.Parameters, req, err)
			}
			return
		}
		c := e.customer(m.app, "fuzz-client")
		id := e.fuzzChat(c, chats)
		before := e.session(id)
		rep := e.serve(fuzzRequest(c, m.method, fmt.Sprintf(m.path, id), query, body))
		after := e.session(id)
		if rep.status != http.StatusOK {
			checkErrorReply(t, rep)
			if after.LastSeq != before.LastSeq || after.Push != before.Push || after.CaseID != before.CaseID || after.State != before.State {
				t.Fatalf("%s %q: refused with %s, but the chat changed from %+v to %+v", rep.what, body, rep.body, before, after)
			}
			return
		}
		obj := rep.ok(t)
		switch m.method + " " + m.path {
		case "GET chats/%s/events", "GET chats/%s/history":
			wireEvents(t, obj)
		case "POST chats/%s/notifications":
			want, err := clientweb.DecodeSubscription(body)
			if err != nil || after.Push != want {
				t.Fatalf("%s %q: subscribed %+v; the body reads as %+v, %v", rep.what, body, after.Push, want, err)
			}
			fallthrough
		default:
			if len(obj) != 0 {
				t.Fatalf("%s: answer %s, want {}", rep.what, rep.body)
			}
		}
	})
}

// fuzzRequest is an API request of c with a fuzzed body and query: the
// query follows the tenantUrl the client sends, which wins as the first.
func fuzzRequest(c *customer, method, path, query string, body []byte) *http.Request {
	r := c.request(method, path, body)
	r.URL.RawQuery = "tenantUrl=" + c.tenant + "&" + query
	return r
}

// fuzzChat returns the live chat of c on its entry, started when there is
// none and started anew when it has grown long.
func (e *env) fuzzChat(c *customer, chats map[string]string) string {
	e.t.Helper()
	if id := chats[c.appID]; id != "" {
		s := e.session(id)
		if s.Live() && s.LastSeq < fuzzChatLength {
			return id
		}
		if s.Live() {
			e.serve(c.request("POST", "chats/"+id+"/events", []byte(`{"events":[{"event":"chat_session_end"}]}`))).ok(e.t)
		}
	}
	info := e.serve(c.request("POST", "chats", []byte(`{}`))).ok(e.t)
	id, _ := info["chat_id"].(string)
	if id == "" {
		e.t.Fatalf("request chat: answered %v", info)
	}
	chats[c.appID] = id
	return id
}

// liveChat returns the client's live chat, or nil when it has none.
func (c *customer) liveChat() *chat.Session {
	c.e.t.Helper()
	k := chat.ClientKey{Tenant: c.tenant, AppID: c.appID, ClientID: c.clientID}
	s, err := c.e.store.LiveSession(c.e.t.Context(), k)
	if errors.Is(err, chat.ErrNotFound) {
		return nil
	}
	if err != nil {
		c.e.t.Fatalf("live session of %v: %v", k, err)
	}
	return &s
}

// errorCodePattern is the form of every error_code: a string of digits;
// secondsPattern that of ewt.
var (
	errorCodePattern = regexp.MustCompile(`^[0-9]{4}$`)
	secondsPattern   = regexp.MustCompile(`^[0-9]+$`)
)

// checkErrorReply checks that a refusal is the error object of §2 with a
// client error status: a server error means the input was not handled.
func checkErrorReply(t *testing.T, r *reply) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Fatalf("%s: status %d %s, want 200 or a 4xx", r.what, r.status, r.body)
	}
	if got := r.header.Get("Cache-Control"); got != cacheNoStore {
		t.Errorf("%s: Cache-Control %q, want %q", r.what, got, cacheNoStore)
	}
	obj := r.object(t)
	code, _ := obj["error_code"].(string)
	msg, _ := obj["error_message"].(string)
	if !errorCodePattern.MatchString(code) || msg == "" || len(obj) != 2 {
		t.Fatalf("%s: error body %s, want only a string error_code of digits and an error_message", r.what, r.body)
	}
	if got := clientweb.StatusOf(chat.Code(code)); got != r.status {
		t.Fatalf("%s: status %d for error code %s, whose status is %d", r.what, r.status, code, got)
	}
}

// checkChatInfo checks the value types of a Request Chat answer (§2, §3).
func checkChatInfo(t *testing.T, r *reply) map[string]any {
	t.Helper()
	obj := r.ok(t)
	want := map[string]reflect.Kind{"chat_id": reflect.String, "state": reflect.String, "ewt": reflect.String,
		"is_new_chat": reflect.Bool, "phone_number": reflect.String}
	for k, kind := range want {
		if v, ok := obj[k]; !ok || v == nil || reflect.TypeOf(v).Kind() != kind {
			t.Fatalf("%s: %s is %#v in %s, want a %s", r.what, k, obj[k], r.body, kind)
		}
	}
	if ewt, _ := obj["ewt"].(string); !secondsPattern.MatchString(ewt) {
		t.Fatalf("%s: ewt %q is not whole seconds", r.what, ewt)
	}
	return obj
}
