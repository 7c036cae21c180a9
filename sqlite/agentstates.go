package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

// PutAgentState records an agent's routing state.
func (s *Store) PutAgentState(ctx context.Context, st chat.AgentState) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO agent_states (agent_id, state, reason, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, updated = excluded.updated`,
			st.AgentID, st.State, st.Reason, st.Updated.UnixMilli())
		return err
	})
}

// DeleteAgentState forgets an agent's routing state.
func (s *Store) DeleteAgentState(ctx context.Context, agentID string) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM agent_states WHERE agent_id = ?`, agentID)
		return err
	})
}

// AgentStates returns every recorded routing state, by agent id.
func (s *Store) AgentStates(ctx context.Context) ([]chat.AgentState, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT agent_id, state, reason, updated FROM agent_states ORDER BY agent_id`)
	if err != nil {
		return nil, fmt.Errorf("agent states: %w", err)
	}
	defer rows.Close()
	var out []chat.AgentState
	for rows.Next() {
		var st chat.AgentState
		var updated int64
		if err := rows.Scan(&st.AgentID, &st.State, &st.Reason, &updated); err != nil {
			return nil, fmt.Errorf("agent states: %w", err)
		}
		st.Updated = time.UnixMilli(updated)
		out = append(out, st)
	}
	return out, rows.Err()
}
