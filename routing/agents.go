package routing

import (
	"context"
	"sort"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Login makes an agent known to routing, not ready until they say so. Chats
// assigned to them before (a restart, another browser) are theirs again.
func (r *Router) Login(a chat.Agent) {
	r.mu.Lock()
	st := r.agents[a.ID]
	if st == nil {
		st = &agentState{state: StateNotReady, reason: "logged in", idle: r.now(), chats: map[string]bool{}, offers: map[string]bool{}}
		r.agents[a.ID] = st
	}
	st.agent = a
	for id, c := range r.chats {
		if c.agentID == a.ID {
			st.chats[id] = true
		}
	}
	r.mu.Unlock()
	r.record(a.ID)
	r.notify(a.ID)
}

// Logout withdraws the agent's offers. Their chats stay theirs, so that a
// closed browser does not drop customers; an administrator can transfer them.
func (r *Router) Logout(agentID string) {
	r.mu.Lock()
	st := r.agents[agentID]
	if st == nil {
		r.mu.Unlock()
		return
	}
	for id := range st.offers {
		if c := r.chats[id]; c != nil {
			r.dropOffer(c)
		}
	}
	delete(r.agents, agentID)
	r.mu.Unlock()
	r.record(agentID)
	r.notify(agentID)
	r.dispatch()
}

// SetState makes a logged-in agent ready or not ready (with a reason).
// Going not ready withdraws pending offers.
func (r *Router) SetState(agentID, state, reason string) error {
	if state != StateReady && state != StateNotReady {
		return chat.Errorf(chat.CodeInvalid, "state must be %s or %s", StateReady, StateNotReady)
	}
	r.mu.Lock()
	st := r.agents[agentID]
	if st == nil {
		r.mu.Unlock()
		return chat.Errorf(chat.CodeInvalid, "log in first")
	}
	if state == StateReady && st.state != StateReady {
		st.idle = r.now()
	}
	st.state, st.reason = state, reason
	if state == StateReady {
		st.reason = ""
	} else {
		r.withdrawOffers(st)
	}
	r.mu.Unlock()
	r.record(agentID)
	r.notify(agentID)
	r.dispatch()
	return nil
}

// recordTimeout bounds the write of an agent's state.
const recordTimeout = 10 * time.Second

// record writes an agent's state as routing has it now to the store (none
// for an agent logged out), for the next leader of nodes sharing the store,
// if the Router keeps agents' states. Routing goes on from memory if the
// write fails; the failure is logged.
func (r *Router) record(agentID string) {
	if !r.keepStates {
		return
	}
	r.recordMu.Lock()
	defer r.recordMu.Unlock()
	r.mu.Lock()
	st, s := r.agents[agentID], chat.AgentState{AgentID: agentID, Updated: r.now()}
	now := ""
	if st != nil {
		s.State, s.Reason = st.state, st.reason
		now = st.state + "\x00" + st.reason
		if st.recorded == now {
			r.mu.Unlock()
			return
		}
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	var err error
	if st == nil {
		err = r.svc.Store.DeleteAgentState(ctx, agentID)
	} else {
		err = r.svc.Store.PutAgentState(ctx, s)
	}
	if err != nil {
		r.log.Warn("record agent state", "agent_id", agentID, "err", err)
		return
	}
	if st != nil {
		r.mu.Lock()
		st.recorded = now
		r.mu.Unlock()
	}
}

// withdrawOffers takes back every offer of an agent who is no longer
// ready, so that those chats go to someone else; the caller holds the lock.
func (r *Router) withdrawOffers(a *agentState) {
	for id := range a.offers {
		if c := r.chats[id]; c != nil {
			r.dropOffer(c)
			c.declined[a.agent.ID] = true
		}
	}
}

// UpdateAgent refreshes a logged-in agent's profile (skills, capacity).
func (r *Router) UpdateAgent(a chat.Agent) {
	r.mu.Lock()
	if st := r.agents[a.ID]; st != nil {
		st.agent = a
	}
	r.mu.Unlock()
	r.dispatch()
}

// View is what an agent's desktop shows of routing.
type View struct {
	State  string      `json:"state"`
	Reason string      `json:"reason"`
	Offers []OfferView `json:"offers"`
	Chats  []string    `json:"chats"`
}

// OfferView is one pending offer.
type OfferView struct {
	ChatID  string    `json:"chat_id"`
	AppID   string    `json:"app_id"`
	Queue   string    `json:"queue"`
	Expires time.Time `json:"expires"`
	Waited  int       `json:"waited"` // seconds the customer has waited
}

// View returns the agent's state, offers and chats, in a stable order.
func (r *Router) View(agentID string) View {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.agents[agentID]
	if st == nil {
		return View{State: StateLoggedOut, Offers: []OfferView{}, Chats: []string{}}
	}
	v := View{State: st.state, Reason: st.reason, Offers: []OfferView{}, Chats: []string{}}
	for id := range st.offers {
		c := r.chats[id]
		v.Offers = append(v.Offers, OfferView{
			ChatID: id, AppID: c.key.AppID, Queue: c.queue.name, Expires: c.offer.expires,
			Waited: int(r.now().Sub(c.enqueued).Seconds()),
		})
	}
	for id := range st.chats {
		v.Chats = append(v.Chats, id)
	}
	sort.Slice(v.Offers, func(i, j int) bool { return v.Offers[i].ChatID < v.Offers[j].ChatID })
	sort.Strings(v.Chats)
	return v
}

// Assignment returns the agent and party of a chat, if it is assigned.
func (r *Router) Assignment(chatID string) (agentID, partyID string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chats[chatID]
	if c == nil || c.agentID == "" {
		return "", "", false
	}
	return c.agentID, c.partyID, true
}

// owned returns the chat if agentID is its agent; the caller holds the lock.
func (r *Router) owned(agentID, chatID string) *routed {
	c := r.chats[chatID]
	if c == nil || c.agentID != agentID {
		return nil
	}
	return c
}

// End ends an agent's chat.
func (r *Router) End(ctx context.Context, agentID, chatID string) error {
	c := r.lockChat(chatID)
	if c == nil {
		return chat.Errorf(chat.CodeChatNotFound, "not your chat")
	}
	defer c.io.Unlock()
	r.mu.Lock()
	owned := r.owned(agentID, chatID) == c
	partyID := c.partyID
	r.mu.Unlock()
	if !owned {
		return chat.Errorf(chat.CodeChatNotFound, "not your chat")
	}
	return r.svc.Finish(ctx, chatID, partyID, nil)
}

// Transfer hands an agent's chat to another agent of the tenant (toAgent)
// or back to a queue (toQueue, "" for the chat's own): the agent's party
// leaves and the chat waits again, offered first to the chosen agent.
func (r *Router) Transfer(ctx context.Context, agentID, chatID, toAgent, toQueue string) error {
	var skills []string
	if toQueue != "" {
		var err error
		if skills, err = r.queueSkills(ctx, chatID, toQueue); err != nil {
			return err
		}
	}
	c := r.lockChat(chatID)
	if c == nil {
		return chat.Errorf(chat.CodeChatNotFound, "not your chat")
	}
	defer c.io.Unlock()
	r.mu.Lock()
	if r.owned(agentID, chatID) != c {
		r.mu.Unlock()
		return chat.Errorf(chat.CodeChatNotFound, "not your chat")
	}
	if toAgent != "" {
		if t := r.agents[toAgent]; t == nil || t.agent.Tenant != c.key.Tenant {
			r.mu.Unlock()
			return chat.Errorf(chat.CodeInvalid, "agent %q is not logged in", toAgent)
		}
	}
	partyID := c.partyID
	queue, need := c.queue, c.entry.Skills
	if toQueue != "" {
		queue.name, need = toQueue, skills
	}
	ewt := r.estimateIn(c, queue, need)
	r.mu.Unlock()

	// The chat stays with the agent until the customer has been told they
	// left: holding c.io, no one else announces anything in it meanwhile,
	// and no other agent can be offered it before then.
	if err := r.svc.Leave(ctx, chatID, partyID, ewt); err != nil {
		return err
	}

	r.mu.Lock()
	if r.chats[chatID] == c { // it did not end meanwhile
		if a := r.agents[agentID]; a != nil {
			delete(a.chats, chatID)
			a.idle = r.now()
		}
		if !c.connected.IsZero() {
			r.timesOf(c.queue).add(r.now().Sub(c.connected))
		}
		r.change(c, func() {
			c.agentID, c.partyID, c.connected, c.target = "", "", time.Time{}, toAgent
			c.queue, c.entry.Skills, c.ewt = queue, need, ewt
		})
		c.declined = map[string]bool{agentID: true}
	}
	r.mu.Unlock()
	r.log.Info("chat transferred", "chat_id", chatID, "from", agentID, "to_agent", toAgent, "to_queue", toQueue)
	r.notify(agentID)
	r.dispatch()
	return nil
}

// queueSkills returns the skills a queue of the chat's tenant needs: those
// of the entries that route to it.
func (r *Router) queueSkills(ctx context.Context, chatID, queue string) ([]string, error) {
	r.mu.Lock()
	c := r.chats[chatID]
	r.mu.Unlock()
	if c == nil {
		return nil, chat.Errorf(chat.CodeChatNotFound, "chat not found")
	}
	entries, err := r.svc.Store.Entries(ctx, c.key.Tenant)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.QueueName() == queue {
			return e.Skills, nil
		}
	}
	return nil, chat.Errorf(chat.CodeInvalid, "no entry routes to queue %q", queue)
}
