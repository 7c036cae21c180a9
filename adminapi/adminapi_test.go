package adminapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/adminapi"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/sqlite"
)

const host = "acme.parley.local"

// harness is an admin API over a real SQLite store, with a token per
// scope and every response body kept, to be searched for secrets.
type harness struct {
	t      *testing.T
	store  *sqlite.Store
	srv    *httptest.Server
	tokens map[string]string // scope → bearer token
	bodies []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	h := adminapi.New(st, slog.New(slog.DiscardHandler))
	h.Bootstrap = "bootstrap-token-of-at-least-some-length"
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hs := &harness{t: t, store: st, srv: srv, tokens: map[string]string{}}
	for _, scope := range adminapi.KnownScopes {
		_, value, err := adminapi.CreateToken(t.Context(), st, "test "+scope, []string{scope}, time.Now())
		if err != nil {
			t.Fatalf("CreateToken(%s): %v", scope, err)
		}
		hs.tokens[scope] = value
	}
	return hs
}

// do sends a request with the token (none when ""), returns the status and
// body and keeps the body.
func (hs *harness) do(method, path, token string, body any) (int, string) {
	hs.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			hs.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, hs.srv.URL+adminapi.Prefix+path, rd)
	if err != nil {
		hs.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hs.srv.Client().Do(req)
	if err != nil {
		hs.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	hs.bodies = append(hs.bodies, string(data))
	return resp.StatusCode, string(data)
}

// must sends a request with the all-scopes token and wants 200.
func (hs *harness) must(method, path string, body any) string {
	hs.t.Helper()
	status, b := hs.do(method, path, hs.tokens["*"], body)
	if status != http.StatusOK {
		hs.t.Fatalf("%s %s = %d %s, want 200", method, path, status, b)
	}
	return b
}

// secrets are the secret values of secretEntry, which no answer may hold.
type secrets struct {
	apnsKey, fcmKey, turn, ice string
}

func pemOf(t *testing.T, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// secretEntry returns an entry with every kind of secret and those secrets
// (a line from the middle of each key, which any leak would contain).
func secretEntry(t *testing.T, appID string) (chat.Entry, secrets) {
	t.Helper()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rDER, _ := x509.MarshalPKCS8PrivateKey(rk)
	apnsPEM, fcmPEM := pemOf(t, ecDER), pemOf(t, rDER)
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "acme-app",
		"private_key_id": "key-id-123", "private_key": fcmPEM, "client_email": "push@acme-app.iam.gserviceaccount.com",
		"token_uri": "https://oauth2.googleapis.com/token"})
	e := chat.Entry{AppID: appID, Name: "Support",
		Hours:      &chat.Hours{},
		Parameters: []chat.Parameter{{Name: "email", Type: "EMAIL"}},
		Widgets:    json.RawMessage(`[{"name":"chat"}]`),
		ICEServers: []chat.ICEServer{{URLs: []string{"turn:turn.acme.example:3478"}, Username: "static", Credential: "ice-credential-SECRET-42"}},
		TURN:       &chat.TURNConfig{URLs: []string{"turn:relay.acme.example:3478"}, Secret: "turn-shared-SECRET-42"},
		Push: chat.PushConfig{
			APNs: &chat.APNsConfig{KeyID: "ABC123DEFG", TeamID: "TEAM123456", KeyPEM: apnsPEM},
			FCM:  &chat.FCMConfig{ServiceAccount: sa},
		},
		CORSOrigins: []string{"https://acme.example"},
		Files:       chat.FileRules{MaxSize: 1 << 20, AllowedTypes: []string{"image/*"}},
		Queue:       "support", Skills: []string{"english"},
	}
	if err := config.ValidateEntry(&e); err != nil {
		t.Fatalf("the fixture entry is invalid: %v", err)
	}
	mid := func(p string) string { lines := strings.Split(p, "\n"); return lines[len(lines)/2] }
	return e, secrets{apnsKey: mid(apnsPEM), fcmKey: mid(fcmPEM), turn: "turn-shared-SECRET-42", ice: "ice-credential-SECRET-42"}
}

// wantNoSecrets fails if any answer so far holds one of the secrets.
func (hs *harness) wantNoSecrets(s secrets) {
	hs.t.Helper()
	for _, b := range hs.bodies {
		for _, secret := range []string{s.apnsKey, s.fcmKey, s.turn, s.ice, "key-id-123"} {
			// JSON escapes newlines, not the base64 of a key line.
			if strings.Contains(b, secret) {
				hs.t.Fatalf("an answer holds the secret %q:\n%s", secret, b)
			}
		}
	}
}

// seed stores a tenant with the secret entry and an agent.
func (hs *harness) seed() secrets {
	hs.t.Helper()
	hs.must("PUT", "tenants/"+host, chat.Tenant{Name: "Acme"})
	e, s := secretEntry(hs.t, "support")
	hs.must("PUT", "tenants/"+host+"/entries/support", e)
	hs.must("PUT", "tenants/"+host+"/agents/ann", adminapi.AgentSettings{Password: "ann-password-1", FirstName: "Ann"})
	return s
}

func TestEveryEndpointAsksForItsTokenAndScope(t *testing.T) {
	hs := newHarness(t)
	hs.seed()
	entry, _ := secretEntry(t, "sales")
	endpoints := []struct {
		method, path, scope string
		body                any
	}{
		{"GET", "tenants", "tenants:read", nil},
		{"GET", "tenants/" + host, "tenants:read", nil},
		{"PUT", "tenants/" + host, "tenants:write", chat.Tenant{Name: "Acme Inc"}},
		{"POST", "tenants/other.parley.local/disable", "tenants:write", nil},
		{"GET", "tenants/" + host + "/entries", "tenants:read", nil},
		{"GET", "tenants/" + host + "/entries/support", "tenants:read", nil},
		{"PUT", "tenants/" + host + "/entries/sales", "tenants:write", entry},
		{"POST", "tenants/" + host + "/entries/sales/disable", "tenants:write", nil},
		{"DELETE", "tenants/" + host + "/entries/sales", "tenants:write", nil},
		{"GET", "tenants/" + host + "/agents", "agents:read", nil},
		{"GET", "tenants/" + host + "/agents/ann", "agents:read", nil},
		{"POST", "tenants/" + host + "/agents", "agents:write", adminapi.AgentSettings{Username: "bob", Password: "bob-password-1"}},
		{"PUT", "tenants/" + host + "/agents/ann", "agents:write", adminapi.AgentSettings{Password: "ann-password-1", Capacity: 5}},
		{"POST", "tenants/" + host + "/agents/ann/disable", "agents:write", nil},
		{"GET", "audit", "audit:read", nil},
	}
	hs.must("PUT", "tenants/other.parley.local", chat.Tenant{})
	// A disabled token is refused like an unknown one.
	disabled, value, err := adminapi.CreateToken(t.Context(), hs.store, "gone", []string{"*"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	disabled.Disabled = true
	if err := hs.store.PutAdminToken(t.Context(), disabled); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			wrongScope := "audit:read"
			if ep.scope == "audit:read" {
				wrongScope = "tenants:write"
			}
			for _, tc := range []struct {
				name, token string
				want        int
			}{
				{"without a token is 401", "", http.StatusUnauthorized},
				{"with an unknown token is 401", "padm_not-a-token", http.StatusUnauthorized},
				{"with a disabled token is 401", value, http.StatusUnauthorized},
				{"with a token lacking the scope is 403", hs.tokens[wrongScope], http.StatusForbidden},
				{"with the scope is 200", hs.tokens[ep.scope], http.StatusOK},
				{"with all scopes is 200", hs.tokens["*"], http.StatusOK},
				{"with the bootstrap token is 200", "bootstrap-token-of-at-least-some-length", http.StatusOK},
			} {
				body := ep.body
				if s, ok := body.(adminapi.AgentSettings); ok && ep.method == "POST" {
					n++ // each creation makes a new agent
					s.Username = fmt.Sprint("bob", n)
					body = s
				}
				status, got := hs.do(ep.method, ep.path, tc.token, body)
				if status != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.name, status, got, tc.want)
				}
				if status >= 400 && !strings.Contains(got, `"error_code"`) {
					t.Errorf("%s: error body %s lacks error_code", tc.name, got)
				}
			}
		})
	}
	if status, _ := hs.do("GET", "tenants", hs.tokens["tenants:write"], nil); status != http.StatusOK {
		t.Errorf("a write scope does not grant its read scope: %d", status)
	}
}

func TestSecretsAreNeverServedAndARedactedPutKeepsThem(t *testing.T) {
	hs := newHarness(t)
	s := hs.seed()
	got := hs.must("GET", "tenants/"+host+"/entries/support", nil)
	hs.must("GET", "tenants/"+host+"/entries", nil)
	if !strings.Contains(got, adminapi.Redacted) || !strings.Contains(got, "push@acme-app.iam.gserviceaccount.com") {
		t.Fatalf("the entry does not show redacted secrets beside its other settings: %s", got)
	}
	// Read, edit and write back: the redacted markers keep the secrets.
	var res struct {
		Entry chat.Entry `json:"entry"`
	}
	json.Unmarshal([]byte(got), &res)
	if b := hs.must("PUT", "tenants/"+host+"/entries/support", res.Entry); !strings.Contains(b, `"result":"unchanged"`) {
		t.Fatalf("putting back the redacted entry: %s, want unchanged", b)
	}
	res.Entry.Name = "Support desk"
	if b := hs.must("PUT", "tenants/"+host+"/entries/support", res.Entry); !strings.Contains(b, `"changed":["name"]`) {
		t.Fatalf("renaming: %s, want only name changed", b)
	}
	stored, err := hs.store.Entry(t.Context(), host, "support")
	if err != nil {
		t.Fatal(err)
	}
	if stored.TURN.Secret != s.turn || !strings.Contains(stored.Push.APNs.KeyPEM, s.apnsKey) ||
		!strings.Contains(string(stored.Push.FCM.ServiceAccount), s.fcmKey) || stored.ICEServers[0].Credential != s.ice {
		t.Fatalf("a redacted PUT lost stored secrets: %+v", stored)
	}
	// A marker with no secret stored to keep is refused.
	fresh := res.Entry
	fresh.AppID = "new"
	if status, b := hs.do("PUT", "tenants/"+host+"/entries/new", hs.tokens["*"], fresh); status != http.StatusBadRequest {
		t.Fatalf("a redacted secret on a new entry: %d %s, want 400", status, b)
	}
	// Changing a secret is audited without its value.
	changed, _ := secretEntry(t, "support")
	changed.Name = "Support desk"
	hs.must("PUT", "tenants/"+host+"/entries/support", changed)
	hs.must("GET", "audit", nil)
	hs.wantNoSecrets(s)
	audit, err := hs.store.Audit(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range audit {
		for _, secret := range []string{s.apnsKey, s.fcmKey, s.turn, s.ice} {
			if strings.Contains(string(e.Detail), secret) {
				t.Fatalf("audit entry %s %s holds a secret: %s", e.Action, e.Target, e.Detail)
			}
		}
	}
}

func TestAnInvalidEntryIsRefused(t *testing.T) {
	hs := newHarness(t)
	hs.must("PUT", "tenants/"+host, chat.Tenant{})
	for _, body := range []string{
		`{"parameters":[{"name":"x","type":"NOPE"}]}`,
		`{"closed_value":"maybe"}`,
		`{"no_such_setting":true}`,
		`{"app_id":"other"}`,
	} {
		var v any
		json.Unmarshal([]byte(body), &v)
		if status, b := hs.do("PUT", "tenants/"+host+"/entries/support", hs.tokens["*"], v); status != http.StatusBadRequest {
			t.Errorf("PUT %s = %d %s, want 400", body, status, b)
		}
	}
	if status, _ := hs.do("PUT", "tenants/unknown.parley.local/entries/support", hs.tokens["*"], chat.Entry{}); status != http.StatusNotFound {
		t.Errorf("an entry of an unknown tenant: %d, want 404", status)
	}
}

func TestEveryChangeIsAudited(t *testing.T) {
	hs := newHarness(t)
	hs.seed()
	hs.must("POST", "tenants/"+host+"/entries/support/disable", nil)
	hs.must("POST", "tenants/"+host+"/agents/ann/disable", nil)
	hs.must("PUT", "tenants/"+host, chat.Tenant{Name: "Acme Inc"})
	hs.must("POST", "tenants/"+host+"/disable", nil)
	// Neither an unchanged PUT nor a dry run is a change.
	hs.must("POST", "tenants/"+host+"/disable", nil)
	hs.must("PUT", "tenants/"+host+"?dry_run=1", chat.Tenant{Name: "Other"})
	var got struct {
		Entries []chat.AuditEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(hs.must("GET", "audit", nil)), &got); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(got.Entries) - 1; i >= 0; i-- {
		e := got.Entries[i]
		actions = append(actions, e.Action+" "+e.Target)
		if e.Action != "token.create" && e.TokenName != "test *" {
			t.Errorf("%s was recorded as done by %q, want the token's name", e.Action, e.TokenName)
		}
	}
	want := []string{
		"tenant.create " + host, "entry.create " + host + "/support", "agent.create " + host + "/ann",
		"entry.disable " + host + "/support", "agent.disable " + host + "/ann",
		"tenant.update " + host, "tenant.disable " + host,
	}
	got6 := actions[len(actions)-len(want):]
	if strings.Join(got6, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant it to end with:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	if status, _ := hs.do("GET", "tenants/"+host, hs.tokens["*"], nil); status != http.StatusOK {
		t.Fatal("a disabled tenant is still served to administrators")
	}
}

func TestARedactedPutKeepsEachICEServersOwnCredential(t *testing.T) {
	hs := newHarness(t)
	hs.must("PUT", "tenants/"+host, chat.Tenant{})
	relay := []string{"turn:turn.acme.example:3478"}
	hs.must("PUT", "tenants/"+host+"/entries/support", chat.Entry{ICEServers: []chat.ICEServer{
		{URLs: relay, Username: "u", Credential: "first"}, {URLs: relay, Username: "u", Credential: "second"}}})
	var res struct{ Entry chat.Entry }
	if err := json.Unmarshal([]byte(hs.must("GET", "tenants/"+host+"/entries/support", nil)), &res); err != nil {
		t.Fatal(err)
	}
	if b := hs.must("PUT", "tenants/"+host+"/entries/support", res.Entry); !strings.Contains(b, `"result":"unchanged"`) {
		t.Errorf("putting back the redacted entry: %s, want unchanged", b)
	}
	e, err := hs.store.Entry(t.Context(), host, "support")
	if err != nil || e.ICEServers[0].Credential != "first" || e.ICEServers[1].Credential != "second" {
		t.Errorf("stored ICE servers %+v, %v", e.ICEServers, err)
	}
}

func TestNoListAndAnEmptyListAreTheSameSetting(t *testing.T) {
	hs := newHarness(t)
	hs.must("PUT", "tenants/"+host, chat.Tenant{})
	hs.must("POST", "tenants/"+host+"/agents", map[string]any{"username": "ann", "password": "long enough", "skills": []string{}})
	// As `parley config apply` writes an agent without skills.
	b := hs.must("PUT", "tenants/"+host+"/agents/ann", adminapi.AgentSettings{Username: "ann"})
	if !strings.Contains(b, `"result":"unchanged"`) {
		t.Errorf("putting no skills over empty ones: %s, want unchanged", b)
	}
}

func TestConfigApplyIsIdempotentAndADryRunChangesNothing(t *testing.T) {
	hs := newHarness(t)
	e, s := secretEntry(t, "support")
	f := &config.File{
		Tenants: []chat.Tenant{{Host: host, Name: "Acme", Entries: []chat.Entry{e, {AppID: "sales"}}}},
		Agents:  []config.AgentConfig{{Tenant: host, Username: "ann", Password: "ann-password-1", Skills: []string{"english"}}},
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &adminapi.Client{URL: hs.srv.URL, Token: hs.tokens["*"]}
	results := func(changes []adminapi.Change) string {
		var out []string
		for _, ch := range changes {
			out = append(out, ch.Kind+" "+ch.Target+" "+ch.Result+" "+strings.Join(ch.Changed, ","))
		}
		return strings.Join(out, "\n")
	}
	check := func(what string, dry bool, want string) {
		t.Helper()
		changes, err := adminapi.Apply(t.Context(), c, f, dry)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := results(changes); got != want {
			t.Fatalf("%s:\n%s\nwant:\n%s", what, got, want)
		}
		b, _ := json.Marshal(changes)
		hs.bodies = append(hs.bodies, string(b))
	}
	created := "tenant " + host + " create \nentry " + host + "/support create \nentry " + host + "/sales create \nagent " + host + "/ann create "
	check("a dry run on an empty server", true, created)
	if ts, _ := hs.store.Tenants(t.Context()); len(ts) != 0 {
		t.Fatalf("a dry run created tenants: %+v", ts)
	}
	check("the first apply", false, created)
	unchanged := strings.ReplaceAll(created, " create ", " unchanged ")
	check("the second apply", false, unchanged)
	check("a dry run after it", true, unchanged)
	f.Tenants[0].Entries[1].Name = "Sales"
	f.Agents[0].Capacity = 5
	f.Tenants[0].Entries[0].TURN.Secret = "a-new-turn-secret"
	audited, _ := hs.store.Audit(t.Context(), 0, 1000)
	check("a dry run of changes", true, "tenant "+host+" unchanged \nentry "+host+"/support update turn.secret\nentry "+host+"/sales update name\nagent "+host+"/ann update capacity")
	if after, _ := hs.store.Audit(t.Context(), 0, 1000); len(after) != len(audited) {
		t.Fatal("a dry run was audited")
	}
	if got, _ := hs.store.Entry(t.Context(), host, "sales"); got.Name != "" {
		t.Fatal("a dry run changed an entry")
	}
	check("applying the changes", false, "tenant "+host+" unchanged \nentry "+host+"/support update turn.secret\nentry "+host+"/sales update name\nagent "+host+"/ann update capacity")
	check("applying them again", false, unchanged)
	hs.wantNoSecrets(s)
}
