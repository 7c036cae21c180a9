package push

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// fcmScope is the OAuth scope of the FCM HTTP v1 API.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// fcmClient sends through FCM HTTP v1 for one app's service account.
type fcmClient struct {
	url  string // .../v1/projects/<id>/messages:send
	http *http.Client
	conf *jwt.Config
	ctx  context.Context // carries http to the token exchange

	mu     sync.Mutex
	tokens oauth2.TokenSource
}

func newFCMClient(c *fcmCreds, roots *x509.CertPool, timeout time.Duration) *fcmClient {
	t := newTransport(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}, timeout)
	hc := &http.Client{Transport: t, Timeout: timeout}
	f := &fcmClient{
		url:  c.endpoint + "/v1/projects/" + url.PathEscape(c.projectID) + "/messages:send",
		http: hc,
		conf: &jwt.Config{
			Email:        c.account.ClientEmail,
			PrivateKey:   []byte(c.account.PrivateKey),
			PrivateKeyID: c.account.PrivateKeyID,
			Scopes:       []string{fcmScope},
			TokenURL:     c.account.TokenURI,
		},
		ctx: context.WithValue(context.Background(), oauth2.HTTPClient, hc),
	}
	f.tokens = f.conf.TokenSource(f.ctx)
	return f
}

func (f *fcmClient) close() { f.http.CloseIdleConnections() }

// tokenSource returns the cached source of access tokens, a fresh one when
// FCM refused the cached token.
func (f *fcmClient) tokenSource(fresh bool) oauth2.TokenSource {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fresh {
		f.tokens = f.conf.TokenSource(f.ctx)
	}
	return f.tokens
}

// send delivers a notification to one registration token. A 401 (the
// access token was revoked or expired early) gets a new access token and
// one more try.
func (f *fcmClient) send(ctx context.Context, token, kind string, n *note) error {
	body := n.fcmMessage(token, kind)
	err := f.post(ctx, f.tokenSource(false), body)
	if se, ok := err.(*sendError); ok && se.status == http.StatusUnauthorized {
		err = f.post(ctx, f.tokenSource(true), body)
	}
	return err
}

func (f *fcmClient) post(ctx context.Context, ts oauth2.TokenSource, body []byte) error {
	at, err := ts.Token()
	if err != nil {
		return tokenError(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return &sendError{verdict: fatal, err: err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+at.AccessToken)
	resp, err := f.http.Do(req)
	if err != nil {
		return &sendError{verdict: retry, err: fmt.Errorf("fcm: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return fcmError(resp, raw)
}

// fcmError judges an FCM error answer: a google.rpc.Status with an
// FcmError code and, for bad requests, the fields at fault.
func fcmError(resp *http.Response, raw []byte) *sendError {
	var answer struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type            string `json:"@type"`
				ErrorCode       string `json:"errorCode"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	json.Unmarshal(raw, &answer) // a body that does not parse is judged by its status
	e := answer.Error
	code, aboutToken := e.Status, strings.Contains(strings.ToLower(e.Message), "registration token")
	for _, d := range e.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
		for _, v := range d.FieldViolations {
			aboutToken = aboutToken || v.Field == "message.token"
		}
	}
	se := &sendError{status: resp.StatusCode, reason: code, verdict: byStatus(resp.StatusCode),
		retryAfter: retryAfter(resp.Header, time.Now())}
	switch {
	case code == "UNREGISTERED", code == "INVALID_ARGUMENT" && aboutToken:
		se.verdict = badToken
	case code == "UNAVAILABLE", code == "INTERNAL", code == "QUOTA_EXCEEDED":
		se.verdict = retry
	}
	// SENDER_ID_MISMATCH is not taken for a bad token: a wrong project in
	// the configuration would otherwise unsubscribe every device.
	return se
}

// tokenError judges a failed exchange of the service account's assertion
// for an access token: refused credentials cannot succeed later, an
// unreachable or failing token endpoint may.
func tokenError(err error) *sendError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return &sendError{verdict: byStatus(re.Response.StatusCode), status: re.Response.StatusCode,
			reason: "token exchange: " + re.ErrorCode, err: fmt.Errorf("fcm: access token: %w", err)}
	}
	return &sendError{verdict: retry, err: fmt.Errorf("fcm: access token: %w", err)}
}
