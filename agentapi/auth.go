package agentapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/internal/jsonapi"
	"github.com/parley-chat/parley/routing"
	"golang.org/x/crypto/bcrypt"
)

// passwordCost is the bcrypt cost of the passwords this package hashes.
// Tests lower it: at the default cost a hash takes tens of milliseconds.
var passwordCost = bcrypt.DefaultCost

// HashPassword returns the bcrypt hash stored for an agent's password.
func HashPassword(password string) (string, error) {
	if len(password) < 8 || len(password) > 72 {
		return "", chat.Errorf(chat.CodeInvalid, "a password has 8 to 72 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), passwordCost)
	return string(h), err
}

// dummyHash is compared against when the username is unknown, so that a
// login takes as long for an unknown agent as for a wrong password. It is
// made at the first login, not when a program using the package starts.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such agent here"), passwordCost)
	return h
})

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tenant   string `json:"tenant"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := h.readJSON(w, r, &req); err != nil {
		jsonapi.WriteError(w, r, h.Log, err)
		return
	}
	ctx := r.Context()
	a, err := h.Service.Store.AgentByUsername(ctx, chat.NormalizeTenant(req.Tenant), req.Username)
	hash := dummyHash()
	if err == nil {
		hash = []byte(a.PasswordHash)
	} else if !errors.Is(err, chat.ErrNotFound) {
		jsonapi.WriteError(w, r, h.Log, err)
		return
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || err != nil || a.Disabled {
		jsonapi.WriteError(w, r, h.Log, chat.Errorf(jsonapi.CodeUnauthorized, "wrong tenant, username or password"))
		return
	}
	token := chat.NewID() + chat.NewID()
	t := chat.Token{Hash: tokenHash(token), AgentID: a.ID, Expires: h.Service.Now().Add(h.TokenTTL)}
	if err := h.Service.Store.PutToken(ctx, t); err != nil {
		jsonapi.WriteError(w, r, h.Log, err)
		return
	}
	if err := h.Router.Login(ctx, a); err != nil {
		// The login is valid; routing learns of it at the agent's next
		// request (see authenticate).
		h.Log.Warn("agent login: routing unavailable", "agent_id", a.ID, "err", err)
	}
	h.Log.Info("agent logged in", "agent_id", a.ID, "tenant", a.Tenant)
	jsonapi.WriteJSON(w, map[string]any{"token": token, "expires_at": t.Expires.UTC(), "agent": a})
}

// authenticate finds the agent of a request's bearer token. An agent whose
// token is valid but whom routing does not know (a restart that lost their
// state, a login while routing was unavailable) is logged back in, not
// ready. Routing being unavailable fails only the requests that need it.
func (h *Handler) authenticate(r *http.Request) (*session, error) {
	token := r.URL.Query().Get("token")
	if scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = value // the scheme is case-insensitive (RFC 9110 §11.1)
	}
	if token == "" {
		return nil, errUnauthorized
	}
	ctx := r.Context()
	t, err := h.Service.Store.Token(ctx, tokenHash(strings.TrimSpace(token)))
	if errors.Is(err, chat.ErrNotFound) || (err == nil && h.Service.Now().After(t.Expires)) {
		return nil, chat.Errorf(jsonapi.CodeUnauthorized, "the login has expired or was revoked")
	}
	if err != nil {
		return nil, err
	}
	a, err := h.Service.Store.Agent(ctx, t.AgentID)
	if errors.Is(err, chat.ErrNotFound) || (err == nil && a.Disabled) {
		return nil, chat.Errorf(jsonapi.CodeUnauthorized, "the account is disabled")
	}
	if err != nil {
		return nil, err
	}
	h.ensureKnown(ctx, a)
	return &session{agent: a, tokenHash: t.Hash}, nil
}

// ensureKnown logs the agent back in to routing if routing does not know
// them, asking at most once per knownFor.
func (h *Handler) ensureKnown(ctx context.Context, a chat.Agent) {
	now := time.Now()
	if h.known.fresh(a.ID, now) {
		return
	}
	v, err := h.Router.View(ctx, a.ID)
	if err != nil {
		return // asked again at the next request
	}
	if v.State == routing.StateLoggedOut {
		if err := h.Router.Login(ctx, a); err != nil {
			h.Log.Debug("log the agent back in to routing", "agent_id", a.ID, "err", err)
			return
		}
	}
	h.known.seen(a.ID, now)
}

// logout takes the agent out of routing, then revokes the token: when
// routing is unavailable the token stays, and the agent can log out again.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.Router.Logout(r.Context(), s.agent.ID); err != nil {
		return err
	}
	h.known.forget(s.agent.ID)
	if err := h.Service.Store.DeleteToken(r.Context(), s.tokenHash); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, struct{}{})
	return nil
}
