package clientweb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

func TestTokenBucketsRefillAtTheirRateAndForgetIdleClients(t *testing.T) {
	t.Parallel()
	l := newLimiter[string](10, 5) // 10 a second, bursts of 5
	t0 := time.Unix(1000, 0)
	for i := range 5 {
		if ok, _ := l.allow("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a", t0)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("request over the burst = %v, retry after %v; want refused, 100ms", ok, wait)
	}
	if ok, _ := l.allow("b", t0); !ok {
		t.Errorf("another key was refused: buckets are per key")
	}
	if ok, _ := l.allow("a", t0.Add(100*time.Millisecond)); !ok {
		t.Errorf("a token did not come back after 1/rate")
	}
	// A minute later both buckets are full again, and dropped at a sweep.
	n := 0
	for i := range l.shards {
		l.sweep(&l.shards[i], t0.Add(2*time.Minute).UnixNano())
		n += len(l.shards[i].buckets)
	}
	if n != 0 {
		t.Errorf("%d buckets kept after everyone went idle", n)
	}
	var none *limiter[string]
	if ok, _ := none.allow("x", t0); !ok {
		t.Errorf("a nil limiter (no limit) refused")
	}
}

// dialFrom returns an HTTP client whose connections come from the loopback
// address src, so that a test can play several customers' addresses.
func dialFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}
}

// TestAFloodingClientIsRefusedWhileOthersAreServed floods the customer API
// from one client and one address, and checks that the flooder is answered
// 429/5429 quickly while a customer on another address chats on with every
// request answered, and answered promptly.
func TestAFloodingClientIsRefusedWhileOthersAreServed(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true, func(h *Handler) {
		h.Limits = Limits{ClientRate: 50, ClientBurst: 100, IPRate: 200, IPBurst: 400}
	})
	victimChat := n.startChat(t, "victim")
	flooder, victim := dialFrom("127.0.0.1"), dialFrom("127.0.0.2")

	ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	var ok, refused, other atomic.Int64
	var wrongBody atomic.Value
	var flood sync.WaitGroup
	for g := range 16 {
		flood.Go(func() {
			// Half the flood comes as one client, half as ever new
			// clients: the per-client and the per-address limits.
			for i := 0; ctx.Err() == nil; i++ {
				id := "flooder"
				if g%2 == 1 {
					id = fmt.Sprintf("flooder-%d-%d", g, i)
				}
				resp, err := flooder.Do(n.request(t, "GET", "availability", id, ""))
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
					var e errorBody
					if json.Unmarshal(body, &e) != nil || e.Code != chat.CodeRateLimited || resp.Header.Get("Retry-After") == "" {
						wrongBody.Store(fmt.Sprintf("%s (Retry-After %q)", body, resp.Header.Get("Retry-After")))
					}
				default:
					other.Add(1)
				}
			}
		})
	}

	// The victim chats as an app does: a send, then a poll that the agent's
	// answer wakes, a dozen times a second.
	var lat []time.Duration
	for i := 0; ctx.Err() == nil; i++ {
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		req := n.request(t, "POST", "chats/"+victimChat+"/events", "victim",
			fmt.Sprintf(`{"events":[{"event":"chat_session_message","msg_id":"v%d","msg":"still there?"}]}`, i))
		resp, err := victim.Do(req)
		if err != nil {
			t.Fatalf("victim's send %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("victim's send %d answered %d during the flood", i, resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
		n.agentMessage(t, victimChat, "yes")
		start = time.Now()
		n.bus.Publish(context.Background(), chat.CustomerTopic(victimChat))
		resp, err = victim.Do(n.request(t, "GET", "chats/"+victimChat+"/events", "victim", ""))
		if err != nil {
			t.Fatalf("victim's poll %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"msg":"yes"`) {
			t.Fatalf("victim's poll %d = %d %s during the flood", i, resp.StatusCode, body)
		}
		lat = append(lat, time.Since(start))
	}
	flood.Wait()

	if w := wrongBody.Load(); w != nil {
		t.Errorf("a refusal is not the 429/5429 error object with Retry-After: %v", w)
	}
	if other.Load() != 0 {
		t.Errorf("%d flood requests answered neither 200 nor 429", other.Load())
	}
	// Over 2 s the address may spend its burst and its rate: 400 + 2×200.
	if got, most := ok.Load(), int64(400+2*200+50); got > most || refused.Load() == 0 {
		t.Errorf("the flood had %d requests served and %d refused; want at most %d served and the rest refused", got, refused.Load(), most)
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	t.Logf("flood: %d served, %d refused; victim: %d requests, p50 %v, p99 %v", ok.Load(), refused.Load(), len(lat), lat[len(lat)/2], p99)
	if len(lat) < 10 || p99 > time.Second {
		t.Errorf("victim made %d requests with p99 %v during the flood; want them answered promptly", len(lat), p99)
	}
}

func TestAClientHoldsAFewPendingPollsAtMost(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true, func(h *Handler) { h.MaxPollsPerClient = 2 })
	// One client id on three entries of the tenant: three live chats.
	var chats []string
	for _, app := range []string{"a", "b", "c"} {
		if err := n.store.PutEntry(context.Background(), "demo.parley.local", chat.Entry{AppID: app}); err != nil {
			t.Fatal(err)
		}
		req := n.request(t, "POST", "chats", "multi", `{}`)
		req.Header.Set("Authorization", Scheme+" appId="+app+", clientId=multi")
		resp, err := n.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			ChatID string `json:"chat_id"`
		}
		json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		chats = append(chats, info.ChatID)
	}
	poll := func(app, chatID string) *rawConn {
		rc := dialNode(t, n)
		req := fmt.Sprintf("GET %schats/%s/events?tenantUrl=demo.parley.local HTTP/1.1\r\nHost: x\r\nAuthorization: %s appId=%s, clientId=multi\r\n\r\n",
			Prefix, chatID, Scheme, app)
		io.WriteString(rc.c, req)
		return rc
	}
	// The first polls give each chat's opening events; the next ones wait.
	for i, app := range []string{"a", "b", "c"} {
		rc := poll(app, chats[i])
		if resp, _ := rc.read(); resp.StatusCode != http.StatusOK {
			t.Fatalf("first poll of chat %d: %d", i, resp.StatusCode)
		}
	}
	poll("a", chats[0])
	poll("b", chats[1])
	n.waitPending(t, 2)
	third := poll("c", chats[2])
	resp, body := third.read()
	var e errorBody
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != http.StatusTooManyRequests || e.Code != chat.CodeTooManyPolls {
		t.Fatalf("a third pending poll = %d %s, want 429/5509", resp.StatusCode, body)
	}
	t.Log("a new poll of a chat already polled replaces the old one: it does not count twice")
	again := poll("a", chats[0])
	n.waitPending(t, 2)
	again.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := http.ReadResponse(again.br, nil); err == nil {
		t.Errorf("the poll replacing a pending one was answered at once; want it held")
	}
}

// TestASlowBodyLosesItsConnection sends a request body a byte at a time,
// slower than the body timeout allows: the connection is cut, and others
// are served meanwhile.
func TestASlowBodyLosesItsConnection(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, true, func(h *Handler) { h.BodyTimeout = 300 * time.Millisecond })
	chatID := n.startChat(t, "slow")
	rc := dialNode(t, n)
	body := `{"events":[{"event":"chat_session_typing"}]}`
	rc.send("POST", "chats/"+chatID+"/events", "slow", fmt.Sprintf("Content-Length: %d\r\n", len(body)))
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		for i := 0; i < len(body); i++ {
			if _, err := io.WriteString(rc.c, body[i:i+1]); err != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cut <- time.Since(start)
	}()
	if status, _ := n.call(t, "GET", "version", "other", ""); status != http.StatusOK {
		t.Errorf("another client was answered %d while the slow body came", status)
	}
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.br, nil)
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Fatalf("the slow body was taken: %d", resp.StatusCode)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the slow body held its connection %v; want it cut after the 300ms body timeout", took)
	}
}
