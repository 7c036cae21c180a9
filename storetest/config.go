package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

var configTests = []test{
	{"a tenant reads back as it was put", func(t *testing.T, st chat.Store) {
		want := chat.Tenant{Host: host, Name: "Demo Contact Center", Disabled: true}
		putTenant(t, st, want)
		wantTenant(t, st, want)
	}},
	{"an unknown tenant is not found", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		_, err := st.Tenant(t.Context(), "other.parley.local")
		wantErr(t, "Tenant(unknown host)", err, chat.ErrNotFound)
	}},
	{"putting a tenant again updates it and keeps its entries", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host, Name: "Old name", Disabled: true})
		putEntry(t, st, host, fullEntry(appID))
		want := chat.Tenant{Host: host, Name: "New name"}
		putTenant(t, st, want)
		wantTenant(t, st, want)
		wantEntry(t, st, host, fullEntry(appID))
	}},
	{"tenants are kept apart by host", func(t *testing.T, st chat.Store) {
		a := chat.Tenant{Host: "a.parley.local", Name: "A"}
		b := chat.Tenant{Host: "b.parley.local", Name: "B", Disabled: true}
		putTenant(t, st, a)
		putTenant(t, st, b)
		wantTenant(t, st, a)
		wantTenant(t, st, b)
	}},
	{"an entry reads back with every field", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		want := fullEntry(appID)
		putEntry(t, st, host, want)
		wantEntry(t, st, host, want)
	}},
	{"an entry without options reads back without them", func(t *testing.T, st chat.Store) {
		// A nil Hours means always open and nil push credentials refuse
		// subscriptions: neither may come back as an empty value.
		putTenant(t, st, chat.Tenant{Host: host})
		putEntry(t, st, host, chat.Entry{AppID: appID})
		wantEntry(t, st, host, chat.Entry{AppID: appID})
	}},
	{"putting an entry again replaces it", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		putEntry(t, st, host, fullEntry(appID))
		want := chat.Entry{AppID: appID, Name: "Renamed", ClosedValue: "notAvailable", Queue: "sales",
			Parameters: []chat.Parameter{{Name: "account", Type: "ACCOUNT"}}}
		putEntry(t, st, host, want)
		wantEntry(t, st, host, want)
		wantEntries(t, st, host, []string{appID})
	}},
	{"an unknown entry is not found", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		putTenant(t, st, chat.Tenant{Host: "other.parley.local"})
		putEntry(t, st, host, chat.Entry{AppID: appID})
		for _, tc := range []struct{ name, host, appID string }{
			{"an unknown app id", host, "unknown"},
			{"an app id of another tenant", "other.parley.local", appID},
			{"an unknown tenant", "unknown.parley.local", appID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.Entry(t.Context(), tc.host, tc.appID)
				wantErr(t, "Entry("+tc.host+", "+tc.appID+")", err, chat.ErrNotFound)
			})
		}
	}},
	{"entries lists every entry of the tenant and no other", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		putTenant(t, st, chat.Tenant{Host: "other.parley.local"})
		full := fullEntry("chat")
		putEntry(t, st, host, full)
		putEntry(t, st, host, chat.Entry{AppID: "billing", Queue: "billing"})
		putEntry(t, st, "other.parley.local", chat.Entry{AppID: "elsewhere"})
		wantEntries(t, st, host, []string{"billing", "chat"})
		wantEntries(t, st, "other.parley.local", []string{"elsewhere"})
		es, err := st.Entries(t.Context(), host)
		if err != nil {
			t.Fatalf("Entries: %v", err)
		}
		full.Tenant = host // set by the store
		for _, e := range es {
			if e.AppID == full.AppID {
				if d := diffEntry(e, full); d != "" {
					t.Errorf("Entries: entry %q differs:%s", e.AppID, d)
				}
			}
		}
	}},
	{"a tenant without entries lists none", func(t *testing.T, st chat.Store) {
		putTenant(t, st, chat.Tenant{Host: host})
		wantEntries(t, st, host, nil)
	}},
}

// fullEntry returns an entry with every field set.
func fullEntry(appID string) chat.Entry {
	return chat.Entry{
		AppID:       appID,
		Name:        "Support <24/7> & ünïcode",
		Disabled:    true,
		ClosedValue: "unavailable",
		Hours: &chat.Hours{
			TimeZone: "Europe/Berlin",
			Weekly:   map[string][]string{"mon": {"08:00-12:00", "13:00-17:30"}, "sat": {"10:00-14:00"}},
			Holidays: []string{"2025-12-25", "2026-01-01"},
		},
		Parameters: []chat.Parameter{{Name: "phone", Type: "PHONE"}, {Name: "email", Type: "EMAIL"}},
		Widgets:    json.RawMessage(`{"theme": {"color": "#0a7", "title": "<b>Hi</b> & ü"}, "launcher": [1, 2.5, "x", null, true, {}]}`),
		ICEServers: []chat.ICEServer{
			{URLs: []string{"stun:stun.example.com:3478"}},
			{URLs: []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"}, Username: "parley", Credential: "s3cret"},
		},
		Push: chat.PushConfig{
			APNs: &chat.APNsConfig{KeyID: "ABC123DEFG", TeamID: "TEAM123456",
				KeyPEM:  "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\n-----END PRIVATE KEY-----\n",
				CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", Sandbox: true},
			FCM: &chat.FCMConfig{ProjectID: "parley-demo",
				ServiceAccount: json.RawMessage(`{"type":"service_account","client_email":"push@parley-demo.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}`)},
		},
		CORSOrigins:    []string{"https://www.example.com", "http://localhost:8080"},
		Files:          chat.FileRules{Disabled: true, MaxSize: 10 << 20, AllowedTypes: []string{"image/*", "application/pdf"}},
		Calls:          true,
		Forms:          true,
		Queue:          "billing",
		Skills:         []string{"billing", "de"},
		OutOfHours:     "queue",
		OfflineMessage: "We are closed; an agent will answer in the morning.",
		Inactivity: chat.Timeouts{Warning: chat.Duration(90 * time.Second), End: chat.Duration(5 * time.Minute),
			WarningMsg: "Are you still there?", EndMsg: "The chat was closed for inactivity."},
		AutoCase: true,
	}
}

func putTenant(t *testing.T, st chat.Store, tn chat.Tenant) {
	t.Helper()
	if err := st.PutTenant(t.Context(), tn); err != nil {
		t.Fatalf("PutTenant(%q): %v", tn.Host, err)
	}
}

func putEntry(t *testing.T, st chat.Store, host string, e chat.Entry) {
	t.Helper()
	if err := st.PutEntry(t.Context(), host, e); err != nil {
		t.Fatalf("PutEntry(%q, %q): %v", host, e.AppID, err)
	}
}

// wantTenant checks the stored tenant; Entries live in configuration files
// only, so they are not compared.
func wantTenant(t *testing.T, st chat.Store, want chat.Tenant) {
	t.Helper()
	got, err := st.Tenant(t.Context(), want.Host)
	if err != nil {
		t.Fatalf("Tenant(%q): %v", want.Host, err)
	}
	got.Entries, want.Entries = nil, nil
	if got.Host != want.Host || got.Name != want.Name || got.Disabled != want.Disabled {
		t.Errorf("Tenant(%q) = %+v, want %+v", want.Host, got, want)
	}
}

func wantEntry(t *testing.T, st chat.Store, host string, want chat.Entry) {
	t.Helper()
	got, err := st.Entry(t.Context(), host, want.AppID)
	if err != nil {
		t.Fatalf("Entry(%q, %q): %v", host, want.AppID, err)
	}
	want.Tenant = host // set by the store
	if d := diffEntry(got, want); d != "" {
		t.Errorf("Entry(%q, %q) differs:%s", host, want.AppID, d)
	}
}

// wantEntries checks the app ids Entries lists, in any order.
func wantEntries(t *testing.T, st chat.Store, host string, want []string) {
	t.Helper()
	es, err := st.Entries(t.Context(), host)
	if err != nil {
		t.Fatalf("Entries(%q): %v", host, err)
	}
	got := make([]string, 0, len(es))
	for _, e := range es {
		got = append(got, e.AppID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Errorf("Entries(%q) = %q, want %q", host, got, want)
	}
}
