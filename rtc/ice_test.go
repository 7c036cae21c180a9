package rtc_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/rtc"
	"github.com/pion/turn/v4"
)

// hmacSHA1 is the credential coturn computes for a REST username, written
// out here independently of the code under test.
func hmacSHA1(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestCredentialsAreCoturnsRESTScheme(t *testing.T) {
	expiry := time.Unix(1732500000, 0)
	user, cred := rtc.Credentials("north-star-secret", "c-customer", expiry)
	if user != "1732500000:c-customer" {
		t.Errorf("username = %q, want <unix expiry>:<id>", user)
	}
	// printf '1732500000:c-customer' | openssl dgst -sha1 -hmac north-star-secret -binary | base64
	const vector = "ttSdmTJN4v0aE2xb83eYE2J37Qc="
	if cred != vector {
		t.Errorf("credential = %q, want the known vector %q", cred, vector)
	}
	if got := hmacSHA1("north-star-secret", user); cred != got {
		t.Errorf("credential = %q, want base64(HMAC-SHA1(secret, username)) = %q", cred, got)
	}
}

func TestCredentialsMatchPionsGenerator(t *testing.T) {
	pionUser, pionCred, err := turn.GenerateLongTermTURNRESTCredentials("s3cret", "agent-7", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ts, id, ok := strings.Cut(pionUser, ":")
	sec, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil || id != "agent-7" {
		t.Fatalf("pion username %q is not <unix expiry>:<id>", pionUser)
	}
	user, cred := rtc.Credentials("s3cret", "agent-7", time.Unix(sec, 0))
	if user != pionUser || cred != pionCred {
		t.Errorf("Credentials = %q, %q; pion made %q, %q", user, cred, pionUser, pionCred)
	}
}

func TestCustomerIDIsStableOpaqueAndPerInstallation(t *testing.T) {
	k := chat.ClientKey{Tenant: "demo.parley.local", AppID: "demo-chat", ClientID: "3d0f7e0c-5d0e-4b8a-a4cf-5b1c8e7f9a21"}
	id := rtc.CustomerID(k)
	if id != rtc.CustomerID(k) {
		t.Errorf("CustomerID is not stable")
	}
	if strings.Contains(id, k.ClientID) || strings.Contains(id, ":") || len(id) > 32 {
		t.Errorf("CustomerID = %q: want a short digest without the client id or a colon", id)
	}
	other := k
	other.ClientID = "9b6e1c1e-7d5a-4f7e-8f43-0c2a6d1b7e55"
	if rtc.CustomerID(other) == id {
		t.Errorf("two installations share the TURN id %q", id)
	}
}

// expiryOf returns the expiry a REST username carries.
func expiryOf(t *testing.T, username string) time.Time {
	t.Helper()
	ts, _, ok := strings.Cut(username, ":")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		t.Fatalf("username %q is not <unix expiry>:<id>", username)
	}
	return time.Unix(sec, 0)
}

func TestServers(t *testing.T) {
	now := time.Unix(1800000000, 0)
	stun := chat.ICEServer{URLs: []string{"stun:stun.example.com:3478"}}
	static := chat.ICEServer{URLs: []string{"turn:legacy.example.com"}, Username: "fixed", Credential: "fixed-pass"}
	external := &chat.TURNConfig{
		URLs:   []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"},
		Secret: "external-secret", TTL: chat.Duration(time.Hour),
	}
	embedded := &rtc.Relay{URLs: []string{"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"}, Secret: "embedded-secret"}
	credentialed := func(urls []string, secret string, ttl time.Duration) chat.ICEServer {
		user, cred := rtc.Credentials(secret, "c-1", now.Add(ttl))
		return chat.ICEServer{URLs: urls, Username: user, Credential: cred}
	}
	for _, tc := range []struct {
		name     string
		entry    chat.Entry
		embedded *rtc.Relay
		want     []chat.ICEServer
	}{
		{"an entry without servers has none", chat.Entry{}, embedded, []chat.ICEServer{}},
		{"ice_servers are served as configured", chat.Entry{ICEServers: []chat.ICEServer{stun, static}}, nil,
			[]chat.ICEServer{stun, static}},
		{"a turn block comes after them with credentials for its ttl", chat.Entry{ICEServers: []chat.ICEServer{stun}, TURN: external}, embedded,
			[]chat.ICEServer{stun, credentialed(external.URLs, "external-secret", time.Hour)}},
		{"credentials last a day without a ttl", chat.Entry{TURN: &chat.TURNConfig{URLs: []string{"turn:t.example.com"}, Secret: "x"}}, nil,
			[]chat.ICEServer{credentialed([]string{"turn:t.example.com"}, "x", 24*time.Hour)}},
		{"embedded: true gets the embedded server's STUN and TURN", chat.Entry{ICEServers: []chat.ICEServer{stun}, TURN: &chat.TURNConfig{Embedded: true}}, embedded,
			[]chat.ICEServer{stun, {URLs: []string{"stun:127.0.0.1:3478"}}, credentialed([]string{"turn:127.0.0.1:3478?transport=udp"}, "embedded-secret", 24*time.Hour)}},
		{"embedded: true gets nothing more when no embedded server runs", chat.Entry{ICEServers: []chat.ICEServer{stun}, TURN: &chat.TURNConfig{Embedded: true}}, nil,
			[]chat.ICEServer{stun}},
		{"an entry without a turn block does not get the embedded server", chat.Entry{ICEServers: []chat.ICEServer{stun}}, embedded,
			[]chat.ICEServer{stun}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtc.Servers(&tc.entry, "c-1", now, tc.embedded)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Servers =\n  %+v\nwant\n  %+v", got, tc.want)
			}
			out, _ := json.Marshal(got)
			for _, secret := range []string{"external-secret", "embedded-secret"} {
				if strings.Contains(string(out), secret) {
					t.Errorf("Servers gave away the secret: %s", out)
				}
			}
		})
	}
}

func TestServersCredentialsExpireAfterTheTTL(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := chat.Entry{TURN: &chat.TURNConfig{URLs: []string{"turn:t.example.com"}, Secret: "s", TTL: chat.Duration(90 * time.Minute)}}
	s := rtc.Servers(&e, "c-1", now, nil)[0]
	if got, want := expiryOf(t, s.Username), now.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("credentials expire at %v, want now + ttl = %v", got, want)
	}
	later := rtc.Servers(&e, "c-1", now.Add(time.Minute), nil)[0]
	if later.Username == s.Username || later.Credential == s.Credential {
		t.Errorf("credentials asked for a minute later are the same: %+v", later)
	}
}
