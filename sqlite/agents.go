package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

// PutAgent creates or replaces an agent.
func (s *Store) PutAgent(ctx context.Context, a chat.Agent) error {
	profile, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put agent: %w", err)
	}
	defer s.agents.changed()
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO agents (id, tenant, username, password, profile) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, username = excluded.username,
				password = excluded.password, profile = excluded.profile`,
			a.ID, a.Tenant, a.Username, a.PasswordHash, profile)
		if isUnique(err) {
			return chat.ErrConflict
		}
		return err
	})
}

const agentColumns = `password, profile`

// Agent returns the agent id.
func (s *Store) Agent(ctx context.Context, id string) (chat.Agent, error) {
	a, gen, ok := s.agents.agent(id)
	if ok && !s.closed() {
		return a, nil
	}
	return s.readAgent(ctx, id, gen)
}

func (s *Store) readAgent(ctx context.Context, id string, gen uint64) (a chat.Agent, err error) {
	err = s.onReader(ctx, func() (err error) {
		a, err = scanAgent(s.read.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = ?`, id))
		return err
	})
	if err == nil && a.ID == id {
		s.agents.putAgent(gen, a)
	}
	return a, err
}

// AgentByUsername returns the tenant's agent with that username.
func (s *Store) AgentByUsername(ctx context.Context, tenant, username string) (chat.Agent, error) {
	return scanAgent(s.read.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents
		WHERE tenant = ? AND username = ?`, tenant, username))
}

// Agents returns the tenant's agents ordered by username.
func (s *Store) Agents(ctx context.Context, tenant string) ([]chat.Agent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE tenant = ? ORDER BY username`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
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
	return out, rows.Err()
}

func scanAgent(row scanner) (chat.Agent, error) {
	var a chat.Agent
	var hash string
	var profile []byte
	err := row.Scan(&hash, &profile)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Agent{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Agent{}, fmt.Errorf("read agent: %w", err)
	}
	if err := json.Unmarshal(profile, &a); err != nil {
		return chat.Agent{}, fmt.Errorf("decode agent: %w", err)
	}
	a.PasswordHash = hash
	return a, nil
}

// PutToken stores a login token.
func (s *Store) PutToken(ctx context.Context, t chat.Token) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO agent_tokens (hash, agent_id, expires) VALUES (?, ?, ?)`,
			t.Hash, t.AgentID, t.Expires.UnixMilli())
		return err
	})
}

// Token returns the login token with that hash, expired or not.
func (s *Store) Token(ctx context.Context, hash string) (chat.Token, error) {
	t, gen, ok := s.agents.token(hash)
	if ok && !s.closed() {
		return t, nil
	}
	return s.readToken(ctx, hash, gen)
}

func (s *Store) readToken(ctx context.Context, hash string, gen uint64) (chat.Token, error) {
	t := chat.Token{Hash: hash}
	var expires int64
	err := s.onReader(ctx, func() error {
		return s.read.QueryRowContext(ctx, `SELECT agent_id, expires FROM agent_tokens WHERE hash = ?`, hash).Scan(&t.AgentID, &expires)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Token{}, chat.ErrNotFound
	}
	t.Expires = time.UnixMilli(expires)
	if err == nil {
		s.agents.putToken(gen, t)
	}
	return t, err
}

// DeleteToken revokes a login token; revoking an unknown one is no error.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	defer s.agents.changed()
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM agent_tokens WHERE hash = ? OR expires < ?`, hash, time.Now().UnixMilli())
		return err
	})
}

// LiveSessions returns every live session, oldest first.
func (s *Store) LiveSessions(ctx context.Context) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE ended = 0 ORDER BY created, rowid`)
}

// AgentSessions returns the chats last assigned to the agent, newest first.
func (s *Store) AgentSessions(ctx context.Context, agentID string, limit int) ([]chat.Session, error) {
	return s.sessions(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE agent_id = ?
		ORDER BY created DESC, rowid DESC LIMIT ?`, agentID, limit)
}

// PutWrapUp records an agent's wrap-up of a chat.
func (s *Store) PutWrapUp(ctx context.Context, w chat.WrapUp) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO wrapups (chat_id, agent_id, code, notes, created) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (chat_id, agent_id) DO UPDATE SET code = excluded.code, notes = excluded.notes, created = excluded.created`,
			w.ChatID, w.AgentID, w.Code, w.Notes, w.Created.UnixMilli())
		return err
	})
}

// WrapUps returns the wrap-ups of a chat.
func (s *Store) WrapUps(ctx context.Context, chatID string) ([]chat.WrapUp, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT chat_id, agent_id, code, notes, created FROM wrapups
		WHERE chat_id = ? ORDER BY created`, chatID)
	if err != nil {
		return nil, fmt.Errorf("wrap-ups: %w", err)
	}
	defer rows.Close()
	var out []chat.WrapUp
	for rows.Next() {
		var w chat.WrapUp
		var created int64
		if err := rows.Scan(&w.ChatID, &w.AgentID, &w.Code, &w.Notes, &created); err != nil {
			return nil, err
		}
		w.Created = time.UnixMilli(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// sessions runs a query that selects sessionColumns.
func (s *Store) sessions(ctx context.Context, query string, args ...any) ([]chat.Session, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []chat.Session
	for rows.Next() {
		sess, err := s.scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}
