package agentapi

import (
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"

	"github.com/parley-chat/parley/chat"
)

// agentRequest is the body of creating or changing an agent.
type agentRequest struct {
	Username    *string   `json:"username"`
	Password    *string   `json:"password"`
	FirstName   *string   `json:"first_name"`
	LastName    *string   `json:"last_name"`
	DisplayName *string   `json:"display_name"`
	Skills      *[]string `json:"skills"`
	Capacity    *int      `json:"capacity"`
	Role        *string   `json:"role"`
	Disabled    *bool     `json:"disabled"`
}

// apply copies the fields the request sets onto a.
func (q *agentRequest) apply(a *chat.Agent) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&a.Username, q.Username)
	set(&a.FirstName, q.FirstName)
	set(&a.LastName, q.LastName)
	set(&a.DisplayName, q.DisplayName)
	set(&a.Role, q.Role)
	if q.Skills != nil {
		a.Skills = *q.Skills
	}
	if q.Capacity != nil {
		a.Capacity = *q.Capacity
	}
	if q.Disabled != nil {
		a.Disabled = *q.Disabled
	}
	if q.Password != nil {
		hash, err := HashPassword(*q.Password)
		if err != nil {
			return err
		}
		a.PasswordHash = hash
	}
	return ValidateAgent(a)
}

// ValidateAgent reports the first problem of an agent's settings.
func ValidateAgent(a *chat.Agent) error {
	switch {
	case a.Username == "":
		return chat.Errorf(chat.CodeInvalid, "username missing")
	case a.PasswordHash == "":
		return chat.Errorf(chat.CodeInvalid, "password missing")
	case a.Capacity < 1 || a.Capacity > 100:
		return chat.Errorf(chat.CodeInvalid, "capacity must be 1 to 100")
	case a.Role != chat.RoleAgent && a.Role != chat.RoleAdmin:
		return chat.Errorf(chat.CodeInvalid, "role must be agent or admin")
	}
	if a.DisplayName == "" {
		a.DisplayName = a.FirstName
	}
	return nil
}

func (h *Handler) listAgents(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.agent.Role != chat.RoleAdmin {
		return errForbidden
	}
	agents, err := h.Service.Store.Agents(r.Context(), s.agent.Tenant)
	if err != nil {
		return err
	}
	type listed struct {
		chat.Agent
		Routing any `json:"routing"`
	}
	out := make([]listed, 0, len(agents))
	for _, a := range agents {
		v, err := h.Router.View(r.Context(), a.ID)
		if err != nil {
			return err
		}
		out = append(out, listed{a, v})
	}
	jsonapi.WriteJSON(w, map[string]any{"agents": out})
	return nil
}

func (h *Handler) createAgent(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.agent.Role != chat.RoleAdmin {
		return errForbidden
	}
	var req agentRequest
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	a := chat.Agent{ID: chat.NewID(), Tenant: s.agent.Tenant, Capacity: 3, Role: chat.RoleAgent}
	if err := req.apply(&a); err != nil {
		return err
	}
	if err := h.putAgent(r, a); err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"agent": a})
	return nil
}

func (h *Handler) updateAgent(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.agent.Role != chat.RoleAdmin {
		return errForbidden
	}
	a, err := h.Service.Store.Agent(r.Context(), r.PathValue("agentId"))
	if errors.Is(err, chat.ErrNotFound) || (err == nil && a.Tenant != s.agent.Tenant) {
		return chat.Errorf(chat.CodeInvalid, "no such agent")
	}
	if err != nil {
		return err
	}
	var req agentRequest
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.apply(&a); err != nil {
		return err
	}
	if err := h.putAgent(r, a); err != nil {
		return err
	}
	// Stored already: a failure here (routing unavailable) is answered,
	// and the same update sent again reaches routing.
	if a.Disabled {
		err = h.Router.Logout(r.Context(), a.ID)
		h.known.forget(a.ID)
	} else {
		err = h.Router.UpdateAgent(r.Context(), a)
	}
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"agent": a})
	return nil
}

func (h *Handler) putAgent(r *http.Request, a chat.Agent) error {
	err := h.Service.Store.PutAgent(r.Context(), a)
	if errors.Is(err, chat.ErrConflict) {
		return chat.Errorf(chat.CodeInvalid, "username %q is taken", a.Username)
	}
	return err
}
