package rtc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/internal/testserver"
	"github.com/parley-chat/parley/rtc"
	"golang.org/x/crypto/bcrypt"
)

// callsConfig is the tenant these tests call through: an entry with calls
// and an external TURN relay, one that opts into the embedded server, one
// without calls (what apps on Android SDK 2.0.0 must use), and an agent.
const callsConfig = `
tenants:
  - host: calls.example.com
    entries:
      - app_id: voice
        calls: true
        ice_servers:
          - urls: ["stun:stun.example.com:3478"]
        turn:
          urls: ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"]
          secret: external-secret
          ttl: 1h
      - app_id: embedded
        calls: true
        turn: {embedded: true}
      - app_id: text-only
agents:
  - {tenant: calls.example.com, username: ann, password_hash: "%s", first_name: Ann, capacity: 3}
`

const (
	callsTenant   = "calls.example.com"
	androidClient = "3d0f7e0c-5d0e-4b8a-a4cf-5b1c8e7f9a21"
	nodeSecret    = "the-embedded-servers-secret"
	annPassword   = "ann-password-1"
)

// node is a whole Parley node on loopback with callsConfig applied.
type node struct {
	t    *testing.T
	base string
	http *http.Client
}

func startNode(t *testing.T, turn rtc.Config) *node {
	t.Helper()
	// A hash of the lowest cost keeps logins quick under the race detector.
	hash, err := bcrypt.GenerateFromPassword([]byte(annPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, callsConfig, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	base := testserver.Start(t, testserver.Options{ConfigFile: cfg, TURN: turn})
	return &node{t: t, base: base, http: &http.Client{Timeout: 20 * time.Second}}
}

// do sends a request and returns the status and the body.
func (n *node) do(method, target string, header http.Header, body string) (int, []byte) {
	n.t.Helper()
	req, err := http.NewRequestWithContext(n.t.Context(), method, n.base+target, strings.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := n.http.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp.StatusCode, data
}

// object decodes a JSON object, keeping numbers as json.Number so that a
// number where the spec wants a string shows.
func object(t *testing.T, what string, data []byte) map[string]any {
	t.Helper()
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("%s: %q is not a JSON object: %v", what, data, err)
	}
	return obj
}

// customer calls the customer API as an Android app of an entry would.
type customer struct {
	n      *node
	app    string
	client string
}

func (n *node) customer(app string) *customer {
	return &customer{n: n, app: app, client: androidClient}
}

// raw calls a method and returns the status and body.
func (c *customer) raw(method, path, body string) (int, []byte) {
	c.n.t.Helper()
	h := http.Header{"Authorization": {clientweb.Scheme + " appId=" + c.app + ", clientId=" + c.client}}
	return c.n.do(method, clientweb.Prefix+path+"?tenantUrl="+callsTenant, h, body)
}

func (c *customer) call(method, path, body string) map[string]any {
	c.n.t.Helper()
	status, data := c.raw(method, path, body)
	if status != http.StatusOK {
		c.n.t.Fatalf("customer %s %s: %d %s", method, path, status, data)
	}
	return object(c.n.t, method+" "+path, data)
}

// events returns the events array of an answer.
func events(t *testing.T, obj map[string]any) []map[string]any {
	t.Helper()
	raw, ok := obj["events"].([]any)
	if !ok {
		t.Fatalf("events: %#v, want an array", obj["events"])
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// pollUntil polls the chat until done holds for everything polled so far,
// and returns it.
func (c *customer) pollUntil(chatID, what string, done func([]map[string]any) bool) []map[string]any {
	c.n.t.Helper()
	var got []map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for !done(got) {
		if time.Now().After(deadline) {
			c.n.t.Fatalf("customer polled until %s and got %v", what, got)
		}
		got = append(got, events(c.n.t, c.call("GET", "chats/"+chatID+"/events", ""))...)
	}
	return got
}

// agent is a logged-in agent holding its stream open, as the console does.
type agent struct {
	n      *node
	token  string
	stream *websocket.Conn
}

func (n *node) login(username, password string) *agent {
	n.t.Helper()
	status, data := n.do("POST", agentapi.Prefix+"login", nil,
		`{"tenant":"`+callsTenant+`","username":"`+username+`","password":"`+password+`"}`)
	if status != http.StatusOK {
		n.t.Fatalf("login: %d %s", status, data)
	}
	a := &agent{n: n}
	a.token, _ = object(n.t, "login", data)["token"].(string)
	u := "ws" + strings.TrimPrefix(n.base, "http") + agentapi.Prefix + "stream?" + url.Values{"token": {a.token}}.Encode()
	ctx, cancel := context.WithTimeout(n.t.Context(), ioLimit)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		n.t.Fatalf("open agent stream: %v", err)
	}
	conn.SetReadLimit(1 << 22)
	n.t.Cleanup(func() { conn.CloseNow() })
	a.stream = conn
	return a
}

func (a *agent) call(method, path, body string) (int, map[string]any) {
	a.n.t.Helper()
	status, data := a.n.do(method, agentapi.Prefix+path, http.Header{"Authorization": {"Bearer " + a.token}}, body)
	return status, object(a.n.t, method+" "+path, data)
}

func (a *agent) must(method, path, body string) map[string]any {
	a.n.t.Helper()
	status, obj := a.call(method, path, body)
	if status != http.StatusOK {
		a.n.t.Fatalf("agent %s %s: %d %v", method, path, status, obj)
	}
	return obj
}

// streamUntil reads stream messages until done holds for the last one.
func (a *agent) streamUntil(what string, done func(msg map[string]any) bool) {
	a.n.t.Helper()
	ctx, cancel := context.WithTimeout(a.n.t.Context(), 15*time.Second)
	defer cancel()
	for {
		_, data, err := a.stream.Read(ctx)
		if err != nil {
			a.n.t.Fatalf("agent stream, waiting until %s: %v", what, err)
		}
		if done(object(a.n.t, "stream message", data)) {
			return
		}
	}
}

// takeChat waits for the chat to be offered and accepts it.
func (a *agent) takeChat(chatID string) {
	a.n.t.Helper()
	a.streamUntil("the chat is offered", func(m map[string]any) bool {
		r, _ := m["routing"].(map[string]any)
		offers, _ := r["offers"].([]any)
		for _, o := range offers {
			if o.(map[string]any)["chat_id"] == chatID {
				return true
			}
		}
		return false
	})
	a.must("POST", "chats/"+chatID+"/accept", "")
}

// connect starts a chat of the customer with the agent and returns the
// chat id and the agent's party id.
func connect(t *testing.T, c *customer, a *agent) (chatID, agentParty string) {
	t.Helper()
	chatID, _ = c.call("POST", "chats", `{"parameters":{}}`)["chat_id"].(string)
	a.takeChat(chatID)
	c.pollUntil(chatID, "the agent joins", func(evs []map[string]any) bool {
		for _, ev := range evs {
			if ev["event"] == "chat_session_party_joined" {
				agentParty, _ = ev["party_id"].(string)
				return true
			}
		}
		return false
	})
	return chatID, agentParty
}

// signaling returns the chat_session_signaling events of evs.
func signaling(evs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, ev := range evs {
		if ev["event"] == "chat_session_signaling" {
			out = append(out, ev)
		}
	}
	return out
}

// signal is one signaling event as sent and what its data must be on the
// other side: every key of §4.2, strings only.
type signal struct {
	name string
	sent string
	want map[string]string
}

// data is the full data object of §4.2 with some values set.
func data(set map[string]string) map[string]string {
	d := map[string]string{"type": "", "sdp": "", "candidate": "", "sdpMid": "", "sdpMLineIndex": "",
		"offerVideo": "false", "reason_code": "", "reason": ""}
	for k, v := range set {
		d[k] = v
	}
	return d
}

const candidate = "candidate:842163049 1 udp 1677729535 198.51.100.7 49152 typ srflx raddr 0.0.0.0 rport 0 generation 0"

// callSignals are one of each signaling type, as the SDKs send them, with
// msg_ids prefix-1… ; to is the destination_party_id ("" for none).
func callSignals(prefix, to string) []signal {
	dest := ""
	if to != "" {
		dest = `"destination_party_id":"` + to + `",`
	}
	return []signal{
		{"REQUEST_CALL", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-1","data":{"type":"REQUEST_CALL","offerVideo":true}}`,
			data(map[string]string{"type": "REQUEST_CALL", "offerVideo": "true"})},
		{"CALL_REJECTED", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-2","data":{"type":"CALL_REJECTED","reason_code":486,"reason":"busy"}}`,
			data(map[string]string{"type": "CALL_REJECTED", "reason_code": "486", "reason": "busy"})},
		{"OFFER_CALL", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-3","data":{"type":"OFFER_CALL","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n","offerVideo":"false"}}`,
			data(map[string]string{"type": "OFFER_CALL", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"})},
		{"ANSWER_CALL", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-4","data":{"type":"ANSWER_CALL","sdp":"v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}}`,
			data(map[string]string{"type": "ANSWER_CALL", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"})},
		{"Android's ICE_CANDIDATE, without data.type and with a numeric sdpMLineIndex",
			`{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-5","data":{"candidate":"` + candidate + `","sdpMid":"0","sdpMLineIndex":0}}`,
			data(map[string]string{"type": "ICE_CANDIDATE", "candidate": candidate, "sdpMid": "0", "sdpMLineIndex": "0"})},
		{"iOS's ICE_CANDIDATE", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-6","timestamp":754000000,"data":{"type":"ICE_CANDIDATE","candidate":"` + candidate + `","sdpMid":"audio","sdpMLineIndex":"1"}}`,
			data(map[string]string{"type": "ICE_CANDIDATE", "candidate": candidate, "sdpMid": "audio", "sdpMLineIndex": "1"})},
		{"END_CALL", `{"event":"chat_session_signaling",` + dest + `"msg_id":"` + prefix + `-7","data":{"type":"END_CALL"}}`,
			data(map[string]string{"type": "END_CALL"})},
	}
}

// checkSignals compares the signaling events one side got with what the
// other sent, in order.
func checkSignals(t *testing.T, got []map[string]any, sent []signal, prefix, from, to string) {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("got %d signaling events, want %d: %v", len(got), len(sent), got)
	}
	for i, s := range sent {
		ev := got[i]
		if ev["party_id"] != from || ev["destination_party_id"] != to || ev["msg_id"] != prefix+"-"+strconv.Itoa(i+1) {
			t.Errorf("%s: party_id %v, destination_party_id %v, msg_id %v; want %s, %s, %s-%d",
				s.name, ev["party_id"], ev["destination_party_id"], ev["msg_id"], from, to, prefix, i+1)
		}
		if ts, ok := ev["timestamp"].(string); !ok || len(ts) < 10 || strings.Trim(ts, "0123456789") != "" {
			t.Errorf("%s: timestamp %#v, want a string of Unix seconds (the server's clock)", s.name, ev["timestamp"])
		}
		d, _ := ev["data"].(map[string]any)
		if len(d) != len(s.want) {
			t.Errorf("%s: data %v, want exactly the keys of %v", s.name, d, s.want)
		}
		for k, v := range s.want {
			if got, isString := d[k].(string); !isString || got != v {
				t.Errorf("%s: data.%s = %#v, want the string %q", s.name, k, d[k], v)
			}
		}
	}
}

// TestCalls holds calls through one node with the embedded TURN server
// (starting a node is what takes time here) and an agent logged in.
func TestCalls(t *testing.T) {
	n := startNode(t, rtc.Config{Addr: "127.0.0.1:0", Secret: nodeSecret})
	ann := n.login("ann", annPassword)
	ann.must("PUT", "me/state", `{"state":"ready"}`)
	t.Run("signaling flows both ways through the APIs", func(t *testing.T) { signalingFlowsBothWays(t, n, ann) })
	t.Run("signaling never reaches an entry without calls", func(t *testing.T) { noSignalingWithoutCalls(t, n, ann) })
	t.Run("the node hands out TURN credentials its TURN server takes", func(t *testing.T) { turnCredentials(t, n) })
}

func signalingFlowsBothWays(t *testing.T, n *node, ann *agent) {
	c := n.customer("voice")
	chatID, annParty := connect(t, c, ann)

	t.Run("customer to agent", func(t *testing.T) {
		sent := callSignals("c", annParty)
		for _, s := range sent {
			c.call("POST", "chats/"+chatID+"/events", `{"events":[`+s.sent+`]}`)
		}
		var got []map[string]any
		ann.streamUntil("the customer's signaling arrives", func(m map[string]any) bool {
			if m["type"] == "events" && m["chat_id"] == chatID {
				got = append(got, signaling(events(t, m))...)
			}
			return len(got) >= len(sent)
		})
		checkSignals(t, got, sent, "c", chatID, annParty)
	})

	t.Run("agent to customer", func(t *testing.T) {
		sent := callSignals("a", "")
		// The first goes to the customer explicitly; the rest default to it.
		sent[0].sent = strings.Replace(sent[0].sent, `"msg_id"`, `"destination_party_id":"`+chatID+`","msg_id"`, 1)
		var bodies []string
		for _, s := range sent {
			bodies = append(bodies, s.sent)
		}
		// Signaling for another party of the chat (a supervisor's leg) is not
		// the customer's.
		bodies = append(bodies, `{"event":"chat_session_signaling","destination_party_id":"supervisor-9","msg_id":"sig-x","data":{"type":"OFFER_CALL","sdp":"v=0"}}`)
		ann.must("POST", "chats/"+chatID+"/events", `{"events":[`+strings.Join(bodies, ",")+`]}`)
		ann.must("POST", "chats/"+chatID+"/events", `{"events":[{"event":"chat_session_message","msg":"after the call"}]}`)

		evs := c.pollUntil(chatID, "the message after the call", func(evs []map[string]any) bool {
			return len(evs) > 0 && evs[len(evs)-1]["event"] == "chat_session_message"
		})
		checkSignals(t, signaling(evs), sent, "a", annParty, chatID)
		for _, ev := range evs {
			if ev["event"] != "chat_session_signaling" && ev["event"] != "chat_session_message" {
				t.Errorf("customer got %v besides the call and the message", ev["event"])
			}
		}
	})

	t.Run("history keeps no signaling", func(t *testing.T) {
		for _, ev := range events(t, c.call("GET", "chats/"+chatID+"/history", "")) {
			if ev["event"] == "chat_session_signaling" {
				t.Errorf("history holds %v", ev)
			}
		}
	})
}

func noSignalingWithoutCalls(t *testing.T, n *node, ann *agent) {
	c := n.customer("text-only")
	chatID, _ := connect(t, c, ann)

	status, obj := ann.call("POST", "chats/"+chatID+"/events", `{"events":[`+callSignals("a", chatID)[2].sent+`]}`)
	if status != http.StatusBadRequest || !strings.Contains(obj["error_message"].(string), "calls") {
		t.Errorf("agent signaling on an entry without calls: %d %v, want 400 naming calls", status, obj)
	}
	ann.must("POST", "chats/"+chatID+"/events", `{"events":[{"event":"chat_session_message","msg":"text only"}]}`)
	evs := c.pollUntil(chatID, "the agent's message", func(evs []map[string]any) bool {
		return len(evs) > 0 && evs[len(evs)-1]["event"] == "chat_session_message"
	})
	if s := signaling(evs); len(s) != 0 {
		t.Errorf("a customer of an entry without calls got %v", s)
	}
}

// iceServers returns the servers a customer of app is given, checking the
// answer never holds a secret and every server has url and urls.
func iceServers(t *testing.T, c *customer) []map[string]any {
	t.Helper()
	status, body := c.raw("GET", "iceservers", "")
	if status != http.StatusOK {
		t.Fatalf("iceservers: %d %s", status, body)
	}
	for _, secret := range []string{"external-secret", nodeSecret} {
		if bytes.Contains(body, []byte(secret)) {
			t.Fatalf("iceservers gave away a secret: %s", body)
		}
	}
	var ans struct {
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || ans.Servers == nil {
		t.Fatalf("iceservers: %s: want {\"servers\":[…]} (%v)", body, err)
	}
	for _, s := range ans.Servers {
		urls, _ := s["urls"].([]any)
		if len(urls) == 0 || s["url"] != urls[0] {
			t.Errorf("server %v: want url and urls, url the first of urls", s)
		}
	}
	return ans.Servers
}

func turnCredentials(t *testing.T, n *node) {

	t.Run("an external relay", func(t *testing.T) {
		before := time.Now()
		servers := iceServers(t, n.customer("voice"))
		if len(servers) != 2 || servers[0]["url"] != "stun:stun.example.com:3478" || servers[0]["username"] != nil {
			t.Fatalf("servers = %v, want the STUN server as configured, then the relay", servers)
		}
		relay := servers[1]
		user, _ := relay["username"].(string)
		if relay["url"] != "turn:turn.example.com:3478?transport=udp" || len(relay["urls"].([]any)) != 2 {
			t.Errorf("relay = %v, want both turn URLs", relay)
		}
		if relay["credential"] != hmacSHA1("external-secret", user) {
			t.Errorf("credential %v is not base64(HMAC-SHA1(secret, %q))", relay["credential"], user)
		}
		if exp := expiryOf(t, user); exp.Before(before.Add(time.Hour-time.Second)) || exp.After(time.Now().Add(time.Hour)) {
			t.Errorf("credentials expire at %v, want in the entry's ttl of an hour", exp)
		}
	})

	t.Run("the embedded server", func(t *testing.T) {
		servers := iceServers(t, n.customer("embedded"))
		if len(servers) != 2 {
			t.Fatalf("servers = %v, want the embedded server's STUN and TURN", servers)
		}
		stun, _ := servers[0]["url"].(string)
		turnURL, _ := servers[1]["url"].(string)
		user, _ := servers[1]["username"].(string)
		pass, _ := servers[1]["credential"].(string)
		hostPort, ok := strings.CutPrefix(strings.TrimSuffix(turnURL, "?transport=udp"), "turn:")
		if !ok || stun != "stun:"+hostPort || user == "" || pass == "" {
			t.Fatalf("servers = %v, want stun: and turn: URLs of one address, with credentials", servers)
		}
		relay, err := turnClient(t, hostPort, user, pass).Allocate()
		if err != nil {
			t.Fatalf("allocate with the credentials iceservers gave: %v", err)
		}
		defer relay.Close()
		p := peer(t)
		if _, err := relay.WriteTo([]byte("ring ring"), p.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(t, p); string(got) != "ring ring" {
			t.Errorf("peer got %q through the relay", got)
		}
	})

	t.Run("an entry that did not opt in", func(t *testing.T) {
		if servers := iceServers(t, n.customer("text-only")); len(servers) != 0 {
			t.Errorf("servers = %v, want none", servers)
		}
	})
}
