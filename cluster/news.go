package cluster

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// news is what a node tells the leader of its chats, as it travels: a chat
// requested, or events routing follows (routing.Relevant), stripped of all
// but their type and whether the customer sent them.
type news struct {
	Op     string      `json:"op"`
	Chat   string      `json:"chat"`
	Events []newsEvent `json:"events,omitempty"`
}

type newsEvent struct {
	Type chat.Type `json:"type"`
	Own  bool      `json:"own,omitempty"` // the customer's
}

const (
	newsRequested = "requested"
	newsAppended  = "appended"
)

// newsTimeout bounds the store reads of taking a requested chat in.
const newsTimeout = 5 * time.Second

// ChatRequested tells routing of a new chat: this node's Router while it
// leads, the leader otherwise.
func (n *Node) ChatRequested(s chat.Session, e chat.Entry) {
	n.mu.RLock()
	if r := n.noting; r != nil {
		r.ChatRequested(s, e)
		n.mu.RUnlock()
		return
	}
	n.mu.RUnlock()
	n.post(news{Op: newsRequested, Chat: s.ID})
}

// EventsAppended tells routing of the events it follows: the end of a chat,
// the customer's activity.
func (n *Node) EventsAppended(chatID string, evs []chat.Event) {
	var relevant []newsEvent
	for i := range evs {
		if routing.Relevant(&evs[i]) {
			relevant = append(relevant, newsEvent{Type: evs[i].Type, Own: evs[i].Own()})
		}
	}
	if len(relevant) == 0 {
		return
	}
	n.mu.RLock()
	if r := n.noting; r != nil {
		r.EventsAppended(chatID, evs)
		n.mu.RUnlock()
		return
	}
	n.mu.RUnlock()
	n.post(news{Op: newsAppended, Chat: chatID, Events: relevant})
}

// post sends news to the leader. News lost (no leader at the moment) is
// found again in the store: by the next leader's restore, or the leader's
// reconciling.
func (n *Node) post(m news) {
	data, err := json.Marshal(m)
	if err == nil {
		err = n.o.Transport.Post(n.news, data)
	}
	if err != nil {
		n.log.Debug("post routing news", "chat_id", m.Chat, "err", err)
	}
}

// handleNews gives the news of another node to the leader's Router, one
// at a time, in the order each node posted it.
func (n *Node) handleNews(data []byte, _ func([]byte) error) {
	var m news
	if err := json.Unmarshal(data, &m); err != nil {
		n.log.Warn("routing news that is not JSON", "err", err)
		return
	}
	switch m.Op {
	case newsRequested:
		s, e, ok := n.requested(m.Chat)
		if !ok {
			return
		}
		n.mu.RLock()
		if r := n.noting; r != nil {
			r.ChatRequested(s, e)
		}
		n.mu.RUnlock()
	case newsAppended:
		evs := make([]chat.Event, len(m.Events))
		for i, ev := range m.Events {
			evs[i] = chat.Event{ChatID: m.Chat, Type: ev.Type}
			if ev.Own {
				evs[i].PartyID = m.Chat // the customer's party is the chat's id
			}
		}
		n.mu.RLock()
		if r := n.noting; r != nil {
			r.EventsAppended(m.Chat, evs)
		}
		n.mu.RUnlock()
	}
}

// requested reads a requested chat and its entry from the store; ok is
// false for one gone or ended meanwhile.
func (n *Node) requested(chatID string) (chat.Session, chat.Entry, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), newsTimeout)
	defer cancel()
	st := n.o.Service.Store
	s, err := st.Session(ctx, chatID)
	if err != nil {
		n.log.Warn("routing news of a chat that cannot be read; reconciling will find it", "chat_id", chatID, "err", err)
		return chat.Session{}, chat.Entry{}, false
	}
	if !s.Live() {
		return chat.Session{}, chat.Entry{}, false
	}
	e, err := st.Entry(ctx, s.Tenant, s.AppID)
	if err != nil {
		n.log.Warn("routing news of a chat whose entry cannot be read", "chat_id", chatID, "err", err)
		return chat.Session{}, chat.Entry{}, false
	}
	return s, e, true
}
