package chat

import (
	"context"
	"time"
)

// Agent is a person on the contact-center side who answers chats.
type Agent struct {
	ID           string   `json:"id"`
	Tenant       string   `json:"tenant"`
	Username     string   `json:"username"`
	PasswordHash string   `json:"-"` // bcrypt
	FirstName    string   `json:"first_name"`
	LastName     string   `json:"last_name"`
	DisplayName  string   `json:"display_name"`
	PhotoID      string   `json:"photo_id,omitempty"` // file id of the profile picture
	Skills       []string `json:"skills"`
	Capacity     int      `json:"capacity"` // most chats at once
	Role         string   `json:"role"`     // RoleAgent or RoleAdmin
	Disabled     bool     `json:"disabled,omitempty"`
}

// Agent roles: an administrator also manages the tenant's agents.
const (
	RoleAgent = "agent"
	RoleAdmin = "admin"
)

// HasSkills reports whether the agent has every skill in need.
func (a *Agent) HasSkills(need []string) bool {
	for _, n := range need {
		found := false
		for _, s := range a.Skills {
			if s == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Token is an agent's login session, stored by the hash of its bearer token
// so that a leaked database does not leak usable tokens.
type Token struct {
	Hash    string
	AgentID string
	Expires time.Time
}

// AgentStore keeps agents and their login tokens.
type AgentStore interface {
	// PutAgent creates or replaces an agent; a username already used by
	// another agent of the tenant is ErrConflict.
	PutAgent(ctx context.Context, a Agent) error
	Agent(ctx context.Context, id string) (Agent, error)
	AgentByUsername(ctx context.Context, tenant, username string) (Agent, error)
	Agents(ctx context.Context, tenant string) ([]Agent, error)
	PutToken(ctx context.Context, t Token) error
	Token(ctx context.Context, hash string) (Token, error)
	// DeleteToken revokes a token and purges every expired one.
	DeleteToken(ctx context.Context, hash string) error
	// AgentSessions returns the chats an agent was last assigned,
	// newest first.
	AgentSessions(ctx context.Context, agentID string, limit int) ([]Session, error)
	// PutWrapUp records (or replaces) an agent's wrap-up of a chat.
	PutWrapUp(ctx context.Context, w WrapUp) error
	WrapUps(ctx context.Context, chatID string) ([]WrapUp, error)
	// LiveSessions returns every session that has not ended, oldest first:
	// what routing rebuilds its queues from at start.
	LiveSessions(ctx context.Context) ([]Session, error)
	// PutAgentState records an agent's routing state, replacing the one
	// recorded before.
	PutAgentState(ctx context.Context, s AgentState) error
	// DeleteAgentState forgets an agent's routing state (the agent logged
	// out); forgetting one never recorded is not an error.
	DeleteAgentState(ctx context.Context, agentID string) error
	// AgentStates returns every recorded routing state, by agent id.
	AgentStates(ctx context.Context) ([]AgentState, error)
}

// AgentState is what routing records of a logged-in agent: ready or not
// ready, and why. Routing decides in memory; the record lets the next
// router (after a restart, or a deployment's next routing leader) find the
// agents as they were instead of logged out.
type AgentState struct {
	AgentID string    `json:"agent_id"`
	State   string    `json:"state"` // "ready" or "not_ready"
	Reason  string    `json:"reason"`
	Updated time.Time `json:"updated"`
}

// WrapUp is what an agent records about a chat once done with it.
type WrapUp struct {
	ChatID  string    `json:"chat_id"`
	AgentID string    `json:"agent_id"`
	Code    string    `json:"code"`
	Notes   string    `json:"notes"`
	Created time.Time `json:"created"`
}
