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
	var due []*routed
	now := r.now()
	r.mu.Lock()
	for _, c := range r.chats {
		if t, _ := r.timeout(c, now); t != "" {
			due = append(due, c)
		}
	}
	r.mu.Unlock()
	for _, c := range due {
		r.enforceTimeout(ctx, c)
	}
}

// timeout returns the notice c's customer's silence calls for at now, if
// any: a warning, or the end; the caller holds the lock.
func (r *Router) timeout(c *routed, now time.Time) (chat.Type, string) {
	t := c.entry.Inactivity
	if c.waiting() || (t.Warning == 0 && t.End == 0) {
		return "", ""
	}
	idle := now.Sub(c.lastCustomer)
	switch {
	case t.End > 0 && idle >= time.Duration(t.End):
		return chat.TypeInactivityTimeout, orDefault(t.EndMsg, DefaultEndMsg)
	case t.Warning > 0 && idle >= time.Duration(t.Warning) && !c.warned:
		return chat.TypeTimeoutWarning, orDefault(t.WarningMsg, DefaultWarningMsg)
	}
	return "", ""
}

// enforceTimeout decides again, holding c's io lock, what c's silence calls
// for and appends it: the chat may have been transferred, ended or spoken
// in since it was found due.
func (r *Router) enforceTimeout(ctx context.Context, c *routed) {
	c.io.Lock()
	defer c.io.Unlock()
	now := r.now()
	r.mu.Lock()
	var typ chat.Type
	var msg string
	if r.chats[c.id] == c {
		typ, msg = r.timeout(c, now)
	}
	switch typ {
	case chat.TypeInactivityTimeout:
		c.lastCustomer = now.Add(time.Hour) // ending: do not fire again meanwhile
	case chat.TypeTimeoutWarning:
		c.warned = true
	}
	partyID := c.partyID
	r.mu.Unlock()

	var err error
	switch typ {
	case chat.TypeInactivityTimeout:
		notice := chat.Event{Type: typ, Payload: chat.Payload{Msg: msg}}
		err = r.svc.Finish(ctx, c.id, partyID, &notice)
	case chat.TypeTimeoutWarning:
		err = r.svc.Notice(ctx, c.id, typ, msg)
	}
	if err != nil {
		r.log.Warn("inactivity timeout", "chat_id", c.id, "err", err)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
