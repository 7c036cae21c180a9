package push

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// clock is a settable time for provider tokens.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestAPNsProviderTokensAreCachedAndRefreshed(t *testing.T) {
	apns := newFakeAPNs(t, false)
	c, err := parseAPNs(&chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: creds().apnsKeyPEM, Endpoint: apns.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	client := newAPNsClient(c, roots(apns.srv), 5*time.Second, clk.Now)
	t.Cleanup(client.close)
	n := &note{chatID: "chat-1", kind: chat.TypeMessage, sender: agentName, body: "hi"}
	send := func() {
		t.Helper()
		if err := client.send(t.Context(), apnsToken, testTopic, n); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	bearer := func(i int) string {
		t.Helper()
		reqs := apns.requests()
		if i >= len(reqs) {
			t.Fatalf("APNs got %d requests, want more than %d", len(reqs), i)
		}
		return reqs[i].Bearer
	}

	send()
	clk.advance(49 * time.Minute)
	send()
	if bearer(0) != bearer(1) {
		t.Errorf("a token 49 minutes old was replaced; want it reused (Apple refuses refreshes more often than every 20 min)")
	}
	clk.advance(time.Minute)
	send()
	if bearer(2) == bearer(1) {
		t.Errorf("a token 50 minutes old was reused; want a new one before Apple's hour is up")
	}
	if got, want := apns.requests()[2].Issued, clk.Now().Unix(); got != want {
		t.Errorf("new token iat = %d, want %d", got, want)
	}

	// APNs says the token expired (a clock skew, say): a new token, one
	// more try, and the send succeeds.
	apns.add(answer{status: http.StatusForbidden, body: `{"reason":"ExpiredProviderToken"}`})
	send()
	reqs := apns.requests()
	if len(reqs) != 5 || reqs[4].Bearer == reqs[3].Bearer || reqs[3].Bearer != bearer(2) {
		t.Errorf("after ExpiredProviderToken: %d requests, want 5 with the retry on a new token", len(reqs))
	}
	send()
	if bearer(5) != bearer(4) {
		t.Errorf("the refreshed token was not kept")
	}
}

func TestAPNsAnswersAreJudged(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   verdict
	}{
		{http.StatusGone, `{"reason":"Unregistered","timestamp":1}`, badToken},
		{http.StatusGone, `{"reason":"ExpiredToken"}`, badToken},
		{http.StatusBadRequest, `{"reason":"BadDeviceToken"}`, badToken},
		{http.StatusBadRequest, `{"reason":"DeviceTokenNotForTopic"}`, badToken},
		{http.StatusBadRequest, `{"reason":"BadTopic"}`, fatal},
		{http.StatusBadRequest, `{"reason":"PayloadTooLarge"}`, fatal},
		{http.StatusForbidden, `{"reason":"InvalidProviderToken"}`, fatal},
		{http.StatusForbidden, `{"reason":"BadCertificate"}`, fatal},
		{http.StatusTooManyRequests, `{"reason":"TooManyProviderTokenUpdates"}`, retry},
		{http.StatusTooManyRequests, `{"reason":"TooManyRequests"}`, retry},
		{http.StatusInternalServerError, `{"reason":"InternalServerError"}`, retry},
		{http.StatusServiceUnavailable, `{"reason":"ServiceUnavailable"}`, retry},
		{http.StatusServiceUnavailable, `not json`, retry},
	} {
		t.Run(tc.body, func(t *testing.T) {
			apns := newFakeAPNs(t, false)
			apns.add(answer{status: tc.status, body: tc.body})
			c, _ := parseAPNs(&chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: creds().apnsKeyPEM, Endpoint: apns.srv.URL})
			client := newAPNsClient(c, roots(apns.srv), 5*time.Second, time.Now)
			defer client.close()
			err := client.send(t.Context(), apnsToken, testTopic, &note{chatID: "c", kind: chat.TypeMessage})
			if got, _ := verdictOf(err); err == nil || got != tc.want {
				t.Errorf("%d %s: verdict %v (%v), want %v", tc.status, tc.body, got, err, tc.want)
			}
		})
	}
}

func TestAnUnreachableServiceIsRetried(t *testing.T) {
	apns := newFakeAPNs(t, false)
	c, _ := parseAPNs(&chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: creds().apnsKeyPEM, Endpoint: apns.srv.URL})
	apns.srv.Close()
	client := newAPNsClient(c, roots(apns.srv), 2*time.Second, time.Now)
	defer client.close()
	err := client.send(t.Context(), apnsToken, testTopic, &note{chatID: "c", kind: chat.TypeMessage})
	if v, _ := verdictOf(err); err == nil || v != retry {
		t.Errorf("send to a closed server: %v (verdict %v), want a retry", err, v)
	}
}
