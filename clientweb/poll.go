package clientweb

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// pollRegistry knows the pending poll of each chat, so that a new poll can
// answer the older one at once and take its place (§5): clients that lost a
// response poll again, and answering 5509 instead would make iOS spin.
type pollRegistry struct {
	mu      sync.Mutex
	pending map[string]chan struct{}
}

func newPollRegistry() *pollRegistry {
	return &pollRegistry{pending: make(map[string]chan struct{})}
}

// take registers a poll of chatID and supersedes the one pending before it.
// The returned channel is closed when a newer poll supersedes this one.
func (p *pollRegistry) take(chatID string) chan struct{} {
	mine := make(chan struct{})
	p.mu.Lock()
	if old, ok := p.pending[chatID]; ok {
		close(old)
	}
	p.pending[chatID] = mine
	p.mu.Unlock()
	return mine
}

// release unregisters a poll unless a newer one has already replaced it.
func (p *pollRegistry) release(chatID string, mine chan struct{}) {
	p.mu.Lock()
	if p.pending[chatID] == mine {
		delete(p.pending, chatID)
	}
	p.mu.Unlock()
}

// Pending returns how many polls are waiting.
func (h *Handler) Pending() int {
	h.polls.mu.Lock()
	defer h.polls.mu.Unlock()
	return len(h.polls.pending)
}

// poll is Get New Chat Events: answer at once with the events the client
// has not been given, or hold the request until some arrive, a newer poll
// takes over, the poll times out or the server shuts down. An idle poll
// always answers {"events":[]}, never an error: SDKs poll again at once.
func (h *Handler) poll(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	sess, err := h.Service.Chat(ctx, c.key, r.PathValue("chatId"))
	if err != nil {
		return err
	}
	cursor, err := pollCursor(r, &sess)
	if err != nil {
		return err
	}
	wake, stop := h.Service.Bus.Watch(chat.ChatTopic(sess.ID))
	defer stop()
	superseded := h.polls.take(sess.ID)
	defer h.polls.release(sess.ID, superseded)
	timeout := time.NewTimer(h.PollTimeout)
	defer timeout.Stop()

	for {
		evs, next, err := h.Service.Pending(ctx, &sess, &c.entry, cursor)
		if err != nil {
			return err
		}
		if next > cursor {
			cursor = next
			h.saveCursor(r, sess.ID, cursor)
		}
		if len(evs) > 0 {
			writeRaw(w, http.StatusOK, chat.AppendEvents(nil, evs))
			return nil
		}
		if !sess.Live() {
			// Everything up to chat_session_ended has been delivered once;
			// 404 is the only answer that stops Android polling. A chat
			// that ends while this poll waits wakes it with those events.
			return chat.Errorf(chat.CodeChatNotFound, "chat has ended")
		}
		select {
		case <-wake:
		case <-superseded:
			return emptyPoll(w)
		case <-timeout.C:
			return emptyPoll(w)
		case <-h.quit:
			return emptyPoll(w)
		case <-ctx.Done():
			return nil
		}
	}
}

func emptyPoll(w http.ResponseWriter) error {
	writeRaw(w, http.StatusOK, []byte(`{"events":[]}`))
	return nil
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

func (h *Handler) saveCursor(r *http.Request, chatID string, seq int64) {
	if err := h.Service.Store.SetCursor(r.Context(), chatID, seq); err != nil {
		h.Log.Warn("save poll cursor", "chat_id", chatID, "err", err)
	}
}
