// Package routing gives waiting chats to agents: queues in order of arrival,
// offers to the ready agent with free capacity and the skills who has been
// idle longest, offer timeouts, transfers, inactivity timeouts and the
// estimated wait time customers are told.
//
// In the embedded mode every decision is made under one mutex in this
// process, so a chat is never offered to two agents and never assigned past
// an agent's capacity. The Router never calls the chat service while holding
// its lock: decisions are taken under the lock, the events that announce
// them are appended after it is released. So that a chat's log tells its
// decisions in the order they were taken (no estimate after the agent
// joined, no join before the previous agent left), each chat also has a
// lock of its own, taken before the Router's and held from a decision about
// the chat until the events announcing it are stored.
//
// The Router keeps its decisions in memory. Nodes sharing a store elect one
// Router for all of them (package cluster), and a Router that takes over
// from another must find the agents as they were: with
// Options.KeepAgentStates it records the agents' states in the store and
// restores them (the chats' own states are in their logs). The rest of a
// node reaches routing through Interface, whichever node runs it.
package routing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Agent states.
const (
	StateLoggedOut = "logged_out"
	StateNotReady  = "not_ready"
	StateReady     = "ready"
)

// Router routes the chats of every tenant of one node.
type Router struct {
	svc          *chat.Service
	log          *slog.Logger
	offerTimeout time.Duration
	now          func() time.Time
	tick         time.Duration // how often Run checks inactivity (estimates every 5 ticks)
	reconcile    time.Duration // how often Run compares its chats with the store's; 0 never
	keepStates   bool          // record agents' states in the store and restore them

	restoreOnce sync.Once
	// recordMu orders the writes of agents' states: each writes the state
	// as it is when the write starts, so the last one written is the
	// latest.
	recordMu sync.Mutex

	mu      sync.Mutex
	stopped bool // no more offers: Run has ended
	agents  map[string]*agentState
	chats   map[string]*routed
	times   map[queueKey]*handleTimes
	seq     uint64 // order of arrival, ties broken by it
	// queuedN counts the queued chats (waiting, not offered) of each
	// queue, kept by change: estimating the wait of a new chat must not
	// look at every chat, thousands of them in a busy queue.
	queuedN map[queueKey]int
}

// queueKey names a queue: queues are per tenant.
type queueKey struct{ tenant, name string }

// agentState is a logged-in agent as routing sees it.
type agentState struct {
	agent  chat.Agent
	state  string
	reason string
	idle   time.Time // since when the agent waits for work: longest idle first
	chats  map[string]bool
	offers map[string]bool
	// recorded is the state and reason last written to the store, so that
	// a login of an agent routing knows writes nothing.
	recorded string
}

func (a *agentState) load() int { return len(a.chats) + len(a.offers) }

// routed is a live chat known to routing.
type routed struct {
	// io is held from a decision about the chat until the events that
	// announce it are appended. Take it before r.mu, never while holding it.
	io sync.Mutex

	id       string
	key      chat.ClientKey
	entry    chat.Entry
	queue    queueKey
	order    uint64
	enqueued time.Time
	ewt      int // last estimate told to the customer

	agentID   string // assigned agent, "" while waiting
	partyID   string // the assigned agent's party in the chat
	connected time.Time
	offer     *offer
	declined  map[string]bool
	target    string // a transfer's chosen agent, tried first

	lastCustomer time.Time
	warned       bool
}

func (c *routed) waiting() bool { return c.agentID == "" }

// queued reports whether c waits for an offer: waiting and not offered.
func (c *routed) queued() bool { return c.waiting() && c.offer == nil }

// offer is a chat proposed to one agent until accepted, rejected or expired.
type offer struct {
	chatID, agentID string
	expires         time.Time
	timer           *time.Timer
}

// Options tune a Router.
type Options struct {
	OfferTimeout time.Duration // how long an agent has to accept (default 30 s)
	// Reconcile is how often Run compares the chats it routes with the
	// store's live sessions, taking up chats it was not told of and
	// letting go of chats that ended unseen. 0 never: a Router that sees
	// every chat through its own service needs it not; the leader of nodes
	// sharing a store does, as the news of another node can be lost.
	Reconcile time.Duration
	// KeepAgentStates records every agent's state (ready, not ready and
	// why; none once logged out) in the store, and has Restore log the
	// recorded agents back in as they were. For the leader of nodes
	// sharing a store, whose agents stay connected to the other nodes
	// when it changes. A node of its own leaves it off: after a restart
	// its agents come back not ready, as their consoles reconnect.
	KeepAgentStates bool
}

// New returns a Router over the chat service and registers it with it.
func New(svc *chat.Service, log *slog.Logger, o Options) *Router {
	if o.OfferTimeout <= 0 {
		o.OfferTimeout = 30 * time.Second
	}
	r := &Router{
		svc: svc, log: log, offerTimeout: o.OfferTimeout, now: svc.Now, tick: time.Second, reconcile: o.Reconcile,
		keepStates: o.KeepAgentStates,
		agents:     map[string]*agentState{}, chats: map[string]*routed{}, times: map[queueKey]*handleTimes{},
		queuedN: map[queueKey]int{},
	}
	svc.Waits = r
	svc.Observers = append(svc.Observers, r)
	return r
}

// AgentTopic is the bus topic that wakes an agent's stream when its offers
// or chats change.
func AgentTopic(agentID string) string { return "agent." + agentID }

// notify wakes the streams of the given agents.
func (r *Router) notify(agentIDs ...string) {
	for _, id := range agentIDs {
		if id == "" {
			continue
		}
		if err := r.svc.Bus.Publish(context.Background(), AgentTopic(id)); err != nil {
			r.log.Warn("notify agent", "agent_id", id, "err", err)
		}
	}
}

// Restore rebuilds the queues from the store and offers what it can. A
// server calls it before it reports ready, so that no agent logs in to a
// router that does not know their chats yet.
func (r *Router) Restore(ctx context.Context) error {
	var err error
	r.restoreOnce.Do(func() {
		if err = r.restore(ctx); err == nil {
			r.dispatch()
		}
	})
	return err
}

// Run restores the queues if Restore has not, then keeps estimates current
// and enforces inactivity timeouts until ctx ends; it reconciles with the
// store as often as Options.Reconcile says. When it returns, no offer's
// timer is left to fire.
func (r *Router) Run(ctx context.Context) error {
	if err := r.Restore(ctx); err != nil {
		r.stopOffers()
		return err
	}
	tick := time.NewTicker(r.tick)
	defer tick.Stop()
	var reconcile <-chan time.Time
	if r.reconcile > 0 {
		t := time.NewTicker(r.reconcile)
		defer t.Stop()
		reconcile = t.C
	}
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			r.stopOffers()
			return nil
		case <-tick.C:
			r.checkInactivity(ctx)
			if n%5 == 0 {
				r.updateWaits(ctx)
			}
		case <-reconcile:
			if err := r.Reconcile(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("reconcile routing with the store", "err", err)
			}
		}
	}
}

// restore loads the agents' recorded states (if it keeps them), then every
// live chat: waiting
// ones back into their queues in order of arrival, assigned ones back to
// their agents. Customers and agents may already be at work meanwhile:
// chats requested since are routed already, agents who logged in since are
// as they said, and chats that ended while the store was read are let go.
// Every agent restored is woken, so that their desktops show routing as
// this Router has it.
func (r *Router) restore(ctx context.Context) error {
	agents, err := r.restoreAgents(ctx)
	if err != nil {
		return err
	}
	live, err := r.track(ctx)
	if err != nil {
		return err
	}
	r.log.Info("routing restored", "live_chats", len(live), "agents", len(agents))
	r.notify(agents...)
	return nil
}

// restoreAgents logs in the agents whose state the store recorded, as
// they were, and returns their ids. An agent routing knows already (they
// logged in before the restore) keeps what they said since; one disabled
// or gone is forgotten.
func (r *Router) restoreAgents(ctx context.Context) ([]string, error) {
	if !r.keepStates {
		return nil, nil
	}
	states, err := r.svc.Store.AgentStates(ctx)
	if err != nil {
		return nil, err
	}
	var restored []string
	for _, s := range states {
		a, err := r.svc.Store.Agent(ctx, s.AgentID)
		if errors.Is(err, chat.ErrNotFound) || (err == nil && a.Disabled) {
			r.log.Info("restore agent state: agent gone or disabled", "agent_id", s.AgentID)
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.State != StateReady {
			s.State = StateNotReady
		}
		r.mu.Lock()
		if r.agents[a.ID] == nil {
			st := &agentState{agent: a, state: s.State, reason: s.Reason, idle: s.Updated,
				chats: map[string]bool{}, offers: map[string]bool{}, recorded: s.State + "\x00" + s.Reason}
			for id, c := range r.chats {
				if c.agentID == a.ID {
					st.chats[id] = true
				}
			}
			r.agents[a.ID] = st
			restored = append(restored, a.ID)
		}
		r.mu.Unlock()
	}
	return restored, nil
}

// Reconcile brings routing in line with the store: live chats routing
// does not know are taken up (waiting, or assigned as the store says),
// chats it knows that are no longer live are let go. A Router that sees
// every chat through its own service never needs it; Run calls it as often
// as Options.Reconcile says.
func (r *Router) Reconcile(ctx context.Context) error {
	r.mu.Lock()
	known := r.seq // chats tracked before now; later ones may be newer than what is read
	r.mu.Unlock()
	alive, err := r.track(ctx)
	if err != nil {
		return err
	}
	var gone []string
	r.mu.Lock()
	for id, c := range r.chats {
		if c.order <= known && !alive[id] {
			gone = append(gone, id)
		}
	}
	r.mu.Unlock()
	for _, id := range gone {
		r.log.Info("chat ended unseen: let go", "chat_id", id)
		r.ended(id)
	}
	r.dispatch()
	return nil
}

// track takes up every live chat of the store routing does not know yet
// and returns the chats live after that.
func (r *Router) track(ctx context.Context) (map[string]bool, error) {
	live, err := r.svc.Store.LiveSessions(ctx)
	if err != nil {
		return nil, err
	}
	restored := map[string]bool{}
	for _, s := range live {
		r.mu.Lock()
		known := r.chats[s.ID] != nil
		r.mu.Unlock()
		if known {
			continue
		}
		e, err := r.svc.Store.Entry(ctx, s.Tenant, s.AppID)
		if err != nil {
			r.log.Warn("restore chat: entry gone", "chat_id", s.ID, "err", err)
			continue
		}
		party := ""
		if s.AgentID != "" {
			party = r.partyOf(ctx, s.ID, s.AgentID)
		}
		r.mu.Lock()
		if r.chats[s.ID] == nil {
			restored[s.ID] = true
			c := r.add(s, e)
			if s.AgentID != "" {
				r.change(c, func() { c.agentID, c.partyID = s.AgentID, party })
				c.connected, c.lastCustomer = r.now(), r.now()
				if a := r.agents[s.AgentID]; a != nil {
					a.chats[s.ID] = true
				}
			}
		}
		r.mu.Unlock()
	}
	// A chat that ended before it was tracked was not seen to end.
	still, err := r.svc.Store.LiveSessions(ctx)
	if err != nil {
		return nil, err
	}
	alive := make(map[string]bool, len(still))
	for _, s := range still {
		alive[s.ID] = true
		delete(restored, s.ID)
	}
	for id := range restored {
		r.ended(id)
	}
	return alive, nil
}

// partyOf finds the party an agent joined a chat as.
func (r *Router) partyOf(ctx context.Context, chatID, agentID string) string {
	party := ""
	for after := int64(0); ; {
		evs, err := r.svc.Store.Events(ctx, chatID, after, 1000)
		if err != nil {
			return party
		}
		for _, ev := range evs {
			if ev.Type == chat.TypePartyJoined && ev.AgentID == agentID {
				party = ev.PartyID
			}
		}
		if len(evs) < 1000 {
			return party
		}
		after = evs[len(evs)-1].Seq
	}
}

// add adds a live chat to routing (waiting, unless the caller assigns
// it); the caller holds the lock.
func (r *Router) add(s chat.Session, e chat.Entry) *routed {
	r.seq++
	c := &routed{
		id: s.ID, key: s.ClientKey, entry: e, queue: queueKey{s.Tenant, e.QueueName()},
		order: r.seq, enqueued: s.Created, ewt: s.EWT, declined: map[string]bool{},
	}
	if old := r.chats[s.ID]; old != nil {
		r.change(old, func() { delete(r.chats, s.ID) })
	}
	r.change(c, func() { r.chats[s.ID] = c })
	return c
}

// change applies a change of c's routing state (tracked, assigned,
// offered, its queue) and keeps queuedN; the caller holds the lock.
func (r *Router) change(c *routed, apply func()) {
	was, q := r.chats[c.id] == c && c.queued(), c.queue
	apply()
	if was {
		r.queuedN[q]--
	}
	if r.chats[c.id] == c && c.queued() {
		r.queuedN[c.queue]++
	}
}

// Stop makes the Router decide nothing more by itself: the timers of
// pending offers stop, and no offer is made after. Run stops it when it
// ends; a Router that never ran is stopped with Stop.
func (r *Router) Stop() { r.stopOffers() }

func (r *Router) stopOffers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	for _, c := range r.chats {
		if c.offer != nil {
			c.offer.timer.Stop()
		}
	}
}

// lockChat returns the tracked chat with its io lock held, or nil. The
// caller checks under r.mu that the chat is still tracked (it may have
// ended while the caller waited) and unlocks c.io when done.
func (r *Router) lockChat(chatID string) *routed {
	r.mu.Lock()
	c := r.chats[chatID]
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	c.io.Lock()
	return c
}

// ChatRequested queues a new chat and offers it if an agent is free.
func (r *Router) ChatRequested(s chat.Session, e chat.Entry) {
	r.mu.Lock()
	// A restore running meanwhile may have found the chat in the store
	// first: tracking it again would drop an offer already made.
	if r.chats[s.ID] == nil {
		r.add(s, e)
	}
	r.mu.Unlock()
	r.dispatch()
}

// EventsAppended follows a chat's log: customer activity resets its
// inactivity clock, and the end of a chat frees its agent. Other events
// (Relevant tells which) change nothing.
func (r *Router) EventsAppended(chatID string, evs []chat.Event) {
	for i := range evs {
		ev := &evs[i]
		switch {
		case ev.Type == chat.TypeEnded:
			r.ended(chatID)
		case ev.Own() && activity(ev.Type):
			r.mu.Lock()
			if c := r.chats[chatID]; c != nil {
				c.lastCustomer, c.warned = r.now(), false
			}
			r.mu.Unlock()
		}
	}
}

// Relevant reports whether routing needs to hear of a stored event: the
// end of a chat, or a sign of its customer's presence. A node passing
// events to a Router elsewhere passes only these.
func Relevant(ev *chat.Event) bool {
	return ev.Type == chat.TypeEnded || (ev.Own() && activity(ev.Type))
}

// activity reports whether a customer event shows the customer is there.
func activity(t chat.Type) bool {
	switch t {
	case chat.TypeMessage, chat.TypeFile, chat.TypeLocation, chat.TypeTyping, chat.TypeFormData:
		return true
	}
	return false
}

// ended forgets a chat that ended, frees its agent and learns its handle time.
func (r *Router) ended(chatID string) {
	r.mu.Lock()
	c := r.chats[chatID]
	if c == nil {
		r.mu.Unlock()
		return
	}
	r.change(c, func() { delete(r.chats, chatID) })
	var woken []string
	if c.offer != nil {
		woken = append(woken, c.offer.agentID)
		r.dropOffer(c)
	}
	if a := r.agents[c.agentID]; a != nil {
		delete(a.chats, chatID)
		a.idle = r.now()
		woken = append(woken, a.agent.ID)
	}
	if c.agentID != "" && !c.connected.IsZero() {
		r.timesOf(c.queue).add(r.now().Sub(c.connected))
	}
	r.mu.Unlock()
	r.notify(woken...)
	r.dispatch()
}
