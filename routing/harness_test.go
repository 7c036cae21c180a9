package routing_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/sqlite"
)

// The tenants and scenario entries every test router serves.
const (
	tenant       = "acme.example.com"
	otherTenant  = "other.example.com"
	salesApp     = "sales"         // no skills; queue "sales"
	supportApp   = "support"       // needs the skill "support"
	billingApp   = "billing"       // queue billingQueue, needs "billing"
	billingQueue = "billing-queue" // the queue of billingApp
	idleApp      = "idle"          // inactivity warning after 300 ms, end after 700 ms
	hastyApp     = "hasty"         // inactivity warning after 40 ms, end after 120 ms

	inactivityWarning = 300 * time.Millisecond
	inactivityEnd     = 700 * time.Millisecond
	warningMsg        = "still there?"
	endMsg            = "closed for inactivity"

	// waitLimit bounds every wait for something asynchronous; generous,
	// because a loaded CI machine is slow, and a passing wait ends early.
	waitLimit = 30 * time.Second
)

func testEntries() map[string][]chat.Entry {
	return map[string][]chat.Entry{
		tenant: {
			{AppID: salesApp},
			{AppID: supportApp, Skills: []string{"support"}},
			{AppID: billingApp, Queue: billingQueue, Skills: []string{"billing"}},
			{AppID: idleApp, Inactivity: chat.Timeouts{
				Warning: chat.Duration(inactivityWarning), End: chat.Duration(inactivityEnd),
				WarningMsg: warningMsg, EndMsg: endMsg,
			}},
			{AppID: hastyApp, Inactivity: chat.Timeouts{
				Warning: chat.Duration(40 * time.Millisecond), End: chat.Duration(120 * time.Millisecond),
			}},
		},
		otherTenant: {{AppID: salesApp}, {AppID: "remote", Queue: "elsewhere"}},
	}
}

// clock is a server clock that moves only when a test says so, so that
// "who has been idle longest" and handle times are exact.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a Router over a real SQLite store and an in-process bus.
type harness struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	bus    *memory.Bus
	svc    *chat.Service
	router *routing.Router
	clock  *clock // nil when the harness runs on the real clock
	offer  time.Duration
	keep   bool // the Router keeps agents' states in the store

	clients atomic.Int64
	agents  sync.Map // agent id -> chat.Agent
}

type setup struct {
	offerTimeout time.Duration
	keepStates   bool
	realClock    bool
	run          bool
	tick         time.Duration
}

type option func(*setup)

// offerTimeout sets how long agents have to accept an offer.
func offerTimeout(d time.Duration) option { return func(s *setup) { s.offerTimeout = d } }

// keepingStates has the Router keep agents' states in the store, as a
// leader of nodes sharing it does.
func keepingStates() option { return func(s *setup) { s.keepStates = true } }

// realClock runs the router on the wall clock (for inactivity timeouts).
func realClock() option { return func(s *setup) { s.realClock = true } }

// running starts router.Run with a ticker of tick.
func running(tick time.Duration) option {
	return func(s *setup) { s.run, s.tick = true, tick }
}

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	s := setup{offerTimeout: time.Minute}
	for _, o := range opts {
		o(&s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	for host, entries := range testEntries() {
		if err := store.PutTenant(ctx, chat.Tenant{Host: host}); err != nil {
			t.Fatalf("put tenant: %v", err)
		}
		for _, e := range entries {
			if err := store.PutEntry(ctx, host, e); err != nil {
				t.Fatalf("put entry: %v", err)
			}
		}
	}
	h := &harness{t: t, ctx: ctx, store: store, bus: memory.New(), offer: s.offerTimeout, keep: s.keepStates}
	if !s.realClock {
		h.clock = newClock()
	}
	h.svc = h.newService()
	h.router = routing.New(h.svc, discard(), h.options())
	var done chan struct{}
	if s.run {
		h.router.SetTick(s.tick)
		// As a server does, routing is restored before anyone is served.
		if err := h.router.Restore(ctx); err != nil {
			t.Fatalf("restore: %v", err)
		}
		done = make(chan struct{})
		go func() {
			defer close(done)
			if err := h.router.Run(ctx); err != nil {
				t.Errorf("router.Run: %v", err)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		if done != nil {
			<-done
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return h
}

// options are the Router's options in this harness.
func (h *harness) options() routing.Options {
	return routing.Options{OfferTimeout: h.offer, KeepAgentStates: h.keep}
}

// newService returns a chat service over the harness's store and bus, on
// its clock; each Router needs its own.
func (h *harness) newService() *chat.Service {
	svc := chat.NewService(h.store, h.bus, discard())
	if h.clock != nil {
		svc.Now = h.clock.Now
	}
	return svc
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// advance moves the fake clock on.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	if h.clock == nil {
		h.t.Fatal("advance needs the harness's fake clock")
	}
	h.clock.Advance(d)
}

// entry returns a stored scenario entry.
func (h *harness) entry(host, appID string) chat.Entry {
	h.t.Helper()
	e, err := h.svc.Resolve(h.ctx, host, appID)
	if err != nil {
		h.t.Fatalf("resolve %s/%s: %v", host, appID, err)
	}
	return e
}

// request starts a chat of a new client on an entry of the test tenant.
func (h *harness) request(appID string) chat.Session {
	h.t.Helper()
	return h.requestAt(tenant, appID)
}

func (h *harness) requestAt(host, appID string) chat.Session {
	h.t.Helper()
	s, err := h.tryRequest(host, appID)
	if err != nil {
		h.t.Fatalf("request chat on %s/%s: %v", host, appID, err)
	}
	return s
}

// tryRequest is request for goroutines other than the test's.
func (h *harness) tryRequest(host, appID string) (chat.Session, error) {
	e, err := h.svc.Resolve(h.ctx, host, appID)
	if err != nil {
		return chat.Session{}, err
	}
	k := chat.ClientKey{Tenant: host, AppID: appID, ClientID: fmt.Sprintf("client-%d", h.clients.Add(1))}
	s, created, err := h.svc.RequestChat(h.ctx, k, &e, chat.ChatRequest{})
	if err == nil && !created {
		err = fmt.Errorf("client %s got an existing chat", k.ClientID)
	}
	return s, err
}

// login makes an agent of the test tenant known to routing, not ready.
func (h *harness) login(id string, capacity int, skills ...string) chat.Agent {
	h.t.Helper()
	return h.loginAt(tenant, id, capacity, skills...)
}

func (h *harness) loginAt(host, id string, capacity int, skills ...string) chat.Agent {
	h.t.Helper()
	a := chat.Agent{
		ID: id, Tenant: host, Username: id, FirstName: "First " + id, LastName: "Last " + id,
		DisplayName: "Agent " + id, Skills: skills, Capacity: capacity, Role: chat.RoleAgent,
	}
	h.agents.Store(id, a)
	h.router.Login(a)
	return a
}

// ready logs agents in already, and makes them ready one after the other,
// a second apart on the fake clock: the first is idle longest.
func (h *harness) ready(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		if h.clock != nil {
			h.clock.Advance(time.Second)
		}
		if err := h.router.SetState(id, routing.StateReady, ""); err != nil {
			h.t.Fatalf("agent %s ready: %v", id, err)
		}
	}
}

// offers returns the chats offered to an agent.
func (h *harness) offers(agentID string) []string {
	ids := []string{}
	for _, o := range h.router.View(agentID).Offers {
		ids = append(ids, o.ChatID)
	}
	return ids
}

// chats returns the chats assigned to an agent.
func (h *harness) chats(agentID string) []string { return h.router.View(agentID).Chats }

// accept accepts an offer that must be there.
func (h *harness) accept(agentID, chatID string) {
	h.t.Helper()
	if err := h.router.Accept(h.ctx, agentID, chatID); err != nil {
		h.t.Fatalf("agent %s accepts %s: %v", agentID, chatID, err)
	}
}

// assign offers a waiting chat to an agent and has them accept it.
func (h *harness) assign(agentID, chatID string) {
	h.t.Helper()
	h.wantOffers(agentID, chatID)
	h.accept(agentID, chatID)
}

// wantOffers checks an agent's offers now.
func (h *harness) wantOffers(agentID string, want ...string) {
	h.t.Helper()
	if got := h.offers(agentID); !sameSet(got, want) {
		h.t.Fatalf("agent %s is offered %q, want %q", agentID, got, want)
	}
}

// wantChats checks an agent's assigned chats now.
func (h *harness) wantChats(agentID string, want ...string) {
	h.t.Helper()
	if got := h.chats(agentID); !sameSet(got, want) {
		h.t.Fatalf("agent %s has chats %q, want %q", agentID, got, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// events returns a chat's whole log.
func (h *harness) events(chatID string) []chat.Event {
	h.t.Helper()
	evs, err := h.store.Events(h.ctx, chatID, 0, 1000)
	if err != nil {
		h.t.Fatalf("events of %s: %v", chatID, err)
	}
	return evs
}

// seen returns the events the customer of a chat is given, in order.
func (h *harness) seen(s chat.Session) []chat.Event {
	h.t.Helper()
	e := h.entry(s.Tenant, s.AppID)
	evs, _, err := h.svc.Pending(h.ctx, &s, &e, 0)
	if err != nil {
		h.t.Fatalf("pending events of %s: %v", s.ID, err)
	}
	return evs
}

// session reads a chat's session from the store.
func (h *harness) session(chatID string) chat.Session {
	h.t.Helper()
	s, err := h.store.Session(h.ctx, chatID)
	if err != nil {
		h.t.Fatalf("session %s: %v", chatID, err)
	}
	return s
}

// endByCustomer sends chat_session_end as the chat's customer.
func (h *harness) endByCustomer(s chat.Session) {
	h.t.Helper()
	if err := h.svc.Send(h.ctx, &s, []chat.Event{{Type: chat.TypeEnd}}); err != nil {
		h.t.Fatalf("customer ends %s: %v", s.ID, err)
	}
}

// say sends a message as the chat's customer.
func (h *harness) say(s chat.Session, msg string) {
	h.t.Helper()
	ev := chat.Event{Type: chat.TypeMessage, MsgID: chat.NewID(), Payload: chat.Payload{Msg: msg, MsgText: msg}}
	if err := h.svc.Send(h.ctx, &s, []chat.Event{ev}); err != nil {
		h.t.Fatalf("customer says %q in %s: %v", msg, s.ID, err)
	}
}

// eventually waits until cond holds, checking it every few milliseconds,
// and fails the test if it does not hold within waitLimit.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			h.t.Fatalf("waited %v for %s", waitLimit, what)
		case <-poll.C:
		}
	}
}

// types lists the types of events.
func types(evs []chat.Event) []chat.Type {
	out := make([]chat.Type, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// ofType returns the events of one type.
func ofType(evs []chat.Event, t chat.Type) []chat.Event {
	var out []chat.Event
	for _, ev := range evs {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// hasType reports whether a chat's log holds an event of type t.
func (h *harness) hasType(chatID string, t chat.Type) bool {
	return len(ofType(h.events(chatID), t)) > 0
}

// wantCode checks that err is a *chat.Error with the code.
func wantCode(t *testing.T, err error, code chat.Code) {
	t.Helper()
	var ce *chat.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a *chat.Error with code %s", err, code)
	}
	if ce.Code != code {
		t.Fatalf("error code = %s (%v), want %s", ce.Code, err, code)
	}
}
