package routing

import (
	"context"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Default notices of the inactivity timeouts.
const (
	DefaultWarningMsg = "Are you still there? This chat will close soon if we don't hear from you."
	DefaultEndMsg     = "This chat was closed because there was no activity."
)

// checkInactivity warns customers of assigned chats who have been silent for
// the entry's warning period and ends the chats silent for its end period.
func (r *Router) checkInactivity(ctx context.Context) {
	type action struct {
		chatID, partyID string
		end             bool
		msg             string
	}
	var actions []action
	now := r.now()
	r.mu.Lock()
	for _, c := range r.chats {
		t := c.entry.Inactivity
		if c.waiting() || (t.Warning == 0 && t.End == 0) {
			continue
		}
		idle := now.Sub(c.lastCustomer)
		switch {
		case t.End > 0 && idle >= time.Duration(t.End):
			c.lastCustomer = now.Add(time.Hour) // ending: do not fire again meanwhile
			actions = append(actions, action{c.id, c.partyID, true, orDefault(t.EndMsg, DefaultEndMsg)})
		case t.Warning > 0 && idle >= time.Duration(t.Warning) && !c.warned:
			c.warned = true
			actions = append(actions, action{c.id, c.partyID, false, orDefault(t.WarningMsg, DefaultWarningMsg)})
		}
	}
	r.mu.Unlock()
	for _, a := range actions {
		var err error
		if a.end {
			notice := chat.Event{Type: chat.TypeInactivityTimeout, Payload: chat.Payload{Msg: a.msg}}
			err = r.svc.Finish(ctx, a.chatID, a.partyID, &notice)
		} else {
			err = r.svc.Notice(ctx, a.chatID, chat.TypeTimeoutWarning, a.msg)
		}
		if err != nil {
			r.log.Warn("inactivity timeout", "chat_id", a.chatID, "err", err)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
