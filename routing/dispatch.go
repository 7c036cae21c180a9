package routing

import (
	"context"
	"sort"
	"time"

	"github.com/parley-chat/parley/chat"
)

// dispatch offers waiting chats, oldest first, to free agents.
func (r *Router) dispatch() {
	r.mu.Lock()
	if r.stopped || !r.anyFreeAgent() {
		// Nothing to offer to: sorting thousands of waiting chats for
		// each new one would be for nothing.
		r.mu.Unlock()
		return
	}
	var woken []string
	for _, c := range r.waitingChats() {
		if c.offer != nil {
			continue
		}
		a := r.bestAgent(c)
		if a == nil {
			continue
		}
		r.makeOffer(c, a)
		woken = append(woken, a.agent.ID)
	}
	r.mu.Unlock()
	r.notify(woken...)
}

// anyFreeAgent reports whether a ready agent has a free slot; the caller
// holds the lock.
func (r *Router) anyFreeAgent() bool {
	for _, a := range r.agents {
		if a.state == StateReady && a.load() < a.agent.Capacity {
			return true
		}
	}
	return false
}

// waitingChats returns the chats without an agent in order of arrival.
func (r *Router) waitingChats() []*routed {
	var out []*routed
	for _, c := range r.chats {
		if c.waiting() {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// bestAgent picks who is offered c: the transfer's target if it can take it,
// else, among the ready agents of the tenant with a free slot and every skill
// of the entry who have not declined c, the one with the fewest chats and,
// between equals, the one idle longest: an agent of capacity 3 with two
// chats does not get a third while a colleague has none.
func (r *Router) bestAgent(c *routed) *agentState {
	if t := r.agents[c.target]; t != nil && r.eligible(t, c) {
		return t
	}
	var best *agentState
	for _, a := range r.agents {
		if !r.eligible(a, c) || c.declined[a.agent.ID] {
			continue
		}
		if best == nil || better(a, best) {
			best = a
		}
	}
	if best == nil && len(c.declined) > 0 {
		// Everyone eligible declined: start the round again rather than
		// leave the customer waiting for an agent who is free.
		clear(c.declined)
		return r.bestAgent(c)
	}
	return best
}

// better reports whether a should be offered a chat before b.
func better(a, b *agentState) bool {
	if la, lb := a.load(), b.load(); la != lb {
		return la < lb
	}
	if !a.idle.Equal(b.idle) {
		return a.idle.Before(b.idle)
	}
	return a.agent.ID < b.agent.ID
}

func (r *Router) eligible(a *agentState, c *routed) bool {
	return a.state == StateReady && a.agent.Tenant == c.key.Tenant &&
		a.load() < a.agent.Capacity && a.agent.HasSkills(c.entry.Skills)
}

func (r *Router) makeOffer(c *routed, a *agentState) {
	o := &offer{chatID: c.id, agentID: a.agent.ID, expires: r.now().Add(r.offerTimeout)}
	o.timer = time.AfterFunc(r.offerTimeout, func() { r.offerExpired(o) })
	r.change(c, func() { c.offer = o })
	a.offers[c.id] = true
}

// dropOffer withdraws c's offer; the caller holds the lock.
func (r *Router) dropOffer(c *routed) {
	o := c.offer
	o.timer.Stop()
	r.change(c, func() { c.offer = nil })
	if a := r.agents[o.agentID]; a != nil {
		delete(a.offers, c.id)
	}
}

// offerExpired moves an unanswered offer on. The agent who let it expire is
// set not ready: they are probably away, and the next chat should not wait
// for them too, nor should the other chats offered to them.
func (r *Router) offerExpired(o *offer) {
	r.mu.Lock()
	c := r.chats[o.chatID]
	if c == nil || c.offer != o {
		r.mu.Unlock()
		return
	}
	r.dropOffer(c)
	c.declined[o.agentID] = true
	if c.target == o.agentID {
		c.target = ""
	}
	if a := r.agents[o.agentID]; a != nil {
		a.state, a.reason = StateNotReady, "missed offer"
		r.withdrawOffers(a)
	}
	r.mu.Unlock()
	r.log.Info("offer expired", "chat_id", o.chatID, "agent_id", o.agentID)
	r.record(o.agentID)
	r.notify(o.agentID)
	r.dispatch()
}

// Accept assigns the offered chat to the agent and joins them to it.
func (r *Router) Accept(ctx context.Context, agentID, chatID string) error {
	c := r.lockChat(chatID)
	if c == nil {
		return chat.Errorf(chat.CodeChatNotFound, "no offer of this chat for you")
	}
	defer c.io.Unlock()
	r.mu.Lock()
	a := r.agents[agentID]
	if r.chats[chatID] != c || a == nil || c.offer == nil || c.offer.agentID != agentID {
		r.mu.Unlock()
		return chat.Errorf(chat.CodeChatNotFound, "no offer of this chat for you")
	}
	r.dropOffer(c)
	partyID := chat.NewID()
	r.change(c, func() { c.agentID, c.partyID, c.target = agentID, partyID, "" })
	c.connected, c.lastCustomer, c.warned = r.now(), r.now(), false
	a.chats[chatID] = true
	agent := a.agent
	r.mu.Unlock()

	if err := r.svc.Join(ctx, chatID, partyID, &agent); err != nil {
		// Nothing was stored, so the assignment is undone: a chat that
		// ended meanwhile is forgotten (ended() may have run already),
		// any other waits again, at its place in the queue.
		r.mu.Lock()
		if cur := r.agents[agentID]; cur != nil {
			delete(cur.chats, chatID)
		}
		r.change(c, func() { c.agentID, c.partyID, c.connected = "", "", time.Time{} })
		if chat.ErrorCode(err) == chat.CodeChatNotFound && r.chats[chatID] == c {
			r.change(c, func() { delete(r.chats, chatID) })
		}
		r.mu.Unlock()
		r.notify(agentID)
		r.dispatch()
		return err
	}
	r.log.Info("chat assigned", "chat_id", chatID, "agent_id", agentID)
	r.notify(agentID)
	return nil
}

// Reject declines an offer; the chat is offered to the next agent.
func (r *Router) Reject(agentID, chatID string) error {
	r.mu.Lock()
	c := r.chats[chatID]
	if c == nil || c.offer == nil || c.offer.agentID != agentID {
		r.mu.Unlock()
		return chat.Errorf(chat.CodeChatNotFound, "no offer of this chat for you")
	}
	r.dropOffer(c)
	c.declined[agentID] = true
	if c.target == agentID {
		c.target = ""
	}
	r.mu.Unlock()
	r.notify(agentID)
	r.dispatch()
	return nil
}
