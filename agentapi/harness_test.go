package agentapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/files"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/rtc"
	"github.com/parley-chat/parley/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// The tenants, scenario entries and agents every test server holds.
const (
	tenant      = "acme.example.com"
	otherTenant = "other.example.com"
	webApp      = "web"   // calls and forms on, a STUN server and an external TURN relay
	plainApp    = "plain" // no calls, no forms

	alice  = "alice" // agent, capacity 2
	bob    = "bob"   // agent, capacity 2
	root   = "root"  // administrator
	carol  = "carol" // disabled agent
	olga   = "olga"  // administrator of the other tenant
	secret = "correct horse battery staple"

	// waitLimit bounds every wait for something asynchronous.
	waitLimit = 5 * time.Second
)

// fixtureHash is the password hash of every configured agent, at bcrypt's
// lowest cost: logins are compared against it, and the race detector makes
// the default cost take a second.
var fixtureHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

func testConfig() *config.File {
	agent := func(tenant, username, role string, disabled bool) config.AgentConfig {
		return config.AgentConfig{
			Tenant: tenant, Username: username, PasswordHash: fixtureHash(),
			FirstName: strings.ToUpper(username[:1]) + username[1:], LastName: "Tester",
			Capacity: 2, Role: role, Disabled: disabled,
		}
	}
	return &config.File{
		Tenants: []chat.Tenant{
			{Host: tenant, Entries: []chat.Entry{
				{AppID: webApp, Calls: true, Forms: true,
					ICEServers: []chat.ICEServer{{URLs: []string{stunURL}}},
					TURN:       &chat.TURNConfig{URLs: []string{turnURL}, Secret: turnSecret, TTL: chat.Duration(time.Hour)}},
				{AppID: plainApp},
			}},
			{Host: otherTenant, Entries: []chat.Entry{{AppID: webApp, Calls: true, Forms: true, TURN: &chat.TURNConfig{Embedded: true}}}},
		},
		Agents: []config.AgentConfig{
			agent(tenant, alice, chat.RoleAgent, false),
			agent(tenant, bob, chat.RoleAgent, false),
			agent(tenant, root, chat.RoleAdmin, false),
			agent(tenant, carol, chat.RoleAgent, true),
			agent(otherTenant, olga, chat.RoleAdmin, false),
		},
	}
}

// storeTemplate is a store file holding the schema and the test
// configuration, made once: every env starts from a copy of it, which spares
// each test the migrations and the configuration's writes.
var storeTemplate []byte

func TestMain(m *testing.M) {
	var err error
	if storeTemplate, err = makeStoreTemplate(); err != nil {
		fmt.Fprintln(os.Stderr, "agentapi tests:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func makeStoreTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "agentapi-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "parley.db")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	cfg := testConfig()
	err = cfg.Validate()
	if err == nil {
		err = cfg.Apply(ctx, store)
	}
	if cerr := store.Close(); err == nil {
		err = cerr // closing the last connection checkpoints the WAL into the file
	}
	if err != nil {
		return nil, fmt.Errorf("apply the test configuration: %w", err)
	}
	return os.ReadFile(path)
}

// clock is the server clock: the wall clock plus an offset a test may move
// forward (to expire logins) without waiting.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// env is the agent API and the customer API of one node served over HTTP,
// on a real store, bus, disk and router.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	store   *sqlite.Store
	svc     *chat.Service
	router  *routing.Router
	api     *agentapi.Handler
	blobs   *files.Disk
	blobDir string
	clock   *clock
	http    *http.Client
	nextID  *atomic.Int64 // numbers clients and message ids
}

type options struct {
	offerTimeout time.Duration
	embeddedTURN *rtc.Relay
	relook       time.Duration
	routingDown  *routingSwitch
}

type option func(*options)

// offerTimeout sets how long agents have to accept an offer (default a
// minute, longer than any test).
func offerTimeout(d time.Duration) option { return func(o *options) { o.offerTimeout = d } }

// embeddedTURN is the relay of an embedded TURN server, as a node running
// one gives both APIs.
func embeddedTURN(r *rtc.Relay) option { return func(o *options) { o.embeddedTURN = r } }

// relook sets how often streams look again at their chats unwoken (default
// the handler's).
func relook(d time.Duration) option { return func(o *options) { o.relook = d } }

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	return startEnv(t, opts...).in(t)
}

// startEnv starts an env that lives as long as tb; its helpers need a test
// given with in.
func startEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{offerTimeout: time.Minute}
	for _, fn := range opts {
		fn(&o)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "parley.db")
	if err := os.WriteFile(dbPath, storeTemplate, 0o600); err != nil {
		t.Fatalf("copy the store template: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	blobDir := filepath.Join(dir, "files")
	blobs, err := files.OpenDisk(blobDir)
	if err != nil {
		t.Fatalf("open files: %v", err)
	}

	log := slog.New(slog.DiscardHandler)
	clk := &clock{}
	svc := chat.NewService(store, memory.New(), log)
	svc.Now = clk.Now
	router := routing.New(svc, log, routing.Options{OfferTimeout: o.offerTimeout})
	var ri routing.Interface = routing.Local(router)
	if o.routingDown != nil {
		ri = &unreachable{Interface: ri, sw: o.routingDown}
	}
	api := agentapi.New(svc, ri, blobs, log)
	api.EmbeddedTURN = o.embeddedTURN
	if o.relook > 0 {
		api.Relook = o.relook
	}
	customers := clientweb.New(svc, blobs, log)
	customers.EmbeddedTURN = o.embeddedTURN
	customers.PollTimeout = 300 * time.Millisecond
	mux := http.NewServeMux()
	mux.Handle("/clientweb/", customers)
	mux.Handle("/agent/api/", api)
	srv := httptest.NewServer(mux)

	// As the server does: routing knows the store's chats before anyone
	// logs in, then runs its timers.
	if err := router.Restore(ctx); err != nil {
		t.Fatalf("restore routing: %v", err)
	}
	routed := make(chan error, 1)
	go func() { routed <- router.Run(ctx) }()

	t.Cleanup(func() {
		api.Close()
		customers.Close()
		srv.Close()
		cancel()
		if err := <-routed; err != nil {
			t.Errorf("router.Run: %v", err)
		}
		blobs.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	hc := srv.Client()
	hc.Timeout = 20 * time.Second
	return &env{srv: srv, store: store, svc: svc, router: router, api: api, blobs: blobs, blobDir: blobDir, clock: clk, http: hc, nextID: new(atomic.Int64)}
}

// in returns the env for the subtest t: its helpers then fail t, not the
// test that made the env.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// serve runs a request through the server's handler in the test's
// process, without a connection, and returns its answer.
func (e *env) serve(method, target string, header http.Header, body []byte) *reply {
	e.t.Helper()
	r := httptest.NewRequestWithContext(e.t.Context(), method, target, bytes.NewReader(body))
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, r)
	return &reply{what: method + " " + target, status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// reply is an answer as a client received it.
type reply struct {
	what   string
	status int
	header http.Header
	body   []byte
}

// do sends a request to a path on the server (with query) and reads the
// whole answer.
func (e *env) do(method, target string, header http.Header, body []byte) *reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+target, rd)
	if err != nil {
		e.t.Fatalf("new request %s %s: %v", method, target, err)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	resp, err := e.http.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read answer: %v", method, target, err)
	}
	return &reply{what: method + " " + target, status: resp.StatusCode, header: resp.Header, body: got}
}

// ok checks that the answer is 200 with an uncacheable JSON object and
// decodes it into v (a map or a struct).
func (r *reply) ok(t *testing.T, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d %s, want 200", r.what, r.status, r.body)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", r.what, got)
	}
	r.decode(t, v)
}

// object is ok for an answer read as a map.
func (r *reply) object(t *testing.T) map[string]any {
	t.Helper()
	var obj map[string]any
	r.ok(t, &obj)
	return obj
}

func (r *reply) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: body %q: %v", r.what, r.body, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON value in %q", r.what, r.body)
	}
}

// fails checks that the answer is an error with this status and code, in
// the form {"error_code":"…","error_message":"…"} with a string code.
func (r *reply) fails(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (body %s)", r.what, r.status, status, r.body)
	}
	var obj map[string]any
	if err := json.Unmarshal(r.body, &obj); err != nil {
		t.Fatalf("%s: error body %q is not a JSON object: %v", r.what, r.body, err)
	}
	if got, isString := obj["error_code"].(string); !isString || got != code {
		t.Errorf("%s: error_code %#v, want the string %q (message %v)", r.what, obj["error_code"], code, obj["error_message"])
	}
	if msg, _ := obj["error_message"].(string); msg == "" {
		t.Errorf("%s: error_message %#v, want a text", r.what, obj["error_message"])
	}
	if len(obj) != 2 {
		t.Errorf("%s: error body %s has keys beyond error_code and error_message", r.what, r.body)
	}
}

// agent is a logged-in agent calling the agent API.
type agent struct {
	e        *env
	username string
	id       string
	token    string
}

// in returns the agent for the subtest t.
func (a *agent) in(t *testing.T) *agent {
	c := *a
	c.e = a.e.in(t)
	return &c
}

// loginReply posts a login and returns the answer.
func (e *env) loginReply(tenantURL, username, password string) *reply {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"tenant": tenantURL, "username": username, "password": password})
	return e.do("POST", agentapi.Prefix+"login", jsonHeader(), body)
}

// login logs an agent of the test tenant in.
func (e *env) login(username string) *agent {
	e.t.Helper()
	return e.loginAt(tenant, username)
}

func (e *env) loginAt(tenantURL, username string) *agent {
	e.t.Helper()
	var got loginAnswer
	e.loginReply(tenantURL, username, secret).ok(e.t, &got)
	if got.Token == "" || got.Agent.ID == "" {
		e.t.Fatalf("login of %s: token %q, agent id %q", username, got.Token, got.Agent.ID)
	}
	return &agent{e: e, username: username, id: got.Agent.ID, token: got.Token}
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

// call sends an authenticated request; path is relative to the prefix and
// body is JSON ("" for none).
func (a *agent) call(method, path, body string) *reply {
	a.e.t.Helper()
	h := jsonHeader()
	h.Set("Authorization", "Bearer "+a.token)
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return a.e.do(method, agentapi.Prefix+path, h, b)
}

// ready makes the agent ready for chats.
func (a *agent) ready() {
	a.e.t.Helper()
	a.setState("ready", "")
}

func (a *agent) setState(state, reason string) routingView {
	a.e.t.Helper()
	body, _ := json.Marshal(map[string]string{"state": state, "reason": reason})
	var v routingView
	a.call("PUT", "me/state", string(body)).ok(a.e.t, &v)
	return v
}

// me returns the agent's routing view.
func (a *agent) me() meAnswer {
	a.e.t.Helper()
	var m meAnswer
	a.call("GET", "me", "").ok(a.e.t, &m)
	return m
}

// offers returns the chat ids offered to the agent.
func (a *agent) offers() []string {
	a.e.t.Helper()
	ids := []string{}
	for _, o := range a.me().Routing.Offers {
		ids = append(ids, o.ChatID)
	}
	return ids
}

// accept accepts an offer that must be there and returns the chat.
func (a *agent) accept(chatID string) chatView {
	a.e.t.Helper()
	var got struct {
		Chat chatView `json:"chat"`
	}
	a.call("POST", "chats/"+chatID+"/accept", "").ok(a.e.t, &got)
	return got.Chat
}

// take waits for nothing: a chat requested while the agent is the only
// ready one is offered at once. It checks the offer and accepts it.
func (a *agent) take(chatID string) chatView {
	a.e.t.Helper()
	if got := a.offers(); len(got) != 1 || got[0] != chatID {
		a.e.t.Fatalf("%s is offered %q, want [%s]", a.username, got, chatID)
	}
	return a.accept(chatID)
}

// send posts events to a chat and returns the events stored.
func (a *agent) send(chatID string, events ...string) []wireEvent {
	a.e.t.Helper()
	var got struct {
		Events []wireEvent `json:"events"`
	}
	a.call("POST", "chats/"+chatID+"/events", `{"events":[`+strings.Join(events, ",")+`]}`).ok(a.e.t, &got)
	return got.Events
}

// say sends a message and returns it as stored.
func (a *agent) say(chatID, text string) wireEvent {
	a.e.t.Helper()
	msg, _ := json.Marshal(map[string]string{"event": "chat_session_message", "msg": text})
	evs := a.send(chatID, string(msg))
	if len(evs) != 1 {
		a.e.t.Fatalf("%s says %q: stored %d events, want 1", a.username, text, len(evs))
	}
	return evs[0]
}

// transcript returns the events of a chat after a sequence.
func (a *agent) transcript(chatID string, after int64) []wireEvent {
	a.e.t.Helper()
	var got struct {
		Events []wireEvent `json:"events"`
	}
	a.call("GET", fmt.Sprintf("chats/%s/events?after=%d", chatID, after), "").ok(a.e.t, &got)
	return got.Events
}

// chat returns a chat and its wrap-ups.
func (a *agent) chat(chatID string) chatAnswer {
	a.e.t.Helper()
	var got chatAnswer
	a.call("GET", "chats/"+chatID, "").ok(a.e.t, &got)
	return got
}

// upload posts a file as multipart/form-data to path.
func (a *agent) upload(method, path, name string, data []byte) *reply {
	a.e.t.Helper()
	body, ctype := multipartFile(name, data)
	h := http.Header{"Content-Type": {ctype}, "Authorization": {"Bearer " + a.token}}
	return a.e.do(method, agentapi.Prefix+path, h, body)
}

func multipartFile(name string, data []byte) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("file", name)
	part.Write(data)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// The answers of the agent API, field by field as they travel.

type loginAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Agent     agentJSON `json:"agent"`
}

type agentJSON struct {
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	Username    string   `json:"username"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	DisplayName string   `json:"display_name"`
	PhotoID     string   `json:"photo_id"`
	Skills      []string `json:"skills"`
	Capacity    int      `json:"capacity"`
	Role        string   `json:"role"`
	Disabled    bool     `json:"disabled"`
}

type routingView struct {
	State  string      `json:"state"`
	Reason string      `json:"reason"`
	Offers []offerView `json:"offers"`
	Chats  []string    `json:"chats"`
}

type offerView struct {
	ChatID  string    `json:"chat_id"`
	AppID   string    `json:"app_id"`
	Queue   string    `json:"queue"`
	Expires time.Time `json:"expires"`
	Waited  int       `json:"waited"`
}

type meAnswer struct {
	Agent   agentJSON   `json:"agent"`
	Routing routingView `json:"routing"`
}

type chatView struct {
	ChatID      string          `json:"chat_id"`
	AppID       string          `json:"app_id"`
	State       string          `json:"state"`
	Ended       bool            `json:"ended"`
	Created     time.Time       `json:"created"`
	EndedAt     *time.Time      `json:"ended_at"`
	ClientID    string          `json:"client_id"`
	PhoneNumber string          `json:"phone_number"`
	From        string          `json:"from"`
	Parameters  json.RawMessage `json:"parameters"`
	CaseID      string          `json:"case_id"`
	AgentID     string          `json:"agent_id"`
	PartyID     string          `json:"party_id"`
	LastSeq     int64           `json:"last_seq"`
	Calls       bool            `json:"calls"`
}

type wrapUp struct {
	ChatID  string    `json:"chat_id"`
	AgentID string    `json:"agent_id"`
	Code    string    `json:"code"`
	Notes   string    `json:"notes"`
	Created time.Time `json:"created"`
}

type chatAnswer struct {
	Chat    chatView `json:"chat"`
	WrapUps []wrapUp `json:"wrapups"`
}

// wireEvent is an event in its wire form (§4.2 of the spec, plus seq).
type wireEvent map[string]any

func (ev wireEvent) typ() string { s, _ := ev["event"].(string); return s }

func (ev wireEvent) str(key string) string { s, _ := ev[key].(string); return s }

func (ev wireEvent) seq() int64 {
	switch n := ev["seq"].(type) {
	case json.Number:
		v, _ := n.Int64()
		return v
	case float64:
		return int64(n)
	}
	return 0
}

func typesOf(evs []wireEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.typ()
	}
	return out
}

func ofType(evs []wireEvent, typ string) []wireEvent {
	var out []wireEvent
	for _, ev := range evs {
		if ev.typ() == typ {
			out = append(out, ev)
		}
	}
	return out
}

// customer is one app installation calling the customer API.
type customer struct {
	e        *env
	tenant   string
	appID    string
	clientID string
}

// customer returns a new client of an entry of the test tenant.
func (e *env) customer(appID string) *customer {
	return e.customerAt(tenant, appID)
}

func (e *env) customerAt(host, appID string) *customer {
	return &customer{e: e, tenant: host, appID: appID, clientID: fmt.Sprintf("client-%d", e.nextID.Add(1))}
}

// in returns the customer for the subtest t.
func (c *customer) in(t *testing.T) *customer {
	d := *c
	d.e = c.e.in(t)
	return &d
}

func (c *customer) call(method, path, body string) *reply {
	c.e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	h := jsonHeader()
	h.Set("Authorization", clientweb.Scheme+" appId="+c.appID+", clientId="+c.clientID)
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return c.e.do(method, clientweb.Prefix+path+sep+"tenantUrl="+url.QueryEscape(c.tenant), h, b)
}

// requestChat starts a chat and returns its id.
func (c *customer) requestChat() string {
	c.e.t.Helper()
	r := c.call("POST", "chats", `{"parameters":{"first_name":"Pat"},"phone_number":"+15550100"}`)
	if r.status != http.StatusOK {
		c.e.t.Fatalf("request chat: status %d %s", r.status, r.body)
	}
	var got struct {
		ChatID string `json:"chat_id"`
	}
	r.decode(c.e.t, &got)
	return got.ChatID
}

// say sends a message as the customer and returns its msg_id.
func (c *customer) say(chatID, text string) string {
	c.e.t.Helper()
	id, err := c.trySay(chatID, text)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return id
}

// trySay is say for goroutines other than the test's.
func (c *customer) trySay(chatID, text string) (string, error) {
	msgID := fmt.Sprintf("m-%d", c.e.nextID.Add(1))
	body, _ := json.Marshal(map[string]any{"events": []map[string]string{
		{"event": "chat_session_message", "msg_id": msgID, "msg": text},
	}})
	u := c.e.srv.URL + clientweb.Prefix + "chats/" + chatID + "/events?tenantUrl=" + url.QueryEscape(c.tenant)
	r, err := http.NewRequest("POST", u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	r.Header.Set("Authorization", clientweb.Scheme+" appId="+c.appID+", clientId="+c.clientID)
	resp, err := c.e.http.Do(r)
	if err != nil {
		return "", fmt.Errorf("customer says %q: %w", text, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("customer says %q: status %d %s", text, resp.StatusCode, answer)
	}
	return msgID, nil
}

// pollUntil polls until the events given so far satisfy done, and returns
// them all.
func (c *customer) pollUntil(chatID string, done func([]wireEvent) bool) []wireEvent {
	c.e.t.Helper()
	var seen []wireEvent
	deadline := time.Now().Add(waitLimit)
	for !done(seen) {
		if time.Now().After(deadline) {
			c.e.t.Fatalf("customer of %s: waited %v, was given only %q", chatID, waitLimit, typesOf(seen))
		}
		r := c.call("GET", "chats/"+chatID+"/events", "")
		if r.status == http.StatusNotFound {
			c.e.t.Fatalf("customer of %s: poll answered 404 after %q", chatID, typesOf(seen))
		}
		var got struct {
			Events []wireEvent `json:"events"`
		}
		if r.status != http.StatusOK {
			c.e.t.Fatalf("customer poll: status %d %s", r.status, r.body)
		}
		r.decode(c.e.t, &got)
		seen = append(seen, got.Events...)
	}
	return seen
}

// sees polls until an event of the type arrives and returns it.
func (c *customer) sees(chatID, typ string) wireEvent {
	c.e.t.Helper()
	evs := c.pollUntil(chatID, func(evs []wireEvent) bool { return len(ofType(evs, typ)) > 0 })
	return ofType(evs, typ)[0]
}

// chatWith starts a chat of a new customer of app and has the agent, who
// must be the only ready agent of the tenant, accept it.
func (a *agent) chatWith(appID string) (*customer, chatView) {
	a.e.t.Helper()
	c := a.e.customer(appID)
	id := c.requestChat()
	return c, a.take(id)
}

// eventually waits until cond holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("waited %v until %s", waitLimit, what)
		case <-tick.C:
		}
	}
}

// stream is an agent's WebSocket as a console holds it.
type stream struct {
	t    *testing.T
	conn *websocket.Conn
}

// streamMessage is one message of the stream.
type streamMessage struct {
	Type    string       `json:"type"`
	Routing *routingView `json:"routing"`
	ChatID  string       `json:"chat_id"`
	Events  []wireEvent  `json:"events"`
}

// dialStream opens the agent's stream with the token in the query, as a
// browser must; cursors is the ?cursors= value ("" for none).
func (a *agent) dialStream(cursors string) (*stream, *http.Response, error) {
	q := url.Values{"token": {a.token}}
	if cursors != "" {
		q.Set("cursors", cursors)
	}
	u := "ws" + strings.TrimPrefix(a.e.srv.URL, "http") + agentapi.Prefix + "stream?" + q.Encode()
	ctx, cancel := context.WithTimeout(a.e.t.Context(), waitLimit)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 22)
	s := &stream{t: a.e.t, conn: conn}
	a.e.t.Cleanup(func() { conn.CloseNow() })
	return s, resp, nil
}

func (a *agent) stream(cursors string) *stream {
	a.e.t.Helper()
	s, _, err := a.dialStream(cursors)
	if err != nil {
		a.e.t.Fatalf("open stream of %s: %v", a.username, err)
	}
	return s
}

// next reads the next message, failing after waitLimit.
func (s *stream) next() streamMessage {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), waitLimit)
	defer cancel()
	typ, data, err := s.conn.Read(ctx)
	if err != nil {
		s.t.Fatalf("read stream: %v", err)
	}
	if typ != websocket.MessageText {
		s.t.Fatalf("stream message of type %v, want text", typ)
	}
	var m streamMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		s.t.Fatalf("stream message %q: %v", data, err)
	}
	return m
}

// until reads messages until done holds for the one just read, and
// returns every message read.
func (s *stream) until(what string, done func(streamMessage) bool) []streamMessage {
	s.t.Helper()
	var got []streamMessage
	deadline := time.Now().Add(waitLimit)
	for {
		if time.Now().After(deadline) {
			s.t.Fatalf("stream: waited %v until %s", waitLimit, what)
		}
		m := s.next()
		got = append(got, m)
		if done(m) {
			return got
		}
	}
}

// eventsUntil reads messages until the events of chatID reach seq, and
// returns those events in the order they came.
func (s *stream) eventsUntil(chatID string, seq int64) []wireEvent {
	s.t.Helper()
	var evs []wireEvent
	last := int64(-1)
	s.until(fmt.Sprintf("chat %s reaches seq %d", chatID, seq), func(m streamMessage) bool {
		if m.Type == "events" && m.ChatID == chatID {
			evs = append(evs, m.Events...)
			if len(m.Events) > 0 {
				last = m.Events[len(m.Events)-1].seq()
			}
		}
		return last >= seq
	})
	return evs
}

func (s *stream) close() { s.conn.Close(websocket.StatusNormalClosure, "") }

// seqs lists the seq of each event.
func seqs(evs []wireEvent) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.seq()
	}
	return out
}
