package clientweb

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// pollRegistry knows the pending poll of each chat, so that a new poll can
// answer the older one at once and take its place (§5): clients that lost a
// response poll again, and answering 5509 instead would make iOS spin. It
// also counts each client id's pending polls across its chats (of every
// entry of the tenant), which are capped.
type pollRegistry struct {
	mu       sync.Mutex
	pending  map[string]*pollSlot
	byClient map[pollClient]int
}

// pollClient is who the cap on pending polls counts: a client id of a
// tenant, whatever the entry.
type pollClient struct{ tenant, clientID string }

// pollSlot is one chat's pending poll.
type pollSlot struct {
	key       pollClient
	supersede func() // answers the poll with no events; calling it again does nothing more
}

func newPollRegistry() *pollRegistry {
	return &pollRegistry{pending: map[string]*pollSlot{}, byClient: map[pollClient]int{}}
}

// take registers a poll of chatID and supersedes the one pending before it.
// A client already holding limit polls of other chats is refused
// (limit 0: no cap).
func (p *pollRegistry) take(k chat.ClientKey, chatID string, supersede func(), limit int) (*pollSlot, error) {
	key := pollClient{k.Tenant, k.ClientID}
	mine := &pollSlot{key: key, supersede: supersede}
	p.mu.Lock()
	old := p.pending[chatID]
	if old == nil {
		if limit > 0 && p.byClient[key] >= limit {
			p.mu.Unlock()
			return nil, chat.Errorf(chat.CodeTooManyPolls, "too many concurrent polls: at most %d per client", limit)
		}
		p.byClient[key]++
	}
	p.pending[chatID] = mine
	p.mu.Unlock()
	if old != nil {
		old.supersede()
	}
	return mine, nil
}

// release unregisters a poll unless a newer one has already replaced it.
func (p *pollRegistry) release(chatID string, mine *pollSlot) {
	p.mu.Lock()
	if p.pending[chatID] == mine {
		delete(p.pending, chatID)
		if n := p.byClient[mine.key] - 1; n > 0 {
			p.byClient[mine.key] = n
		} else {
			delete(p.byClient, mine.key)
		}
	}
	p.mu.Unlock()
}

// all returns every pending poll.
func (p *pollRegistry) all() []*pollSlot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*pollSlot, 0, len(p.pending))
	for _, s := range p.pending {
		out = append(out, s)
	}
	return out
}

// Pending returns how many polls are waiting, parked ones included.
func (h *Handler) Pending() int {
	h.polls.mu.Lock()
	defer h.polls.mu.Unlock()
	return len(h.polls.pending)
}

// poll is Get New Chat Events: answer at once with the events the client
// has not been given, or hold the request until some arrive, a newer poll
// takes over, the poll times out or the server shuts down. An idle poll
// always answers {"events":[]}, never an error: SDKs poll again at once.
//
// A poll that has to wait is parked when it can be (park.go): its
// connection is taken from the HTTP server and only a small record is
// kept until it is answered. Otherwise (TLS, HTTP/2, a body, a handler
// not serving through Handler.Listener) the request's goroutine waits.
// Both are driven by the same state machine, pollState.
func (h *Handler) poll(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	q := &pollState{h: h, key: c.key, entry: &c.entry, kick: make(chan struct{}, 1)}
	// Watch before reading the chat, so that nothing appended after that
	// read goes unnoticed: the read's last sequence then tells whether the
	// first look needs the log at all (fresh). A chat that turns out not
	// to be the client's is let go at once.
	q.unwatch = h.watch(chat.CustomerTopic(r.PathValue("chatId")), func() { q.signal(woken) })
	sess, err := h.Service.Chat(ctx, c.key, r.PathValue("chatId"))
	if err != nil {
		q.unwatch()
		return err
	}
	cursor, err := pollCursor(r, &sess)
	if err != nil {
		q.unwatch()
		return err
	}
	q.sess, q.cursor, q.fresh = sess, cursor, true
	q.slot, err = h.polls.take(c.key, sess.ID, func() { q.signal(stopped) }, h.MaxPollsPerClient)
	if err != nil {
		q.unwatch()
		return err
	}
	q.mu.Lock()
	q.reasons |= woken // the first look
	q.mu.Unlock()
	if a := q.step(ctx); a != nil {
		q.finish()
		return a.write(w)
	}
	q.timer = time.AfterFunc(h.PollTimeout, func() { q.signal(expired) })
	if h.park(w, r, q) {
		return nil
	}
	defer q.finish()
	for {
		select {
		case <-q.kick:
		case <-h.quit:
			q.signal(stopped)
			<-q.kick
		case <-ctx.Done():
			return nil // the client left; nobody reads an answer
		}
		if a := q.step(ctx); a != nil {
			return a.write(w)
		}
	}
}

// reason is why a pending poll is looked at again.
type reason uint8

const (
	woken   reason = 1 << iota // the chat's log may have grown
	expired                    // the poll timeout passed
	stopped                    // a newer poll took over, or the server shuts down
)

// pollState is a pending poll: what it answers about and why it must be
// looked at again. Signals (wake-ups, the timer, a newer poll) may come from
// any goroutine; step runs one at a time, in the request's goroutine or, for
// a parked poll, in a goroutine started for it.
type pollState struct {
	h      *Handler
	key    chat.ClientKey
	sess   chat.Session
	entry  *chat.Entry
	cursor int64
	// fresh is set until the first look: sess was read after the watch
	// began, so a log that ends at the cursor has nothing to give yet.
	fresh bool

	unwatch func()
	slot    *pollSlot
	timer   *time.Timer
	kick    chan struct{} // a signal came, for the waiting request goroutine

	mu      sync.Mutex
	reasons reason
	running bool        // a goroutine drives the parked poll
	over    bool        // answered, or its client left
	parked  *parkedConn // set once parked
}

// signal notes a reason to look at the poll again and makes sure someone
// will: the waiting request goroutine, or a goroutine for a parked poll.
func (q *pollState) signal(r reason) {
	q.mu.Lock()
	if q.over {
		q.mu.Unlock()
		return
	}
	q.reasons |= r
	if q.parked == nil {
		q.mu.Unlock()
		select {
		case q.kick <- struct{}{}:
		default:
		}
		return
	}
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.drive()
	}
}

// answer is what a poll answers.
type answer struct {
	status int
	body   []byte
}

var emptyPoll = &answer{status: http.StatusOK, body: []byte(`{"events":[]}`)}

func (a *answer) write(w http.ResponseWriter) error {
	writeRaw(w, a.status, a.body)
	return nil
}

// step takes the reasons noted so far and returns the poll's answer, or nil
// while it must go on waiting. A newer poll or the shutdown answers no
// events at once; a wake-up looks for events; the timeout answers no events
// unless a wake-up came with it.
func (q *pollState) step(ctx context.Context) *answer {
	q.mu.Lock()
	r := q.reasons
	q.reasons = 0
	q.mu.Unlock()
	if r&stopped != 0 {
		return emptyPoll
	}
	if r&woken != 0 {
		if a := q.look(ctx); a != nil {
			return a
		}
	}
	if r&expired != 0 {
		return emptyPoll
	}
	return nil
}

// look answers the events after the cursor the client may be given, the
// chat's end, or nil when there is nothing to give yet.
func (q *pollState) look(ctx context.Context) *answer {
	h := q.h
	var evs []chat.Event
	next := q.cursor
	// The first look of a poll of a chat with nothing after the cursor
	// reads nothing: on a shared store each read is a query, and most
	// polls start right after the answer that gave the client the end.
	if skip := q.fresh && q.sess.LastSeq <= q.cursor; !skip {
		var err error
		evs, next, err = h.Service.Pending(ctx, &q.sess, q.entry, q.cursor)
		if err != nil {
			return h.errorAnswer(err)
		}
	}
	q.fresh = false
	if next > q.cursor {
		q.cursor = next
		if err := h.Service.Store.SetCursor(ctx, q.sess.ID, next); err != nil {
			h.Log.Warn("save poll cursor", "chat_id", q.sess.ID, "err", err)
		}
	}
	if len(evs) > 0 {
		return &answer{status: http.StatusOK, body: chat.AppendEvents(nil, evs)}
	}
	if !q.sess.Live() {
		// Everything up to chat_session_ended has been delivered once;
		// 404 is the only answer that stops Android polling. A chat that
		// ends while the poll waits wakes it with those events.
		return h.errorAnswer(chat.Errorf(chat.CodeChatNotFound, "chat has ended"))
	}
	return nil
}

// finish lets go of what the poll holds; the first call counts.
func (q *pollState) finish() {
	q.mu.Lock()
	if q.over {
		q.mu.Unlock()
		return
	}
	q.over = true
	q.mu.Unlock()
	q.unwatch()
	q.h.polls.release(q.sess.ID, q.slot)
	if q.timer != nil {
		q.timer.Stop()
	}
}

// watch calls fn after each publish on topic until the returned function is
// called. Buses that can call a function (memory) need no goroutine per
// watcher; others (NATS) are bridged by one.
func (h *Handler) watch(topic string, fn func()) func() {
	if fw, ok := h.Service.Bus.(funcWatcher); ok {
		return fw.WatchFunc(topic, fn)
	}
	ch, stop := h.Service.Bus.Watch(topic)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				fn()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { stop(); close(done) }) }
}

// funcWatcher is a bus that calls a function on each publish (memory.Bus).
type funcWatcher interface {
	WatchFunc(topic string, fn func()) (stop func())
}

// pollCursor is where a poll starts: the client's ?after=<seq> when it
// recovers from a lost answer, the server's record of what it was given
// otherwise.
func pollCursor(r *http.Request, sess *chat.Session) (int64, error) {
	after := r.URL.Query().Get("after")
	if after == "" {
		return sess.Cursor, nil
	}
	seq, err := strconv.ParseInt(after, 10, 64)
	if err != nil || seq < 0 {
		return 0, chat.Errorf(chat.CodeInvalid, "after: want a sequence number, got %q", after)
	}
	return seq, nil
}
