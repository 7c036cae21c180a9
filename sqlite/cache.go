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

// agentCache keeps agents and their login tokens as read: every request
// of the agent API (each message an agent sends) reads its token and its
// agent, each a query and the agent's a JSON decoding. As in configCache,
// only rows found are cached, and a change through this store forgets the
// map it changes once committed, before it returns: a revoked token
// (DeleteToken) is not accepted after its revocation returned. Whether a
// token has expired is for the caller to see, as before. A cached Agent
// shares its Skills with every caller, which treat agents as read-only.
type agentCache struct {
	mu     sync.RWMutex
	gen    uint64
	agents map[string]chat.Agent
	tokens map[string]chat.Token
}

func (c *agentCache) agent(id string) (chat.Agent, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.agents[id]
	return a, c.gen, ok
}

func (c *agentCache) token(hash string) (chat.Token, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tokens[hash]
	return t, c.gen, ok
}

func (c *agentCache) putAgent(gen uint64, a chat.Agent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.agents == nil || len(c.agents) >= maxCached {
		c.agents = map[string]chat.Agent{}
	}
	c.agents[a.ID] = a
}

func (c *agentCache) putToken(gen uint64, t chat.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.tokens == nil || len(c.tokens) >= maxCached {
		c.tokens = map[string]chat.Token{}
	}
	c.tokens[t.Hash] = t
}

// changed forgets everything: agents and tokens change seldom (a login
// adds a token, which is not cached until read).
func (c *agentCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.agents, c.tokens = nil, nil
}
