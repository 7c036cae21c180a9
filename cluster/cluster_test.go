package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/cluster"
	"github.com/parley-chat/parley/internal/logbuf"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
	"github.com/parley-chat/parley/routing"
)

const (
	tenant = "acme.example.com"
	app    = "sales"
	ann    = "agent-ann"

	// waitLimit bounds every wait for something asynchronous.
	waitLimit = 20 * time.Second
)

// What a node of a deployment is made of.
var (
	_ cluster.Lock      = (*postgres.Leadership)(nil)
	_ cluster.Transport = (*natsbus.Bus)(nil)
)

// Short intervals: an election takes a fraction of a second here.
var timing = cluster.Options{
	TryEvery:     50 * time.Millisecond,
	CheckEvery:   50 * time.Millisecond,
	CheckTimeout: 200 * time.Millisecond,
	CallTimeout:  3 * time.Second,
}

// deployment is one schema and one subject prefix: what the nodes of a
// test share.
type deployment struct {
	dsn, natsURL, prefix string
}

func newDeployment(t *testing.T) deployment {
	t.Helper()
	d := deployment{dsn: pgtest.Schema(t), natsURL: natstest.URL(t), prefix: natstest.Prefix()}
	st, err := postgres.Open(t.Context(), d.dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	ctx := t.Context()
	if err := st.PutTenant(ctx, chat.Tenant{Host: tenant}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEntry(ctx, tenant, chat.Entry{AppID: app}); err != nil {
		t.Fatal(err)
	}
	a := chat.Agent{ID: ann, Tenant: tenant, Username: "ann", FirstName: "Ann", Capacity: 2, Role: chat.RoleAgent}
	if err := st.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	return d
}

// node is one node of a deployment: its store, bus, chat service and
// routing Node.
type node struct {
	store *postgres.Store
	lock  *postgres.Leadership
	bus   *natsbus.Bus
	svc   *chat.Service
	*cluster.Node

	stop func() // ends Run; nil when not running
}

// start starts a node that takes part in the election. It stops when the
// test ends.
func (d deployment) start(t *testing.T, o cluster.Options) *node {
	t.Helper()
	n := d.node(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(n.stop)
	return n
}

// node makes a node without running it.
func (d deployment) node(t *testing.T, o cluster.Options) *node {
	t.Helper()
	log := o.Log
	switch {
	case log != nil:
	case testing.Verbose():
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", fmt.Sprintf("%p", &d))
	default:
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, err := postgres.Open(t.Context(), d.dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	lock, err := st.Leadership(t.Context())
	if err != nil {
		t.Fatalf("leadership: %v", err)
	}
	t.Cleanup(func() { lock.Close() })
	bus, err := natsbus.Open(d.natsURL, natsbus.Options{Prefix: d.prefix, Log: log})
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() { bus.Close() })
	svc := chat.NewService(st, bus, log)
	o.Lock, o.Transport, o.Service, o.Log = lock, bus, svc, log
	return &node{store: st, lock: lock, bus: bus, svc: svc, Node: cluster.New(o)}
}

// eventually waits until cond holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v until %s", waitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// neverTwoLeaders watches nodes until the test ends and fails it if two
// lead at the same moment.
func neverTwoLeaders(t *testing.T, nodes ...*node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			leading := 0
			for _, n := range nodes {
				if n.Leading() {
					leading++
				}
			}
			if leading > 1 {
				t.Errorf("%d nodes lead at once", leading)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// leader returns the one node of nodes that leads, once one does.
func leader(t *testing.T, nodes ...*node) (lead *node, others []*node) {
	t.Helper()
	eventually(t, "a node leads routing", func() bool {
		for _, n := range nodes {
			if n.Leading() {
				return true
			}
		}
		return false
	})
	for _, n := range nodes {
		if n.Leading() {
			lead = n
		} else {
			others = append(others, n)
		}
	}
	return lead, others
}

// killLeader ends the database session holding the routing lock of the
// deployment, as a dying server or a network cut would.
func (d deployment) killLeader(t *testing.T) {
	t.Helper()
	pgtest.KillRoutingLock(t, d.dsn)
}

func wantCode(t *testing.T, what string, err error, code chat.Code) {
	t.Helper()
	if got := chat.ErrorCode(err); err == nil || got != code {
		t.Errorf("%s: error %v (code %s), want code %s", what, err, got, code)
	}
}

func agent(t *testing.T, n *node) chat.Agent {
	t.Helper()
	a, err := n.store.Agent(t.Context(), ann)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// request starts a chat of a new client through a node's service.
func request(t *testing.T, n *node, clientID string) chat.Session {
	t.Helper()
	e, err := n.svc.Resolve(t.Context(), tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := n.svc.RequestChat(t.Context(), chat.ClientKey{Tenant: tenant, AppID: app, ClientID: clientID}, &e, chat.ChatRequest{})
	if err != nil {
		t.Fatalf("request chat: %v", err)
	}
	return s
}

func offered(t *testing.T, n *node, agentID, chatID string) bool {
	t.Helper()
	v, err := n.View(t.Context(), agentID)
	if err != nil {
		return false
	}
	for _, o := range v.Offers {
		if o.ChatID == chatID {
			return true
		}
	}
	return false
}

func TestOneOfTwoNodesLeadsAndTheOtherTakesOverWhenTheLeadersSessionDies(t *testing.T) {
	d := newDeployment(t)
	a, b := d.start(t, timing), d.start(t, timing)
	neverTwoLeaders(t, a, b)
	lead, others := leader(t, a, b)
	follower := others[0]

	// Held: no election while the leader lives.
	time.Sleep(10 * timing.CheckEvery)
	if !lead.Leading() || follower.Leading() {
		t.Fatal("the leadership moved while its holder lived")
	}

	killed := time.Now()
	d.killLeader(t)
	eventually(t, "the other node leads", follower.Leading)
	took := time.Since(killed)
	if lead.Leading() {
		t.Error("the node whose session was killed still leads")
	}
	// Noticed within a check, then the new leader waits a check and its
	// timeout, and tries every TryEvery: well under a second here.
	if limit := 2*timing.CheckEvery + 2*timing.CheckTimeout + 2*timing.TryEvery + time.Second; took > limit {
		t.Errorf("the takeover took %v, want under %v", took, limit)
	}
	t.Logf("takeover after %v", took)

	// The old leader takes part again, as a follower: its next call goes
	// to the new leader.
	if _, err := lead.View(t.Context(), ann); err != nil {
		t.Errorf("View through the old leader: %v", err)
	}
	time.Sleep(10 * timing.CheckEvery)
	if lead.Leading() {
		t.Error("the old leader took the leadership back")
	}
}

func TestAStoppedLeaderHandsOverAtOnce(t *testing.T) {
	d := newDeployment(t)
	a, b := d.start(t, timing), d.start(t, timing)
	neverTwoLeaders(t, a, b)
	lead, others := leader(t, a, b)
	lead.stop()
	if lead.Leading() {
		t.Fatal("a stopped node still leads")
	}
	eventually(t, "the other node leads", others[0].Leading)
}

func TestCallsAndNewsThroughAFollowerReachTheLeader(t *testing.T) {
	d := newDeployment(t)
	a, b := d.start(t, timing), d.start(t, timing)
	lead, others := leader(t, a, b)
	follower := others[0]
	ctx := t.Context()

	if err := follower.Login(ctx, agent(t, follower)); err != nil {
		t.Fatalf("Login through the follower: %v", err)
	}
	wantCode(t, "SetState(dancing)", follower.SetState(ctx, ann, "dancing", ""), chat.CodeInvalid)
	if err := follower.SetState(ctx, ann, routing.StateReady, ""); err != nil {
		t.Fatalf("SetState through the follower: %v", err)
	}
	for _, n := range []*node{lead, follower} {
		if v, err := n.View(ctx, ann); err != nil || v.State != routing.StateReady {
			t.Errorf("View = %+v, %v; want ready on every node", v, err)
		}
	}

	// A chat requested through the follower is news for the leader, who
	// offers it; the agent accepts through the follower.
	if wait, ok := follower.svc.EstimateWait(ctx, &chat.Entry{Tenant: tenant, AppID: app}); !ok || wait != 0 {
		t.Errorf("estimated wait through the follower = %d, %v; want 0, known (a free agent)", wait, ok)
	}
	s := request(t, follower, "client-1")
	eventually(t, "the chat is offered", func() bool { return offered(t, follower, ann, s.ID) })
	wantCode(t, "Accept(unknown chat)", follower.Accept(ctx, ann, "no-such-chat"), chat.CodeChatNotFound)
	if err := follower.Accept(ctx, ann, s.ID); err != nil {
		t.Fatalf("Accept through the follower: %v", err)
	}
	agentID, party, err := follower.Assigned(ctx, s.ID)
	if err != nil || agentID != ann || party == "" {
		t.Fatalf("Assigned = %q, %q, %v; want ann's party", agentID, party, err)
	}
	// The customer ends it through the follower: news again, and the
	// agent is free.
	if err := follower.svc.Send(ctx, &s, []chat.Event{{Type: chat.TypeEnd}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the agent to be free", func() bool {
		v, err := follower.View(ctx, ann)
		return err == nil && len(v.Chats) == 0
	})
}

func TestWithoutALeaderCallsAreUnavailableAndEstimatesUnknown(t *testing.T) {
	d := newDeployment(t)
	o := timing
	o.CallTimeout = 300 * time.Millisecond
	n := d.node(t, o) // never runs: no leader
	start := time.Now()
	_, err := n.View(t.Context(), ann)
	wantCode(t, "View", err, chat.CodeRoutingUnavailable)
	if took := time.Since(start); took < o.CallTimeout || took > o.CallTimeout+2*time.Second {
		t.Errorf("the call gave up after %v, want after its timeout %v", took, o.CallTimeout)
	}
	start = time.Now()
	if wait, ok := n.svc.EstimateWait(t.Context(), &chat.Entry{Tenant: tenant, AppID: app}); ok {
		t.Errorf("estimate without a leader = %d, known", wait)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("an estimate without a leader took %v, want an answer at once", took)
	}
	// Requesting a chat does not wait for routing.
	s := request(t, n, "client-1")
	if s.EWT != 0 {
		t.Errorf("EWT = %d, want 0 (unknown)", s.EWT)
	}
}

func TestANewLeaderRestoresAgentsAndChatsAndGoesOnRouting(t *testing.T) {
	d := newDeployment(t)
	o := timing
	o.Routing.Reconcile = 200 * time.Millisecond
	a, b := d.start(t, o), d.start(t, o)
	neverTwoLeaders(t, a, b)
	lead, others := leader(t, a, b)
	follower := others[0]
	ctx := t.Context()
	if err := follower.Login(ctx, agent(t, follower)); err != nil {
		t.Fatal(err)
	}
	if err := follower.SetState(ctx, ann, routing.StateReady, ""); err != nil {
		t.Fatal(err)
	}
	first := request(t, follower, "client-1")
	eventually(t, "the first chat is offered", func() bool { return offered(t, follower, ann, first.ID) })
	if err := follower.Accept(ctx, ann, first.ID); err != nil {
		t.Fatal(err)
	}
	_, party, _ := follower.Assigned(ctx, first.ID)

	d.killLeader(t)
	eventually(t, "the follower leads", follower.Leading)
	eventually(t, "the old leader steps down", func() bool { return !lead.Leading() })

	v, err := lead.View(ctx, ann)
	if err != nil || v.State != routing.StateReady || len(v.Chats) != 1 || v.Chats[0] != first.ID {
		t.Fatalf("after the takeover ann is %+v, %v; want ready with her chat", v, err)
	}
	if _, got, _ := lead.Assigned(ctx, first.ID); got != party {
		t.Errorf("restored party %q, want %q", got, party)
	}
	// A chat whose news was lost (requested through a service that tells
	// no one) is found by reconciling with the store, and offered.
	quiet := chat.NewService(lead.store, lead.bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e, err := quiet.Resolve(ctx, tenant, app)
	if err != nil {
		t.Fatal(err)
	}
	unheard, _, err := quiet.RequestChat(ctx, chat.ClientKey{Tenant: tenant, AppID: app, ClientID: "client-2"}, &e, chat.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unheard-of chat is offered", func() bool { return offered(t, lead, ann, unheard.ID) })

	// A chat requested through the old leader is news for the new one:
	// it waits, ann has no slot left.
	request(t, lead, "client-3")
	eventually(t, "the third chat waits at the new leader", func() bool { return follower.Stats().Queued == 1 })
	if st := lead.Stats(); st.Queued+st.Offered+st.Assigned != 0 {
		t.Errorf("the old leader reports routing %+v, want nothing", st)
	}
}

func TestAnOfferMadeBeforeATakeoverExpiresOnceAfterIt(t *testing.T) {
	d := newDeployment(t)
	var logs logbuf.Buffer
	o := timing
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	const offerTimeout = time.Second
	o.Routing.OfferTimeout = offerTimeout
	a, b := d.start(t, o), d.start(t, o)
	neverTwoLeaders(t, a, b)
	_, others := leader(t, a, b)
	follower := others[0]
	ctx := t.Context()
	if err := follower.Login(ctx, agent(t, follower)); err != nil {
		t.Fatal(err)
	}
	if err := follower.SetState(ctx, ann, routing.StateReady, ""); err != nil {
		t.Fatal(err)
	}
	s := request(t, follower, "client-1")
	eventually(t, "the chat is offered", func() bool { return offered(t, follower, ann, s.ID) })

	// The leader loses its lock with the offer pending: its timer must
	// not fire; the new leader's offer expires, once.
	d.killLeader(t)
	eventually(t, "the follower leads", follower.Leading)
	eventually(t, "the new offer to expire", func() bool {
		v, err := follower.View(ctx, ann)
		return err == nil && v.Reason == "missed offer"
	})
	time.Sleep(2 * offerTimeout)
	if n := logs.Count(`msg="offer expired"`); n != 1 {
		t.Errorf("the offer expired %d times, want once", n)
	}
}
