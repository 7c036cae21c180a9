package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/chat"
)

// PutAgent creates or replaces an agent.
func (s *Store) PutAgent(ctx context.Context, a chat.Agent) error {
	profile, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put agent: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO agents (id, tenant, username, password, profile) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, username = excluded.username,
			password = excluded.password, profile = excluded.profile`,
		a.ID, a.Tenant, a.Username, a.PasswordHash, profile); err != nil {
		return fmt.Errorf("put agent: %w", err)
	}
	s.agents.drop(a.ID)
	return nil
}

const agentColumns = `password, profile`

// Agent returns the agent id.
func (s *Store) Agent(ctx context.Context, id string) (chat.Agent, error) {
	if a, ok := s.agents.get(id); ok {
		return a, nil
	}
	at := time.Now()
	a, err := scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = $1`, id))
	if err == nil {
		s.agents.put(id, a, at)
	}
	return a, err
}

// AgentByUsername returns the tenant's agent with that username.
func (s *Store) AgentByUsername(ctx context.Context, tenant, username string) (chat.Agent, error) {
	return scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents
		WHERE tenant = $1 AND username = $2`, tenant, username))
}

// Agents returns the tenant's agents ordered by username.
func (s *Store) Agents(ctx context.Context, tenant string) ([]chat.Agent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents WHERE tenant = $1 ORDER BY username`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, storeErr(rows.Err())
}

func scanAgent(row pgx.Row) (chat.Agent, error) {
	var a chat.Agent
	var hash string
	var profile []byte
	if err := row.Scan(&hash, &profile); err != nil {
		return chat.Agent{}, notFound(err)
	}
	if err := json.Unmarshal(profile, &a); err != nil {
		return chat.Agent{}, fmt.Errorf("decode agent: %w", err)
	}
	a.PasswordHash = hash
	return a, nil
}

// PutToken stores a login token.
func (s *Store) PutToken(ctx context.Context, t chat.Token) error {
	if _, err := s.exec(ctx, `INSERT INTO agent_tokens (hash, agent_id, expires) VALUES ($1, $2, $3)`,
		t.Hash, t.AgentID, t.Expires); err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// Token returns the login token with that hash, expired or not.
func (s *Store) Token(ctx context.Context, hash string) (chat.Token, error) {
	if t, ok := s.tokens.get(hash); ok {
		return t, nil
	}
	at := time.Now()
	t := chat.Token{Hash: hash}
	err := s.pool.QueryRow(ctx, `SELECT agent_id, expires FROM agent_tokens WHERE hash = $1`, hash).Scan(&t.AgentID, &t.Expires)
	if err != nil {
		return chat.Token{}, notFound(err)
	}
	s.tokens.put(hash, t, at)
	return t, nil
}

// DeleteToken revokes a login token and purges the expired ones; revoking
// an unknown one is no error.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	if _, err := s.exec(ctx, `DELETE FROM agent_tokens WHERE hash = $1 OR expires < $2`, hash, time.Now()); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	s.tokens.drop(hash)
	return nil
}

// LiveSessions returns every live session, oldest first.
func (s *Store) LiveSessions(ctx context.Context) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE ended IS NULL ORDER BY created, created_order`)
}

// AgentSessions returns the chats last assigned to the agent, newest first.
func (s *Store) AgentSessions(ctx context.Context, agentID string, limit int) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE agent_id = $1
		ORDER BY created DESC, created_order DESC LIMIT $2`, agentID, limit)
}

// PutWrapUp records an agent's wrap-up of a chat.
func (s *Store) PutWrapUp(ctx context.Context, w chat.WrapUp) error {
	if _, err := s.exec(ctx, `INSERT INTO wrapups (chat_id, agent_id, code, notes, created) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (chat_id, agent_id) DO UPDATE SET code = excluded.code, notes = excluded.notes, created = excluded.created`,
		w.ChatID, w.AgentID, w.Code, w.Notes, w.Created); err != nil {
		return fmt.Errorf("put wrap-up: %w", err)
	}
	return nil
}

// WrapUps returns the wrap-ups of a chat.
func (s *Store) WrapUps(ctx context.Context, chatID string) ([]chat.WrapUp, error) {
	rows, err := s.pool.Query(ctx, `SELECT chat_id, agent_id, code, notes, created FROM wrapups
		WHERE chat_id = $1 ORDER BY created`, chatID)
	if err != nil {
		return nil, fmt.Errorf("wrap-ups: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.WrapUp
	for rows.Next() {
		var w chat.WrapUp
		if err := rows.Scan(&w.ChatID, &w.AgentID, &w.Code, &w.Notes, &w.Created); err != nil {
			return nil, fmt.Errorf("wrap-ups: %w", err)
		}
		out = append(out, w)
	}
	return out, storeErr(rows.Err())
}
