package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chat"
	"golang.org/x/crypto/bcrypt"
)

// AgentConfig is an agent account in a configuration file. The password is
// given in clear (hashed when applied) or as a bcrypt hash.
type AgentConfig struct {
	Tenant       string   `json:"tenant"`
	Username     string   `json:"username"`
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

func (c *AgentConfig) validate() error {
	switch {
	case c.Tenant == "" || c.Username == "":
		return errors.New("tenant and username are required")
	case c.Password == "" && c.PasswordHash == "":
		return errors.New("password or password_hash is required")
	case c.Password != "" && (len(c.Password) < 8 || len(c.Password) > 72):
		return errors.New("password must have 8 to 72 characters")
	case c.Role != "" && c.Role != chat.RoleAgent && c.Role != chat.RoleAdmin:
		return errors.New("role must be agent or admin")
	case c.Capacity < 0 || c.Capacity > 100:
		return errors.New("capacity must be 1 to 100")
	}
	return nil
}

// applyAgent creates the agent or updates the one with that username,
// keeping its id (and so its chats and tokens).
func applyAgent(ctx context.Context, store chat.AgentStore, c AgentConfig) error {
	tenant := chat.NormalizeTenant(c.Tenant)
	a, err := store.AgentByUsername(ctx, tenant, c.Username)
	if errors.Is(err, chat.ErrNotFound) {
		a = chat.Agent{ID: chat.NewID(), Tenant: tenant, Username: c.Username}
	} else if err != nil {
		return err
	}
	a.FirstName, a.LastName, a.DisplayName = c.FirstName, c.LastName, c.DisplayName
	if a.DisplayName == "" {
		a.DisplayName = c.FirstName
	}
	a.Skills, a.Capacity, a.Role, a.Disabled = c.Skills, c.Capacity, c.Role, c.Disabled
	if a.Capacity == 0 {
		a.Capacity = 3
	}
	if a.Role == "" {
		a.Role = chat.RoleAgent
	}
	switch {
	case c.PasswordHash != "":
		a.PasswordHash = c.PasswordHash
	case bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(c.Password)) != nil:
		hash, err := bcrypt.GenerateFromPassword([]byte(c.Password), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		a.PasswordHash = string(hash)
	}
	if err := store.PutAgent(ctx, a); err != nil {
		return fmt.Errorf("store agent %s/%s: %w", tenant, c.Username, err)
	}
	return nil
}
