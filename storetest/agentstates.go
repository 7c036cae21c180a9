package storetest

import (
	"testing"

	"github.com/parley-chat/parley/chat"
)

// agentStateTests are the rules of routing's record of agents' states,
// which outlives a router: the next one finds the agents as they were.
var agentStateTests = []test{
	{"no agent state is recorded in a new store", func(t *testing.T, st chat.Store) {
		wantAgentStates(t, st)
	}},
	{"an agent state reads back with every field", func(t *testing.T, st chat.Store) {
		want := chat.AgentState{AgentID: "agent-1", State: "not_ready", Reason: "lunch", Updated: at(3)}
		putAgentState(t, st, want)
		wantAgentStates(t, st, want)
	}},
	{"recording an agent's state again replaces it", func(t *testing.T, st chat.Store) {
		putAgentState(t, st, chat.AgentState{AgentID: "agent-1", State: "not_ready", Reason: "lunch", Updated: at(1)})
		want := chat.AgentState{AgentID: "agent-1", State: "ready", Updated: at(2)}
		putAgentState(t, st, want)
		wantAgentStates(t, st, want)
	}},
	{"agent states are listed by agent id", func(t *testing.T, st chat.Store) {
		b := chat.AgentState{AgentID: "agent-b", State: "ready", Updated: at(1)}
		a := chat.AgentState{AgentID: "agent-a", State: "not_ready", Reason: "missed offer", Updated: at(2)}
		c := chat.AgentState{AgentID: "agent-c", State: "ready", Updated: at(3)}
		for _, s := range []chat.AgentState{b, a, c} {
			putAgentState(t, st, s)
		}
		wantAgentStates(t, st, a, b, c)
	}},
	{"a deleted agent state is forgotten, and deleting an unknown one is no error", func(t *testing.T, st chat.Store) {
		keep := chat.AgentState{AgentID: "agent-1", State: "ready", Updated: at(1)}
		putAgentState(t, st, keep)
		putAgentState(t, st, chat.AgentState{AgentID: "agent-2", State: "ready", Updated: at(1)})
		for _, id := range []string{"agent-2", "agent-2", "agent-unknown"} {
			if err := st.DeleteAgentState(t.Context(), id); err != nil {
				t.Fatalf("DeleteAgentState(%q): %v", id, err)
			}
		}
		wantAgentStates(t, st, keep)
	}},
}

func putAgentState(t *testing.T, st chat.Store, s chat.AgentState) {
	t.Helper()
	if err := st.PutAgentState(t.Context(), s); err != nil {
		t.Fatalf("PutAgentState(%q): %v", s.AgentID, err)
	}
}

// wantAgentStates checks every recorded state, in order.
func wantAgentStates(t *testing.T, st chat.Store, want ...chat.AgentState) {
	t.Helper()
	got, err := st.AgentStates(t.Context())
	if err != nil {
		t.Fatalf("AgentStates: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("AgentStates = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.AgentID != w.AgentID || g.State != w.State || g.Reason != w.Reason || !sameTime(g.Updated, w.Updated) {
			t.Errorf("AgentStates[%d] = %+v, want %+v", i, g, w)
		}
	}
}
