// Package rtc owns what WebRTC calls need from outside the chat: the ICE
// servers handed to callers, with time-limited TURN credentials in the
// shared-secret scheme coturn accepts (use-auth-secret / static-auth-secret),
// and an optional embedded TURN/STUN server that checks the same credentials.
//
// Call signaling is not here: it travels as chat_session_signaling events in
// the chat's log (package chat). This package may import chat but nothing that
// serves HTTP; clientweb and server use it.
package rtc

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Credentials returns the TURN username and credential that let id use a
// relay sharing secret until expiry: username "<unix expiry>:<id>",
// credential base64(HMAC-SHA1(secret, username)). This is the TURN REST API
// scheme (draft-uberti-behave-turn-rest) that coturn checks with
// use-auth-secret and the embedded server with turn.LongTermTURNRESTAuthHandler.
// id must not contain ':' (coturn takes the expiry up to the first one).
func Credentials(secret, id string, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + id
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// CustomerID is the id TURN credentials of a customer carry: a digest of the
// tenant, app and client id, stable per installation. It is never the client
// id itself, which is the key to the customer's chats: a TURN username
// travels in clear over UDP and ends up in the relay's logs.
func CustomerID(k chat.ClientKey) string {
	sum := sha256.Sum256([]byte(k.Tenant + "\x00" + k.AppID + "\x00" + k.ClientID))
	return "c-" + base64.RawURLEncoding.EncodeToString(sum[:15])
}

// AgentID is the id TURN credentials of an agent carry: a digest of the
// tenant and the agent's id, "a-" first so that it never equals a
// customer's (CustomerID).
func AgentID(tenant, agentID string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + agentID))
	return "a-" + base64.RawURLEncoding.EncodeToString(sum[:15])
}

// Relay is a TURN service that time-limited credentials unlock: what an
// entry's turn block names, or the embedded server.
type Relay struct {
	URLs   []string // turn: and turns: URLs, and stun: ones that need no credentials
	Secret string
}

// Servers lists the ICE servers of an entry for the caller id at now: the
// entry's ice_servers as configured, then its TURN relay with fresh
// credentials. An entry whose turn block asks for the embedded server gets
// embedded, when one runs (nil otherwise). The secret is never in the result.
func Servers(e *chat.Entry, id string, now time.Time, embedded *Relay) []chat.ICEServer {
	out := make([]chat.ICEServer, 0, len(e.ICEServers)+2)
	for _, s := range e.ICEServers {
		if len(s.URLs) > 0 {
			out = append(out, s)
		}
	}
	t := e.TURN
	if t == nil {
		return out
	}
	relay := &Relay{URLs: t.URLs, Secret: t.Secret}
	if t.Embedded {
		relay = embedded
	}
	if relay == nil || len(relay.URLs) == 0 {
		return out
	}
	var stun, turn []string
	for _, u := range relay.URLs {
		if isSTUN(u) {
			stun = append(stun, u)
		} else {
			turn = append(turn, u)
		}
	}
	if len(stun) > 0 {
		out = append(out, chat.ICEServer{URLs: stun})
	}
	if len(turn) > 0 {
		user, cred := Credentials(relay.Secret, id, now.Add(t.Lifetime()))
		out = append(out, chat.ICEServer{URLs: turn, Username: user, Credential: cred})
	}
	return out
}

func isSTUN(url string) bool {
	scheme, _, _ := strings.Cut(strings.ToLower(url), ":")
	return scheme == "stun" || scheme == "stuns"
}

// APIServer is one ICE server as the APIs answer it: the docs' url (the
// first of urls), and urls so that a browser can hand the list to
// RTCPeerConnection unchanged.
type APIServer struct {
	URL        string   `json:"url"`
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Answer is the body of an iceservers answer, the customer API's and the
// agent API's: {"servers":[…]}, never null.
type Answer struct {
	Servers []APIServer `json:"servers"`
}

// ServersAnswer is Servers in the APIs' shape.
func ServersAnswer(e *chat.Entry, id string, now time.Time, embedded *Relay) Answer {
	list := Servers(e, id, now, embedded)
	out := Answer{Servers: make([]APIServer, 0, len(list))}
	for _, s := range list {
		out.Servers = append(out.Servers, APIServer{URL: s.URLs[0], URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}
