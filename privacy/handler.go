package privacy

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/chat"
)

// Prefix is the path of the privacy routes of the admin API.
const Prefix = "/admin/api/v1/privacy/"

// Scopes of the admin tokens the routes need; write grants read.
const (
	ScopeRead  = "privacy:read"  // exports
	ScopeWrite = "privacy:write" // erasure
)

// Handler serves erasure and exports to operators:
//
//	POST Prefix+"erase"                    {"tenant","app_id","client_id"} or {"case_id"}
//	GET  Prefix+"chats/{chatId}/export"    ?format=json|html
//	GET  Prefix+"cases/{caseId}/export"    ?format=json|html
type Handler struct {
	Eraser *Eraser
	Log    *slog.Logger
	// Authorize checks that the request may act under scope; the admin
	// API's token check, or BearerToken.
	Authorize func(r *http.Request, scope string) error

	mux *http.ServeMux
}

// NewHandler returns the privacy routes.
func NewHandler(e *Eraser, authorize func(r *http.Request, scope string) error, log *slog.Logger) *Handler {
	h := &Handler{Eraser: e, Authorize: authorize, Log: log, mux: http.NewServeMux()}
	h.handle("POST erase", ScopeWrite, h.erase)
	h.handle("GET chats/{chatId}/export", ScopeRead, h.exportChat)
	h.handle("GET cases/{caseId}/export", ScopeRead, h.exportCase)
	return h
}

// BearerToken authorizes requests carrying "Authorization: Bearer token",
// for every scope; an empty token authorizes nothing.
func BearerToken(token string) func(r *http.Request, scope string) error {
	want := sha256.Sum256([]byte(token))
	return func(r *http.Request, _ string) error {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return chat.Errorf(jsonapi.CodeUnauthorized, "an admin bearer token is required")
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if token == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			return chat.Errorf(jsonapi.CodeForbidden, "this token may not use the privacy routes")
		}
		return nil
	}
}

func (h *Handler) handle(pattern, scope string, fn func(w http.ResponseWriter, r *http.Request) error) {
	method, path, _ := strings.Cut(pattern, " ")
	h.mux.HandleFunc(method+" "+Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		err := h.Authorize(r, scope)
		if err == nil {
			err = fn(w, r)
		}
		if err != nil {
			h.writeError(w, r, err)
		}
	})
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type eraseRequest struct {
	Tenant   string `json:"tenant"`
	AppID    string `json:"app_id"`
	ClientID string `json:"client_id"`
	CaseID   string `json:"case_id"`
}

func (h *Handler) erase(w http.ResponseWriter, r *http.Request) error {
	var req eraseRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		return chat.Errorf(chat.CodeInvalid, "the body must be a JSON object")
	}
	var n Erased
	switch {
	case req.CaseID != "" && req.ClientID == "":
		n, err = h.Eraser.EraseCase(r.Context(), req.CaseID)
		h.Log.Info("erased case", "case_id", req.CaseID, "chats", n.Chats, "files", n.Files, "err", err)
	case req.CaseID == "" && req.Tenant != "" && req.AppID != "" && req.ClientID != "":
		k := chat.ClientKey{Tenant: chat.NormalizeTenant(req.Tenant), AppID: req.AppID, ClientID: req.ClientID}
		n, err = h.Eraser.EraseClient(r.Context(), k)
		h.Log.Info("erased client", "tenant", k.Tenant, "app_id", k.AppID, "client_id", k.ClientID,
			"chats", n.Chats, "files", n.Files, "cases", n.Cases, "err", err)
	default:
		return chat.Errorf(chat.CodeInvalid, "give either case_id, or tenant, app_id and client_id")
	}
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"erased": n})
	return nil
}

func (h *Handler) exportChat(w http.ResponseWriter, r *http.Request) error {
	sess, err := h.Eraser.Store.Session(r.Context(), r.PathValue("chatId"))
	if err != nil {
		return err
	}
	x, err := ExportChat(r.Context(), h.Eraser.Store, sess)
	if err != nil {
		return err
	}
	return Write(w, r, "chat-"+sess.ID, x)
}

func (h *Handler) exportCase(w http.ResponseWriter, r *http.Request) error {
	x, err := ExportCase(r.Context(), h.Eraser.Store, r.PathValue("caseId"))
	if err != nil {
		return err
	}
	return Write(w, r, "case-"+x.Case.CaseID, x)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, chat.ErrNotFound):
		err = chat.Errorf(jsonapi.CodeNotFound, "not found")
	case errors.Is(err, chat.ErrConflict):
		err = chat.Errorf(jsonapi.CodeConflict, "%s", errLive.Error())
	}
	jsonapi.WriteError(w, r, h.Log, err)
}
