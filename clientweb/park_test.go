package clientweb

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
)

// rawConn is one keep-alive connection to a test node, written and read by
// hand, so that a test knows which connection each request travels on.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialNode(t *testing.T, n *testNode) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", n.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes a customer API request of the demo entry.
func (rc *rawConn) send(method, path, clientID, extra string) {
	rc.t.Helper()
	req := fmt.Sprintf("%s %s%s?tenantUrl=%s HTTP/1.1\r\nHost: parley.test\r\nAuthorization: %s appId=%s, clientId=%s\r\n%s\r\n",
		method, Prefix, path, config.DemoTenant, Scheme, config.DemoApp, clientID, extra)
	if _, err := io.WriteString(rc.c, req); err != nil {
		rc.t.Fatalf("write request: %v", err)
	}
}

// read reads one answer.
func (rc *rawConn) read() (*http.Response, string) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("read answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		rc.t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

func eventTypes(t *testing.T, body string) []string {
	t.Helper()
	var out struct {
		Events []struct {
			Event string `json:"event"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	types := []string{}
	for _, e := range out.Events {
		types = append(types, e.Event)
	}
	return types
}

func TestParkedPollIsAnsweredAndItsConnectionServesTheNextRequest(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true)
	chatID := n.startChat(t, "parked-client")
	rc := dialNode(t, n)
	rc.send("GET", "chats/"+chatID+"/events", "parked-client", "")
	n.waitParked(t, 1)

	n.agentMessage(t, chatID, "hello from the agent")
	n.bus.Publish(context.Background(), chat.CustomerTopic(chatID))
	resp, body := rc.read()
	if resp.StatusCode != http.StatusOK || strings.Join(eventTypes(t, body), ",") != "chat_session_message" {
		t.Fatalf("woken parked poll = %d %s, want the agent's message", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"Cache-Control": "no-cache, no-store", "Content-Type": "application/json; charset=utf-8"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Close {
		t.Errorf("the answer closes the connection; want it kept alive")
	}
	if n.h.Pending() != 0 {
		t.Errorf("%d polls pending after the answer, want 0", n.h.Pending())
	}

	t.Log("the connection goes back to the HTTP server and serves the next request")
	rc.send("GET", "version", "parked-client", "")
	if resp, body := rc.read(); resp.StatusCode != http.StatusOK || !strings.Contains(body, "server_version") {
		t.Fatalf("next request on the connection = %d %s", resp.StatusCode, body)
	}
	t.Log("and parks again")
	rc.send("GET", "chats/"+chatID+"/events", "parked-client", "")
	n.waitPending(t, 1)
	n.agentMessage(t, chatID, "second")
	n.bus.Publish(context.Background(), chat.CustomerTopic(chatID))
	if resp, body := rc.read(); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"msg":"second"`) {
		t.Fatalf("second parked poll = %d %s", resp.StatusCode, body)
	}
}

func TestParkedPollTimesOutSupersedesAndShutsDownEmpty(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true, func(h *Handler) { h.PollTimeout = 300 * time.Millisecond })
	chatID := n.startChat(t, "idle-client")

	t.Run("an idle parked poll answers no events at its timeout", func(t *testing.T) {
		rc := dialNode(t, n)
		start := time.Now()
		rc.send("GET", "chats/"+chatID+"/events", "idle-client", "")
		resp, body := rc.read()
		if took := time.Since(start); resp.StatusCode != http.StatusOK || body != `{"events":[]}` || took < 250*time.Millisecond {
			t.Fatalf("idle poll = %d %s after %v, want {\"events\":[]} after the 300ms timeout", resp.StatusCode, body, took)
		}
	})
	t.Run("a second poll answers the parked one at once", func(t *testing.T) {
		first, second := dialNode(t, n), dialNode(t, n)
		first.send("GET", "chats/"+chatID+"/events", "idle-client", "")
		n.waitPending(t, 1)
		second.send("GET", "chats/"+chatID+"/events", "idle-client", "")
		if resp, body := first.read(); resp.StatusCode != http.StatusOK || body != `{"events":[]}` {
			t.Fatalf("superseded poll = %d %s", resp.StatusCode, body)
		}
		second.read()
	})
	t.Run("the end of the chat wakes a parked poll, then 404", func(t *testing.T) {
		rc := dialNode(t, n)
		rc.send("GET", "chats/"+chatID+"/events", "idle-client", "")
		n.waitPending(t, 1)
		if status, body := n.call(t, "POST", "chats/"+chatID+"/events", "idle-client", `{"events":[{"event":"chat_session_end"}]}`); status != http.StatusOK {
			t.Fatalf("end chat: %d %s", status, body)
		}
		if _, body := rc.read(); !strings.HasSuffix(strings.Join(eventTypes(t, body), ","), "chat_session_ended") {
			t.Fatalf("poll woken by the end = %s, want chat_session_ended last", body)
		}
		rc.send("GET", "chats/"+chatID+"/events", "idle-client", "")
		if resp, _ := rc.read(); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("poll after the end = %d, want 404", resp.StatusCode)
		}
	})
	t.Run("shutting down answers parked polls and closes their connections", func(t *testing.T) {
		other := n.startChat(t, "shutdown-client")
		rc := dialNode(t, n)
		rc.send("GET", "chats/"+other+"/events", "shutdown-client", "")
		n.waitParked(t, 1)
		n.h.Close()
		resp, body := rc.read()
		if resp.StatusCode != http.StatusOK || body != `{"events":[]}` || !resp.Close {
			t.Fatalf("parked poll at shutdown = %d %s (close %v), want {\"events\":[]} and Connection: close", resp.StatusCode, body, resp.Close)
		}
	})
}

func TestPollsWithABodyOrWithoutTheListenerWaitInTheirGoroutine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		park  bool
		extra string
	}{
		{"a node serving without Handler.Listener", false, ""},
		{"a poll with a body", true, "Content-Length: 2\r\n\r\n{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, tc.park)
			chatID := n.startChat(t, "client")
			rc := dialNode(t, n)
			extra := tc.extra
			body := ""
			if i := strings.Index(extra, "\r\n\r\n"); i >= 0 {
				extra, body = extra[:i+2], extra[i+4:]
			}
			rc.send("GET", "chats/"+chatID+"/events", "client", extra)
			io.WriteString(rc.c, body)
			n.waitPending(t, 1)
			n.agentMessage(t, chatID, "hi")
			n.bus.Publish(context.Background(), chat.CustomerTopic(chatID))
			if resp, body := rc.read(); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"msg":"hi"`) {
				t.Fatalf("poll = %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestACustomersOwnEventsDoNotWakeItsPoll(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true)
	chatID := n.startChat(t, "typist")
	rc := dialNode(t, n)
	rc.send("GET", "chats/"+chatID+"/events", "typist", "")
	n.waitPending(t, 1)
	var woken int
	stop := n.h.watch(chat.CustomerTopic(chatID), func() { woken++ })
	defer stop()
	if status, body := n.call(t, "POST", "chats/"+chatID+"/events", "typist", `{"events":[{"event":"chat_session_typing"},{"event":"chat_session_message","msg_id":"m1","msg":"hi"}]}`); status != http.StatusOK {
		t.Fatalf("send: %d %s", status, body)
	}
	if woken != 0 || n.h.Pending() != 1 {
		t.Errorf("the customer's own events woke its poll (%d wake-ups, %d pending)", woken, n.h.Pending())
	}
}

// A customer's connection is parked at every poll of a chat that may last
// hours: it must come back to the HTTP server as the same single wrapper of
// the TCP connection, not one more wrapper per poll.
func TestAConnectionParkedAtEveryPollIsWrappedOnce(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true)
	chatID := n.startChat(t, "loyal-client")
	rc := dialNode(t, n)
	const polls = 50
	for i := range polls {
		rc.send("GET", "chats/"+chatID+"/events", "loyal-client", "")
		n.waitParked(t, 1)
		n.agentMessage(t, chatID, fmt.Sprintf("answer %d", i))
		n.bus.Publish(context.Background(), chat.CustomerTopic(chatID))
		if resp, body := rc.read(); resp.StatusCode != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"msg":"answer %d"`, i)) {
			t.Fatalf("poll %d = %d %s", i, resp.StatusCode, body)
		}
	}
	l := n.h.parking.Load().(*parkListener)
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		var depths []int
		for c := range l.waiting {
			depths = append(depths, wrapperDepth(c))
		}
		l.mu.Unlock()
		if len(depths) == 1 {
			if depths[0] != 1 {
				t.Fatalf("after %d parked polls the connection is %d wrappers deep, want 1", polls, depths[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections waiting for their next request: %d, want 1", len(depths))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wrapperDepth(c net.Conn) int {
	depth := 0
	for {
		bc, ok := c.(*bufferedConn)
		if !ok {
			return depth
		}
		depth++
		c = bc.Conn
	}
}
