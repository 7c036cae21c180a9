package clientweb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/files"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/sqlite"
)

// The tenants and scenario entries every test server holds: the demo of
// config.Demo() plus entries that each exercise one setting.
const (
	demoTenant = config.DemoTenant
	demoApp    = config.DemoApp // auto case, calls, forms, CORS "*"

	closedApp      = "after-hours"      // business hours never open
	closedApp21    = "after-hours-21"   // closed, for Android 2.1.0 apps
	smallFilesApp  = "small-files"      // 1 KiB uploads, PNG only
	noFilesApp     = "no-files"         // uploads disabled
	mobileApp      = "mobile"           // APNs but no FCM, ICE servers, no case, no calls
	retiredApp     = "retired"          // disabled entry
	shopTenant     = "shop.example.com" // a second tenant
	shopApp        = "web"              // CORS for shopOrigin only
	shopOrigin     = "https://www.shop.example.com"
	retiredOrigin  = "https://old.shop.example.com" // allowed only on a disabled entry
	goneTenant     = "gone.example.com"             // a disabled tenant
	testPollLimit  = 200 * time.Millisecond
	androidClient  = "3d0f7e0c-5d0e-4b8a-a4cf-5b1c8e7f9a21"
	iosClient      = "A1B2C3D4-0000-4000-8000-00000000000A"
	anotherClient  = "9b6e1c1e-7d5a-4f7e-8f43-0c2a6d1b7e55"
	pngSignature   = "\x89PNG\r\n\x1a\n"
	pdfSignature   = "%PDF-1.7\n"
	maxJSONBody    = chat.MaxEventsBody
	cacheNoStore   = "no-cache, no-store"
	webChatCookie  = "parley_webchat"
	photoPartyID   = "agent-photo-party"
	defaultAgentID = "agent-1"
)

// testEntries are the entries added to the demo configuration.
func testConfig() *config.File {
	f := config.Demo()
	f.Agents = nil                         // the customer API needs none, and hashing their passwords is slow under -race
	closed := &chat.Hours{TimeZone: "UTC"} // no open day
	f.Tenants[0].Entries = append(f.Tenants[0].Entries,
		chat.Entry{AppID: closedApp, Hours: closed},
		chat.Entry{AppID: closedApp21, Hours: closed, ClosedValue: "unavailable"},
		chat.Entry{AppID: smallFilesApp, Files: chat.FileRules{MaxSize: 1024, AllowedTypes: []string{"image/png"}}},
		chat.Entry{AppID: noFilesApp, Files: chat.FileRules{Disabled: true}},
		chat.Entry{
			AppID: mobileApp,
			Push:  chat.PushConfig{APNs: &chat.APNsConfig{KeyID: "KEY123", TeamID: "TEAM123", Sandbox: true}},
			ICEServers: []chat.ICEServer{
				{URLs: []string{"stun:stun.example.com:3478"}},
				{URLs: []string{"turn:turn.example.com:3478", "turns:turn.example.com:5349"}, Username: "u1", Credential: "secret"},
			},
		},
		chat.Entry{AppID: retiredApp, Disabled: true},
	)
	f.Tenants = append(f.Tenants,
		chat.Tenant{Host: shopTenant, Entries: []chat.Entry{
			{AppID: shopApp, CORSOrigins: []string{shopOrigin}},
			{AppID: demoApp},
			{AppID: "old-web", Disabled: true, CORSOrigins: []string{retiredOrigin}},
		}},
		chat.Tenant{Host: goneTenant, Disabled: true, Entries: []chat.Entry{{AppID: demoApp}}},
	)
	return f
}

// configured holds a migrated database with testConfig applied, made once:
// every server starts from a copy, since applying the configuration costs
// a commit per entry (seconds under -race).
var configured struct {
	once sync.Once
	db   []byte
	err  error
}

func configuredDB(t testing.TB) []byte {
	t.Helper()
	configured.once.Do(func() {
		path := filepath.Join(t.TempDir(), "template.db")
		store, err := sqlite.Open(context.Background(), path)
		if err != nil {
			configured.err = fmt.Errorf("open store: %w", err)
			return
		}
		cfg := testConfig()
		if err = cfg.Validate(); err == nil {
			err = cfg.Apply(context.Background(), store)
		}
		// Closing checkpoints the log into the database file.
		if err = errors.Join(err, store.Close()); err != nil {
			configured.err = fmt.Errorf("configure store: %w", err)
			return
		}
		configured.db, configured.err = os.ReadFile(path)
	})
	if configured.err != nil {
		t.Fatalf("template database: %v", configured.err)
	}
	return configured.db
}

// env is a Parley customer API served over HTTP by a real store, bus and
// disk, as a node runs it.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	h       *clientweb.Handler
	svc     *chat.Service
	store   chat.Store
	dbPath  string // of the SQLite store; "" on another
	blobDir string
	http    *http.Client
}

// newEnv starts a server; opts adjust the handler before it serves.
func newEnv(t *testing.T, opts ...func(*clientweb.Handler)) *env {
	t.Helper()
	return startEnv(t, opts...).in(t)
}

// in returns the env for the test t (a fuzz target's input, a subtest):
// its helpers then fail t.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// startEnv starts a server that lives as long as tb; its helpers need a
// test given with in.
func startEnv(t testing.TB, opts ...func(*clientweb.Handler)) *env {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "parley.db")
	if err := os.WriteFile(dbPath, configuredDB(t), 0o600); err != nil {
		t.Fatalf("copy store: %v", err)
	}
	store, err := sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	e := serveStore(t, store, opts...)
	e.dbPath = dbPath
	return e
}

// serveStore starts a server on a store holding testConfig; it lives as
// long as tb.
func serveStore(t testing.TB, store chat.Store, opts ...func(*clientweb.Handler)) *env {
	t.Helper()
	blobDir := filepath.Join(t.TempDir(), "files")
	blobs, err := files.OpenDisk(blobDir)
	if err != nil {
		t.Fatalf("open files: %v", err)
	}
	t.Cleanup(func() { blobs.Close() })
	log := slog.New(slog.DiscardHandler)
	svc := chat.NewService(store, memory.New(), log)
	h := clientweb.New(svc, blobs, log)
	h.Version = "parley test"
	h.PollTimeout = testPollLimit
	for _, o := range opts {
		o(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // runs first: pending polls answer before the server closes
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = 20 * time.Second
	return &env{srv: srv, h: h, svc: svc, store: store, blobDir: blobDir, http: hc}
}

// newRequest builds a request for target, a path (with query) on the server.
func (e *env) newRequest(method, target string, body []byte) *http.Request {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+target, rd)
	if err != nil {
		e.t.Fatalf("new request %s %s: %v", method, target, err)
	}
	return r
}

// do sends r and reads the whole answer.
func (e *env) do(r *http.Request) *reply {
	e.t.Helper()
	resp, err := e.http.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read answer: %v", r.Method, r.URL, err)
	}
	return &reply{what: r.Method + " " + r.URL.RequestURI(), status: resp.StatusCode, header: resp.Header, body: body, cookies: resp.Cookies()}
}

// serve runs r through the handler in the test's process, without a
// connection, and returns its answer.
func (e *env) serve(r *http.Request) *reply {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return &reply{what: r.Method + " " + r.URL.RequestURI(), status: w.Code, header: w.Header(), body: w.Body.Bytes(), cookies: w.Result().Cookies()}
}

// customer is one app installation calling the API as the SDKs do.
type customer struct {
	e        *env
	tenant   string // the tenantUrl query value
	appID    string
	clientID string
	header   http.Header // added to every request
}

// customer returns a client of the demo tenant.
func (e *env) customer(appID, clientID string) *customer {
	return &customer{e: e, tenant: demoTenant, appID: appID, clientID: clientID, header: http.Header{}}
}

// authorization is the header the SDKs send.
func authorization(appID, clientID string) string {
	return clientweb.Scheme + " appId=" + appID + ", clientId=" + clientID
}

// request builds an API request; path is relative to the prefix and may
// carry a query.
func (c *customer) request(method, path string, body []byte) *http.Request {
	c.e.t.Helper()
	u, err := url.Parse(clientweb.Prefix + path)
	if err != nil {
		c.e.t.Fatalf("parse %q: %v", path, err)
	}
	q := u.Query()
	q.Set("tenantUrl", c.tenant)
	q.Set("nonce", strconv.FormatInt(time.Now().UnixMilli(), 10)) // Android adds it; it must be ignored
	u.RawQuery = q.Encode()
	r := c.e.newRequest(method, u.String(), body)
	r.Header.Set("Authorization", authorization(c.appID, c.clientID))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("Cache-Control", "no-cache")
	r.Header.Set("UserAgent", "MobileClient")
	for k, vs := range c.header {
		r.Header[k] = vs
	}
	return r
}

// call sends one API request with a JSON body ("" for none).
func (c *customer) call(method, path, body string) *reply {
	c.e.t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return c.e.do(c.request(method, path, b))
}

// requestChat starts (or resumes) a chat and returns its id.
func (c *customer) requestChat() string {
	c.e.t.Helper()
	obj := c.call("POST", "chats", `{"parameters":{}}`).ok(c.e.t)
	id, _ := obj["chat_id"].(string)
	if id == "" {
		c.e.t.Fatalf("request chat: no chat_id in %v", obj)
	}
	return id
}

// send posts events and wants {}.
func (c *customer) send(chatID string, events ...string) {
	c.e.t.Helper()
	body := `{"events":[` + strings.Join(events, ",") + `]}`
	if obj := c.call("POST", "chats/"+chatID+"/events", body).ok(c.e.t); len(obj) != 0 {
		c.e.t.Errorf("send events: answer %v, want {}", obj)
	}
}

// poll polls once and returns the events it was given.
func (c *customer) poll(chatID string) []map[string]any {
	c.e.t.Helper()
	return wireEvents(c.e.t, c.call("GET", "chats/"+chatID+"/events", "").ok(c.e.t))
}

// history returns the chat's history.
func (c *customer) history(chatID string) []map[string]any {
	c.e.t.Helper()
	return wireEvents(c.e.t, c.call("GET", "chats/"+chatID+"/history", "").ok(c.e.t))
}

// startChat requests a chat and takes its first events off the poll queue.
func (c *customer) startChat() string {
	c.e.t.Helper()
	id := c.requestChat()
	if evs := c.poll(id); len(evs) == 0 {
		c.e.t.Fatalf("first poll of a new chat gave no events")
	}
	return id
}

// reply is an answer as the client received it.
type reply struct {
	what    string
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

// ok checks that the answer is a success as §2 defines it (200 exactly, a
// JSON object, not cacheable) and returns the object.
func (r *reply) ok(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d %s, want 200", r.what, r.status, r.body)
	}
	if got := r.header.Get("Cache-Control"); got != cacheNoStore {
		t.Errorf("%s: Cache-Control %q, want %q", r.what, got, cacheNoStore)
	}
	return r.object(t)
}

// object decodes the body, which must be a JSON object; numbers stay
// json.Number so that their exact form can be checked.
func (r *reply) object(t *testing.T) map[string]any {
	t.Helper()
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		t.Fatalf("%s: body %q is not a JSON object (%v)", r.what, r.body, err)
	}
	if dec.More() {
		t.Fatalf("%s: body %q has data after the object", r.what, r.body)
	}
	return obj
}

// fails checks that the answer is the error of §2 with this status and code.
func (r *reply) fails(t *testing.T, status int, code chat.Code) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (body %s)", r.what, r.status, status, r.body)
	}
	obj := r.object(t)
	got, isString := obj["error_code"].(string)
	if !isString {
		t.Errorf("%s: error_code %#v is not a JSON string", r.what, obj["error_code"])
	}
	if got != string(code) {
		t.Errorf("%s: error_code %q, want %q (message %v)", r.what, got, code, obj["error_message"])
	}
	if msg, _ := obj["error_message"].(string); msg == "" {
		t.Errorf("%s: error_message %#v, want a text", r.what, obj["error_message"])
	}
}

// wireEvents returns the "events" array of an answer, each checked against
// the value types of §2: string timestamps of Unix seconds, integer seq.
func wireEvents(t *testing.T, obj map[string]any) []map[string]any {
	t.Helper()
	raw, ok := obj["events"].([]any)
	if !ok {
		t.Fatalf("events: %#v, want an array", obj["events"])
	}
	out := make([]map[string]any, 0, len(raw))
	for i, v := range raw {
		ev, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("events[%d]: %#v, want an object", i, v)
		}
		checkWireEvent(t, ev)
		out = append(out, ev)
	}
	return out
}

func checkWireEvent(t *testing.T, ev map[string]any) {
	t.Helper()
	if typ, _ := ev["event"].(string); !chat.Type(typ).CustomerVisible() {
		t.Errorf("event %v: type %q may not be sent to customers", ev, ev["event"])
	}
	ts, ok := ev["timestamp"].(string)
	if !ok {
		t.Errorf("event %v: timestamp %#v is not a string", ev["event"], ev["timestamp"])
	} else if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || sec < time.Now().Add(-time.Hour).Unix() || sec > time.Now().Add(time.Minute).Unix() {
		t.Errorf("event %v: timestamp %q is not the Unix seconds of now", ev["event"], ts)
	}
	seq, ok := ev["seq"].(json.Number)
	if !ok {
		t.Errorf("event %v: seq %#v is not a number", ev["event"], ev["seq"])
	} else if n, err := seq.Int64(); err != nil || n <= 0 {
		t.Errorf("event %v: seq %s is not a positive integer", ev["event"], seq)
	}
	for k, v := range ev {
		if v == nil && !(k == "url" && ev["event"] == string(chat.TypeLocation)) {
			t.Errorf("event %v: %s is null", ev["event"], k)
		}
	}
}

// types lists the event types of evs in order.
func types(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i], _ = ev["event"].(string)
	}
	return out
}

// seqOf returns the seq of an event checked by wireEvents.
func seqOf(t *testing.T, ev map[string]any) int64 {
	t.Helper()
	n, err := ev["seq"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("seq of %v: %v", ev, err)
	}
	return n
}

// agentSays appends a message of an agent to the chat, as the agent side
// will through the service.
func (e *env) agentSays(chatID, text string) {
	e.t.Helper()
	e.agentSends(chatID, chat.Event{Type: chat.TypeMessage, PartyID: defaultAgentID, MsgID: chat.NewID(),
		Payload: chat.Payload{Msg: text, MsgText: text}})
}

// agentSends appends events of another party, stamped with the server clock.
func (e *env) agentSends(chatID string, evs ...chat.Event) {
	e.t.Helper()
	for i := range evs {
		evs[i].ChatID, evs[i].Time = chatID, time.Now()
	}
	if _, err := e.svc.Append(e.t.Context(), chatID, evs, chat.SessionUpdate{}); err != nil {
		e.t.Fatalf("append agent events: %v", err)
	}
}

// session reads a chat's session from the store.
func (e *env) session(chatID string) chat.Session {
	e.t.Helper()
	s, err := e.store.Session(e.t.Context(), chatID)
	if err != nil {
		e.t.Fatalf("read session %s: %v", chatID, err)
	}
	return s
}

// storedFiles counts the files (complete or partial) in the blob directory.
func (e *env) storedFiles() int {
	e.t.Helper()
	n := 0
	err := filepath.WalkDir(e.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("walk files: %v", err)
	}
	return n
}

// waitFor waits until cond holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

// pollAsync starts a poll and returns a channel that receives its reply.
func (c *customer) pollAsync(chatID string) <-chan *reply {
	c.e.t.Helper()
	r := c.request("GET", "chats/"+chatID+"/events", nil)
	done := make(chan *reply, 1)
	go func() {
		resp, err := c.e.http.Do(r)
		if err != nil {
			done <- &reply{what: "poll", status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		done <- &reply{what: "GET " + r.URL.RequestURI(), status: resp.StatusCode, header: resp.Header, body: body}
	}()
	return done
}

// await returns the reply of an asynchronous request, failing after limit.
func await(t *testing.T, ch <-chan *reply, limit time.Duration) *reply {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(limit):
		t.Fatalf("no answer within %v", limit)
		return nil
	}
}
