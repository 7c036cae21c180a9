package clientweb_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/rtc"
)

const (
	turnApp         = "turn-relay"    // STUN, and TURN with a shared secret
	embeddedTURNApp = "turn-embedded" // opts into the embedded server
	relaySecret     = "coturn-static-auth-secret"
	embeddedSecret  = "embedded-turn-secret"
	embeddedTURNURL = "turn:127.0.0.1:3478?transport=udp"
)

// newTURNEnv is a server with an embedded TURN server and two more entries.
func newTURNEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(h *clientweb.Handler) {
		h.EmbeddedTURN = &rtc.Relay{URLs: []string{"stun:127.0.0.1:3478", embeddedTURNURL}, Secret: embeddedSecret}
	})
	for _, entry := range []chat.Entry{
		{AppID: turnApp, Calls: true,
			ICEServers: []chat.ICEServer{{URLs: []string{"stun:stun.example.com:3478"}}},
			TURN: &chat.TURNConfig{
				URLs:   []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"},
				Secret: relaySecret, TTL: chat.Duration(2 * time.Hour),
			}},
		{AppID: embeddedTURNApp, Calls: true, TURN: &chat.TURNConfig{Embedded: true}},
	} {
		if err := e.store.PutEntry(t.Context(), demoTenant, entry); err != nil {
			t.Fatalf("store entry %s: %v", entry.AppID, err)
		}
	}
	return e
}

// iceAnswer is a Get ICE Servers answer: the body checked to hold no
// secret, and its servers.
func iceAnswer(t *testing.T, c *customer) []map[string]any {
	t.Helper()
	r := c.call("GET", "iceservers", "")
	r.ok(t)
	for _, secret := range []string{relaySecret, embeddedSecret} {
		if strings.Contains(string(r.body), secret) {
			t.Fatalf("iceservers gave away a secret: %s", r.body)
		}
	}
	var got struct {
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	return got.Servers
}

// checkTURNCredentials checks a server's username is "<unix expiry>:<id>"
// expiring after ttl, and its credential base64(HMAC-SHA1(secret, username)).
func checkTURNCredentials(t *testing.T, s map[string]any, secret string, ttl time.Duration) {
	t.Helper()
	user, _ := s["username"].(string)
	cred, _ := s["credential"].(string)
	ts, id, _ := strings.Cut(user, ":")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" {
		t.Fatalf("username %q is not <unix expiry>:<id>", user)
	}
	if exp := time.Unix(sec, 0); exp.Before(time.Now().Add(ttl-time.Minute)) || exp.After(time.Now().Add(ttl)) {
		t.Errorf("credentials expire at %v, want %v from now", exp, ttl)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(user))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); cred != want {
		t.Errorf("credential %q, want base64(HMAC-SHA1(secret, username)) = %q", cred, want)
	}
}

func TestICEServersWithTURNCredentials(t *testing.T) {
	e := newTURNEnv(t)
	t.Run("TURN relays come with time-limited credentials, in both shapes", func(t *testing.T) {
		servers := iceAnswer(t, e.customer(turnApp, androidClient))
		if len(servers) != 2 {
			t.Fatalf("servers = %v, want STUN then TURN", servers)
		}
		if _, ok := servers[0]["username"]; ok || servers[0]["url"] != "stun:stun.example.com:3478" {
			t.Errorf("STUN server = %v, want it as configured, without credentials", servers[0])
		}
		turn := servers[1]
		urls, _ := turn["urls"].([]any)
		if len(urls) != 2 || turn["url"] != urls[0] || urls[1] != "turns:turn.example.com:5349?transport=tcp" {
			t.Errorf("TURN server = %v, want url and both urls", turn)
		}
		checkTURNCredentials(t, turn, relaySecret, 2*time.Hour)
		if strings.Contains(turn["username"].(string), androidClient) {
			t.Errorf("username %v carries the client id, the key to the customer's chats", turn["username"])
		}
	})
	t.Run("each installation gets its own credentials", func(t *testing.T) {
		a := iceAnswer(t, e.customer(turnApp, androidClient))[1]["username"]
		b := iceAnswer(t, e.customer(turnApp, iosClient))[1]["username"]
		if a == b {
			t.Errorf("two installations got the username %v", a)
		}
	})
	t.Run("an entry may use the embedded TURN server", func(t *testing.T) {
		servers := iceAnswer(t, e.customer(embeddedTURNApp, iosClient))
		if len(servers) != 2 || servers[0]["url"] != "stun:127.0.0.1:3478" || servers[1]["url"] != embeddedTURNURL {
			t.Fatalf("servers = %v, want the embedded server's STUN and TURN", servers)
		}
		checkTURNCredentials(t, servers[1], embeddedSecret, chat.DefaultTURNTTL)
	})
	t.Run("entries that did not opt in get no embedded server", func(t *testing.T) {
		if servers := iceAnswer(t, e.customer(demoApp, iosClient)); len(servers) != 0 {
			t.Errorf("servers = %v, want none", servers)
		}
	})
}
