package push

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenRefresh is the age at which an APNs provider token is replaced.
// Apple refuses tokens older than an hour and refreshes more often than
// every 20 minutes (TooManyProviderTokenUpdates).
const tokenRefresh = 50 * time.Minute

// apnsClient sends to APNs over HTTP/2 for one app's credentials.
type apnsClient struct {
	endpoint string
	http     *http.Client
	tokens   *providerToken // nil with certificate auth
}

func newAPNsClient(c *apnsCreds, roots *x509.CertPool, timeout time.Duration, now func() time.Time) *apnsClient {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if c.cert != nil {
		tlsConf.Certificates = []tls.Certificate{*c.cert}
	}
	t := newTransport(tlsConf, timeout)
	// APNs speaks only HTTP/2.
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP2(true)
	a := &apnsClient{endpoint: c.endpoint, http: &http.Client{Transport: t, Timeout: timeout}}
	if c.key != nil {
		a.tokens = &providerToken{creds: c, now: now}
	}
	return a
}

// newTransport is an HTTP transport with a timeout on every step and HTTP/2
// health checks, so that a dead connection is noticed and replaced.
func newTransport(tlsConf *tls.Config, timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       5 * time.Minute,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: time.Minute,
			PingTimeout:     timeout,
		},
	}
}

func (a *apnsClient) close() { a.http.CloseIdleConnections() }

// send delivers a notification to one device token. A 403
// ExpiredProviderToken replaces the provider token and tries once more.
func (a *apnsClient) send(ctx context.Context, token, topic string, n *note) error {
	body := n.apnsPayload()
	bearer, err := a.bearer()
	if err != nil {
		return err
	}
	err = a.post(ctx, token, topic, bearer, body)
	if se, ok := err.(*sendError); ok && se.reason == "ExpiredProviderToken" && a.tokens != nil {
		a.tokens.expire(bearer)
		if bearer, err = a.bearer(); err != nil {
			return err
		}
		err = a.post(ctx, token, topic, bearer, body)
	}
	return err
}

// bearer is the provider token of token auth, "" with certificate auth.
func (a *apnsClient) bearer() (string, error) {
	if a.tokens == nil {
		return "", nil
	}
	t, err := a.tokens.get()
	if err != nil {
		return "", &sendError{verdict: fatal, err: err}
	}
	return t, nil
}

func (a *apnsClient) post(ctx context.Context, token, topic, bearer string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint+"/3/device/"+url.PathEscape(token), bytes.NewReader(body))
	if err != nil {
		return &sendError{verdict: fatal, err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("apns-topic", topic)
	req.Header.Set("apns-push-type", "alert")
	req.Header.Set("apns-priority", "10")
	if bearer != "" {
		req.Header.Set("Authorization", "bearer "+bearer)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return &sendError{verdict: retry, err: fmt.Errorf("apns: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return apnsError(resp, raw)
}

// apnsError judges an APNs error answer: its status and the reason of its
// JSON body.
func apnsError(resp *http.Response, raw []byte) *sendError {
	var answer struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(raw, &answer) // a body without a reason is judged by its status
	se := &sendError{status: resp.StatusCode, reason: answer.Reason, verdict: byStatus(resp.StatusCode),
		retryAfter: retryAfter(resp.Header, time.Now())}
	switch {
	case resp.StatusCode == http.StatusGone, // Unregistered, ExpiredToken
		answer.Reason == "BadDeviceToken", answer.Reason == "DeviceTokenNotForTopic":
		se.verdict = badToken
	case answer.Reason == "ExpiredProviderToken", answer.Reason == "TooManyProviderTokenUpdates":
		se.verdict = retry
	}
	return se
}

// providerToken is the cached ES256 JWT of APNs token auth.
type providerToken struct {
	creds *apnsCreds
	now   func() time.Time

	mu     sync.Mutex
	token  string
	issued time.Time
}

// get returns the current token, signing a new one when it is older than
// tokenRefresh or was expired.
func (p *providerToken) get() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.token != "" && now.Sub(p.issued) < tokenRefresh && !now.Before(p.issued) {
		return p.token, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": p.creds.teamID, "iat": now.Unix()})
	t.Header["kid"] = p.creds.keyID
	s, err := t.SignedString(p.creds.key)
	if err != nil {
		return "", fmt.Errorf("apns: sign provider token: %w", err)
	}
	p.token, p.issued = s, now
	return s, nil
}

// expire drops the cached token if it is still old, which APNs said has
// expired: of many sends refused at once, one signs the next token.
func (p *providerToken) expire(old string) {
	p.mu.Lock()
	if p.token == old {
		p.token = ""
	}
	p.mu.Unlock()
}
