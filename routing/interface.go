package routing

import (
	"context"

	"github.com/parley-chat/parley/chat"
)

// Interface is routing as the rest of a node reaches it (the agent and
// admin APIs), wherever the Router runs: in this process (Local), or on the
// routing leader of nodes sharing a store (package cluster). Errors carry
// the chat codes the Router answers with; an unreachable leader is
// chat.CodeRoutingUnavailable.
type Interface interface {
	// Login makes an agent known to routing (see Router.Login).
	Login(ctx context.Context, a chat.Agent) error
	// Logout withdraws an agent's offers and forgets their state.
	Logout(ctx context.Context, agentID string) error
	// SetState makes a logged-in agent ready or not ready.
	SetState(ctx context.Context, agentID, state, reason string) error
	// UpdateAgent refreshes a logged-in agent's profile.
	UpdateAgent(ctx context.Context, a chat.Agent) error
	// View is what the agent's desktop shows of routing.
	View(ctx context.Context, agentID string) (View, error)
	// Assigned returns the agent and party of a chat; "" when it waits or
	// routing does not know it.
	Assigned(ctx context.Context, chatID string) (agentID, partyID string, err error)
	Accept(ctx context.Context, agentID, chatID string) error
	Reject(ctx context.Context, agentID, chatID string) error
	Transfer(ctx context.Context, agentID, chatID, toAgent, toQueue string) error
	End(ctx context.Context, agentID, chatID string) error
}

// Local returns the Interface of a Router in this process: every call is
// the Router's own, and only the Router's errors are returned.
func Local(r *Router) Interface { return local{r} }

type local struct{ r *Router }

func (l local) Login(_ context.Context, a chat.Agent) error {
	l.r.Login(a)
	return nil
}

func (l local) Logout(_ context.Context, agentID string) error {
	l.r.Logout(agentID)
	return nil
}

func (l local) SetState(_ context.Context, agentID, state, reason string) error {
	return l.r.SetState(agentID, state, reason)
}

func (l local) UpdateAgent(_ context.Context, a chat.Agent) error {
	l.r.UpdateAgent(a)
	return nil
}

func (l local) View(_ context.Context, agentID string) (View, error) { return l.r.View(agentID), nil }

func (l local) Assigned(_ context.Context, chatID string) (string, string, error) {
	agentID, partyID, _ := l.r.Assignment(chatID)
	return agentID, partyID, nil
}

func (l local) Accept(ctx context.Context, agentID, chatID string) error {
	return l.r.Accept(ctx, agentID, chatID)
}

func (l local) Reject(_ context.Context, agentID, chatID string) error {
	return l.r.Reject(agentID, chatID)
}

func (l local) Transfer(ctx context.Context, agentID, chatID, toAgent, toQueue string) error {
	return l.r.Transfer(ctx, agentID, chatID, toAgent, toQueue)
}

func (l local) End(ctx context.Context, agentID, chatID string) error {
	return l.r.End(ctx, agentID, chatID)
}
