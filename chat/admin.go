package chat

import (
	"context"
	"encoding/json"
	"time"
)

// AdminToken is a credential of the admin API (/admin/api/v1). It is stored
// by the hash of its bearer value, which is shown once when it is made, and
// grants only its scopes ("tenants:read", "tenants:write", "agents:read",
// "agents:write", "audit:read", or "*" for all).
type AdminToken struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Hash     string    `json:"-"`
	Scopes   []string  `json:"scopes"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled,omitempty"`
}

// AuditEntry is one recorded administrative change: who (the admin token)
// did what to which target, with a summary of the change that never holds
// a secret.
type AuditEntry struct {
	ID        int64           `json:"id"` // assigned by the store, increasing
	Time      time.Time       `json:"time"`
	TokenID   string          `json:"token_id"`
	TokenName string          `json:"token_name"`
	Action    string          `json:"action"` // e.g. "tenant.create", "entry.update", "agent.disable"
	Target    string          `json:"target"` // e.g. "demo.parley.local/support"
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// AdminStore keeps what the admin API needs beyond ConfigStore and
// AgentStore: the list of tenants, admin tokens and the audit log.
//
// Stores implement it beside Store; the contract suite (storetest) requires
// it of every store it runs against.
type AdminStore interface {
	// Tenants returns every tenant ordered by host, without entries.
	Tenants(ctx context.Context) ([]Tenant, error)
	// PutAdminToken creates or replaces a token (by ID); a hash already
	// used by another token is ErrConflict.
	PutAdminToken(ctx context.Context, t AdminToken) error
	// AdminToken returns the token stored with that hash.
	AdminToken(ctx context.Context, hash string) (AdminToken, error)
	// AdminTokens returns every token ordered by creation, oldest first.
	AdminTokens(ctx context.Context) ([]AdminToken, error)
	// AppendAudit records an entry and returns it with its ID.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// Audit returns up to limit entries with an ID below before (0: no
	// bound), newest first.
	Audit(ctx context.Context, before int64, limit int) ([]AuditEntry, error)
}
