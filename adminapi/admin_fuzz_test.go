package adminapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/parley-chat/parley/adminapi"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// adminCalls are the methods of the admin API that read a body or a query;
// each is about the tenant host, its entry "web" and its agent "alice".
var adminCalls = []struct{ method, path string }{
	{"PUT", "tenants/" + host},
	{"PUT", "tenants/" + host + "/entries/web"},
	{"POST", "tenants/" + host + "/agents"},
	{"PUT", "tenants/" + host + "/agents/alice"},
	{"GET", "audit"},
}

const fuzzAdminToken = "fuzz-admin-token-with-every-scope"

// FuzzAdminAPI sends a body and a query (dry_run, the audit's limit and
// before) to the admin API's methods, through the handler and the SQLite
// store. The answer is 200 with JSON or a 4xx error object, never a server
// error. A refusal or a dry run changes nothing and audits nothing. What a
// PUT or POST stored, read back with GET and put again as it was served
// (secrets redacted), is unchanged: the way `parley config apply` and an
// operator editing what they read write it back. Seeds are in
// testdata/fuzz/FuzzAdminAPI: call indexes adminCalls.
func FuzzAdminAPI(f *testing.F) {
	st, err := sqlite.Open(f.Context(), filepath.Join(f.TempDir(), "parley.db"))
	if err != nil {
		f.Fatalf("open store: %v", err)
	}
	f.Cleanup(func() { st.Close() })
	hash, _ := bcrypt.GenerateFromPassword([]byte("a password"), bcrypt.MinCost)
	ctx := f.Context()
	if err := st.PutTenant(ctx, chat.Tenant{Host: host, Name: "ACME"}); err != nil {
		f.Fatal(err)
	}
	web := chat.Entry{AppID: "web", Calls: true,
		ICEServers: []chat.ICEServer{{URLs: []string{"turn:turn.acme.example:3478"}, Username: "u", Credential: "ice-secret"}},
		TURN:       &chat.TURNConfig{URLs: []string{"turn:turn.acme.example:3478"}, Secret: "turn-secret"}}
	if err := st.PutEntry(ctx, host, web); err != nil {
		f.Fatal(err)
	}
	if err := st.PutAgent(ctx, chat.Agent{ID: "alice-id", Tenant: host, Username: "alice", PasswordHash: string(hash),
		FirstName: "Alice", DisplayName: "Alice", Capacity: 2, Role: chat.RoleAgent}); err != nil {
		f.Fatal(err)
	}
	h := adminapi.New(st, slog.New(slog.DiscardHandler))
	h.Bootstrap = fuzzAdminToken
	serve := func(t *testing.T, method, target string, body []byte) (int, []byte) {
		t.Helper()
		r, err := http.NewRequestWithContext(t.Context(), method, "http://admin.test"+adminapi.Prefix+target, bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		r.Header.Set("Authorization", "Bearer "+fuzzAdminToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.Bytes()
	}
	state := func(t *testing.T) adminState {
		t.Helper()
		var s adminState
		var err error
		if s.Tenant, err = st.Tenant(t.Context(), host); err != nil {
			t.Fatal(err)
		}
		if s.Entries, err = st.Entries(t.Context(), host); err != nil {
			t.Fatal(err)
		}
		if s.Agents, err = st.Agents(t.Context(), host); err != nil {
			t.Fatal(err)
		}
		audit, err := st.Audit(t.Context(), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) > 0 {
			s.LastAudit = audit[0].ID
		}
		return s
	}

	f.Fuzz(func(t *testing.T, call uint8, query string, body []byte) {
		m := adminCalls[int(call)%len(adminCalls)]
		target := m.path + "?" + query
		u, err := url.Parse("http://admin.test" + adminapi.Prefix + target)
		if err != nil {
			return // not a request a client can send
		}
		dry := u.Query().Get("dry_run") == "1" || u.Query().Get("dry_run") == "true"
		before := state(t)
		status, answer := serve(t, m.method, target, body)
		after := state(t)
		if status != http.StatusOK {
			checkAdminError(t, m.method+" "+target, status, answer)
		}
		if (status != http.StatusOK || dry || m.method == "GET") && !reflect.DeepEqual(after, before) {
			t.Fatalf("%s %s %q: answered %d %s, but the store changed from %+v to %+v", m.method, target, body, status, answer, before, after)
		}
		if status != http.StatusOK || dry || m.method == "GET" {
			return
		}
		// Written back as served, it is what is stored.
		var put struct {
			Result string          `json:"result"`
			Tenant json.RawMessage `json:"tenant"`
			Agent  chat.Agent      `json:"agent"`
		}
		if err := json.Unmarshal(answer, &put); err != nil {
			t.Fatalf("%s %s: answer %s: %v", m.method, target, answer, err)
		}
		var path string
		var again []byte
		switch m.path {
		case adminCalls[0].path:
			path = "tenants/" + host
			_, got := serve(t, "GET", path, nil)
			var doc struct{ Tenant map[string]any }
			json.Unmarshal(got, &doc)
			delete(doc.Tenant, "entries")
			again, _ = json.Marshal(doc.Tenant)
		case adminCalls[1].path:
			path = "tenants/" + host + "/entries/web"
			_, got := serve(t, "GET", path, nil)
			var doc struct{ Entry json.RawMessage }
			json.Unmarshal(got, &doc)
			again = doc.Entry
		default:
			path = "tenants/" + host + "/agents/" + url.PathEscape(put.Agent.Username)
			_, got := serve(t, "GET", path, nil)
			var doc struct{ Agent chat.Agent }
			json.Unmarshal(got, &doc)
			a := doc.Agent
			again, _ = json.Marshal(adminapi.AgentSettings{Username: a.Username, FirstName: a.FirstName, LastName: a.LastName,
				DisplayName: a.DisplayName, Skills: a.Skills, Capacity: a.Capacity, Role: a.Role, Disabled: a.Disabled})
		}
		stored := state(t)
		status, answer = serve(t, "PUT", path, again)
		var res adminapi.PutResult
		json.Unmarshal(answer, &res)
		if status != http.StatusOK || res.Result != adminapi.ResultUnchanged || !reflect.DeepEqual(state(t), stored) {
			t.Fatalf("%s %s %q stored what, read back and put again as %s, answers %d %s", m.method, target, body, again, status, answer)
		}
	})
}

// adminState is what the admin API may change.
type adminState struct {
	Tenant    chat.Tenant
	Entries   []chat.Entry
	Agents    []chat.Agent
	LastAudit int64
}

var adminErrorCode = regexp.MustCompile(`^[0-9]{4}$`)

// checkAdminError checks that a refusal is a 4xx with the error object.
func checkAdminError(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	if status < 400 || status > 499 {
		t.Fatalf("%s: status %d %s, want 200 or a 4xx", what, status, body)
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || dec.Decode(new(any)) != io.EOF {
		t.Fatalf("%s: error body %q is not one JSON object", what, body)
	}
	code, _ := obj["error_code"].(string)
	msg, _ := obj["error_message"].(string)
	if !adminErrorCode.MatchString(code) || msg == "" || len(obj) != 2 {
		t.Fatalf("%s: error body %s, want only a string error_code of digits and an error_message", what, body)
	}
}
