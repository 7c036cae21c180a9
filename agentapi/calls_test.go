package agentapi_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/rtc"
)

// The ICE servers of the test tenant's web entry.
const (
	stunURL    = "stun:stun.acme.example.com:3478"
	turnURL    = "turn:turn.acme.example.com:3478?transport=udp"
	turnSecret = "the-acme-relays-secret"
)

// iceAnswer is an iceservers answer, the customer API's and the agent API's.
type iceAnswer struct {
	Servers []struct {
		URL        string   `json:"url"`
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"servers"`
}

func TestTheChatViewSaysWhetherCallsAreOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	a.ready()
	_, web := a.chatWith(webApp)
	_, plain := a.chatWith(plainApp)
	if !web.Calls || plain.Calls {
		t.Errorf("calls: %v on the entry with calls, %v on the one without; want true, false", web.Calls, plain.Calls)
	}
	if !a.chat(web.ChatID).Chat.Calls {
		t.Error("GET chats/{id} says calls are off on an entry with calls")
	}
}

func TestTheAgentOfAChatGetsItsICEServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.login(alice)
	b := e.login(bob)
	a.ready()
	c, web := a.chatWith(webApp)
	_, plain := a.chatWith(plainApp)

	before := e.clock.Now()
	var got iceAnswer
	r := a.call("GET", "chats/"+web.ChatID+"/iceservers", "")
	r.ok(t, &got)
	if strings.Contains(string(r.body), turnSecret) {
		t.Fatalf("iceservers gave away the secret: %s", r.body)
	}
	if len(got.Servers) != 2 || got.Servers[0].URL != stunURL || got.Servers[0].Username != "" {
		t.Fatalf("servers %+v, want the STUN server as configured, then the relay", got.Servers)
	}
	relay := got.Servers[1]
	if relay.URL != turnURL || len(relay.URLs) != 1 || relay.URLs[0] != turnURL {
		t.Errorf("relay %+v, want %s in url and urls", relay, turnURL)
	}
	expiry, id, _ := strings.Cut(relay.Username, ":")
	if id != rtc.AgentID(tenant, a.id) {
		t.Errorf("username %q, want the agent's TURN id %s", relay.Username, rtc.AgentID(tenant, a.id))
	}
	if relay.Credential != hmacSHA1(turnSecret, relay.Username) {
		t.Errorf("credential %q is not base64(HMAC-SHA1(secret, username))", relay.Credential)
	}
	if s, err := strconv.ParseInt(expiry, 10, 64); err != nil || time.Unix(s, 0).Before(before.Add(time.Hour-time.Second)) || time.Unix(s, 0).After(e.clock.Now().Add(time.Hour)) {
		t.Errorf("username %q: want it to expire in the entry's ttl of an hour", relay.Username)
	}

	// The customer of the chat gets the same servers under an id of its own.
	var theirs iceAnswer
	if r := c.call("GET", "iceservers", ""); r.status != http.StatusOK {
		t.Fatalf("the customer's iceservers: %d %s", r.status, r.body)
	} else {
		r.decode(t, &theirs)
	}
	if len(theirs.Servers) != 2 || theirs.Servers[1].URL != turnURL || theirs.Servers[1].Username == relay.Username {
		t.Errorf("the customer's servers %+v, want the same relay with credentials of its own", theirs.Servers)
	}

	t.Run("only the agent the chat is assigned to", func(t *testing.T) {
		b.in(t).call("GET", "chats/"+web.ChatID+"/iceservers", "").fails(t, http.StatusNotFound, "5005")
		a.in(t).call("GET", "chats/no-such-chat/iceservers", "").fails(t, http.StatusNotFound, "5005")
	})
	t.Run("not on an entry without calls", func(t *testing.T) {
		a.in(t).call("GET", "chats/"+plain.ChatID+"/iceservers", "").fails(t, http.StatusBadRequest, "5003")
	})
	t.Run("not once the chat is over", func(t *testing.T) {
		a.in(t).call("POST", "chats/"+web.ChatID+"/end", "").ok(t, new(map[string]any))
		a.in(t).call("GET", "chats/"+web.ChatID+"/iceservers", "").fails(t, http.StatusNotFound, "5005")
	})
}

func TestAnEntryOnTheEmbeddedServerGetsItForAgentsToo(t *testing.T) {
	t.Parallel()
	relay := &rtc.Relay{URLs: []string{"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"}, Secret: "embedded-secret"}
	e := newEnv(t, embeddedTURN(relay))
	o := e.loginAt(otherTenant, olga)
	o.ready()
	id := e.customerAt(otherTenant, webApp).requestChat()
	o.take(id)
	var got iceAnswer
	o.call("GET", "chats/"+id+"/iceservers", "").ok(t, &got)
	if len(got.Servers) != 2 || got.Servers[0].URL != relay.URLs[0] || got.Servers[1].URL != relay.URLs[1] {
		t.Fatalf("servers %+v, want the embedded server's STUN and TURN", got.Servers)
	}
	if u := got.Servers[1].Username; !strings.HasSuffix(u, ":"+rtc.AgentID(otherTenant, o.id)) || got.Servers[1].Credential != hmacSHA1(relay.Secret, u) {
		t.Errorf("relay %+v, want credentials of the embedded server's secret for the agent", got.Servers[1])
	}
}

func hmacSHA1(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
