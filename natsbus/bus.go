// Package natsbus is the chat.Bus of nodes that share a NATS server: a
// wake-up published on one node reaches the watchers of its topic on every
// node.
//
// It uses core NATS subjects ("parley.<topic>"), not JetStream. A wake-up
// carries no data; it only says "look again", and the store holds what is
// new. A wake-up lost on the way (a node reconnecting, a full buffer) delays
// a reader until its next wake-up or its poll's timeout and loses nothing,
// so persisting wake-ups would buy nothing and cost a disk write per event.
// To keep even that delay rare, every local watcher is woken after a
// reconnect and after a dropped message.
//
// Beside wake-ups, the bus carries messages to one handler among the nodes
// (Request, Post, Handle): how nodes reach the one that runs routing.
//
// It imports the chat package and the NATS client only.
package natsbus

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-chat/parley/chat"
)

// Defaults of Options.
const (
	DefaultPrefix = "parley"
	// pending is how many received wake-ups may wait for the dispatcher; a
	// wake-up arriving to a full buffer is dropped (and every watcher
	// woken).
	pending = 8192
	// flushTimeout bounds how long Watch waits for the server to confirm a
	// new subscription, and Close for pending publishes to be sent.
	flushTimeout = 2 * time.Second
)

// Options configure a Bus.
type Options struct {
	// Prefix is the first token of every subject; nodes reach each other
	// only with the same prefix. Default DefaultPrefix.
	Prefix string
	// Name names the connection in the server's monitoring. Default
	// "parley".
	Name string
	// Log receives connection events. Default slog.Default().
	Log *slog.Logger
}

// Bus is a chat.Bus over one NATS connection. Local watchers of a topic
// share one subscription, made for the first and dropped with the last.
// It is safe for concurrent use.
type Bus struct {
	nc     *nats.Conn
	prefix string
	log    *slog.Logger
	msgs   chan *nats.Msg // what every subscription delivers to
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu     sync.RWMutex
	topics map[string]*interest // by subject

	dropped atomic.Int64 // times wake-ups were dropped for a full buffer
}

var _ chat.Bus = (*Bus)(nil)

// interest is the local interest in one subject: its watchers and the
// subscription they share.
type interest struct {
	watchers map[*watcher]struct{}
	sub      *nats.Subscription // nil until subscribed
	ready    chan struct{}      // closed once the subscription is in place (or failed)
}

// watcher is woken through its channel, or by calling fn when it has one.
type watcher struct {
	ch chan struct{}
	fn func()
}

// poke wakes w; a channel with a wake-up waiting keeps that one.
func (w *watcher) poke() {
	if w.fn != nil {
		w.fn()
		return
	}
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// Open connects to the NATS server(s) at url (comma-separated for several)
// and returns a bus on that connection. It fails when no server answers;
// once connected, it reconnects for as long as it takes.
func Open(url string, o Options) (*Bus, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Name == "" {
		o.Name = "parley"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &Bus{
		prefix: o.Prefix, log: o.Log,
		msgs: make(chan *nats.Msg, pending), quit: make(chan struct{}), done: make(chan struct{}),
		topics: map[string]*interest{},
	}
	nc, err := nats.Connect(url,
		nats.Name(o.Name),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// A publish wakes this node's watchers directly (see Publish), so
		// the server need not send our own wake-ups back.
		nats.NoEcho(),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // our own Close
			}
			b.log.Warn("nats disconnected; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
			// Wake-ups published while we were away are lost: look again.
			b.wakeAll()
		}),
		nats.ClosedHandler(func(*nats.Conn) { b.log.Debug("nats connection closed") }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) && sub != nil && sub.Queue == handlers {
				b.log.Warn("nats handler messages dropped: buffer full", "subject", sub.Subject)
				return
			}
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.dropped.Add(1)
				b.log.Warn("nats wake-ups dropped: buffer full; waking every watcher")
				b.wakeAll()
				return
			}
			b.log.Warn("nats error", "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	b.nc = nc
	go b.dispatch()
	return b, nil
}

// Publish wakes every watcher of topic, on this node at once and on the
// others through the server. It does not wait for the server: the message
// is buffered and sent by the client's flusher (buffered in memory while
// reconnecting, up to the client's limit, past which Publish fails).
func (b *Bus) Publish(_ context.Context, topic string) error {
	subj := b.subject(topic)
	b.wake(subj)
	if err := b.nc.Publish(subj, nil); err != nil {
		return fmt.Errorf("natsbus: publish %s: %w", topic, err)
	}
	return nil
}

// Watch starts watching topic. When it returns, the server has the
// subscription (or the connection is down, and a reconnect will wake the
// watcher): a Publish on any node from then on wakes it.
func (b *Bus) Watch(topic string) (<-chan struct{}, func()) {
	w := &watcher{ch: make(chan struct{}, 1)}
	return w.ch, b.add(topic, w)
}

// WatchFunc calls fn after each wake-up of topic until stop is called,
// from the bus's dispatching goroutine (or the publisher's) under its
// lock: fn must return at once and not call the bus. It costs no
// goroutine of the watcher's, which is what lets a node hold tens of
// thousands of parked long polls.
func (b *Bus) WatchFunc(topic string, fn func()) (stop func()) {
	return b.add(topic, &watcher{fn: fn})
}

// add registers w for topic and subscribes when it is the topic's first
// watcher on this node; it returns when the server has the subscription.
func (b *Bus) add(topic string, w *watcher) func() {
	subj := b.subject(topic)
	b.mu.Lock()
	t, existing := b.topics[subj]
	if !existing {
		t = &interest{watchers: map[*watcher]struct{}{}, ready: make(chan struct{})}
		b.topics[subj] = t
	}
	t.watchers[w] = struct{}{}
	b.mu.Unlock()
	if existing {
		select {
		case <-t.ready:
		default:
			// Another watcher is subscribing: wait for its subscription.
			timer := time.NewTimer(flushTimeout)
			select {
			case <-t.ready:
			case <-timer.C:
			}
			timer.Stop()
		}
	} else {
		b.subscribe(subj, t)
	}
	var once sync.Once
	return func() { once.Do(func() { b.unwatch(subj, t, w) }) }
}

// subscribe subscribes to subj for t, outside the lock: it talks to the
// server. If the last watcher left meanwhile, the subscription is dropped.
func (b *Bus) subscribe(subj string, t *interest) {
	sub, err := b.nc.ChanSubscribe(subj, b.msgs)
	if err != nil {
		b.log.Warn("nats subscribe", "subject", subj, "err", err)
	} else if b.nc.IsConnected() {
		// The server handles a client's messages in order: once it has
		// answered this flush, it has the subscription.
		if err := b.nc.FlushTimeout(flushTimeout); err != nil {
			b.log.Warn("nats flush subscription", "subject", subj, "err", err)
		}
	}
	b.mu.Lock()
	orphan := b.topics[subj] != t
	if !orphan {
		t.sub = sub
	}
	close(t.ready)
	b.mu.Unlock()
	if orphan && sub != nil {
		_ = sub.Unsubscribe()
	}
}

func (b *Bus) unwatch(subj string, t *interest, w *watcher) {
	b.mu.Lock()
	delete(t.watchers, w)
	var sub *nats.Subscription
	if len(t.watchers) == 0 && b.topics[subj] == t {
		delete(b.topics, subj)
		sub = t.sub
	}
	b.mu.Unlock()
	if sub != nil {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.log.Debug("nats unsubscribe", "subject", subj, "err", err)
		}
	}
}

// dispatch hands the wake-ups the server delivers to local watchers.
func (b *Bus) dispatch() {
	defer close(b.done)
	for {
		select {
		case m := <-b.msgs:
			b.wake(m.Subject)
		case <-b.quit:
			return
		}
	}
}

// wake wakes the local watchers of subj; a watcher with a wake-up waiting
// keeps that one.
func (b *Bus) wake(subj string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if t := b.topics[subj]; t != nil {
		for w := range t.watchers {
			w.poke()
		}
	}
}

// wakeAll wakes every local watcher: a spurious wake-up costs a look at
// the store, a lost one a poll's timeout.
func (b *Bus) wakeAll() {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range b.topics {
		for w := range t.watchers {
			w.poke()
		}
	}
}

// ErrNoHandler is Request's error when no node handles the topic.
var ErrNoHandler = errors.New("natsbus: no handler for the topic")

// handlers is the queue group of Handle's subscriptions: each message goes
// to one of them.
const handlers = "handlers"

// Request sends data to one handler of topic, on any node, and returns its
// answer. It fails at once with ErrNoHandler when no node handles topic,
// and with ctx's error when the answer does not come in time (the handler
// may have acted or not).
func (b *Bus) Request(ctx context.Context, topic string, data []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, b.subject(topic), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoHandler
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: request %s: %w", topic, err)
	}
	return m.Data, nil
}

// Post sends data to one handler of topic without waiting for it: at most
// once, and in the order of the posts of this node. A post that no node
// handles is lost.
func (b *Bus) Post(topic string, data []byte) error {
	if err := b.nc.Publish(b.subject(topic), data); err != nil {
		return fmt.Errorf("natsbus: post %s: %w", topic, err)
	}
	return nil
}

// Handle calls fn with each request and post of topic this node receives,
// one at a time, in order of arrival. When several nodes handle a topic,
// each message goes to one of them. respond answers a request (it does
// nothing for a post) and may be called later, from another goroutine.
// Handle returns once the server has the subscription; stop ends it and
// returns once the server knows (a request sent after stop returns finds
// no handler here), and messages not yet given to fn are dropped (their
// requests time out).
func (b *Bus) Handle(topic string, fn func(data []byte, respond func([]byte) error)) (stop func(), err error) {
	subj := b.subject(topic)
	sub, err := b.nc.QueueSubscribe(subj, handlers, func(m *nats.Msg) {
		fn(m.Data, func(answer []byte) error {
			if m.Reply == "" {
				return nil
			}
			return m.Respond(answer)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: handle %s: %w", topic, err)
	}
	if err := b.nc.FlushTimeout(flushTimeout); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: handle %s: %w", topic, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				b.log.Debug("nats unsubscribe handler", "subject", subj, "err", err)
				return
			}
			if b.nc.IsConnected() {
				if err := b.nc.FlushTimeout(flushTimeout); err != nil {
					b.log.Debug("nats flush unsubscribe", "subject", subj, "err", err)
				}
			}
		})
	}, nil
}

// RTT measures the round trip to the NATS server, waiting at most timeout:
// how late a wake-up reaches another node, less the server's own queueing.
func (b *Bus) RTT(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := b.nc.FlushTimeout(timeout); err != nil {
		return 0, fmt.Errorf("natsbus: rtt: %w", err)
	}
	return time.Since(start), nil
}

// Dropped returns how many times received wake-ups were dropped because
// this node did not read them fast enough (every watcher was woken instead).
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close sends the publishes still buffered and closes the connection.
// Watchers are not woken; stopping them afterwards is harmless.
func (b *Bus) Close() error {
	var err error
	b.once.Do(func() {
		if b.nc.IsConnected() {
			err = b.nc.FlushTimeout(flushTimeout)
		}
		b.nc.Close()
		close(b.quit)
		<-b.done
	})
	if err != nil {
		return fmt.Errorf("natsbus: flush on close: %w", err)
	}
	return nil
}

// subject maps a topic to its subject. Topics are dot-separated tokens
// ("chat.<id>"); one that is not a valid subject (empty tokens, spaces,
// wildcards) is encoded instead. Two topics sharing a subject would only
// wake each other's watchers for nothing.
func (b *Bus) subject(topic string) string {
	if validTopic(topic) {
		return b.prefix + "." + topic
	}
	return b.prefix + "._" + base64.RawURLEncoding.EncodeToString([]byte(topic))
}

func validTopic(topic string) bool {
	return topic != "" && topic[0] != '.' && topic[len(topic)-1] != '.' &&
		!strings.Contains(topic, "..") && !strings.ContainsAny(topic, " \t\r\n*>")
}
