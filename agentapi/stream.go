package agentapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// stream is the agent's WebSocket: a "routing" message whenever the agent's
// state, offers or chats change, and an "events" message with every new
// event of the agent's chats, in order per chat. ?cursors=chatA:12,chatB:40
// resumes after a reconnect: each listed chat continues after that
// sequence (up to its end, for one of the agent's that ended meanwhile),
// any other chat of the agent starts from its beginning.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, s *session) error {
	cursors, err := parseCursors(r.URL.Query().Get("cursors"))
	if err != nil {
		return err
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return nil // Accept has answered the client
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	st := &agentStream{h: h, conn: conn, agentID: s.agent.ID, cursors: cursors, wake: make(chan struct{}, 1), watches: map[string]func(){}}
	defer st.unwatchAll()
	err = st.run(ctx)
	if err != nil && ctx.Err() == nil {
		h.Log.Debug("agent stream ended", "agent_id", s.agent.ID, "err", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	return nil
}

func parseCursors(v string) (map[string]int64, error) {
	out := map[string]int64{}
	if v == "" {
		return out, nil
	}
	for _, pair := range strings.Split(v, ",") {
		id, seq, ok := strings.Cut(pair, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || n < 0 || id == "" {
			return nil, chat.Errorf(chat.CodeInvalid, "cursors: want chatId:seq,…")
		}
		out[id] = n
	}
	return out, nil
}

type agentStream struct {
	h       *Handler
	conn    *websocket.Conn
	agentID string
	cursors map[string]int64
	wake    chan struct{}
	watches map[string]func()

	// dirty holds the topics published since the stream last looked: only
	// those chats are read again, not every chat of the agent (up to its
	// capacity) at each event of one of them.
	mu    sync.Mutex
	dirty map[string]bool
}

// streamMessage is one message of the stream.
type streamMessage struct {
	Type    string        `json:"type"` // "routing" or "events"
	Routing *routing.View `json:"routing,omitempty"`
	ChatID  string        `json:"chat_id,omitempty"`
}

func (st *agentStream) run(ctx context.Context) error {
	agentTopic := routing.AgentTopic(st.agentID)
	st.watch(agentTopic)
	if err := st.watchResumed(ctx); err != nil {
		return err
	}
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	every := st.h.Relook
	if every <= 0 {
		every = DefaultRelook
	}
	relook := time.NewTicker(every)
	defer relook.Stop()
	// retry is set while routing is unavailable: the view is asked for
	// again a moment later (a new routing leader also wakes every agent).
	var retry <-chan time.Time
	first := true
	for {
		dirty := st.takeDirty()
		if first || dirty[agentTopic] {
			first = false
			view, err := st.h.Router.View(ctx, st.agentID)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// The chats watched go on; what routing changed is
				// sent once it answers.
				st.h.Log.Debug("agent stream: routing unavailable", "agent_id", st.agentID, "err", err)
				retry = time.After(routingRetry)
				if err := st.flushAll(ctx); err != nil {
					return err
				}
			} else if err := st.sendView(ctx, view); err != nil {
				return err
			}
		} else {
			for topic := range dirty {
				id, ok := strings.CutPrefix(topic, "chat.")
				if !ok {
					continue
				}
				if _, watched := st.watches[topic]; !watched {
					continue
				}
				if err := st.flush(ctx, id); err != nil {
					return err
				}
			}
		}
		select {
		case <-st.wake:
		case <-relook.C:
			for topic := range st.watches {
				if strings.HasPrefix(topic, "chat.") {
					st.mark(topic)
				}
			}
		case <-retry:
			retry = nil
			st.mark(agentTopic)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := st.conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case <-st.h.quit:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sendView watches the chats of the agent's view, lets go of the others,
// and sends the view.
func (st *agentStream) sendView(ctx context.Context, view routing.View) error {
	// Flush the chats watched so far first: a chat that just ended has
	// left the view, but its last events must still reach the agent.
	if err := st.flushAll(ctx); err != nil {
		return err
	}
	for _, id := range view.Chats {
		st.watch(chat.ChatTopic(id))
	}
	st.unwatchGone(view.Chats)
	if err := st.flushAll(ctx); err != nil {
		return err
	}
	return st.send(ctx, streamMessage{Type: "routing", Routing: &view})
}

// routingRetry is how soon a stream asks routing for the agent's view
// again after routing was unavailable.
const routingRetry = time.Second

// mark marks a topic dirty, as a wake-up of it does.
func (st *agentStream) mark(topic string) {
	st.mu.Lock()
	if st.dirty == nil {
		st.dirty = map[string]bool{}
	}
	st.dirty[topic] = true
	st.mu.Unlock()
}

// takeDirty returns the topics published since the last call.
func (st *agentStream) takeDirty() map[string]bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.dirty
	st.dirty = map[string]bool{}
	return d
}

// watchResumed watches the chats of the cursors that the agent handled
// last. One that ended while the stream was down has left the view, but
// what happened up to its end (the customer's last words, the end itself)
// is still the agent's: watched, it is flushed once before it is let go.
func (st *agentStream) watchResumed(ctx context.Context) error {
	for id := range st.cursors {
		sess, err := st.h.Service.Store.Session(ctx, id)
		if errors.Is(err, chat.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if sess.AgentID == st.agentID {
			st.watch(chat.ChatTopic(id))
		}
	}
	return nil
}

// watch marks a topic dirty at each of its wake-ups and wakes the stream.
func (st *agentStream) watch(topic string) {
	if _, ok := st.watches[topic]; ok {
		return
	}
	notify := func() {
		st.mark(topic)
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
	if fw, ok := st.h.Service.Bus.(interface {
		WatchFunc(topic string, fn func()) (stop func())
	}); ok {
		st.watches[topic] = fw.WatchFunc(topic, notify)
		return
	}
	ch, stop := st.h.Service.Bus.Watch(topic)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				notify()
			case <-done:
				return
			}
		}
	}()
	st.watches[topic] = func() { stop(); close(done) }
}

func (st *agentStream) unwatchGone(chats []string) {
	keep := map[string]bool{routing.AgentTopic(st.agentID): true}
	for _, id := range chats {
		keep[chat.ChatTopic(id)] = true
	}
	for topic, stop := range st.watches {
		if !keep[topic] {
			stop()
			delete(st.watches, topic)
		}
	}
}

func (st *agentStream) unwatchAll() {
	for _, stop := range st.watches {
		stop()
	}
}

// flushAll sends every event the agent has not been given of watched chats.
func (st *agentStream) flushAll(ctx context.Context) error {
	for topic := range st.watches {
		id, ok := strings.CutPrefix(topic, "chat.")
		if !ok {
			continue
		}
		if err := st.flush(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (st *agentStream) flush(ctx context.Context, chatID string) error {
	const batch = 500
	for {
		evs, err := st.h.Service.Store.Events(ctx, chatID, st.cursors[chatID], batch)
		if err != nil || len(evs) == 0 {
			return err
		}
		buf := []byte(`{"type":"events","chat_id":`)
		buf, _ = appendJSON(buf, chatID)
		buf = append(buf, `,"events":`...)
		buf = append(chat.AppendEventArray(buf, evs), '}')
		if err := st.write(ctx, buf); err != nil {
			return err
		}
		st.cursors[chatID] = evs[len(evs)-1].Seq
		if len(evs) < batch {
			return nil // that was all: no need to ask again
		}
	}
}

func (st *agentStream) send(ctx context.Context, m streamMessage) error {
	buf, err := appendJSON(nil, m)
	if err != nil {
		return err
	}
	return st.write(ctx, buf)
}

// write sends one message with a deadline, so that a stalled agent
// connection cannot hold its stream forever.
func (st *agentStream) write(ctx context.Context, msg []byte) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return st.conn.Write(wctx, websocket.MessageText, msg)
}
