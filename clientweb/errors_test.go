package clientweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/sqlite"
)

// Every error is a non-200 status with {"error_code":"<digits>",
// "error_message":…}, the code a JSON string (§2).

func TestTenantAndAuthorizationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := authorization(demoApp, androidClient)
	tests := []struct {
		name   string
		target string // after the prefix
		host   string // Host header; "" leaves the server's address
		auth   string
		status int
		code   chat.Code
	}{
		{"a request with no tenantUrl from an unknown host is refused", "version", "", good, 403, chat.CodeTenant},
		{"an unknown tenantUrl is refused", "version?tenantUrl=nobody.example.com", "", good, 403, chat.CodeTenant},
		{"an unknown Host is refused when tenantUrl is absent", "version", "nobody.example.com", good, 403, chat.CodeTenant},
		{"a disabled tenant is refused", "version?tenantUrl=" + goneTenant, "", good, 403, chat.CodeTenant},
		{"a request without Authorization is refused", "version?tenantUrl=" + demoTenant, "", "", 401, chat.CodeNoAuth},
		{"a blank Authorization is refused as missing", "version?tenantUrl=" + demoTenant, "", "   ", 401, chat.CodeNoAuth},
		{"a parameter without a value is malformed", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + " appId", 401, chat.CodeAuthMalformed},
		{"an unterminated quote is malformed", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + ` appId="demo-chat, clientId=x`, 401, chat.CodeAuthMalformed},
		{"a bare value with a space is malformed", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + ` appId=demo chat, clientId=x`, 401, chat.CodeAuthMalformed},
		{"another scheme is refused", "version?tenantUrl=" + demoTenant, "", "Bearer abc.def", 401, chat.CodeAuthScheme},
		{"Basic credentials are refused", "version?tenantUrl=" + demoTenant, "", "Basic dXNlcjpwYXNz", 401, chat.CodeAuthScheme},
		{"a missing appId is refused", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + " clientId=" + androidClient, 401, chat.CodeNoAppID},
		{"an empty appId is refused", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + ` appId="", clientId=x`, 401, chat.CodeNoAppID},
		{"a missing clientId is refused", "version?tenantUrl=" + demoTenant, "", clientweb.Scheme + " appId=" + demoApp, 401, chat.CodeNoClientID},
		{"an unknown appId is refused", "version?tenantUrl=" + demoTenant, "", authorization("no-such-app", androidClient), 403, chat.CodeUnknownApp},
		{"a disabled entry is refused", "version?tenantUrl=" + demoTenant, "", authorization(retiredApp, androidClient), 403, chat.CodeUnknownApp},
		{"a disabled entry is refused its live chat", "chats/active?tenantUrl=" + demoTenant, "", authorization(retiredApp, androidClient), 403, chat.CodeUnknownApp},
		{"an unknown appId is refused availability", "availability?tenantUrl=" + demoTenant, "", authorization("no-such-app", androidClient), 403, chat.CodeUnknownApp},
		{"an appId of another tenant is refused", "version?tenantUrl=" + shopTenant, "", authorization(mobileApp, androidClient), 403, chat.CodeUnknownApp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.newRequest("GET", clientweb.Prefix+tt.target, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			e.do(r).fails(t, tt.status, tt.code)
		})
	}
}

func TestRequestWithoutAnyTenantIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := httptest.NewRequest("GET", clientweb.Prefix+"version", nil)
	r.Host = ""
	r.Header.Set("Authorization", authorization(demoApp, androidClient))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	rep := &reply{what: "GET version without a Host", status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	rep.fails(t, http.StatusForbidden, chat.CodeTenant)
}

func TestEveryMethodAuthenticates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	methods := []struct{ method, path string }{
		{"GET", "version"}, {"GET", "availability"}, {"GET", "iceservers"}, {"GET", "configuration"},
		{"GET", "parameters"}, {"POST", "chats"}, {"GET", "chats/active"},
		{"POST", "chats/x/notifications"}, {"POST", "chats/x/events"}, {"GET", "chats/x/events"},
		{"GET", "chats/x/history"}, {"GET", "chats/x/casehistory"}, {"GET", "casehistory"},
		{"POST", "chats/x/closecase"}, {"POST", "closecase"}, {"POST", "files"},
	}
	for _, m := range methods {
		t.Run(m.method+" "+m.path+" without Authorization is 401/2000", func(t *testing.T) {
			r := e.newRequest(m.method, clientweb.Prefix+m.path+"?tenantUrl="+demoTenant, []byte(`{}`))
			e.do(r).fails(t, http.StatusUnauthorized, chat.CodeNoAuth)
		})
	}
}

func TestClosedEntryRefusesChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(closedApp, androidClient)
	c.call("POST", "chats", `{"parameters":{}}`).fails(t, http.StatusServiceUnavailable, chat.CodeUnavailable)
	// Nothing was created: the client has no chat.
	c.call("GET", "chats/active", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
}

func TestInvalidBodiesAreRefusedWholeAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	c.send(id, `{"event":"chat_session_message","msg_id":"m1","msg":"hello"}`)
	before := c.history(id)
	good := `{"event":"chat_session_message","msg_id":"m2","msg":"stored only if the batch is valid"}`
	tests := []struct {
		name string
		body string
	}{
		{"malformed JSON", `{"events":[`},
		{"a body that is not an object", `[{"event":"chat_session_message","msg":"hi"}]`},
		{"an empty body", ``},
		{"a body without events", `{}`},
		{"events that are not an array", `{"events":{"event":"chat_session_typing"}}`},
		{"an event without a type", `{"events":[` + good + `,{"msg":"no type"}]}`},
		{"an unknown event type", `{"events":[` + good + `,{"event":"chat_session_selfie"}]}`},
		{"a server event type", `{"events":[` + good + `,{"event":"chat_session_ended"}]}`},
		{"a message without msg", `{"events":[` + good + `,{"event":"chat_session_message","msg_id":"m3"}]}`},
		{"a message with an empty msg", `{"events":[` + good + `,{"event":"chat_session_message","msg_id":"m3","msg":""}]}`},
		{"a message whose msg is a number", `{"events":[` + good + `,{"event":"chat_session_message","msg_id":"m3","msg":42}]}`},
		{"a msg_id that is an object", `{"events":[{"event":"chat_session_message","msg_id":{},"msg":"x"}]}`},
		{"a receipt without ref_msg_id", `{"events":[` + good + `,{"event":"chat_session_message_read"}]}`},
		{"a delivery receipt without ref_msg_id", `{"events":[` + good + `,{"event":"chat_session_message_delivered","party_id":"x"}]}`},
		{"a file without file_id", `{"events":[` + good + `,{"event":"chat_session_file","file_name":"a.png","file_type":"image"}]}`},
		{"a file nobody uploaded", `{"events":[` + good + `,{"event":"chat_session_file","msg_id":"f1","file_id":"no-such-file","file_name":"a.png"}]}`},
		{"signaling without data", `{"events":[` + good + `,{"event":"chat_session_signaling","destination_party_id":"a"}]}`},
		{"signaling of an unknown type", `{"events":[` + good + `,{"event":"chat_session_signaling","data":{"type":"HANG_AROUND"}}]}`},
		{"a location without latitude", `{"events":[` + good + `,{"event":"chat_session_location","longitude":"13.4"}]}`},
		{"a location off the globe", `{"events":[` + good + `,{"event":"chat_session_location","latitude":"91","longitude":"13.4"}]}`},
		{"form data without data", `{"events":[` + good + `,{"event":"chat_session_form_data","form_request_id":"7","form_name":"survey"}]}`},
		{"a typing event that is a string", `{"events":["chat_session_typing"]}`},
	}
	for _, tt := range tests {
		t.Run("a batch with "+tt.name+" is 400/5003", func(t *testing.T) {
			c.call("POST", "chats/"+id+"/events", tt.body).fails(t, http.StatusBadRequest, chat.CodeInvalid)
		})
	}
	if after := c.history(id); len(after) != len(before) {
		t.Errorf("history has %d events after refused batches, want the %d it had: %v", len(after), len(before), types(after))
	}
	if evs := c.poll(id); len(evs) != 0 {
		t.Errorf("refused batches produced events for the client: %v", types(evs))
	}
}

func TestOtherInvalidRequestsAre400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	tests := []struct {
		name, method, path, body string
	}{
		{"Request Chat with malformed JSON", "POST", "chats", `{"parameters":`},
		{"Request Chat with parameters that are not an object", "POST", "chats", `{"parameters":[1,2]}`},
		{"Request Chat with a numeric phone_number", "POST", "chats", `{"phone_number":4930123,"parameters":{}}`},
		{"a poll with a non-numeric after", "GET", "chats/" + id + "/events?after=abc", ""},
		{"a poll with a negative after", "GET", "chats/" + id + "/events?after=-1", ""},
		{"a subscription that is not an object", "POST", "chats/" + id + "/notifications", `["token"]`},
		{"a subscription with a numeric token", "POST", "chats/" + id + "/notifications", `{"android_firebase_device_token":12}`},
		{"an upload that is not multipart", "POST", "files", `{"file":"aGVsbG8="}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is 400/5003", func(t *testing.T) {
			c.call(tt.method, tt.path, tt.body).fails(t, http.StatusBadRequest, chat.CodeInvalid)
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	frame := `{"events":[{"event":"chat_session_message","msg_id":"big","msg":""}]}`
	// sized returns a Send Events body of exactly n bytes.
	sized := func(n int, msgID string) string {
		b := strings.Replace(frame, `"msg":""`, `"msg":"`+strings.Repeat("a", n-len(frame)-len(msgID)+len("big"))+`"`, 1)
		return strings.Replace(b, `"big"`, `"`+msgID+`"`, 1)
	}
	t.Run("a body over the default 1 MiB is 400/5003 and stores nothing", func(t *testing.T) {
		e := newEnv(t)
		c := e.customer(demoApp, androidClient)
		id := c.startChat()
		c.call("POST", "chats/"+id+"/events", sized(maxJSONBody+1, "over")).fails(t, http.StatusBadRequest, chat.CodeInvalid)
		if h := c.history(id); len(h) != 2 {
			t.Errorf("history after an oversized body = %v, want only the first events", types(h))
		}
	})
	t.Run("a body of exactly the limit is stored whole", func(t *testing.T) {
		// A smaller limit keeps the test quick under -race; the boundary is
		// the same code.
		const limit = 64 << 10
		e := newEnv(t, func(h *clientweb.Handler) { h.MaxBody = limit })
		c := e.customer(demoApp, androidClient)
		id := c.startChat()
		c.call("POST", "chats/"+id+"/events", sized(limit+1, "over")).fails(t, http.StatusBadRequest, chat.CodeInvalid)
		body := sized(limit, "exact")
		if len(body) != limit {
			t.Fatalf("test body is %d bytes, want %d", len(body), limit)
		}
		c.call("POST", "chats/"+id+"/events", body).ok(t)
		h := c.history(id)
		if last := h[len(h)-1]; last["msg_id"] != "exact" || len(h) != 3 {
			t.Errorf("history = %v, want the at-limit message last and the oversized one absent", types(h))
		}
	})
}

func TestChatNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.customer(demoApp, androidClient)
	id := owner.startChat()
	stranger := e.customer(demoApp, anotherClient)
	otherEntry := e.customer(mobileApp, androidClient)
	otherTenant := &customer{e: e, tenant: shopTenant, appID: demoApp, clientID: androidClient}

	paths := []struct{ method, path, body string }{
		{"POST", "chats/" + id + "/events", `{"events":[{"event":"chat_session_typing"}]}`},
		{"GET", "chats/" + id + "/events", ""},
		{"GET", "chats/" + id + "/history", ""},
		{"GET", "chats/" + id + "/casehistory", ""},
		{"POST", "chats/" + id + "/closecase", ""},
		{"POST", "chats/" + id + "/notifications", `{}`},
	}
	for _, who := range []struct {
		name string
		c    *customer
	}{
		{"another client of the entry", stranger},
		{"the same client on another entry", otherEntry},
		{"the same app and client on another tenant", otherTenant},
	} {
		for _, p := range paths {
			t.Run(p.method+" "+strings.Replace(p.path, id, "{chat}", 1)+" by "+who.name+" is 404/5005", func(t *testing.T) {
				who.c.call(p.method, p.path, p.body).fails(t, http.StatusNotFound, chat.CodeChatNotFound)
			})
		}
	}
	for _, p := range paths {
		unknown := strings.Replace(p.path, id, chat.NewID(), 1)
		t.Run(p.method+" "+strings.Replace(p.path, id, "{chat}", 1)+" of an unknown chat is 404/5005", func(t *testing.T) {
			owner.call(p.method, unknown, p.body).fails(t, http.StatusNotFound, chat.CodeChatNotFound)
		})
	}
	t.Run("the live-chat methods of a client without a chat are 404/5005", func(t *testing.T) {
		stranger.call("GET", "chats/active", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
		stranger.call("GET", "casehistory", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
		stranger.call("POST", "closecase", "").fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	})
	// The refused requests changed nothing for the owner.
	if evs := owner.poll(id); len(evs) != 0 {
		t.Errorf("strangers' requests produced events: %v", types(evs))
	}
	if s := e.session(id); !s.Live() || s.Push.Kind != "" {
		t.Errorf("strangers' requests changed the session: live %v, push %q", s.Live(), s.Push.Kind)
	}
}

func TestEndedChatRefusesSends(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	c.send(id, `{"event":"chat_session_end"}`)
	c.call("POST", "chats/"+id+"/events", `{"events":[{"event":"chat_session_message","msg_id":"late","msg":"too late"}]}`).
		fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	c.call("POST", "chats/"+id+"/notifications", `{}`).fails(t, http.StatusNotFound, chat.CodeChatNotFound)
	for _, ev := range c.history(id) {
		if ev["msg_id"] == "late" {
			t.Errorf("a message sent to an ended chat was stored")
		}
	}
}

func TestCaseErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(mobileApp, androidClient) // entry without automatic cases
	id := c.startChat()
	for _, p := range []struct{ method, path string }{
		{"GET", "chats/" + id + "/casehistory"}, {"GET", "casehistory"},
		{"POST", "chats/" + id + "/closecase"}, {"POST", "closecase"},
	} {
		t.Run(p.method+" "+strings.Replace(p.path, id, "{chat}", 1)+" before a case is set is 406/5601", func(t *testing.T) {
			c.call(p.method, p.path, "").fails(t, http.StatusNotAcceptable, chat.CodeNoCase)
		})
	}
}

func TestPushErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mobile := e.customer(mobileApp, iosClient)
	mid := mobile.startChat()
	demo := e.customer(demoApp, iosClient)
	did := demo.startChat()
	apns := `"ios_apns_device_token":"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90","ios_app_bundle_id":"com.example.app"`
	tests := []struct {
		name   string
		c      *customer
		chatID string
		body   string
		status int
		code   chat.Code
	}{
		{"two kinds of token at once are 406/5603", mobile, mid, `{` + apns + `,"ios_firebase_device_token":"fcm-token"}`, 406, chat.CodePushUnsupported},
		{"an Android Firebase token on an entry without FCM is 406/5603", mobile, mid, `{"android_firebase_device_token":"fcm-token"}`, 406, chat.CodePushUnsupported},
		{"an iOS Firebase token on an entry without FCM is 406/5603", mobile, mid, `{"ios_firebase_device_token":"fcm-token"}`, 406, chat.CodePushUnsupported},
		{"an APNs token on an entry without push is 406/5603", demo, did, `{` + apns + `}`, 406, chat.CodePushUnsupported},
		{"an APNs token that is not hex is 400/5003", mobile, mid, `{"ios_apns_device_token":"not-hex","ios_app_bundle_id":"com.example.app"}`, 400, chat.CodeInvalid},
		{"an APNs token without a bundle id is 400/5003", mobile, mid, `{"ios_apns_device_token":"a1b2c3"}`, 400, chat.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.call("POST", "chats/"+tt.chatID+"/notifications", tt.body).fails(t, tt.status, tt.code)
			if s := e.session(tt.chatID); s.Push.Kind != "" {
				t.Errorf("a refused subscription was stored: %+v", s.Push)
			}
		})
	}
}

func TestUnknownMethodsAreErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	for _, p := range []struct{ method, path string }{
		{"GET", "nothing-here"}, {"DELETE", "chats/x"}, {"PUT", "chats"},
	} {
		t.Run(p.method+" "+p.path+" answers a JSON error", func(t *testing.T) {
			r := c.call(p.method, p.path, "")
			if r.status == http.StatusOK {
				t.Fatalf("status 200, want an error")
			}
			r.fails(t, r.status, chat.CodeUnspecified)
		})
	}
}

// faultyStore fails the reads of sessions with a chosen error, to provoke
// the codes of a store in trouble.
type faultyStore struct {
	chat.Store
	fault atomic.Pointer[error]
}

func (s *faultyStore) Session(ctx context.Context, id string) (chat.Session, error) {
	if err := s.fault.Load(); err != nil {
		return chat.Session{}, *err
	}
	return s.Store.Session(ctx, id)
}

func TestStoreTimeoutIs504(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	fs := &faultyStore{Store: e.store}
	e.svc.Store = fs // before any concurrent request: the test's calls are sequential
	err := fmt.Errorf("read session: %w", context.DeadlineExceeded)
	fs.fault.Store(&err)
	c.call("GET", "chats/"+id+"/history", "").fails(t, http.StatusGatewayTimeout, chat.CodeTimeout)
	fs.fault.Store(nil)
	c.history(id)
}

// stoppedWrites is the store of a node shutting down: reads still answer
// but writes go to a handle on the same database that is already closed.
type stoppedWrites struct {
	chat.Store
	closed *sqlite.Store
}

func (s *stoppedWrites) CreateSession(ctx context.Context, sess chat.Session, first []chat.Event) ([]chat.Event, error) {
	return s.closed.CreateSession(ctx, sess, first)
}

func (s *stoppedWrites) PutCase(ctx context.Context, c chat.Case) error {
	return s.closed.PutCase(ctx, c)
}

func (s *stoppedWrites) Append(ctx context.Context, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	return s.closed.Append(ctx, chatID, evs, u)
}

func (s *stoppedWrites) SetPush(ctx context.Context, chatID string, p chat.PushToken) error {
	return s.closed.SetPush(ctx, chatID, p)
}

func (s *stoppedWrites) CloseCase(ctx context.Context, id string) error {
	return s.closed.CloseCase(ctx, id)
}

func (s *stoppedWrites) PutFile(ctx context.Context, f chat.File) error {
	return s.closed.PutFile(ctx, f)
}

func TestWritesToAClosedStoreAre503Disconnected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	closed, err := sqlite.Open(t.Context(), e.dbPath)
	if err != nil {
		t.Fatalf("open second handle: %v", err)
	}
	if err := closed.Close(); err != nil {
		t.Fatalf("close second handle: %v", err)
	}
	e.svc.Store = &stoppedWrites{Store: e.store, closed: closed} // the test's calls are sequential
	png, ct := multipartBody(`form-data; name="file"; filename="p.png"`, "image/png", pngBytes(100), nil)
	tests := []struct {
		name string
		do   func() *reply
	}{
		{"Request Chat", func() *reply { return e.customer(demoApp, anotherClient).call("POST", "chats", `{}`) }},
		{"Send Events", func() *reply {
			return c.call("POST", "chats/"+id+"/events", `{"events":[{"event":"chat_session_typing"}]}`)
		}},
		{"Mobile Notification Subscription", func() *reply { return c.call("POST", "chats/"+id+"/notifications", `{}`) }},
		{"Close Case", func() *reply { return c.call("POST", "chats/"+id+"/closecase", ``) }},
		{"Upload File", func() *reply { return c.upload(png, ct) }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" answers 503/5004 at once", func(t *testing.T) {
			// A write queued as the store closes may race its writer's
			// exit: every attempt must answer, none may hang.
			for range 10 {
				tt.do().fails(t, http.StatusServiceUnavailable, chat.CodeDisconnected)
			}
		})
	}
}

func TestAClosedStoreAnswersErrorsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.customer(demoApp, androidClient)
	id := c.startChat()
	if err := e.store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	for _, tt := range []struct{ name, method, path, body string }{
		{"Get Version", "GET", "version", ""},
		{"Request Chat", "POST", "chats", `{}`},
		{"Send Events", "POST", "chats/" + id + "/events", `{"events":[{"event":"chat_session_typing"}]}`},
		{"Get New Chat Events", "GET", "chats/" + id + "/events", ""},
	} {
		t.Run(tt.name+" answers a server error", func(t *testing.T) {
			r := c.call(tt.method, tt.path, tt.body)
			code, _ := r.object(t)["error_code"].(string)
			if r.status < 500 || code == "" {
				t.Errorf("status %d body %s, want a 5xx error", r.status, r.body)
			}
		})
	}
}
