package config_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/sqlite"
)

func TestTheExampleConfigurationIsValidAndApplies(t *testing.T) {
	f, err := config.Load("../docs/parley.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	for range 2 { // applying twice changes nothing the second time
		if err := f.Apply(ctx, store); err != nil {
			t.Fatal(err)
		}
	}
	e, err := store.Entry(ctx, "support.acme.example", "acme-web")
	if err != nil {
		t.Fatal(err)
	}
	if e.QueueName() != "billing" || len(e.Skills) != 1 || !strings.Contains(string(e.Widgets), "Talk to ACME") {
		t.Errorf("entry acme-web = %+v", e)
	}
	agents, err := store.Agents(ctx, "support.acme.example")
	if err != nil || len(agents) != 3 {
		t.Fatalf("agents = %v, %v", agents, err)
	}
}

func TestInvalidConfigurationsAreRefusedWithTheReason(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "tenants: [{host: a, colour: red}]", "unknown field"},
		{"missing host", "tenants: [{name: x}]", "host missing"},
		{"duplicate app", "tenants: [{host: a, entries: [{app_id: x}, {app_id: x}]}]", "listed twice"},
		{"bad parameter type", "tenants: [{host: a, entries: [{app_id: x, parameters: [{name: n, type: NAME}]}]}]", "parameter"},
		{"bad time zone", "tenants: [{host: a, entries: [{app_id: x, hours: {time_zone: Mars/Base, weekly: {}}}]}]", "time_zone"},
		{"bad span", "tenants: [{host: a, entries: [{app_id: x, hours: {time_zone: UTC, weekly: {mon: ['18:00-08:00']}}}]}]", "ends before"},
		{"a span in am and pm", "tenants: [{host: a, entries: [{app_id: x, hours: {time_zone: UTC, weekly: {mon: ['8:00am-9:30pm']}}}]}]", "want HH:MM"},
		{"an hour past a day's", "tenants: [{host: a, entries: [{app_id: x, hours: {time_zone: UTC, weekly: {mon: ['4611686018427387912:00-4611686018427387917:00']}}}]}]", "want HH:MM"},
		{"bad closed value", "tenants: [{host: a, entries: [{app_id: x, closed_value: closed}]}]", "closed_value"},
		{"agent without password", "agents: [{tenant: a, username: u}]", "password"},
		{"a duration past its range", "tenants: [{host: a, entries: [{app_id: x, inactivity: {end: 1e12}}]}]", "out of range"},
		{"bad duration", "tenants: [{host: a, entries: [{app_id: x, inactivity: {warning: soon}}]}]", "duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestEntryJSONIsKeptAsEveryStoreHoldsIt(t *testing.T) {
	e := chat.Entry{AppID: "x", Widgets: json.RawMessage(`[ {"title": "caf\u00e9 \ud800"} ]`)}
	if err := config.ValidateEntry(&e); err != nil {
		t.Fatal(err)
	}
	if got, want := string(e.Widgets), "[{\"title\":\"café \uFFFD\"}]"; got != want {
		t.Errorf("widgets kept as %s, want %s", got, want)
	}
	e = chat.Entry{AppID: "x", Widgets: json.RawMessage(`[{"size":1e400}]`)}
	if err := config.ValidateEntry(&e); err == nil || !strings.Contains(err.Error(), "widgets") {
		t.Errorf("widgets with 1e400: %v, want an error about widgets", err)
	}
}
