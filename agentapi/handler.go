// Package agentapi serves the agent API (/agent/api/v1): login, state,
// offers, sending in chats, transfers, cases, transcripts and a WebSocket
// stream of offers and chat events. The browser console and third-party
// desktops use it; docs/agent-api.md is its reference.
package agentapi

import (
	"encoding/json"
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/rtc"
)

// Prefix is the path the agent API lives under.
const Prefix = "/agent/api/v1/"

// DefaultRelook is Handler.Relook's default: the customer poll's hold.
const DefaultRelook = 10 * time.Second

// Handler serves the agent API.
type Handler struct {
	Service *chat.Service
	// Router is routing wherever it runs: this node's Router, or the
	// routing leader of nodes sharing a store.
	Router   routing.Interface
	Blobs    chat.Blobs
	Log      *slog.Logger
	TokenTTL time.Duration // lifetime of a login (default 12 h)
	MaxBody  int64
	// EmbeddedTURN is the relay of the embedded TURN server, given to
	// entries with turn: {embedded: true}; nil when none runs.
	EmbeddedTURN *rtc.Relay
	// Relook is how often a stream reads its chats again without being
	// woken (default DefaultRelook), as a customer's poll looks again at
	// its timeout: a wake-up lost with the node that would have published
	// it delays the agent by at most this. (Routing's view needs no such
	// look: a new routing leader wakes every agent.)
	Relook time.Duration

	mux       *http.ServeMux
	known     knownAgents
	quit      chan struct{}
	closeOnce sync.Once
}

// New returns the agent API handler.
func New(svc *chat.Service, router routing.Interface, blobs chat.Blobs, log *slog.Logger) *Handler {
	h := &Handler{Service: svc, Router: router, Blobs: blobs, Log: log, TokenTTL: 12 * time.Hour,
		MaxBody: chat.MaxEventsBody, Relook: DefaultRelook, quit: make(chan struct{})}
	h.routes()
	return h
}

// Close ends every agent stream, as the server shuts down. It may be called
// more than once: http.Server runs its shutdown hooks on every Shutdown call.
func (h *Handler) Close() { h.closeOnce.Do(func() { close(h.quit) }) }

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST "+Prefix+"login", h.login)
	auth := func(pattern string, fn authFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		m.Handle(method+" "+Prefix+path, h.authed(fn))
	}
	auth("POST logout", h.logout)
	auth("GET me", h.me)
	auth("PUT me/state", h.setState)
	auth("PUT me/photo", h.setPhoto)
	auth("GET stream", h.stream)
	auth("GET chats", h.listChats)
	auth("GET chats/{chatId}", h.getChat)
	auth("GET chats/{chatId}/events", h.chatEvents)
	auth("GET chats/{chatId}/export", h.exportChat)
	auth("POST chats/{chatId}/events", h.sendEvents)
	auth("POST chats/{chatId}/accept", h.accept)
	auth("POST chats/{chatId}/reject", h.reject)
	auth("POST chats/{chatId}/transfer", h.transfer)
	auth("POST chats/{chatId}/end", h.end)
	auth("POST chats/{chatId}/wrapup", h.wrapUp)
	auth("POST chats/{chatId}/case", h.setCase)
	auth("POST chats/{chatId}/case/close", h.closeCase)
	auth("GET chats/{chatId}/casehistory", h.caseHistory)
	auth("GET chats/{chatId}/iceservers", h.iceServers)
	auth("POST files", h.upload)
	auth("GET files/{fileId}", h.download)
	auth("GET agents", h.listAgents)
	auth("POST agents", h.createAgent)
	auth("PUT agents/{agentId}", h.updateAgent)
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		jsonapi.WriteError(w, r, h.Log, chat.Errorf(chat.CodeUnspecified, "no such method: %s %s", r.Method, r.URL.Path))
	})
	h.mux = m
}

// ServeHTTP routes a request and never lets a panic take the server down.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			h.Log.Error("panic serving agent request", "path", r.URL.Path, "panic", v)
			jsonapi.WriteError(w, r, h.Log, errors.New("panic"))
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// session is an authenticated agent request.
type session struct {
	agent     chat.Agent
	tokenHash string
}

type authFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// authed checks the bearer token (header, or ?token= for WebSocket
// handshakes that cannot set headers) and runs fn.
func (h *Handler) authed(fn authFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.authenticate(r)
		if err == nil {
			err = fn(w, r, s)
		}
		if err != nil {
			jsonapi.WriteError(w, r, h.Log, err)
		}
	})
}

// Error codes of the agent API beyond the customer table: 401 and 403.
var (
	errUnauthorized = chat.Errorf(jsonapi.CodeUnauthorized, "log in first")
	errForbidden    = chat.Errorf(jsonapi.CodeForbidden, "administrators only")
)

// readJSON decodes a size-limited JSON body into v.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return chat.Errorf(chat.CodeInvalid, "invalid JSON body: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return jsonapi.ReadBody(w, r, h.MaxBody)
}
