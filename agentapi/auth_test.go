package agentapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/agentapi"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name     string
		tenant   string
		username string
		password string
		ok       bool
	}{
		{"the right password gives a token", tenant, alice, secret, true},
		{"the tenant is matched as a tenantUrl is", "HTTPS://Acme.Example.com/", alice, secret, true},
		{"a wrong password is refused", tenant, alice, secret + "!", false},
		{"an empty password is refused", tenant, alice, "", false},
		{"an unknown username is refused", tenant, "mallory", secret, false},
		{"a disabled agent is refused", tenant, carol, secret, false},
		{"an agent of another tenant is refused", tenant, olga, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // a login takes a while: bcrypt
			r := e.in(t).loginReply(tt.tenant, tt.username, tt.password)
			if !tt.ok {
				r.fails(t, http.StatusUnauthorized, "4010")
				return
			}
			var got loginAnswer
			r.ok(t, &got)
			if len(got.Token) < 40 {
				t.Errorf("token %q, want a long random string", got.Token)
			}
			if want := e.clock.Now().Add(12 * time.Hour); got.ExpiresAt.Before(want.Add(-time.Minute)) || got.ExpiresAt.After(want.Add(time.Minute)) {
				t.Errorf("expires_at %v, want 12 h from now (%v)", got.ExpiresAt, want)
			}
			if got.Agent.Username != tt.username || got.Agent.Tenant != tenant || got.Agent.Role != "agent" || got.Agent.Capacity != 2 {
				t.Errorf("agent %+v, want %s of %s, role agent, capacity 2", got.Agent, tt.username, tenant)
			}
			if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
				t.Errorf("login answer %s shows the password hash", r.body)
			}
		})
	}
}

func TestLoginMakesTheAgentKnownToRoutingNotReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	got := a.me()
	if got.Routing.State != "not_ready" || got.Routing.Reason != "logged in" {
		t.Errorf("routing after login: %+v, want not_ready (logged in)", got.Routing)
	}
	if got.Agent.ID != a.id || got.Agent.Username != alice {
		t.Errorf("me: agent %+v, want %s", got.Agent, alice)
	}
}

// authenticated lists every method that needs a login, with a path that
// would otherwise reach the handler.
var authenticated = []struct{ method, path string }{
	{"POST", "logout"},
	{"GET", "me"},
	{"PUT", "me/state"},
	{"PUT", "me/photo"},
	{"GET", "stream"},
	{"GET", "chats"},
	{"GET", "chats/c1"},
	{"GET", "chats/c1/events"},
	{"POST", "chats/c1/events"},
	{"POST", "chats/c1/accept"},
	{"POST", "chats/c1/reject"},
	{"POST", "chats/c1/transfer"},
	{"POST", "chats/c1/end"},
	{"POST", "chats/c1/wrapup"},
	{"POST", "chats/c1/case"},
	{"POST", "chats/c1/case/close"},
	{"GET", "chats/c1/casehistory"},
	{"GET", "chats/c1/iceservers"},
	{"POST", "files"},
	{"GET", "files/f1"},
	{"GET", "agents"},
	{"POST", "agents"},
	{"PUT", "agents/a1"},
}

func TestEveryMethodButLoginNeedsAValidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired := e.login(alice).token
	e.clock.Advance(12*time.Hour + time.Minute)
	revoked := e.login(alice)
	revoked.call("POST", "logout", "").ok(t, new(map[string]any))

	credentials := []struct {
		name   string
		header http.Header
		query  string
	}{
		{"without a token", nil, ""},
		{"with an empty bearer token", http.Header{"Authorization": {"Bearer "}}, ""},
		{"with another scheme", http.Header{"Authorization": {"Basic YWxpY2U6c2VjcmV0"}}, ""},
		{"with an unknown token", http.Header{"Authorization": {"Bearer not-a-token"}}, ""},
		{"with an unknown token in the query", nil, "?token=not-a-token"},
		{"with an expired token", http.Header{"Authorization": {"Bearer " + expired}}, ""},
		{"with an expired token in the query", nil, "?token=" + expired},
		{"with a token revoked by logout", http.Header{"Authorization": {"Bearer " + revoked.token}}, ""},
	}
	for _, c := range credentials {
		for _, m := range authenticated {
			t.Run(c.name+"/"+m.method+" "+m.path, func(t *testing.T) {
				e.do(m.method, agentapi.Prefix+m.path+c.query, c.header, []byte(`{}`)).
					fails(t, http.StatusUnauthorized, "4010")
			})
		}
	}
}

func TestATokenWorksInTheHeaderOrTheQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	tests := []struct {
		name   string
		header http.Header
		query  string
	}{
		{"as a bearer token", http.Header{"Authorization": {"Bearer " + a.token}}, ""},
		{"as a bearer token, the scheme in any case", http.Header{"Authorization": {"bearer " + a.token}}, ""},
		{"as ?token= for WebSocket handshakes", nil, "?token=" + a.token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got meAnswer
			e.do("GET", agentapi.Prefix+"me"+tt.query, tt.header, nil).ok(t, &got)
			if got.Agent.ID != a.id {
				t.Errorf("me: agent %q, want %q", got.Agent.ID, a.id)
			}
		})
	}
}

func TestLogoutRevokesOnlyThatLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := e.login(alice), e.login(alice)
	first.ready()
	if got := first.call("POST", "logout", "").object(t); len(got) != 0 {
		t.Errorf("logout answered %v, want {}", got)
	}
	if got := e.router.View(first.id); got.State != "logged_out" {
		t.Errorf("routing after logout: %+v, want logged_out", got)
	}
	first.call("GET", "me", "").fails(t, http.StatusUnauthorized, "4010")
	// The other browser is still logged in; using it makes the agent known
	// to routing again, not ready.
	if got := second.me().Routing; got.State != "not_ready" {
		t.Errorf("routing after a request of the other login: %+v, want not_ready", got)
	}
}

func TestLogoutWithdrawsOffersButKeepsChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, kept := a.chatWith(webApp)
	offered := e.customer(webApp).requestChat()
	if got := a.offers(); len(got) != 1 || got[0] != offered {
		t.Fatalf("offers %q, want [%s]", got, offered)
	}
	b := e.login(bob)
	a.call("POST", "logout", "").ok(t, new(map[string]any))
	b.ready()
	if got := b.offers(); len(got) != 1 || got[0] != offered {
		t.Errorf("bob is offered %q, want the chat alice was offered (%s)", got, offered)
	}
	again := e.login(alice)
	if got := again.me().Routing.Chats; len(got) != 1 || got[0] != kept.ChatID {
		t.Errorf("alice's chats after logging in again: %q, want [%s]", got, kept.ChatID)
	}
}
