// Package cluster makes the nodes that share a store and a bus route chats
// as one. One node at a time, the routing leader, runs a routing.Router:
// every decision (queues, offers and their timeouts, transfers, inactivity,
// estimated waits) is taken by that one Router, exactly as on a single
// node, where it is tested. The other nodes pass the leader what it must
// know (a chat requested, a chat ended, a customer active) and what their
// agents ask of it (log in, accept, transfer…), and answer with what it
// answers. Each chat's order stays where it always was: in the store, which
// numbers every event of a chat under the chat's lock, whichever node
// appends it.
//
// The leader is the node that holds a lock of the store (Lock; on
// PostgreSQL a session-level advisory lock, which the server releases when
// the session of a dead node ends). Every node tries for it while no one
// holds it; the leader checks it still does, and stops routing the moment
// it cannot tell. A node that takes the lock waits, before it routes
// anything, longer than the previous leader can take to notice it lost it,
// so two Routers never act at once. The new Router rebuilds itself from the
// store: the live chats, and the agents' states the Router records there.
//
// Messages to the leader travel on the bus (Transport; NATS request and
// reply): calls wait for the leader's answer, news is posted without one
// and is not needed for correctness, as the leader reconciles with the
// store every few seconds.
//
// The package imports chat, routing, and natsbus for its ErrNoHandler; not
// the stores, nor HTTP.
package cluster

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// Lock is the routing leadership of the nodes sharing a store: held by one
// holder at a time (postgres.Leadership).
type Lock interface {
	// Scope names what is led, the same on every node: a token fit for a
	// bus topic.
	Scope() string
	// TryAcquire tries for the lock without waiting and reports whether
	// this holder holds it.
	TryAcquire(ctx context.Context) (bool, error)
	// Check fails unless the lock is certainly still held; after a
	// failure it is not.
	Check(ctx context.Context) error
	// Release gives the lock up.
	Release(ctx context.Context) error
}

// Transport carries messages to one handler among the nodes
// (natsbus.Bus). Request fails with natsbus.ErrNoHandler when no node
// handles the topic.
type Transport interface {
	Request(ctx context.Context, topic string, data []byte) ([]byte, error)
	Post(topic string, data []byte) error
	Handle(topic string, fn func(data []byte, respond func([]byte) error)) (stop func(), err error)
}

// Defaults of Options.
const (
	DefaultTryEvery     = time.Second
	DefaultCheckEvery   = time.Second
	DefaultCheckTimeout = 500 * time.Millisecond
	DefaultCallTimeout  = 5 * time.Second
	DefaultReconcile    = 5 * time.Second
	// estimateTimeout bounds a follower's question for an estimated wait:
	// a chat is not held up for it, its estimate is unknown instead.
	estimateTimeout = time.Second
	// maxCalls bounds the calls a leader runs at once; more wait.
	maxCalls = 256
)

// Options configure a Node.
type Options struct {
	Lock      Lock
	Transport Transport
	// Service is the node's chat service: the Node becomes its estimator
	// of waits and one of its observers.
	Service *chat.Service
	Log     *slog.Logger
	// Routing configures each Router the node runs while it leads;
	// Reconcile defaults to DefaultReconcile, and agents' states are kept
	// in the store.
	Routing routing.Options

	// TryEvery is how often a node that does not lead tries for the lock.
	TryEvery time.Duration
	// CheckEvery is how often the leader checks that it holds the lock,
	// and CheckTimeout how long a check may take before the leader steps
	// down. A new leader waits CheckEvery + CheckTimeout before it routes.
	CheckEvery, CheckTimeout time.Duration
	// CallTimeout bounds a call to the leader, waiting for one included.
	CallTimeout time.Duration
}

// Node is one node's part in routing: the leader's Router while it leads,
// a messenger to the leader otherwise. It implements routing.Interface,
// chat.WaitEstimator and chat.Observer.
type Node struct {
	o     Options
	log   *slog.Logger
	calls string // topic of calls to the leader
	news  string // topic of news for the leader

	// mu guards the Routers of this node's leadership. Whoever uses one
	// holds mu for reading, so that stepping down (which takes it for
	// writing) waits for what is under way and nothing starts after.
	mu sync.RWMutex
	// noting takes the news from the start of a leadership, before the
	// Router is restored, so that nothing happening meanwhile is missed.
	noting *routing.Router
	// serving answers calls once it is restored.
	serving *routing.Router

	leading atomic.Bool
}

var (
	_ routing.Interface  = (*Node)(nil)
	_ chat.WaitEstimator = (*Node)(nil)
	_ chat.Observer      = (*Node)(nil)
)

// New returns a Node and makes it the service's estimator of waits and one
// of its observers. Nothing is routed until Run.
func New(o Options) *Node {
	if o.TryEvery <= 0 {
		o.TryEvery = DefaultTryEvery
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = DefaultCheckEvery
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Routing.Reconcile <= 0 {
		o.Routing.Reconcile = DefaultReconcile
	}
	o.Routing.KeepAgentStates = true
	if o.Log == nil {
		o.Log = slog.Default()
	}
	n := &Node{
		o: o, log: o.Log.With("scope", o.Lock.Scope()),
		calls: "routing." + o.Lock.Scope() + ".call",
		news:  "routing." + o.Lock.Scope() + ".news",
	}
	o.Service.Waits = n
	o.Service.Observers = append(o.Service.Observers, n)
	return n
}

// Leading reports whether this node routes now.
func (n *Node) Leading() bool { return n.leading.Load() }

// Stats returns the Router's snapshot while this node leads, and an empty
// one otherwise: summed over the nodes, the numbers are the leader's.
func (n *Node) Stats() routing.Stats {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.serving != nil {
		return n.serving.Stats()
	}
	return routing.Stats{Agents: map[string]int{routing.StateReady: 0, routing.StateNotReady: 0}}
}

// Run takes part in the election until ctx ends: it tries for the lock,
// leads while it holds it, and tries again once it has lost it. When ctx
// ends it steps down and gives the lock up, so that another node takes
// over at once.
func (n *Node) Run(ctx context.Context) error {
	failing := false
	for {
		wait := n.o.TryEvery
		ok, err := n.tryAcquire(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				n.log.Warn("routing election: cannot try for the lock", "err", err)
			}
			failing = true
		case ok:
			failing = false
			n.lead(ctx)
			// A node that lost the lock may be the one cut off: the
			// others try first.
			wait = 2 * n.o.TryEvery
		default:
			if failing {
				n.log.Info("routing election: trying for the lock again")
			}
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (n *Node) tryAcquire(ctx context.Context) (bool, error) {
	tctx, cancel := context.WithTimeout(ctx, n.o.TryEvery+n.o.CheckTimeout)
	defer cancel()
	return n.o.Lock.TryAcquire(tctx)
}

// check asks the lock whether it is still held, within CheckTimeout.
func (n *Node) check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, n.o.CheckTimeout)
	defer cancel()
	return n.o.Lock.Check(cctx)
}

// lead routes while the lock is held and ctx lasts. It first waits out the
// previous leader: one that lost the lock without dying stops within a
// check interval and a check's timeout.
func (n *Node) lead(ctx context.Context) {
	grace := n.o.CheckEvery + n.o.CheckTimeout
	n.log.Info("routing lock taken; waiting for any previous leader to stop", "wait", grace)
	select {
	case <-ctx.Done():
		n.release()
		return
	case <-time.After(grace):
	}
	if err := n.check(ctx); err != nil {
		n.log.Warn("routing lock lost before leading", "err", err)
		return
	}

	r := routing.New(n.routerService(), n.o.Log, n.o.Routing)
	opsCtx, cancelOps := context.WithCancel(ctx)
	defer cancelOps()
	l := &leadership{n: n, r: r, ops: opsCtx, cancel: cancelOps, slots: make(chan struct{}, maxCalls)}
	// The news is taken before the Router reads the store: a chat
	// requested meanwhile is either in what it reads or in the news.
	n.mu.Lock()
	n.noting = r
	n.mu.Unlock()
	stopNews, err := n.o.Transport.Handle(n.news, n.handleNews)
	if err != nil {
		n.log.Error("routing leader: cannot take the news", "err", err)
		n.stepDown(l, nil, nil, true)
		return
	}
	if err := r.Restore(opsCtx); err != nil {
		n.log.Error("routing leader: restore failed; stepping down", "err", err)
		n.stepDown(l, stopNews, nil, true)
		return
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan error, 1)
	go func() { ran <- r.Run(runCtx) }()
	l.stopRun = func() { stopRun(); <-ran }
	n.mu.Lock()
	n.serving = r
	n.mu.Unlock()
	stopCalls, err := n.o.Transport.Handle(n.calls, l.handleCall)
	if err != nil {
		n.log.Error("routing leader: cannot take calls", "err", err)
		n.stepDown(l, stopNews, nil, true)
		return
	}
	n.leading.Store(true)
	n.log.Info("this node leads routing")

	tick := time.NewTicker(n.o.CheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			n.log.Info("routing leadership given up: shutting down")
			n.stepDown(l, stopNews, stopCalls, true)
			return
		case err := <-ran:
			ran <- err // for stepDown's wait
			n.log.Error("routing stopped; stepping down", "err", err)
			n.stepDown(l, stopNews, stopCalls, true)
			return
		case <-tick.C:
			if err := n.check(ctx); err != nil {
				if ctx.Err() != nil {
					continue // shutting down: handled above
				}
				n.log.Warn("routing lock lost: stepping down", "err", err)
				n.stepDown(l, stopNews, stopCalls, false)
				return
			}
		}
	}
}

// routerService is the service a leader's Router appends through: the
// node's, without the Node among its observers (the Router hears of its own
// events directly).
func (n *Node) routerService() *chat.Service {
	svc := *n.o.Service
	svc.Waits = nil
	svc.Observers = slices.DeleteFunc(slices.Clone(svc.Observers), func(o chat.Observer) bool {
		node, ok := o.(*Node)
		return ok && node == n
	})
	return &svc
}

// stepDown stops routing: no call or news is taken any more, the calls
// under way finish (those that have not reached the store are refused), the
// Router stops, its offers' timers with it; then the lock is released, if
// it is still held (release).
func (n *Node) stepDown(l *leadership, stopNews, stopCalls func(), release bool) {
	n.leading.Store(false)
	if stopCalls != nil {
		stopCalls()
	}
	if stopNews != nil {
		stopNews()
	}
	l.stop()
	n.mu.Lock()
	n.noting, n.serving = nil, nil
	n.mu.Unlock()
	l.calls.Wait()
	if l.stopRun != nil {
		l.stopRun()
	} else {
		l.r.Stop() // never ran: stop whatever offers the news made
	}
	if release {
		n.release()
	}
}

func (n *Node) release() {
	ctx, cancel := context.WithTimeout(context.Background(), n.o.CheckTimeout+time.Second)
	defer cancel()
	if err := n.o.Lock.Release(ctx); err != nil {
		n.log.Warn("release the routing lock", "err", err)
	}
}

// leadership is what one term of this node as leader holds.
type leadership struct {
	n       *Node
	r       *routing.Router
	ops     context.Context // calls run within it; cancelled when stepping down
	stopRun func()          // stops r.Run and waits for it; nil until it runs
	cancel  context.CancelFunc
	slots   chan struct{} // one per call running
	calls   sync.WaitGroup

	mu     sync.Mutex
	closed bool // no call is taken any more
}

// stop takes no more calls and refuses those under way that have not
// reached the store yet.
func (l *leadership) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.cancel()
}
