package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// parley runs the binary with args and the environment env, and returns
// its standard output; a failure fails the test.
func parley(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(environWithoutParley(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestAdministrationThroughTheBinary(t *testing.T) {
	s := startServer(t)
	// A token made in the store of the running server.
	var tok struct {
		Token string `json:"token"`
	}
	out := parley(t, nil, "admin", "token", "create", "--data", s.Data, "--scopes", "tenants:write,agents:write,audit:read", "--name", "e2e")
	if err := json.Unmarshal([]byte(out), &tok); err != nil || !strings.HasPrefix(tok.Token, "padm_") {
		t.Fatalf("token create printed %s", out)
	}
	env := []string{"PARLEY_URL=" + s.URL, "PARLEY_ADMIN_TOKEN=" + tok.Token}

	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	const turnSecret = "e2e-turn-SECRET-value"
	if err := os.WriteFile(cfg, []byte(`tenants:
  - host: acme.parley.local
    name: Acme
    entries:
      - app_id: support
        parameters: [{name: email, type: EMAIL}]
        turn: {urls: ["turn:relay.acme.example:3478"], secret: `+turnSecret+`}
        cors_origins: ["https://acme.example"]
agents:
  - tenant: acme.parley.local
    username: ann
    password: ann-password-1
    skills: [english]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	results := func(out string) string {
		t.Helper()
		var got struct {
			Changes []struct{ Kind, Target, Result string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("config apply printed %s", out)
		}
		var lines []string
		for _, c := range got.Changes {
			lines = append(lines, c.Kind+" "+c.Target+" "+c.Result)
		}
		return strings.Join(lines, "; ")
	}
	create := "tenant acme.parley.local create; entry acme.parley.local/support create; agent acme.parley.local/ann create"
	unchanged := strings.ReplaceAll(create, "create", "unchanged")
	if got := results(parley(t, env, "config", "apply", cfg, "--dry-run")); got != create {
		t.Fatalf("dry run: %s, want %s", got, create)
	}
	if out := parley(t, env, "admin", "tenants", "list"); strings.Contains(out, "acme") {
		t.Fatalf("the dry run created the tenant: %s", out)
	}
	if got := results(parley(t, env, "config", "apply", cfg)); got != create {
		t.Fatalf("apply: %s, want %s", got, create)
	}
	if got := results(parley(t, env, "config", "apply", cfg)); got != unchanged {
		t.Fatalf("apply again: %s, want %s", got, unchanged)
	}

	entry := parley(t, env, "admin", "entries", "get", "acme.parley.local", "support")
	if strings.Contains(entry, turnSecret) || !strings.Contains(entry, "<redacted>") {
		t.Fatalf("entries get shows the TURN secret or no redaction: %s", entry)
	}
	parley(t, env, "admin", "agents", "disable", "acme.parley.local", "ann")
	if out := parley(t, env, "admin", "agents", "list", "acme.parley.local"); !strings.Contains(out, `"disabled": true`) {
		t.Fatalf("the agent is not disabled: %s", out)
	}
	audit := parley(t, env, "admin", "audit")
	for _, want := range []string{"token.create", "tenant.create", "entry.create", "agent.create", "agent.disable"} {
		if !strings.Contains(audit, `"`+want+`"`) {
			t.Errorf("the audit log lacks %s:\n%s", want, audit)
		}
	}
	if strings.Contains(audit, turnSecret) {
		t.Fatal("the audit log shows the TURN secret")
	}

	// An unknown token is refused, and the command fails saying so.
	cmd := exec.Command(binary, "admin", "tenants", "list")
	cmd.Env = append(environWithoutParley(), "PARLEY_URL="+s.URL, "PARLEY_ADMIN_TOKEN=padm_wrong")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Fatalf("a wrong token: %v %s, want a 401 failure", err, out)
	}
}
