package sqlite

import (
	"sync"

	"github.com/parley-chat/parley/chat"
)

// maxCached bounds each map of the configuration cache: a flood of made-up
// tenant names is never cached (only what the store holds is), but a store
// may hold many tenants.
const maxCached = 10000

// configCache keeps tenants and entries as read, because every customer
// request needs its tenant and entry and they change only when the
// configuration is applied, through this store. Only rows found are cached.
// gen counts changes: a read that started before a change does not cache
// what it read, so a Put is never undone by a slow reader.
//
// A cached Entry shares its slices and maps with every caller: callers treat
// entries as read-only, as they always have.
type configCache struct {
	mu      sync.RWMutex
	gen     uint64
	tenants map[string]chat.Tenant
	entries map[entryKey]chat.Entry
}

type entryKey struct{ host, appID string }

func (c *configCache) tenant(host string) (chat.Tenant, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tenants[host]
	return t, c.gen, ok
}

func (c *configCache) putTenant(gen uint64, host string, t chat.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.tenants == nil || len(c.tenants) >= maxCached {
		c.tenants = map[string]chat.Tenant{}
	}
	c.tenants[host] = t
}

func (c *configCache) entry(host, appID string) (chat.Entry, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[entryKey{host, appID}]
	return e, c.gen, ok
}

func (c *configCache) putEntry(gen uint64, e chat.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCached {
		c.entries = map[entryKey]chat.Entry{}
	}
	c.entries[entryKey{e.Tenant, e.AppID}] = e
}

// changed forgets everything: configuration changes are rare, and a tenant
// change may matter to its entries' readers.
func (c *configCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.tenants, c.entries = nil, nil
}
