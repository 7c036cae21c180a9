package postgres

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/chat"
)

// PutAgentState records an agent's routing state.
func (s *Store) PutAgentState(ctx context.Context, st chat.AgentState) error {
	if _, err := s.exec(ctx, `INSERT INTO agent_states (agent_id, state, reason, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, updated = excluded.updated`,
		st.AgentID, st.State, st.Reason, st.Updated); err != nil {
		return fmt.Errorf("put agent state: %w", err)
	}
	return nil
}

// DeleteAgentState forgets an agent's routing state.
func (s *Store) DeleteAgentState(ctx context.Context, agentID string) error {
	if _, err := s.exec(ctx, `DELETE FROM agent_states WHERE agent_id = $1`, agentID); err != nil {
		return fmt.Errorf("delete agent state: %w", err)
	}
	return nil
}

// AgentStates returns every recorded routing state, by agent id.
func (s *Store) AgentStates(ctx context.Context) ([]chat.AgentState, error) {
	rows, err := s.pool.Query(ctx, `SELECT agent_id, state, reason, updated FROM agent_states ORDER BY agent_id`)
	if err != nil {
		return nil, fmt.Errorf("agent states: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.AgentState
	for rows.Next() {
		var st chat.AgentState
		if err := rows.Scan(&st.AgentID, &st.State, &st.Reason, &st.Updated); err != nil {
			return nil, fmt.Errorf("agent states: %w", err)
		}
		out = append(out, st)
	}
	return out, storeErr(rows.Err())
}
