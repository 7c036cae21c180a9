package adminapi

import (
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"

	"github.com/parley-chat/parley/chat"
	"golang.org/x/crypto/bcrypt"
)

// passwordCost is the bcrypt cost of the passwords this package hashes.
// Tests lower it: at the default cost a hash takes tens of milliseconds.
var passwordCost = bcrypt.DefaultCost

// AgentSettings is the body of creating or putting an agent: all of its
// settings, as in a configuration file. The password is given in clear
// (hashed when stored) or as a bcrypt hash; an agent that exists keeps its
// password when neither is given.
type AgentSettings struct {
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	PasswordHash string   `json:"password_hash,omitempty"`
	FirstName    string   `json:"first_name,omitempty"`
	LastName     string   `json:"last_name,omitempty"`
	DisplayName  string   `json:"display_name,omitempty"`
	Skills       []string `json:"skills,omitempty"`
	Capacity     int      `json:"capacity,omitempty"` // default 3
	Role         string   `json:"role,omitempty"`     // agent (default) or admin
	Disabled     bool     `json:"disabled,omitempty"`
}

// agentDoc is an agent as compared and audited: its password hash counts
// as a setting, shown only as Redacted.
type agentDoc struct {
	chat.Agent
	Password string `json:"password,omitempty"`
}

func docOf(a chat.Agent, hidden bool) agentDoc {
	d := agentDoc{Agent: a, Password: a.PasswordHash}
	if hidden {
		d.Password = redactString(d.Password)
	}
	return d
}

func (h *Handler) listAgents(w http.ResponseWriter, r *http.Request, _ *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	agents, err := h.Store.Agents(r.Context(), t.Host)
	if err != nil {
		return err
	}
	if agents == nil {
		agents = []chat.Agent{}
	}
	jsonapi.WriteJSON(w, map[string]any{"agents": agents})
	return nil
}

// agent returns the stored agent the path names.
func (h *Handler) agent(r *http.Request) (chat.Agent, error) {
	t, err := h.tenant(r)
	if err != nil {
		return chat.Agent{}, err
	}
	name := r.PathValue("username")
	a, err := h.Store.AgentByUsername(r.Context(), t.Host, name)
	return a, notFound(err, "no agent %s in tenant %s", name, t.Host)
}

func (h *Handler) getAgent(w http.ResponseWriter, r *http.Request, _ *caller) error {
	a, err := h.agent(r)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"agent": a})
	return nil
}

func (h *Handler) createAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	var req AgentSettings
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := h.Store.AgentByUsername(r.Context(), t.Host, req.Username); err == nil {
		return chat.Errorf(jsonapi.CodeConflict, "agent %s exists: PUT it to change it", req.Username)
	} else if !errors.Is(err, chat.ErrNotFound) {
		return err
	}
	return h.saveAgent(w, r, c, t.Host, nil, req)
}

func (h *Handler) putAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	var req AgentSettings
	if err := h.readJSON(w, r, &req); err != nil {
		return err
	}
	name := r.PathValue("username")
	if req.Username == "" {
		req.Username = name
	}
	if req.Username != name {
		return chat.Errorf(chat.CodeInvalid, "username %q differs from the path's %q", req.Username, name)
	}
	var old *chat.Agent
	stored, err := h.Store.AgentByUsername(r.Context(), t.Host, name)
	switch {
	case err == nil:
		old = &stored
	case !errors.Is(err, chat.ErrNotFound):
		return err
	}
	return h.saveAgent(w, r, c, t.Host, old, req)
}

func (h *Handler) disableAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := h.agent(r)
	if err != nil {
		return err
	}
	old := a
	a.Disabled = true
	return h.storeAgent(w, r, c, &old, a)
}

// saveAgent builds the agent req describes over old (nil to create one)
// and stores it.
func (h *Handler) saveAgent(w http.ResponseWriter, r *http.Request, c *caller, host string, old *chat.Agent, req AgentSettings) error {
	a := chat.Agent{ID: chat.NewID(), Tenant: host}
	if old != nil {
		a.ID, a.PasswordHash, a.PhotoID = old.ID, old.PasswordHash, old.PhotoID
	}
	a.Username = req.Username
	a.FirstName, a.LastName, a.DisplayName = req.FirstName, req.LastName, req.DisplayName
	if a.DisplayName == "" {
		a.DisplayName = req.FirstName
	}
	a.Skills, a.Capacity, a.Role, a.Disabled = req.Skills, req.Capacity, req.Role, req.Disabled
	if a.Capacity == 0 {
		a.Capacity = 3
	}
	if a.Role == "" {
		a.Role = chat.RoleAgent
	}
	switch {
	case a.Username == "":
		return chat.Errorf(chat.CodeInvalid, "username missing")
	case a.Capacity < 1 || a.Capacity > 100:
		return chat.Errorf(chat.CodeInvalid, "capacity must be 1 to 100")
	case a.Role != chat.RoleAgent && a.Role != chat.RoleAdmin:
		return chat.Errorf(chat.CodeInvalid, "role must be agent or admin")
	case req.Password != "" && req.PasswordHash != "":
		return chat.Errorf(chat.CodeInvalid, "give password or password_hash, not both")
	case req.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(req.PasswordHash)); err != nil {
			return chat.Errorf(chat.CodeInvalid, "password_hash is not a bcrypt hash")
		}
		a.PasswordHash = req.PasswordHash
	case req.Password != "":
		if len(req.Password) < 8 || len(req.Password) > 72 {
			return chat.Errorf(chat.CodeInvalid, "a password has 8 to 72 characters")
		}
		// The same password again is no change: the stored hash stays.
		if a.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(req.Password)) != nil {
			hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), passwordCost)
			if err != nil {
				return err
			}
			a.PasswordHash = string(hash)
		}
	case old == nil:
		return chat.Errorf(chat.CodeInvalid, "password missing")
	}
	return h.storeAgent(w, r, c, old, a)
}

func (h *Handler) storeAgent(w http.ResponseWriter, r *http.Request, c *caller, old *chat.Agent, a chat.Agent) error {
	put := func() error {
		if err := h.Store.PutAgent(r.Context(), a); err != nil {
			return err
		}
		if h.OnAgentChange != nil {
			h.OnAgentChange(a)
		}
		return nil
	}
	target := a.Tenant + "/" + a.Username
	if old == nil {
		return h.store(w, r, c, "agent", target, nil, docOf(a, false), nil, a, put)
	}
	return h.store(w, r, c, "agent", target, docOf(*old, false), docOf(a, false), docOf(*old, true), docOf(a, true), put)
}
