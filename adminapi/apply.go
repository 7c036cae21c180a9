package adminapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
)

// Change is one line of what Apply did or, in a dry run, would do.
type Change struct {
	Kind    string   `json:"kind"`   // "tenant", "entry" or "agent"
	Target  string   `json:"target"` // host, host/app_id or host/username
	Result  string   `json:"result"` // ResultCreate, ResultUpdate or ResultUnchanged
	Changed []string `json:"changed,omitempty"`
}

// Apply makes the live configuration match f through the admin API: every
// tenant, entry and agent f lists is created or updated to its settings in
// f. What f does not list is left alone. With dryRun nothing is changed and
// the changes say what would be. Secrets are never in the changes: only
// the names of the settings that differ.
func Apply(ctx context.Context, c *Client, f *config.File, dryRun bool) ([]Change, error) {
	q := ""
	if dryRun {
		q = "?dry_run=1"
	}
	var out []Change
	put := func(kind, target, path string, body any) (string, error) {
		var res PutResult
		if err := c.Do(ctx, http.MethodPut, path+q, body, &res); err != nil {
			return "", err
		}
		out = append(out, Change{Kind: kind, Target: target, Result: res.Result, Changed: res.Changed})
		return res.Result, nil
	}
	// newTenants are tenants a dry run would create: what would go into
	// them cannot be asked of the server, and is all new.
	newTenants := map[string]bool{}
	for _, t := range f.Tenants {
		settings := t
		settings.Entries = nil
		res, err := put("tenant", t.Host, Path("tenants", t.Host), settings)
		if err != nil {
			return out, err
		}
		if dryRun && res == ResultCreate {
			newTenants[t.Host] = true
		}
		for _, e := range t.Entries {
			target := t.Host + "/" + e.AppID
			if newTenants[t.Host] {
				out = append(out, Change{Kind: "entry", Target: target, Result: ResultCreate})
				continue
			}
			e.Tenant = ""
			if _, err := put("entry", target, Path("tenants", t.Host, "entries", e.AppID), e); err != nil {
				return out, err
			}
		}
	}
	for _, a := range f.Agents {
		host := chat.NormalizeTenant(a.Tenant)
		target := host + "/" + a.Username
		if newTenants[host] {
			out = append(out, Change{Kind: "agent", Target: target, Result: ResultCreate})
			continue
		}
		body := AgentSettings{Username: a.Username, Password: a.Password, PasswordHash: a.PasswordHash,
			FirstName: a.FirstName, LastName: a.LastName, DisplayName: a.DisplayName, Skills: a.Skills,
			Capacity: a.Capacity, Role: a.Role, Disabled: a.Disabled}
		if _, err := put("agent", target, Path("tenants", host, "agents", a.Username), body); err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
				return out, errors.New("agent " + target + ": tenant " + host + " does not exist (list it under tenants)")
			}
			return out, err
		}
	}
	return out, nil
}
