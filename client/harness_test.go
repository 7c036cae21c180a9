package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"

	"github.com/parley-chat/parley/client"
)

// Identity every test client uses unless a test says otherwise.
const (
	testTenant   = "acme.example.com"
	testAppID    = "app-1"
	testClientID = "6f1c2a9e-0b7d-4e51-9a43-2d8f7c1e5b60"
	testAuth     = "MOBILE-API-140-327-PLAIN appId=app-1, clientId=6f1c2a9e-0b7d-4e51-9a43-2d8f7c1e5b60"
)

// exchange is one request as the test server received it.
type exchange struct {
	Method string
	Path   string // escaped, exactly as sent
	Query  url.Values
	Header http.Header
	Body   []byte
}

// answer is what the test server replies.
type answer struct {
	Status int // 200 when zero
	Body   string
	Header http.Header
}

// stub is a test server that records every request and answers each with
// the same canned answer.
type stub struct {
	srv *httptest.Server

	mu  sync.Mutex
	got []exchange
	ans answer
}

// newStub starts a server answering ans to everything.
func newStub(t *testing.T, ans answer) *stub {
	t.Helper()
	s := &stub{ans: ans}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got = append(s.got, exchange{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
	})
	ans := s.ans
	s.mu.Unlock()
	for k, vs := range ans.Header {
		w.Header()[k] = vs
	}
	if ans.Status == 0 {
		ans.Status = http.StatusOK
	}
	w.WriteHeader(ans.Status)
	_, _ = io.WriteString(w, ans.Body)
}

// requests returns what the server received so far.
func (s *stub) requests() []exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]exchange(nil), s.got...)
}

// only returns the single request the server received.
func (s *stub) only(t *testing.T) exchange {
	t.Helper()
	got := s.requests()
	if len(got) != 1 {
		t.Fatalf("server received %d requests, want 1", len(got))
	}
	return got[0]
}

// newClient returns a client of baseURL with the test identity, then opts.
func newClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	all := append([]client.Option{
		client.WithTenant(testTenant),
		client.WithAppID(testAppID),
		client.WithClientID(testClientID),
	}, opts...)
	c, err := client.New(baseURL, all...)
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	return c
}

// stubClient starts a stub answering ans and returns a client of it.
func stubClient(t *testing.T, ans answer, opts ...client.Option) (*client.Client, *stub) {
	t.Helper()
	s := newStub(t, ans)
	return newClient(t, s.srv.URL, opts...), s
}

// assertJSON fails unless got and want are the same JSON value, whatever
// the key order and spacing.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s, want %s", got, want)
	}
}

// assertEvents fails unless got holds the events of want, ignoring Raw.
func assertEvents(t *testing.T, got, want []client.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.Raw = nil
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("event %d:\n got %+v (data %s)\nwant %+v (data %s)", i, g, g.Data, want[i], want[i].Data)
		}
	}
}
