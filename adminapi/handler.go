// Package adminapi serves the admin API (/admin/api/v1): tenants, their
// scenario entries and agents, changed by operators holding admin tokens
// with scopes, every change recorded in the audit log. Secrets stored with
// an entry (push keys, TURN and ICE credentials) are never served back; see
// Redact. It also holds the client the `parley admin` and `parley config
// apply` commands use. docs/administration.md is its reference.
//
// It uses the chat and config packages and a store; it must not import the
// other HTTP APIs or routing (the server tells routing of agent changes
// through OnAgentChange).
package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Prefix is the path the admin API lives under.
const Prefix = "/admin/api/v1/"

// Store is what the admin API reads and changes.
type Store interface {
	chat.ConfigStore
	chat.AgentStore
	chat.AdminStore
}

// Handler serves the admin API.
type Handler struct {
	Store Store
	Log   *slog.Logger
	// Bootstrap, when set, is one more token with every scope, given to
	// the server as PARLEY_ADMIN_TOKEN, so that a new installation can be
	// administered before any token is stored.
	Bootstrap string
	// OnAgentChange, when set, is told of every agent stored, so that
	// routing drops a disabled agent and sees new skills at once.
	OnAgentChange func(chat.Agent)
	Now           func() time.Time
	MaxBody       int64

	mux *http.ServeMux
}

// New returns the admin API handler.
func New(store Store, log *slog.Logger) *Handler {
	h := &Handler{Store: store, Log: log, Now: time.Now, MaxBody: 4 << 20}
	h.routes()
	return h
}

// Scopes an admin token may hold. A write scope also grants the read scope
// of its family; "*" grants all.
const (
	ScopeAll          = "*"
	ScopeTenantsRead  = "tenants:read"
	ScopeTenantsWrite = "tenants:write" // tenants and their entries
	ScopeAgentsRead   = "agents:read"
	ScopeAgentsWrite  = "agents:write"
	ScopeAuditRead    = "audit:read"
)

// KnownScopes lists the scopes a token may be given.
var KnownScopes = []string{ScopeAll, ScopeTenantsRead, ScopeTenantsWrite, ScopeAgentsRead, ScopeAgentsWrite, ScopeAuditRead}

// Allows reports whether a token holding scopes may act under need.
func Allows(scopes []string, need string) bool {
	family, _, _ := strings.Cut(need, ":")
	for _, s := range scopes {
		if s == ScopeAll || s == need || (strings.HasSuffix(need, ":read") && s == family+":write") {
			return true
		}
	}
	return false
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	handle := func(pattern, scope string, fn handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+Prefix+path, h.authed(scope, fn))
	}
	handle("GET tenants", ScopeTenantsRead, h.listTenants)
	handle("GET tenants/{host}", ScopeTenantsRead, h.getTenant)
	handle("PUT tenants/{host}", ScopeTenantsWrite, h.putTenant)
	handle("POST tenants/{host}/disable", ScopeTenantsWrite, h.disableTenant)
	handle("GET tenants/{host}/entries", ScopeTenantsRead, h.listEntries)
	handle("GET tenants/{host}/entries/{appId}", ScopeTenantsRead, h.getEntry)
	handle("PUT tenants/{host}/entries/{appId}", ScopeTenantsWrite, h.putEntry)
	handle("POST tenants/{host}/entries/{appId}/disable", ScopeTenantsWrite, h.disableEntry)
	handle("DELETE tenants/{host}/entries/{appId}", ScopeTenantsWrite, h.disableEntry)
	handle("GET tenants/{host}/agents", ScopeAgentsRead, h.listAgents)
	handle("GET tenants/{host}/agents/{username}", ScopeAgentsRead, h.getAgent)
	handle("POST tenants/{host}/agents", ScopeAgentsWrite, h.createAgent)
	handle("PUT tenants/{host}/agents/{username}", ScopeAgentsWrite, h.putAgent)
	handle("POST tenants/{host}/agents/{username}/disable", ScopeAgentsWrite, h.disableAgent)
	handle("GET audit", ScopeAuditRead, h.listAudit)
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		jsonapi.WriteError(w, r, h.Log, chat.Errorf(jsonapi.CodeNotFound, "no such method: %s %s", r.Method, r.URL.Path))
	})
	h.mux = m
}

// ServeHTTP routes a request and never lets a panic take the server down.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			h.Log.Error("panic serving admin request", "path", r.URL.Path, "panic", v)
			jsonapi.WriteError(w, r, h.Log, errors.New("panic"))
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// caller is the admin token of an authenticated request.
type caller struct {
	token chat.AdminToken
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// authed checks the bearer token and its scope, then runs fn.
func (h *Handler) authed(scope string, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.authenticate(r)
		if err == nil && !Allows(c.token.Scopes, scope) {
			err = chat.Errorf(jsonapi.CodeForbidden, "this token lacks the scope %s", scope)
		}
		if err == nil {
			err = fn(w, r, c)
		}
		if err != nil {
			jsonapi.WriteError(w, r, h.Log, err)
		}
	})
}

// HashToken returns what an admin token is stored by.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// bootstrapID names the token of PARLEY_ADMIN_TOKEN in the audit log.
const bootstrapID = "bootstrap"

func (h *Handler) authenticate(r *http.Request) (*caller, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, chat.Errorf(jsonapi.CodeUnauthorized, "an admin token is required (Authorization: Bearer …)")
	}
	hash := HashToken(token)
	if h.Bootstrap != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(HashToken(h.Bootstrap))) == 1 {
		return &caller{token: chat.AdminToken{ID: bootstrapID, Name: "PARLEY_ADMIN_TOKEN", Scopes: []string{ScopeAll}}}, nil
	}
	t, err := h.Store.AdminToken(r.Context(), hash)
	if errors.Is(err, chat.ErrNotFound) || (err == nil && t.Disabled) {
		return nil, chat.Errorf(jsonapi.CodeUnauthorized, "unknown or disabled admin token")
	}
	if err != nil {
		return nil, err
	}
	return &caller{token: t}, nil
}

// readJSON decodes a size-limited JSON body into v; unknown fields are
// errors, so that a misspelt setting does not silently keep its default.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := jsonapi.ReadBody(w, r, h.MaxBody)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return chat.Errorf(chat.CodeInvalid, "invalid JSON body: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// notFound turns a store's ErrNotFound into the API's 404.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, chat.ErrNotFound) {
		return chat.Errorf(jsonapi.CodeNotFound, format, args...)
	}
	return err
}

// dryRun reports whether the request only asks what would change.
func dryRun(r *http.Request) bool {
	v := r.URL.Query().Get("dry_run")
	return v == "1" || v == "true"
}

// audit records a change made by the caller. A failure is logged: the
// change itself is already stored.
func (h *Handler) audit(r *http.Request, c *caller, action, target string, detail any) {
	doc, err := json.Marshal(detail)
	if err != nil {
		h.Log.Error("encode audit detail", "err", err)
		doc = nil
	}
	e := chat.AuditEntry{Time: h.Now().UTC().Truncate(time.Millisecond), TokenID: c.token.ID, TokenName: c.token.Name,
		Action: action, Target: target, Detail: doc}
	if _, err := h.Store.AppendAudit(r.Context(), e); err != nil {
		h.Log.Error("append audit", "err", err, "action", action, "target", target)
	}
	h.Log.Info("admin change", "action", action, "target", target, "token", c.token.Name)
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request, _ *caller) error {
	limit, before := 100, int64(0)
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		if err := json.Unmarshal([]byte(v), &limit); err != nil || limit < 1 || limit > 1000 {
			return chat.Errorf(chat.CodeInvalid, "limit must be 1 to 1000")
		}
	}
	if v := q.Get("before"); v != "" {
		if err := json.Unmarshal([]byte(v), &before); err != nil {
			return chat.Errorf(chat.CodeInvalid, "before must be an audit entry id")
		}
	}
	entries, err := h.Store.Audit(r.Context(), before, limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []chat.AuditEntry{}
	}
	jsonapi.WriteJSON(w, map[string]any{"entries": entries})
	return nil
}
