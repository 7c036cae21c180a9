package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// WebChatClientID is the clientId that asks the server to identify the client
// by a cookie it issues (§1) instead of by the clientId itself.
const WebChatClientID = "WebChat"

// apiPrefix is the path every API method lives under, after the base URL.
const apiPrefix = "/clientweb/api/v2/"

// filePrefix is the absolute path of the unauthenticated file download.
const filePrefix = "/clientweb/file/"

// defaultTimeout bounds a whole exchange when the caller brings no
// http.Client. It is well above the server's long-poll hold (10 s by
// default) so an idle poll is never cut short.
const defaultTimeout = 60 * time.Second

// Config says which server to talk to and as whom. Only BaseURL is required
// by the client; a real server also wants Tenant, AppID and ClientID.
type Config struct {
	// BaseURL is the scheme and host of the server, such as
	// "http://127.0.0.1:8080", optionally with a path the server is
	// mounted under. A trailing slash is ignored.
	BaseURL string
	// Tenant is sent as the tenantUrl query parameter of every API
	// request. When empty the parameter is left out and the server names
	// the tenant from the Host header.
	Tenant string
	// AppID names the scenario entry (launch point) of the tenant.
	AppID string
	// ClientID identifies one installation of the app, usually a UUID.
	// WebChatClientID switches the server to cookie identification; the
	// http.Client then needs a cookie jar (see HTTPClient).
	ClientID string
	// HTTPClient sends the requests. Nil means a client with a 60 s
	// timeout, and with a cookie jar when ClientID is WebChatClientID.
	// A caller-supplied client used with WebChatClientID must have a Jar,
	// or every request looks like a new web visitor. Go's cookie jar sends
	// the server's Secure cookie over plain http only to localhost and
	// loopback addresses, which is what httptest servers use.
	HTTPClient *http.Client
	// QuoteAuth quotes the Authorization values (appId="…") as the docs
	// and the web script do; the SDKs send them bare.
	QuoteAuth bool
	// Header holds extra headers sent on every request, after the
	// client's own, so it can also replace them (SDK emulation sends
	// "UserAgent: MobileClient" and "Cache-Control: no-cache").
	Header http.Header
}

// Option changes one setting of the Config that New builds.
type Option func(*Config)

// WithTenant sets the tenantUrl sent on every API request.
func WithTenant(tenant string) Option { return func(c *Config) { c.Tenant = tenant } }

// WithAppID sets the appId of the Authorization header.
func WithAppID(appID string) Option { return func(c *Config) { c.AppID = appID } }

// WithClientID sets the clientId of the Authorization header.
func WithClientID(clientID string) Option { return func(c *Config) { c.ClientID = clientID } }

// WithHTTPClient makes the client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(c *Config) { c.HTTPClient = hc } }

// WithQuotedAuth quotes the Authorization values as the web script does.
func WithQuotedAuth() Option { return func(c *Config) { c.QuoteAuth = true } }

// WithHeader adds a header sent on every request.
func WithHeader(key, value string) Option {
	return func(c *Config) {
		if c.Header == nil {
			c.Header = http.Header{}
		}
		c.Header.Add(key, value)
	}
}

// Client is a customer's app talking to one Parley server as one
// (tenant, appId, clientId). It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string // BaseURL without its trailing slash
	auth string // the Authorization header value
	hc   *http.Client
}

// New returns a client of the server at baseURL, configured by opts.
func New(baseURL string, opts ...Option) (*Client, error) {
	cfg := Config{BaseURL: baseURL}
	for _, opt := range opts {
		opt(&cfg)
	}
	return NewWithConfig(cfg)
}

// NewWithConfig returns a client configured by cfg. It fails only when
// cfg.BaseURL is not an absolute http or https URL.
func NewWithConfig(cfg Config) (*Client, error) {
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new client: %w", err)
	}
	cfg.Header = cfg.Header.Clone()
	hc := cfg.HTTPClient
	if hc == nil {
		hc, err = defaultHTTPClient(cfg.ClientID == WebChatClientID)
		if err != nil {
			return nil, fmt.Errorf("new client: %w", err)
		}
		cfg.HTTPClient = hc
	}
	return &Client{
		cfg:  cfg,
		base: base,
		auth: authorization(cfg.AppID, cfg.ClientID, cfg.QuoteAuth),
		hc:   hc,
	}, nil
}

// checkBaseURL returns raw without its trailing slash when it is an
// absolute http or https URL with nothing after its path.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q: want scheme://host[/path] only", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Config returns the settings the client was made with. Its HTTPClient is
// the one in use, the default one included.
func (c *Client) Config() Config {
	cfg := c.cfg
	cfg.Header = cfg.Header.Clone()
	return cfg
}

// defaultHTTPClient is the client used when the caller brings none: bounded
// in time, and holding cookies when the server identifies us by them.
func defaultHTTPClient(withJar bool) (*http.Client, error) {
	hc := &http.Client{Timeout: defaultTimeout}
	if withJar {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("cookie jar: %w", err)
		}
		hc.Jar = jar
	}
	return hc, nil
}

// authorization renders the Authorization header of §1.
func authorization(appID, clientID string, quote bool) string {
	if quote {
		return fmt.Sprintf(`MOBILE-API-140-327-PLAIN appId=%q, clientId=%q`, appID, clientID)
	}
	return fmt.Sprintf("MOBILE-API-140-327-PLAIN appId=%s, clientId=%s", appID, clientID)
}

// ErrEmptyID is wrapped by the error of a method given an empty chat, file
// or party id. No request is sent: the server would collapse the empty path
// segment and answer another method.
var ErrEmptyID = errors.New("empty id")
