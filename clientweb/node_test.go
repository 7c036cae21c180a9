package clientweb

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/sqlite"
)

// testNode is the customer API on a real store and bus, served over HTTP,
// for the tests of this package's internals (parked polls, limits) and its
// benchmarks. The handler tests of package clientweb_test have their own.
type testNode struct {
	h     *Handler
	svc   *chat.Service
	store *sqlite.Store
	bus   *memory.Bus
	srv   *httptest.Server
	hc    *http.Client
}

// newTestNode starts a node with the demo tenant. With park, the server
// accepts through Handler.Listener, so waiting polls are parked.
func newTestNode(tb testing.TB, park bool, opts ...func(*Handler)) *testNode {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	cfg := config.Demo()
	cfg.Agents = nil // hashing passwords is slow and the customer API needs none
	if err := cfg.Apply(context.Background(), store); err != nil {
		tb.Fatalf("apply demo: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	bus := memory.New()
	svc := chat.NewService(store, bus, log)
	h := New(svc, nil, log)
	h.PollTimeout = 2 * time.Second
	for _, o := range opts {
		o(h)
	}
	srv := httptest.NewUnstartedServer(h)
	if park {
		srv.Listener = h.Listener(srv.Listener)
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	tb.Cleanup(h.Close) // first: pending polls answer before the server closes
	hc := srv.Client()
	hc.Timeout = 20 * time.Second
	return &testNode{h: h, svc: svc, store: store, bus: bus, srv: srv, hc: hc}
}

// request builds a customer API request of the demo entry as clientID.
func (n *testNode) request(tb testing.TB, method, path, clientID, body string) *http.Request {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, n.srv.URL+Prefix+path+"?tenantUrl="+config.DemoTenant, rd)
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Authorization", Scheme+" appId="+config.DemoApp+", clientId="+clientID)
	return r
}

// call sends a request and returns the status and body of the answer.
func (n *testNode) call(tb testing.TB, method, path, clientID, body string) (int, []byte) {
	tb.Helper()
	resp, err := n.hc.Do(n.request(tb, method, path, clientID, body))
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// startChat requests a chat for clientID and takes its opening events off
// the poll queue, so that the next poll waits.
func (n *testNode) startChat(tb testing.TB, clientID string) string {
	tb.Helper()
	status, body := n.call(tb, "POST", "chats", clientID, `{}`)
	var info struct {
		ChatID string `json:"chat_id"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &info) != nil || info.ChatID == "" {
		tb.Fatalf("request chat: %d %s", status, body)
	}
	if status, body := n.call(tb, "GET", "chats/"+info.ChatID+"/events", clientID, ""); status != http.StatusOK {
		tb.Fatalf("first poll: %d %s", status, body)
	}
	return info.ChatID
}

// agentMessage appends a message of an agent to the chat without waking
// anyone: the caller publishes.
func (n *testNode) agentMessage(tb testing.TB, chatID, text string) {
	tb.Helper()
	ev := chat.Event{ChatID: chatID, Type: chat.TypeMessage, PartyID: "agent-party", MsgID: chat.NewID(), Time: time.Now(),
		Payload: chat.Payload{Msg: text, MsgText: text}}
	if _, err := n.store.Append(context.Background(), chatID, []chat.Event{ev}, chat.SessionUpdate{}); err != nil {
		tb.Fatalf("append: %v", err)
	}
}

// waitPending waits until n polls are pending.
func (n *testNode) waitPending(tb testing.TB, want int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.h.Pending() != want {
		if time.Now().After(deadline) {
			tb.Fatalf("%d polls pending, want %d", n.h.Pending(), want)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// waitParked waits until n polls are parked.
func (n *testNode) waitParked(tb testing.TB, want int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.h.Parked() != want {
		if time.Now().After(deadline) {
			tb.Fatalf("%d polls parked, want %d", n.h.Parked(), want)
		}
		time.Sleep(50 * time.Microsecond)
	}
}
