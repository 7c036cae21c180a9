package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/routing"
)

// call is a call of routing.Interface (or an estimate) as it travels to
// the leader: small JSON, only the fields its operation uses.
type call struct {
	Op      string      `json:"op"`
	Agent   string      `json:"agent,omitempty"`
	Chat    string      `json:"chat,omitempty"`
	State   string      `json:"state,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	ToAgent string      `json:"to_agent,omitempty"`
	ToQueue string      `json:"to_queue,omitempty"`
	Profile *chat.Agent `json:"profile,omitempty"` // no password hash: it is not in an agent's JSON
	Tenant  string      `json:"tenant,omitempty"`
	Queue   string      `json:"queue,omitempty"`
	Skills  []string    `json:"skills,omitempty"`
}

// answer is the leader's answer to a call.
type answer struct {
	View  *routing.View `json:"view,omitempty"`
	Agent string        `json:"agent,omitempty"`
	Party string        `json:"party,omitempty"`
	Wait  int           `json:"wait,omitempty"`
	Error *wireError    `json:"error,omitempty"`
}

// wireError is an error as it travels: its code and client-safe message,
// so that an agent is answered on any node as on the leader's.
type wireError struct {
	Code    chat.Code `json:"code"`
	Message string    `json:"message"`
}

// The operations of calls.
const (
	opLogin    = "login"
	opLogout   = "logout"
	opSetState = "set_state"
	opUpdate   = "update_agent"
	opView     = "view"
	opAssigned = "assigned"
	opAccept   = "accept"
	opReject   = "reject"
	opTransfer = "transfer"
	opEnd      = "end"
	opEstimate = "estimate"
)

// retryEvery is how soon a call that found no leader asks again.
const retryEvery = 100 * time.Millisecond

// errNotLeading answers a call that reached a node no longer leading; the
// caller asks again (the call was not run).
var errNotLeading = chat.Errorf(chat.CodeRoutingUnavailable, "this node no longer leads routing")

// unavailable is the error of a call no leader answered.
func unavailable(cause error) error {
	return &chat.Error{Code: chat.CodeRoutingUnavailable,
		Message: "routing is unavailable: no routing leader answered; try again", Err: cause}
}

// Login makes an agent known to routing, on the leader.
func (n *Node) Login(ctx context.Context, a chat.Agent) error {
	_, err := n.call(ctx, call{Op: opLogin, Profile: &a})
	return err
}

// Logout takes an agent out of routing, on the leader.
func (n *Node) Logout(ctx context.Context, agentID string) error {
	_, err := n.call(ctx, call{Op: opLogout, Agent: agentID})
	return err
}

// SetState makes an agent ready or not ready, on the leader.
func (n *Node) SetState(ctx context.Context, agentID, state, reason string) error {
	_, err := n.call(ctx, call{Op: opSetState, Agent: agentID, State: state, Reason: reason})
	return err
}

// UpdateAgent refreshes an agent's profile, on the leader.
func (n *Node) UpdateAgent(ctx context.Context, a chat.Agent) error {
	_, err := n.call(ctx, call{Op: opUpdate, Profile: &a})
	return err
}

// View returns the leader's view of an agent.
func (n *Node) View(ctx context.Context, agentID string) (routing.View, error) {
	ans, err := n.call(ctx, call{Op: opView, Agent: agentID})
	if err != nil {
		return routing.View{}, err
	}
	if ans.View == nil {
		return routing.View{}, errors.New("cluster: the leader answered a view without one")
	}
	return *ans.View, nil
}

// Assigned returns a chat's agent and party as the leader has them.
func (n *Node) Assigned(ctx context.Context, chatID string) (string, string, error) {
	ans, err := n.call(ctx, call{Op: opAssigned, Chat: chatID})
	return ans.Agent, ans.Party, err
}

// Accept accepts an offer, on the leader.
func (n *Node) Accept(ctx context.Context, agentID, chatID string) error {
	_, err := n.call(ctx, call{Op: opAccept, Agent: agentID, Chat: chatID})
	return err
}

// Reject declines an offer, on the leader.
func (n *Node) Reject(ctx context.Context, agentID, chatID string) error {
	_, err := n.call(ctx, call{Op: opReject, Agent: agentID, Chat: chatID})
	return err
}

// Transfer hands a chat on, on the leader.
func (n *Node) Transfer(ctx context.Context, agentID, chatID, toAgent, toQueue string) error {
	_, err := n.call(ctx, call{Op: opTransfer, Agent: agentID, Chat: chatID, ToAgent: toAgent, ToQueue: toQueue})
	return err
}

// End ends an agent's chat, on the leader.
func (n *Node) End(ctx context.Context, agentID, chatID string) error {
	_, err := n.call(ctx, call{Op: opEnd, Agent: agentID, Chat: chatID})
	return err
}

// EstimateWait asks the leader for the estimated wait of a chat requested
// now on e. A chat is not held up for it: without an answer within a
// second the estimate is unknown.
func (n *Node) EstimateWait(ctx context.Context, e *chat.Entry) (int, bool) {
	c := call{Op: opEstimate, Tenant: e.Tenant, Queue: e.QueueName(), Skills: e.Skills}
	if ans, err, ok := n.local(ctx, c); ok {
		return ans.Wait, err == nil
	}
	ctx, cancel := context.WithTimeout(ctx, estimateTimeout)
	defer cancel()
	ans, err := n.request(ctx, c)
	if err != nil {
		n.log.Debug("estimated wait unknown", "app_id", e.AppID, "err", err)
		return 0, false
	}
	return ans.Wait, true
}

// call runs c on this node's Router while it leads, and on the leader's
// otherwise, waiting up to CallTimeout for there to be one.
func (n *Node) call(ctx context.Context, c call) (answer, error) {
	if ans, err, ok := n.local(ctx, c); ok {
		return ans, err
	}
	wait, cancel := context.WithTimeout(ctx, n.o.CallTimeout)
	defer cancel()
	for {
		ans, err := n.request(wait, c)
		switch {
		case err == nil:
			return ans, nil
		case ctx.Err() != nil:
			return answer{}, ctx.Err()
		case errors.Is(err, natsbus.ErrNoHandler), errors.Is(err, errNotLeading):
			// No leader now (an election, a leader stepping down): the
			// call was not run, and may be asked again.
		case errors.Is(err, context.DeadlineExceeded) && wait.Err() != nil:
			return answer{}, unavailable(err)
		default:
			var ce *chat.Error
			if errors.As(err, &ce) {
				return answer{}, err // the leader's answer
			}
			return answer{}, unavailable(err)
		}
		select {
		case <-wait.Done():
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			return answer{}, unavailable(err)
		case <-time.After(retryEvery):
		}
		if ans, err, ok := n.local(ctx, c); ok { // this node may lead now
			return ans, err
		}
	}
}

// request sends c to the leader and returns its answer; a leader's error
// comes back as the *chat.Error it answered (errNotLeading included).
func (n *Node) request(ctx context.Context, c call) (answer, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return answer{}, err
	}
	out, err := n.o.Transport.Request(ctx, n.calls, data)
	if err != nil {
		return answer{}, err
	}
	var ans answer
	if err := json.Unmarshal(out, &ans); err != nil {
		return answer{}, errors.New("cluster: the leader's answer is not JSON")
	}
	if ans.Error != nil {
		if ans.Error.Code == chat.CodeRoutingUnavailable {
			return answer{}, errNotLeading
		}
		return answer{}, &chat.Error{Code: ans.Error.Code, Message: ans.Error.Message}
	}
	return ans, nil
}

// local runs c on this node's Router if it serves; ok is false otherwise.
// It holds the Router for reading meanwhile: stepping down waits for it.
func (n *Node) local(ctx context.Context, c call) (ans answer, err error, ok bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.serving == nil {
		return answer{}, nil, false
	}
	ans, err = run(ctx, n.serving, c)
	return ans, err, true
}

// run runs a call on a Router, as the Router answers it.
func run(ctx context.Context, r *routing.Router, c call) (answer, error) {
	l := routing.Local(r)
	switch c.Op {
	case opLogin, opUpdate:
		if c.Profile == nil {
			return answer{}, chat.Errorf(chat.CodeInvalid, "%s without a profile", c.Op)
		}
		if c.Op == opLogin {
			return answer{}, l.Login(ctx, *c.Profile)
		}
		return answer{}, l.UpdateAgent(ctx, *c.Profile)
	case opLogout:
		return answer{}, l.Logout(ctx, c.Agent)
	case opSetState:
		return answer{}, l.SetState(ctx, c.Agent, c.State, c.Reason)
	case opView:
		v, err := l.View(ctx, c.Agent)
		return answer{View: &v}, err
	case opAssigned:
		agent, party, err := l.Assigned(ctx, c.Chat)
		return answer{Agent: agent, Party: party}, err
	case opAccept:
		return answer{}, l.Accept(ctx, c.Agent, c.Chat)
	case opReject:
		return answer{}, l.Reject(ctx, c.Agent, c.Chat)
	case opTransfer:
		return answer{}, l.Transfer(ctx, c.Agent, c.Chat, c.ToAgent, c.ToQueue)
	case opEnd:
		return answer{}, l.End(ctx, c.Agent, c.Chat)
	case opEstimate:
		e := chat.Entry{Tenant: c.Tenant, Queue: c.Queue, Skills: c.Skills}
		wait, _ := r.EstimateWait(ctx, &e)
		return answer{Wait: wait}, nil
	}
	return answer{}, chat.Errorf(chat.CodeInvalid, "unknown routing call %q", c.Op)
}

// handleCall answers a call from another node, in a goroutine of its own
// (at most maxCalls at once): calls of different agents do not wait for
// each other's store writes.
func (l *leadership) handleCall(data []byte, respond func([]byte) error) {
	l.slots <- struct{}{}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.slots
		l.answer(respond, answer{}, errNotLeading)
		return
	}
	l.calls.Add(1)
	l.mu.Unlock()
	go func() {
		defer func() {
			<-l.slots
			l.calls.Done()
		}()
		var c call
		if err := json.Unmarshal(data, &c); err != nil {
			l.answer(respond, answer{}, chat.Errorf(chat.CodeInvalid, "a routing call that is not JSON"))
			return
		}
		ctx, cancel := context.WithTimeout(l.ops, l.n.o.CallTimeout)
		defer cancel()
		ans, err, ok := l.n.local(ctx, c)
		if !ok || (err != nil && l.ops.Err() != nil) {
			err = errNotLeading // stepping down: the caller asks again
		}
		l.answer(respond, ans, err)
	}()
}

// answer sends a call's answer; an internal error is logged here, with its
// cause, and travels as its code and safe message only.
func (l *leadership) answer(respond func([]byte) error, ans answer, err error) {
	if err != nil {
		code := chat.ErrorCode(err)
		if code == chat.CodeInternal {
			l.n.log.Error("routing call failed", "err", err)
		}
		ans = answer{Error: &wireError{Code: code, Message: chat.ErrorMessage(err)}}
	}
	out, _ := json.Marshal(ans)
	if err := respond(out); err != nil {
		l.n.log.Debug("answer a routing call", "err", err)
	}
}
