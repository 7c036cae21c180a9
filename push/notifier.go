package push

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// DefaultGrace is how long an event waits for the app's poll before its
// device is pushed about it (§6).
const DefaultGrace = 10 * time.Second

// Options tune a Notifier. Zero values take the defaults.
type Options struct {
	// Grace is how long after an event its push waits for a poll to pick
	// the event up instead (default DefaultGrace).
	Grace time.Duration
	// BackoffBase and BackoffMax bound the delay before trying a failed
	// push again: doubling from base up to max (defaults 5 s, 5 min),
	// with jitter; a Retry-After from the service wins.
	BackoffBase, BackoffMax time.Duration
	// MaxAttempts is how many failed attempts give a push up (default 10).
	MaxAttempts int
	// Timeout bounds every request to a push service (default 15 s).
	Timeout time.Duration
	// Lease is how long a claimed row is kept from other workers (default
	// 2 min): a node that dies mid-send leaves its rows due after it.
	Lease time.Duration
	// Poll is how often the outbox is looked at when no row this node
	// knows of is due: rows left by a restart or another node (default 2 s).
	Poll time.Duration
	// Workers is how many pushes are sent at once (default 8).
	Workers int
	// RootCAs verify the services' certificates; nil means the system's.
	RootCAs *x509.CertPool
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Grace, DefaultGrace)
	def(&o.BackoffBase, 5*time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.Timeout, 15*time.Second)
	def(&o.Lease, 2*time.Minute)
	def(&o.Poll, 2*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
}

// Notifier queues pushes for events that need the customer's attention and
// sends them when due. It is a chat.Observer; Run is its worker.
type Notifier struct {
	store  chat.Store
	outbox chat.PushStore
	log    *slog.Logger
	opts   Options
	stats  Stats
	wake   chan struct{} // a row was queued or rescheduled
	freed  chan struct{} // a send finished

	mu      sync.Mutex
	closed  bool
	due     []time.Time    // sorted: when rows this node queued fall due
	pending sync.WaitGroup // queueing goroutines and sends

	cmu     sync.Mutex
	clients map[clientKey]*client // by entry and service
}

// New returns a Notifier over the chat service's store and the outbox, and
// registers it as an observer of the service.
func New(svc *chat.Service, outbox chat.PushStore, log *slog.Logger, o Options) *Notifier {
	o.defaults()
	n := &Notifier{
		store: svc.Store, outbox: outbox, log: log, opts: o,
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1),
		clients: map[clientKey]*client{},
	}
	svc.Observers = append(svc.Observers, n)
	return n
}

// Stats returns the counters of the notifier.
func (n *Notifier) Stats() *Stats { return &n.stats }

// ChatRequested does nothing: a new chat has no subscription yet.
func (n *Notifier) ChatRequested(chat.Session, chat.Entry) {}

// EventsAppended queues a push for each stored event that needs the
// customer's attention, if the chat has a subscription. It returns at once:
// the rows are written by a goroutine that Run's end waits for.
func (n *Notifier) EventsAppended(chatID string, evs []chat.Event) {
	var seqs []int64
	for i := range evs {
		if NeedsAttention(&evs[i]) {
			seqs = append(seqs, evs[i].Seq)
		}
	}
	if len(seqs) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.log.Warn("push: event after shutdown not queued", "chat_id", chatID, "seq", seqs[0])
		return
	}
	n.pending.Go(func() { n.queue(chatID, seqs) })
}

// queue writes the outbox rows of a chat's events if the chat has a
// subscription and the app has not been given them yet.
func (n *Notifier) queue(chatID string, seqs []int64) {
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.Timeout)
	defer cancel()
	sess, err := n.store.Session(ctx, chatID)
	if err != nil {
		n.log.Warn("push: read session", "chat_id", chatID, "err", err)
		return
	}
	if sess.Push.Kind == "" {
		return
	}
	due := time.Now().Add(n.opts.Grace)
	for _, seq := range seqs {
		if seq <= sess.Cursor {
			continue
		}
		if err := n.outbox.QueuePush(ctx, chat.PushJob{ChatID: chatID, Seq: seq, NotBefore: due}); err != nil {
			n.log.Error("push: queue", "chat_id", chatID, "seq", seq, "err", err)
			continue
		}
		n.stats.Queued.Add(1)
	}
	n.expect(due)
}

// expect tells the worker that a row falls due at t.
func (n *Notifier) expect(t time.Time) {
	n.mu.Lock()
	i, _ := slices.BinarySearchFunc(n.due, t, time.Time.Compare)
	n.due = slices.Insert(n.due, i, t)
	n.mu.Unlock()
	signal(n.wake)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run sends due pushes until ctx ends, then waits for the sends under way
// and the rows being queued (the store must stay open until it returns).
// Events appended after that queue nothing. One Run per node.
func (n *Notifier) Run(ctx context.Context) error {
	defer n.stop()
	slots := make(chan struct{}, n.opts.Workers)
	for {
		now := time.Now()
		free := cap(slots) - len(slots)
		busy := free == 0
		if free > 0 {
			jobs, err := n.outbox.ClaimPushes(ctx, now, now.Add(n.opts.Lease), free)
			if err != nil && ctx.Err() == nil {
				n.log.Error("push: claim outbox rows", "err", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				n.pending.Go(func() {
					defer func() { <-slots; signal(n.freed) }()
					n.deliver(j)
				})
			}
			// A full batch may have left more due rows behind.
			busy = err == nil && len(jobs) == free
		}
		if busy {
			select {
			case <-ctx.Done():
				return nil
			case <-n.freed:
			}
			continue
		}
		timer := time.NewTimer(n.wait(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-n.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// wait returns how long the worker may sleep after claiming at now: until
// the next row it knows of falls due, at most Poll.
func (n *Notifier) wait(now time.Time) time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	i, _ := slices.BinarySearchFunc(n.due, now, func(t, now time.Time) int {
		if t.After(now) {
			return 1
		}
		return -1
	})
	n.due = slices.Delete(n.due, 0, i) // claimed
	if len(n.due) > 0 {
		return min(n.opts.Poll, n.due[0].Sub(now))
	}
	return n.opts.Poll
}

// stop refuses new rows and waits for the work under way.
func (n *Notifier) stop() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.pending.Wait()
	n.cmu.Lock()
	defer n.cmu.Unlock()
	for k, c := range n.clients {
		c.close()
		delete(n.clients, k)
	}
}

// errSkip is an attempt that has nothing to send.
var errSkip = errors.New("nothing to send")

// deliver makes one attempt at a row and settles it: deleted when sent,
// skipped or given up, rescheduled when it may succeed later.
func (n *Notifier) deliver(j chat.PushJob) {
	// Sends are not cut short by shutdown, which waits for them: a request
	// cut off after the service took it would be sent again.
	ctx, cancel := context.WithTimeout(context.Background(), 3*n.opts.Timeout)
	defer cancel()
	sub, err := n.attempt(ctx, j)
	log := n.log.With("chat_id", j.ChatID, "seq", j.Seq)
	// Counters move once the row is settled in the store.
	if err == nil || errors.Is(err, errSkip) {
		n.remove(ctx, j)
		if err == nil {
			n.stats.Sent.Add(1)
			log.Debug("push sent", "kind", sub.Kind)
		} else {
			n.stats.Skipped.Add(1)
		}
		return
	}
	v, after := verdictOf(err)
	switch v {
	case badToken:
		n.unsubscribe(ctx, j.ChatID, sub)
		n.remove(ctx, j)
		n.stats.Dropped.Add(1)
		log.Info("push token rejected: unsubscribed", "kind", sub.Kind, "err", err)
	case retry:
		j.Attempts++
		if j.Attempts >= n.opts.MaxAttempts {
			n.remove(ctx, j)
			n.stats.Failed.Add(1)
			log.Warn("push given up", "kind", sub.Kind, "attempts", j.Attempts, "err", err)
			return
		}
		j.NotBefore = time.Now().Add(backoff(j.Attempts, n.opts.BackoffBase, n.opts.BackoffMax, after))
		if err := n.outbox.RetryPush(ctx, j); err != nil {
			log.Error("push: reschedule", "err", err) // the lease brings it back
			return
		}
		n.stats.Retried.Add(1)
		log.Info("push failed, will retry", "kind", sub.Kind, "attempts", j.Attempts, "at", j.NotBefore, "err", err)
		n.expect(j.NotBefore)
	default:
		n.remove(ctx, j)
		n.stats.Failed.Add(1)
		log.Warn("push failed", "kind", sub.Kind, "err", err)
	}
}

func (n *Notifier) remove(ctx context.Context, j chat.PushJob) {
	if err := n.outbox.DeletePush(ctx, j.ChatID, j.Seq); err != nil {
		// The lease brings the row back: the device may be told twice.
		n.log.Error("push: delete outbox row", "chat_id", j.ChatID, "seq", j.Seq, "err", err)
	}
}

// unsubscribe cancels the chat's subscription unless the app has
// subscribed another token meanwhile.
func (n *Notifier) unsubscribe(ctx context.Context, chatID string, rejected chat.PushToken) {
	sess, err := n.store.Session(ctx, chatID)
	if err != nil || sess.Push != rejected {
		return
	}
	if err := n.store.SetPush(ctx, chatID, chat.PushToken{}); err != nil {
		n.log.Error("push: unsubscribe", "chat_id", chatID, "err", err)
	}
}

// attempt sends the push of a row if it is still owed: the app has not been
// given the event and the chat is subscribed. It returns the subscription
// it used.
func (n *Notifier) attempt(ctx context.Context, j chat.PushJob) (chat.PushToken, error) {
	sess, err := n.store.Session(ctx, j.ChatID)
	if errors.Is(err, chat.ErrNotFound) {
		return chat.PushToken{}, errSkip
	}
	if err != nil {
		return chat.PushToken{}, fmt.Errorf("read session: %w", err)
	}
	sub := sess.Push
	if sess.Cursor >= j.Seq || sub.Kind == "" {
		return sub, errSkip // the app polled the event, or unsubscribed
	}
	e, err := n.store.Entry(ctx, sess.Tenant, sess.AppID)
	if errors.Is(err, chat.ErrNotFound) {
		return sub, &sendError{verdict: fatal, err: fmt.Errorf("entry %s/%s is gone", sess.Tenant, sess.AppID)}
	}
	if err != nil {
		return sub, fmt.Errorf("read entry: %w", err)
	}
	ev, sender, err := n.event(ctx, &sess, &e, j.Seq)
	if err != nil {
		return sub, err
	}
	note := noteOf(&ev, sender)
	c, err := n.client(&e, sub.Kind)
	if err != nil {
		return sub, err
	}
	if c.apns != nil {
		return sub, c.apns.send(ctx, sub.Token, sub.Topic, &note)
	}
	return sub, c.fcm.send(ctx, sub.Token, sub.Kind, &note)
}

// event reads the chat's event seq and the display name of its sender: the
// name its party joined with, or the entry's (or tenant's) name for the
// system's notices.
func (n *Notifier) event(ctx context.Context, sess *chat.Session, e *chat.Entry, seq int64) (chat.Event, string, error) {
	evs, err := n.store.Events(ctx, sess.ID, seq-1, 1)
	if err != nil {
		return chat.Event{}, "", fmt.Errorf("read event: %w", err)
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return chat.Event{}, "", &sendError{verdict: fatal, err: fmt.Errorf("event %d is gone", seq)}
	}
	ev := evs[0]
	var sender string
	if ev.PartyID != "" && ev.PartyID != chat.SystemParty {
		for after := int64(0); after < seq; {
			page, err := n.store.Events(ctx, sess.ID, after, chat.PollBatch)
			if err != nil {
				return chat.Event{}, "", fmt.Errorf("read events: %w", err)
			}
			for _, p := range page {
				if p.Seq < seq && p.Type == chat.TypePartyJoined && p.PartyID == ev.PartyID {
					sender = p.DisplayName
					if sender == "" {
						sender = strings.TrimSpace(p.FirstName + " " + p.LastName)
					}
				}
			}
			if len(page) < chat.PollBatch {
				break
			}
			after = page[len(page)-1].Seq
		}
	}
	if sender == "" {
		sender = e.Name
	}
	if sender == "" {
		if t, err := n.store.Tenant(ctx, sess.Tenant); err == nil {
			sender = t.Name
		}
	}
	return ev, sender, nil
}

// clientKey names the client of one entry and service.
type clientKey struct{ tenant, appID, service string }

// client is a service client built from an entry's credentials, kept while
// they do not change: it holds the connections and the cached tokens.
type client struct {
	sum  [32]byte // of the credentials it was built from
	apns *apnsClient
	fcm  *fcmClient
}

func (c *client) close() {
	if c.apns != nil {
		c.apns.close()
	}
	if c.fcm != nil {
		c.fcm.close()
	}
}

// client returns the client for the entry's credentials of the kind of
// subscription, building it when they are new or changed.
func (n *Notifier) client(e *chat.Entry, kind string) (*client, error) {
	var conf any
	k := clientKey{e.Tenant, e.AppID, "apns"}
	switch kind {
	case chat.PushAPNs:
		if e.Push.APNs != nil {
			conf = e.Push.APNs
		}
	case chat.PushIOSFirebase, chat.PushAndroidFirebase:
		k.service = "fcm"
		if e.Push.FCM != nil {
			conf = e.Push.FCM
		}
	default:
		return nil, &sendError{verdict: fatal, err: fmt.Errorf("unknown subscription kind %q", kind)}
	}
	if conf == nil {
		return nil, &sendError{verdict: fatal, err: fmt.Errorf("%s: %w", k.service, errNoCredentials)}
	}
	raw, _ := json.Marshal(conf)
	sum := sha256.Sum256(raw)
	n.cmu.Lock()
	defer n.cmu.Unlock()
	if c := n.clients[k]; c != nil && c.sum == sum {
		return c, nil
	}
	c := &client{sum: sum}
	if k.service == "apns" {
		creds, err := parseAPNs(e.Push.APNs)
		if err != nil {
			return nil, &sendError{verdict: fatal, err: fmt.Errorf("apns credentials: %w", err)}
		}
		c.apns = newAPNsClient(creds, n.opts.RootCAs, n.opts.Timeout, time.Now)
	} else {
		creds, err := parseFCM(e.Push.FCM)
		if err != nil {
			return nil, &sendError{verdict: fatal, err: fmt.Errorf("fcm credentials: %w", err)}
		}
		c.fcm = newFCMClient(creds, n.opts.RootCAs, n.opts.Timeout)
	}
	if old := n.clients[k]; old != nil {
		old.close()
	}
	n.clients[k] = c
	return c, nil
}
