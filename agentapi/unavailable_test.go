package agentapi_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// routingDown makes routing unreachable while down is set, as when nodes
// sharing a store have no routing leader for a moment.
func routingDown(down *atomic.Bool) option { return func(o *options) { o.routingDown = down } }

// unreachable is routing that fails every call while down is set.
type unreachable struct {
	routing.Interface
	down *atomic.Bool
}

var errNoLeader = chat.Errorf(chat.CodeRoutingUnavailable, "routing is unavailable")

func (u *unreachable) check() error {
	if u.down.Load() {
		return errNoLeader
	}
	return nil
}

func (u *unreachable) Login(ctx context.Context, a chat.Agent) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.Login(ctx, a)
}

func (u *unreachable) Logout(ctx context.Context, agentID string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.Logout(ctx, agentID)
}

func (u *unreachable) SetState(ctx context.Context, agentID, state, reason string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.SetState(ctx, agentID, state, reason)
}

func (u *unreachable) UpdateAgent(ctx context.Context, a chat.Agent) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.UpdateAgent(ctx, a)
}

func (u *unreachable) View(ctx context.Context, agentID string) (routing.View, error) {
	if err := u.check(); err != nil {
		return routing.View{}, err
	}
	return u.Interface.View(ctx, agentID)
}

func (u *unreachable) Assigned(ctx context.Context, chatID string) (string, string, error) {
	if err := u.check(); err != nil {
		return "", "", err
	}
	return u.Interface.Assigned(ctx, chatID)
}

func (u *unreachable) Accept(ctx context.Context, agentID, chatID string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.Accept(ctx, agentID, chatID)
}

func (u *unreachable) Reject(ctx context.Context, agentID, chatID string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.Reject(ctx, agentID, chatID)
}

func (u *unreachable) Transfer(ctx context.Context, agentID, chatID, toAgent, toQueue string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.Transfer(ctx, agentID, chatID, toAgent, toQueue)
}

func (u *unreachable) End(ctx context.Context, agentID, chatID string) error {
	if err := u.check(); err != nil {
		return err
	}
	return u.Interface.End(ctx, agentID, chatID)
}

func TestWhileRoutingIsUnavailableOnlyWhatNeedsItFailsWith503(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	e := newEnv(t, routingDown(&down))
	a := e.login(alice)
	a.ready()
	c, v := a.chatWith(webApp)
	id := v.ChatID
	c.say(id, "hello")
	waiting := e.customer(webApp).requestChat() // alice has room for one more
	down.Store(true)

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "me", ""},
		{"PUT", "me/state", `{"state":"not_ready","reason":"lunch"}`},
		{"GET", "chats", ""},
		{"POST", "chats/" + waiting + "/accept", ""},
		{"POST", "chats/" + waiting + "/reject", ""},
		{"POST", "chats/" + id + "/events", `{"events":[{"event":"chat_session_message","msg":"hi"}]}`},
		{"POST", "chats/" + id + "/transfer", `{"queue":"web"}`},
		{"POST", "chats/" + id + "/end", ""},
		{"POST", "logout", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a.in(t).call(tc.method, tc.path, tc.body).fails(t, http.StatusServiceUnavailable, string(chat.CodeRoutingUnavailable))
		})
	}
	t.Run("a chat the agent handled is still read", func(t *testing.T) {
		if evs := a.in(t).transcript(id, 0); len(evs) == 0 {
			t.Error("empty transcript")
		}
		a.in(t).call("GET", "chats/"+id, "").ok(t, &struct{}{})
	})

	down.Store(false)
	t.Run("once routing is back, the login that failed to log out still works, and the chat goes on", func(t *testing.T) {
		a := a.in(t)
		if m := a.me(); m.Routing.State != "ready" || len(m.Routing.Chats) != 1 {
			t.Errorf("routing = %+v, want alice ready with her chat", m.Routing)
		}
		a.say(id, "sorry, I was away")
	})
}
