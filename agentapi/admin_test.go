package agentapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/chat"
)

// listedAgent is an entry of GET agents: the agent and its routing view.
type listedAgent struct {
	agentJSON
	Routing routingView `json:"routing"`
}

func (a *agent) agents() []listedAgent {
	a.e.t.Helper()
	var got struct {
		Agents []listedAgent `json:"agents"`
	}
	a.call("GET", "agents", "").ok(a.e.t, &got)
	return got.Agents
}

func TestAdministrationIsForAdministratorsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.login(alice), e.login(bob)
	tests := []struct{ method, path, body string }{
		{"GET", "agents", ""},
		{"POST", "agents", `{"username":"dave","password":"` + secret + `"}`},
		{"PUT", "agents/" + b.id, `{"capacity":5}`},
		{"PUT", "agents/" + a.id, `{"role":"admin"}`},
	}
	for _, tt := range tests {
		t.Run("an agent may not "+tt.method+" "+strings.SplitN(tt.path, "/", 2)[0], func(t *testing.T) {
			a.call(tt.method, tt.path, tt.body).fails(t, http.StatusForbidden, "4030")
		})
	}
	if got := a.me().Agent; got.Role != "agent" {
		t.Errorf("alice's role after the refused requests: %q", got.Role)
	}
}

func TestAdministratorListsTheAgentsOfTheirTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.login(root)
	a := e.login(alice)
	a.ready()
	r := admin.call("GET", "agents", "")
	var got struct {
		Agents []listedAgent `json:"agents"`
	}
	r.ok(t, &got)
	var names []string
	for _, l := range got.Agents {
		names = append(names, l.Username)
		want := "logged_out"
		switch l.Username {
		case alice:
			want = "ready"
		case root:
			want = "not_ready"
		}
		if l.Routing.State != want {
			t.Errorf("%s: routing state %q, want %q", l.Username, l.Routing.State, want)
		}
		if l.Username == carol && !l.Disabled {
			t.Errorf("carol is listed as enabled")
		}
	}
	if want := []string{alice, bob, carol, root}; !slices.Equal(names, want) {
		t.Errorf("agents %q, want %q in order of username (no other tenant's)", names, want)
	}
	if strings.Contains(string(r.body), "$2a$") || strings.Contains(string(r.body), "password") {
		t.Errorf("agent list %s shows password hashes", r.body)
	}
}

func TestAdministratorCreatesAgents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.login(root)
	var created struct {
		Agent agentJSON `json:"agent"`
	}
	admin.call("POST", "agents", `{"username":"dave","password":"`+secret+`","first_name":"Dave",
		"last_name":"Jones","skills":["billing"]}`).ok(t, &created)
	got := created.Agent
	if got.ID == "" || got.Username != "dave" || got.Tenant != tenant || got.DisplayName != "Dave" ||
		got.Capacity != 3 || got.Role != "agent" || !slices.Equal(got.Skills, []string{"billing"}) {
		t.Errorf("created %+v, want dave of %s, display name Dave, capacity 3, role agent, skills [billing]", got, tenant)
	}
	dave := e.login("dave")
	if dave.id != got.ID {
		t.Errorf("dave logs in as %q, want %q", dave.id, got.ID)
	}

	refused := []struct {
		name string
		body string
	}{
		{"a username already taken", `{"username":"dave","password":"` + secret + `"}`},
		{"no username", `{"first_name":"Erin"}`},
		{"no password", `{"username":"erin"}`},
		{"a password too short", `{"username":"erin","password":"short"}`},
		{"a password too long", `{"username":"erin","password":"` + strings.Repeat("x", 73) + `"}`},
		{"skills that are not a list", `{"username":"erin","password":"` + secret + `","skills":"billing"}`},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			admin.call("POST", "agents", tt.body).fails(t, http.StatusBadRequest, "5003")
		})
	}
	var names []string
	for _, l := range admin.agents() {
		names = append(names, l.Username)
	}
	if want := []string{alice, bob, carol, "dave", root}; !slices.Equal(names, want) {
		t.Errorf("agents after the refusals: %q, want %q", names, want)
	}
}

func TestAdministratorUpdatesAgents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.login(root)
	a := e.login(alice)

	var updated struct {
		Agent agentJSON `json:"agent"`
	}
	admin.call("PUT", "agents/"+a.id, `{"capacity":1,"skills":["vip"],"display_name":"Ally"}`).ok(t, &updated)
	if got := updated.Agent; got.Capacity != 1 || !slices.Equal(got.Skills, []string{"vip"}) || got.DisplayName != "Ally" ||
		got.Username != alice || got.FirstName != "Alice" {
		t.Errorf("updated %+v, want capacity 1, skills [vip], display name Ally, the rest kept", got)
	}
	if got := a.me().Agent; got.Capacity != 1 || got.DisplayName != "Ally" {
		t.Errorf("alice sees herself as %+v after the update", got)
	}

	// Routing takes the new capacity at once: one chat, and no offer more.
	a.ready()
	a.chatWith(webApp)
	next := e.customer(webApp).requestChat()
	if got := a.offers(); len(got) != 0 {
		t.Errorf("alice at capacity 1 with one chat is offered %q", got)
	}
	b := e.login(bob)
	b.ready()
	if got := b.offers(); len(got) != 1 || got[0] != next {
		t.Errorf("bob is offered %q, want [%s]", got, next)
	}

	refused := []struct {
		name, path, body string
	}{
		{"an unknown agent", "agents/nobody", `{"capacity":2}`},
		{"an agent of another tenant", "agents/" + e.loginAt(otherTenant, olga).id, `{"capacity":2}`},
		{"a username another agent has", "agents/" + a.id, `{"username":"bob"}`},
		{"a capacity of 0", "agents/" + a.id, `{"capacity":0}`},
		{"a capacity over 100", "agents/" + a.id, `{"capacity":101}`},
		{"an unknown role", "agents/" + a.id, `{"role":"owner"}`},
		{"an empty username", "agents/" + a.id, `{"username":""}`},
		{"a password too short", "agents/" + a.id, `{"password":"short"}`},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			admin.call("PUT", tt.path, tt.body).fails(t, http.StatusBadRequest, "5003")
		})
	}
	if got := a.me().Agent; got.Username != alice || got.Capacity != 1 || got.Role != "agent" {
		t.Errorf("alice after the refused updates: %+v", got)
	}
}

func TestDisabledAgentsCanNoLongerWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.login(root)
	a := e.login(alice)
	a.ready()
	var updated struct {
		Agent agentJSON `json:"agent"`
	}
	admin.call("PUT", "agents/"+a.id, `{"disabled":true}`).ok(t, &updated)
	if !updated.Agent.Disabled {
		t.Errorf("updated %+v, want disabled", updated.Agent)
	}
	e.loginReply(tenant, alice, secret).fails(t, http.StatusUnauthorized, "4010")
	a.call("GET", "me", "").fails(t, http.StatusUnauthorized, "4010")
	if got := e.router.View(a.id).State; got != "logged_out" {
		t.Errorf("routing state of the disabled agent: %q, want logged_out", got)
	}
	// A chat requested now waits for someone else.
	id := e.customer(webApp).requestChat()
	b := e.login(bob)
	b.ready()
	if got := b.offers(); len(got) != 1 || got[0] != id {
		t.Errorf("bob is offered %q, want [%s]", got, id)
	}

	admin.call("PUT", "agents/"+a.id, `{"disabled":false}`).ok(t, &updated)
	e.login(alice)
}

func TestHashPasswordRefusesPasswordsOutside8To72Characters(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 7, 73} {
		if _, err := agentapi.HashPassword(strings.Repeat("x", n)); chat.ErrorCode(err) != chat.CodeInvalid {
			t.Errorf("HashPassword of %d characters: %v, want an invalid-request error", n, err)
		}
	}
}
