// Package config reads Parley's configuration file (YAML: tenants, their
// scenario entries and agents) and applies it to a store. It also holds the
// demo tenant seeded on first start.
package config

import (
	"context"
	"fmt"
	"os"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/push"
	"sigs.k8s.io/yaml"
)

// File is the content of a configuration file.
type File struct {
	Tenants []chat.Tenant `json:"tenants"`
	Agents  []AgentConfig `json:"agents,omitempty"`
}

// Load reads and validates a configuration file. Unknown keys are errors:
// a misspelt setting must not silently keep its default.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data)
}

// Parse decodes and validates configuration in YAML (or JSON).
func Parse(data []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &f, nil
}

// Validate reports the first problem of the configuration, if any.
func (f *File) Validate() error {
	hosts := map[string]bool{}
	for i := range f.Tenants {
		t := &f.Tenants[i]
		t.Host = chat.NormalizeTenant(t.Host)
		if t.Host == "" {
			return fmt.Errorf("tenants[%d]: host missing", i)
		}
		if hosts[t.Host] {
			return fmt.Errorf("tenants[%d]: host %q listed twice", i, t.Host)
		}
		hosts[t.Host] = true
		apps := map[string]bool{}
		for j := range t.Entries {
			e := &t.Entries[j]
			if err := ValidateEntry(e); err != nil {
				return fmt.Errorf("tenant %s: entries[%d]: %w", t.Host, j, err)
			}
			if apps[e.AppID] {
				return fmt.Errorf("tenant %s: app_id %q listed twice", t.Host, e.AppID)
			}
			apps[e.AppID] = true
		}
	}
	for i := range f.Agents {
		if err := f.Agents[i].validate(); err != nil {
			return fmt.Errorf("agents[%d]: %w", i, err)
		}
	}
	return nil
}

// ValidateEntry reports the first problem of a scenario entry, if any.
func ValidateEntry(e *chat.Entry) error {
	if e.AppID == "" {
		return fmt.Errorf("app_id missing")
	}
	if e.ClosedValue != "" && e.ClosedValue != "notAvailable" && e.ClosedValue != "unavailable" {
		return fmt.Errorf("closed_value must be notAvailable or unavailable")
	}
	if e.Hours != nil {
		if err := e.Hours.Validate(); err != nil {
			return fmt.Errorf("hours: %w", err)
		}
	}
	for _, p := range e.Parameters {
		if p.Name == "" || !chat.ParameterTypes[p.Type] {
			return fmt.Errorf("parameter %q: type %q is not one of PHONE, TEXT, EMAIL, FIRST_NAME, LAST_NAME, ACCOUNT, COMPANY", p.Name, p.Type)
		}
	}
	for _, s := range e.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("ice_servers: an entry without urls")
		}
	}
	if e.TURN != nil {
		if err := e.TURN.Validate(); err != nil {
			return fmt.Errorf("turn: %w", err)
		}
	}
	if err := push.Validate(e.Push); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if e.Files.MaxSize < 0 {
		return fmt.Errorf("files.max_size must not be negative")
	}
	// JSON kept as given is kept as every store holds it.
	var err error
	if len(e.Widgets) > 0 {
		if e.Widgets, err = chat.StorableJSON(e.Widgets); err != nil {
			return fmt.Errorf("widgets: %w", err)
		}
	}
	if fcm := e.Push.FCM; fcm != nil && len(fcm.ServiceAccount) > 0 {
		if fcm.ServiceAccount, err = chat.StorableJSON(fcm.ServiceAccount); err != nil {
			return fmt.Errorf("push: fcm: service_account: %w", err)
		}
	}
	return nil
}

// Apply stores every tenant and entry of the file.
func (f *File) Apply(ctx context.Context, store Store) error {
	for _, t := range f.Tenants {
		if err := store.PutTenant(ctx, t); err != nil {
			return fmt.Errorf("store tenant %s: %w", t.Host, err)
		}
		for _, e := range t.Entries {
			if err := store.PutEntry(ctx, t.Host, e); err != nil {
				return fmt.Errorf("store entry %s/%s: %w", t.Host, e.AppID, err)
			}
		}
	}
	for _, a := range f.Agents {
		if err := applyAgent(ctx, store, a); err != nil {
			return err
		}
	}
	return nil
}

// Store is what applying a configuration writes to.
type Store interface {
	chat.ConfigStore
	chat.AgentStore
}
