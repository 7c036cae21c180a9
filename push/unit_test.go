package push

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
)

func TestWhichEventsNeedAttention(t *testing.T) {
	const chatID = "chat-1"
	for _, tc := range []struct {
		name string
		ev   chat.Event
		want bool
	}{
		{"an agent's message", chat.Event{Type: chat.TypeMessage, PartyID: "party-1"}, true},
		{"a system message", chat.Event{Type: chat.TypeMessage, PartyID: chat.SystemParty}, true},
		{"an agent's file", chat.Event{Type: chat.TypeFile, PartyID: "party-1"}, true},
		{"a timeout warning", chat.Event{Type: chat.TypeTimeoutWarning}, true},
		{"an inactivity timeout", chat.Event{Type: chat.TypeInactivityTimeout}, true},
		{"the customer's own message", chat.Event{Type: chat.TypeMessage, PartyID: chatID}, false},
		{"the customer's own file", chat.Event{Type: chat.TypeFile, PartyID: chatID}, false},
		{"typing", chat.Event{Type: chat.TypeTyping, PartyID: "party-1"}, false},
		{"a status", chat.Event{Type: chat.TypeStatus}, false},
		{"an agent joining", chat.Event{Type: chat.TypePartyJoined, PartyID: "party-1"}, false},
		{"a read receipt", chat.Event{Type: chat.TypeRead, PartyID: "party-1"}, false},
		{"the end", chat.Event{Type: chat.TypeEnded}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.ChatID = chatID
			if got := NeedsAttention(&tc.ev); got != tc.want {
				t.Errorf("NeedsAttention = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNotesSayWhatTheEventSays(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ev    chat.Event
		title string
		body  string
	}{
		{"a message shows its plain text", chat.Event{Type: chat.TypeMessage, Payload: chat.Payload{Msg: "<b>Hi</b>", MsgText: "Hi"}}, "PARLEY_MESSAGE_TITLE", "Hi"},
		{"a message without plain text shows msg", chat.Event{Type: chat.TypeMessage, Payload: chat.Payload{Msg: "Hi"}}, "PARLEY_MESSAGE_TITLE", "Hi"},
		{"a file shows its name", chat.Event{Type: chat.TypeFile, Payload: chat.Payload{FileName: "invoice.pdf"}}, "PARLEY_FILE_TITLE", "invoice.pdf"},
		{"a warning shows its text", chat.Event{Type: chat.TypeTimeoutWarning, Payload: chat.Payload{Msg: "Still there?"}}, "PARLEY_TIMEOUT_WARNING_TITLE", "Still there?"},
		{"a timeout shows its text", chat.Event{Type: chat.TypeInactivityTimeout, Payload: chat.Payload{Msg: "Chat closed"}}, "PARLEY_INACTIVITY_TIMEOUT_TITLE", "Chat closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.ChatID = "chat-1"
			n := noteOf(&tc.ev, "Alice")
			var p struct {
				APS struct {
					Alert struct {
						Title    string   `json:"title-loc-key"`
						Subtitle string   `json:"subtitle-loc-key"`
						LocArgs  []string `json:"loc-args"`
						Body     string   `json:"body"`
					} `json:"alert"`
					Sound    string `json:"sound"`
					Category string `json:"category"`
				} `json:"aps"`
				ChatID string `json:"chatID"`
			}
			if err := json.Unmarshal(n.apnsPayload(), &p); err != nil {
				t.Fatal(err)
			}
			a := p.APS.Alert
			if a.Title != tc.title || a.Subtitle != strings.Replace(tc.title, "_TITLE", "_SUBTITLE", 1) ||
				len(a.LocArgs) != 1 || a.LocArgs[0] != "Alice" || a.Body != tc.body ||
				p.APS.Sound != "default" || p.APS.Category != "NEW_CHAT_MESSAGE" || p.ChatID != "chat-1" {
				t.Errorf("APNs payload = %s", n.apnsPayload())
			}
		})
	}
}

func TestLongTextsAreShortenedOnACharacterBoundary(t *testing.T) {
	long := strings.Repeat("ü", 2000)
	got := shorten(long, maxBody)
	if len(got) > maxBody || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("shorten: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	n := noteOf(&chat.Event{ChatID: "c", Type: chat.TypeMessage, Payload: chat.Payload{MsgText: long}}, strings.Repeat("x", 100))
	if size := len(n.apnsPayload()); size > 4096 {
		t.Errorf("APNs payload of a long message = %d bytes, over APNs' 4 KiB", size)
	}
	if s := shorten("short", maxBody); s != "short" {
		t.Errorf("shorten(short) = %q", s)
	}
}

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	base, max := time.Second, 30*time.Second
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: max, 40: max} {
		for range 50 {
			if d := backoff(n, base, max, 0); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := backoff(1, base, max, 2*time.Minute); d != 2*time.Minute {
		t.Errorf("backoff with Retry-After 2m = %v, want 2m (the service's word wins)", d)
	}
}

func TestRetryAfterIsReadAsSecondsOrADate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"-5", 0},
		{"86401", 24 * time.Hour},
		{"10000000000", 24 * time.Hour},          // seconds past a Duration's range
		{"99999999999999999999", 24 * time.Hour}, // past an int's
		{now.AddDate(100, 0, 0).Format(http.TimeFormat), 24 * time.Hour},
	} {
		h := http.Header{}
		if tc.value != "" {
			h.Set("Retry-After", tc.value)
		}
		if got := retryAfter(h, now); got != tc.want {
			t.Errorf("Retry-After %q = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestCredentialsAreCheckedWhenConfigured(t *testing.T) {
	c := creds()
	account := func(edit func(map[string]string)) json.RawMessage {
		m := map[string]string{"type": "service_account", "project_id": testProject,
			"private_key": c.accountPEM, "client_email": testEmail}
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	keep := func(map[string]string) {}
	for _, tc := range []struct {
		name string
		conf chat.PushConfig
		want string // "" when valid
	}{
		{"APNs token auth", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.apnsKeyPEM, Sandbox: true}}, ""},
		{"APNs certificate auth", chat.PushConfig{APNs: &chat.APNsConfig{CertPEM: c.certPEM, KeyPEM: c.certKeyPEM}}, ""},
		{"APNs declared without credentials", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID}}, ""},
		{"APNs with a test endpoint", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.apnsKeyPEM, Endpoint: "https://localhost:8443"}}, ""},
		{"FCM", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(keep)}}, ""},
		{"FCM with the project named in the block", chat.PushConfig{FCM: &chat.FCMConfig{ProjectID: "other", ServiceAccount: account(func(m map[string]string) { delete(m, "project_id") })}}, ""},
		{"FCM declared without credentials", chat.PushConfig{FCM: &chat.FCMConfig{}}, ""},
		{"a .p8 key that is not PEM", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: "MIGTAgEAMBMG"}}, "apns: key_pem"},
		{"a token key of the wrong curve", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.otherKeyPEM}}, "P-256"},
		{"a token key without key id", chat.PushConfig{APNs: &chat.APNsConfig{TeamID: testTeamID, KeyPEM: c.apnsKeyPEM}}, "key_id"},
		{"a token key without team id", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, KeyPEM: c.apnsKeyPEM}}, "team_id"},
		{"a certificate without its key", chat.PushConfig{APNs: &chat.APNsConfig{CertPEM: c.certPEM}}, "key_pem"},
		{"a certificate with another key", chat.PushConfig{APNs: &chat.APNsConfig{CertPEM: c.certPEM, KeyPEM: c.apnsKeyPEM}}, "cert_pem"},
		{"an endpoint that is not https", chat.PushConfig{APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.apnsKeyPEM, Endpoint: "http://localhost"}}, "endpoint"},
		{"a service account that is not JSON", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: json.RawMessage(`"key"`)}}, "service_account"},
		{"a service account without email", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) { delete(m, "client_email") })}}, "client_email"},
		{"a service account with a bad key", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) {
			m["private_key"] = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"
		})}}, "private_key"},
		{"a service account with an EC key", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) { m["private_key"] = c.apnsKeyPEM })}}, "RSA"},
		{"an OAuth client instead of a service account", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) { m["type"] = "authorized_user" })}}, "type"},
		{"no project anywhere", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) { delete(m, "project_id") })}}, "project_id"},
		{"a bad token_uri", chat.PushConfig{FCM: &chat.FCMConfig{ServiceAccount: account(func(m map[string]string) { m["token_uri"] = "ftp://x" })}}, "token_uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.conf)
			if tc.want == "" && err != nil {
				t.Errorf("Validate: %v, want valid", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestEndpointsDefaultToApplesAndGooglesServers(t *testing.T) {
	c := creds()
	prod, _ := parseAPNs(&chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.apnsKeyPEM})
	sandbox, _ := parseAPNs(&chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: c.apnsKeyPEM, Sandbox: true})
	if prod.endpoint != "https://api.push.apple.com" || sandbox.endpoint != "https://api.sandbox.push.apple.com" {
		t.Errorf("APNs endpoints = %s, %s", prod.endpoint, sandbox.endpoint)
	}
	b, _ := json.Marshal(map[string]string{"project_id": "p", "private_key": c.accountPEM, "client_email": testEmail})
	f, err := parseFCM(&chat.FCMConfig{ServiceAccount: b})
	if err != nil || f.endpoint != "https://fcm.googleapis.com" || f.account.TokenURI != "https://oauth2.googleapis.com/token" {
		t.Errorf("FCM = %+v, %v", f, err)
	}
}
