// Package clientweb serves the customer API v2 under /clientweb/api/v2/, the
// wire contract of the public mobile SDKs and web chat scripts
// (shared/spec/api-v2.md). It translates HTTP to chat.Service calls and back
// and owns the long poll; the rules of a chat live in package chat.
package clientweb

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/rtc"
)

// Prefix is the path every customer API method lives under.
const Prefix = "/clientweb/api/v2/"

// Handler serves the customer API.
type Handler struct {
	Service     *chat.Service
	Blobs       chat.Blobs
	Log         *slog.Logger
	Version     string
	PollTimeout time.Duration // how long an idle poll is held (spec: 10 s)
	MaxBody     int64         // limit of JSON bodies (spec: 1 MiB)
	// EmbeddedTURN is the relay of the embedded TURN server, given to entries
	// with turn: {embedded: true}; nil when none runs.
	EmbeddedTURN *rtc.Relay
	// BodyTimeout bounds reading a JSON body, against clients that send
	// one slowly to hold a connection; UploadIdle bounds each pause of an
	// upload, which may take minutes on a slow network but must not stall
	// (limits.go). Zero: no bound.
	BodyTimeout time.Duration
	UploadIdle  time.Duration
	// Limits are the request rate limits (limits.go); New sets
	// DefaultLimits. Change them before the handler serves.
	Limits Limits
	// MaxPollsPerClient caps the polls one client id holds pending across
	// its chats on every entry of a tenant (429/5509 beyond); 0: no cap. A
	// chat's own polls never count twice: a newer one supersedes the
	// older.
	MaxPollsPerClient int

	polls     *pollRegistry
	parking   atomic.Value // *parkListener, once Listener was called (park.go)
	parked    atomic.Int64 // polls parked now
	limits    limits
	quit      chan struct{}
	closeOnce sync.Once
	mux       *http.ServeMux
}

// New returns a Handler with the spec's defaults.
func New(svc *chat.Service, blobs chat.Blobs, log *slog.Logger) *Handler {
	h := &Handler{
		Service: svc, Blobs: blobs, Log: log, Version: "dev",
		PollTimeout: 10 * time.Second, MaxBody: chat.MaxEventsBody, MaxPollsPerClient: DefaultMaxPollsPerClient,
		Limits: DefaultLimits, BodyTimeout: 30 * time.Second, UploadIdle: 30 * time.Second,
		polls: newPollRegistry(), quit: make(chan struct{}),
	}
	h.routes()
	return h
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	api := func(pattern string, fn apiFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+Prefix+path, h.api(fn))
	}
	api("GET version", h.version)
	api("GET availability", h.availability)
	api("GET iceservers", h.iceServers)
	api("GET configuration", h.configuration)
	api("GET parameters", h.parameters)
	api("POST chats", h.requestChat)
	api("GET chats/active", h.activeChat)
	api("POST chats/{chatId}/notifications", h.subscribe)
	api("POST chats/{chatId}/events", h.sendEvents)
	api("GET chats/{chatId}/events", h.poll)
	api("GET chats/{chatId}/history", h.history)
	api("GET chats/{chatId}/casehistory", h.caseHistory)
	api("GET casehistory", h.caseHistory)
	api("POST chats/{chatId}/closecase", h.closeCase)
	api("POST closecase", h.closeCase)
	api("POST files", h.upload)
	m.HandleFunc("GET "+Prefix+"chats/{chatId}/files/{fileId}", h.chatFile)
	m.HandleFunc("GET "+Prefix+"chats/{chatId}/profilephotos/{partyId}", h.profilePhoto)
	m.HandleFunc("GET /clientweb/file/{fileId}", h.file)
	m.HandleFunc("OPTIONS /clientweb/", h.preflight)
	m.HandleFunc("/clientweb/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, &chat.Error{Code: chat.CodeUnspecified, Message: "no such method: " + r.Method + " " + r.URL.Path})
	})
	h.mux = m
}

// ServeHTTP collapses duplicate slashes (a base URL with a trailing slash
// gives //clientweb/…) without a redirect, which the SDKs would not follow
// for a POST, then routes. It never lets a panic take the server down.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "//") {
		r.URL.Path = collapseSlashes(r.URL.Path)
		r.URL.RawPath = ""
	}
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			h.Log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v)
			h.writeError(w, r, errors.New("panic"))
		}
	}()
	if !h.allowAddress(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// CollapseSlashes serves //clientweb/… as /clientweb/… without a redirect.
// It wraps the server's outer router, whose own path cleaning would answer
// a redirect that the SDKs do not follow for a POST.
func CollapseSlashes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			r.URL.Path = collapseSlashes(r.URL.Path)
			r.URL.RawPath = ""
		}
		h.ServeHTTP(w, r)
	})
}

func collapseSlashes(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// Close answers every pending poll with no events, so that a shutting-down
// server is not held by long polls and clients poll again elsewhere. It may
// be called more than once: http.Server runs its shutdown hooks on every
// Shutdown call.
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		close(h.quit)
		for _, s := range h.polls.all() {
			s.supersede() // parked polls have no goroutine watching quit
		}
	})
}

func (h *Handler) closed() bool {
	select {
	case <-h.quit:
		return true
	default:
		return false
	}
}

// DefaultMaxPollsPerClient is the default of Handler.MaxPollsPerClient: an
// app polls its one live chat of an entry, so an installation has as many
// pending polls as the entries it chats on at once, one or two.
const DefaultMaxPollsPerClient = 4

// call is an authenticated API request: who asks, about which entry.
type call struct {
	key   chat.ClientKey
	entry chat.Entry
}

type apiFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// api authenticates a request (tenant, Authorization header, entry), applies
// the entry's CORS rules and runs fn, answering its error in the spec's form.
func (h *Handler) api(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.authenticate(w, r)
		if err == nil && !h.allowClient(w, r, c.key) {
			return
		}
		if err == nil {
			err = fn(w, r, c)
		}
		if err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*call, error) {
	tenant := tenantOf(r)
	if tenant == "" {
		return nil, chat.Errorf(chat.CodeTenant, "tenantUrl missing")
	}
	if _, err := h.Service.Store.Tenant(r.Context(), tenant); err != nil {
		return nil, h.tenantError(tenant, err)
	}
	creds, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		h.allowTenantOrigin(w, r, tenant)
		return nil, err
	}
	entry, err := h.Service.Resolve(r.Context(), tenant, creds.AppID)
	if chat.ErrorCode(err) == chat.CodeUnknownApp && r.URL.Path == Prefix+"availability" {
		// To Check Availability a disabled entry is closed, not unknown (§3).
		if e, eerr := h.Service.Store.Entry(r.Context(), tenant, creds.AppID); eerr == nil && e.Disabled {
			entry, err = e, nil
		}
	}
	if err != nil {
		h.allowTenantOrigin(w, r, tenant)
		return nil, err
	}
	allowOrigin(w, r, entry.CORSOrigins)
	if creds.ClientID == WebChatClient {
		creds.ClientID = webChatClientID(w, r)
	}
	return &call{key: chat.ClientKey{Tenant: tenant, AppID: entry.AppID, ClientID: creds.ClientID}, entry: entry}, nil
}

func (h *Handler) tenantError(tenant string, err error) error {
	if errors.Is(err, chat.ErrNotFound) {
		return chat.Errorf(chat.CodeTenant, "unknown tenant %q", tenant)
	}
	return err
}

// tenantOf returns the normalized tenantUrl of a request, or its Host.
func tenantOf(r *http.Request) string {
	if t := queryValue(r.URL.RawQuery, "tenantUrl"); t != "" {
		return chat.NormalizeTenant(t)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return chat.NormalizeTenant(host)
}

// queryValue is url.ParseQuery(raw).Get(name) without the map, which every
// request of the customer API paid for its tenantUrl: the first value of
// name, pairs with a semicolon or that do not unescape skipped.
func queryValue(raw, name string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(key); err != nil || key != name {
			continue
		}
		if value, err := url.QueryUnescape(value); err == nil {
			return value
		}
	}
	return ""
}

// decodeJSON decodes a JSON object body into v. An empty body reads as {}
// since some clients send none where the body is ignored.
func decodeJSON(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return chat.Errorf(chat.CodeInvalid, "invalid JSON body: %v", describeJSONError(err))
	}
	return nil
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	defer bodyDeadline(w, h.BodyTimeout)()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, chat.Errorf(chat.CodeInvalid, "request body exceeds %d bytes", h.MaxBody)
	}
	if err != nil {
		// The body was cut (too slow, the client went away): close the
		// connection after the answer rather than read what is left.
		w.Header().Set("Connection", "close")
		return nil, chat.Errorf(chat.CodeInvalid, "reading request body: %v", err)
	}
	return body, nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return te.Field + ": wrong type " + te.Value
		}
		return "want a JSON object"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
