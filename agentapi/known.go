package agentapi

import (
	"sync"
	"time"
)

// knownFor is how long an agent that routing was seen to know is taken
// to be known still. authenticate asks routing at most this often per
// agent instead of at every request: on a node that is not the routing
// leader each asking is a round trip over the bus, and an agent sends
// several requests a second. A routing that lost the agent (a restart, a
// new leader without its state) learns of them again this much later.
const knownFor = time.Second

// knownAgents remembers when routing last knew each agent.
type knownAgents struct {
	mu sync.Mutex
	at map[string]time.Time
}

// fresh reports whether routing knew the agent within knownFor.
func (k *knownAgents) fresh(agentID string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.at[agentID]
	return ok && now.Sub(at) < knownFor
}

// seen notes that routing knows the agent now. The map is swept of old
// entries as it grows, so it holds about the agents active lately.
func (k *knownAgents) seen(agentID string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.at == nil {
		k.at = map[string]time.Time{}
	}
	if len(k.at) >= 1024 && len(k.at)%1024 == 0 {
		for id, at := range k.at {
			if now.Sub(at) >= knownFor {
				delete(k.at, id)
			}
		}
	}
	k.at[agentID] = now
}

// forget drops the agent, when this node logs them out: their next
// request asks routing again.
func (k *knownAgents) forget(agentID string) {
	k.mu.Lock()
	delete(k.at, agentID)
	k.mu.Unlock()
}
