package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxErrorBody bounds how much of a failed answer is kept in an APIError.
const maxErrorBody = 64 << 10

// Call sends one API request and decodes its answer: the escape hatch for
// what the typed methods do not cover (the docs' GET casehistory, a raw
// body). path is relative to /clientweb/api/v2/ and is used as given, so
// escape ids yourself. query is added to tenantUrl. in, when not nil, is
// sent as JSON; a json.RawMessage or []byte is sent verbatim. out, when not
// nil, receives the answer, which must be a JSON object.
func (c *Client) Call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	if err := c.call(ctx, method, strings.TrimLeft(path, "/"), query, in, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// call is Call without the operation prefix on errors.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return exchangeJSON(ctx, method, c.apiURL(path, query), in, out,
		func(ctx context.Context, method, u string, body io.Reader, contentType string) (*http.Response, error) {
			return c.send(ctx, method, u, body, contentType, true)
		})
}

// sendFunc performs one exchange the way a client authenticates.
type sendFunc func(ctx context.Context, method, u string, body io.Reader, contentType string) (*http.Response, error)

// exchangeJSON sends in (when not nil) as JSON to u through send and
// decodes the answer, a JSON object, into out (when not nil).
func exchangeJSON(ctx context.Context, method, u string, in, out any, send sendFunc) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		b, err := encodeBody(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
		contentType = "application/json; charset=utf-8"
	}
	resp, err := send(ctx, method, u, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeObject(resp, out)
}

// encodeBody renders a request body, leaving raw JSON as it is.
func encodeBody(in any) ([]byte, error) {
	switch v := in.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// apiURL is the address of an API method: the prefix, the path and the
// tenant.
func (c *Client) apiURL(path string, query url.Values) string {
	q := url.Values{}
	for k, vs := range query {
		q[k] = append([]string(nil), vs...)
	}
	if c.cfg.Tenant != "" {
		q.Set("tenantUrl", c.cfg.Tenant)
	}
	u := c.base + apiPrefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// segments joins path segments, escaping each, and fails on an empty one.
func segments(parts ...string) (string, error) {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		if p == "" {
			return "", ErrEmptyID
		}
		escaped[i] = url.PathEscape(p)
	}
	return strings.Join(escaped, "/"), nil
}

// send performs one exchange. API requests carry the Authorization header;
// the absolute file download carries none, as the SDKs' image views do.
func (c *Client) send(ctx context.Context, method, u string, body io.Reader, contentType string, auth bool) (*http.Response, error) {
	authz := ""
	if auth {
		authz = c.auth
	}
	return roundTrip(ctx, c.hc, method, u, body, contentType, authz, c.cfg.Header)
}

// roundTrip performs one exchange through hc with the Authorization value
// authz (none when ""), then the extra headers.
func roundTrip(ctx context.Context, hc *http.Client, method, u string, body io.Reader, contentType, authz string, extra http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range extra {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	return resp, nil
}

// decodeObject checks an answer against §2 (status 200 exactly, a JSON
// object) and decodes it into out when out is not nil.
func decodeObject(resp *http.Response, out any) error {
	if resp.StatusCode != http.StatusOK {
		return readAPIError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if f, ok := out.(fastDecoder); ok && f.decodeFast(b) {
		return nil
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return fmt.Errorf("%w: want a JSON object, got %q", ErrBadResponse, snippet(trimmed))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// fastDecoder is an answer that reads its plain forms without
// encoding/json (event_fast.go); false means: decode it as usual.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

// snippet shortens a body for an error message.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
