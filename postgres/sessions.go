package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parley-chat/parley/chat"
)

const sessionColumns = `id, tenant, app_id, client_id, state, ewt, phone_number, from_name,
	parameters, case_id, agent_id, created, ended, last_seq, cursor, push_kind, push_token, push_topic`

// CreateSession stores a new live session and its first events.
func (s *Store) CreateSession(ctx context.Context, sess chat.Session, first []chat.Event) ([]chat.Event, error) {
	params := []byte(sess.Parameters)
	if len(params) == 0 {
		params = []byte("{}")
	}
	stored := number(sess.ID, first, 0, nil)
	err := s.writeBatches(ctx, func(ctx context.Context, conn batcher) error {
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`INSERT INTO sessions (id, tenant, app_id, client_id, state, ewt, phone_number, from_name,
				parameters, case_id, agent_id, created, last_seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			sess.ID, sess.Tenant, sess.AppID, sess.ClientID, sess.State, sess.EWT, sess.PhoneNumber,
			sess.From, params, sess.CaseID, sess.AgentID, sess.Created, lastSeq(stored, 0))
		if err := queueInserts(b, stored); err != nil {
			return err
		}
		b.Queue(`COMMIT`)
		return runBatch(ctx, conn, b)
	})
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return stored, nil
}

// Session returns the session id.
func (s *Store) Session(ctx context.Context, id string) (chat.Session, error) {
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

// LiveSession returns the client's live session on its entry.
func (s *Store) LiveSession(ctx context.Context, k chat.ClientKey) (chat.Session, error) {
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant = $1 AND app_id = $2 AND client_id = $3 AND ended IS NULL`, k.Tenant, k.AppID, k.ClientID))
}

func scanSession(row pgx.Row) (chat.Session, error) {
	var sess chat.Session
	var params []byte
	var ended *time.Time
	err := row.Scan(&sess.ID, &sess.Tenant, &sess.AppID, &sess.ClientID, &sess.State, &sess.EWT,
		&sess.PhoneNumber, &sess.From, &params, &sess.CaseID, &sess.AgentID, &sess.Created, &ended,
		&sess.LastSeq, &sess.Cursor, &sess.Push.Kind, &sess.Push.Token, &sess.Push.Topic)
	if err != nil {
		return chat.Session{}, notFound(err)
	}
	sess.Parameters = params
	sess.Ended = timeOrZero(ended)
	return sess, nil
}

// sessions runs a query that selects sessionColumns.
func (s *Store) sessions(ctx context.Context, query string, args ...any) ([]chat.Session, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, sess)
	}
	return out, storeErr(rows.Err())
}

// SetCursor moves the client's delivery cursor forward. It is written at
// once, unlike the SQLite store's cursors: the client's next poll may reach
// another node, which must not give it the same events again. It does not
// wait for the WAL flush (synchronous_commit off for this transaction):
// other nodes see it as soon as it commits, and a crash of PostgreSQL
// itself loses at most the last moves, which only makes a push
// notification go out for events already polled. One batch, one round trip.
func (s *Store) SetCursor(ctx context.Context, chatID string, seq int64) error {
	var moved int64
	err := s.writeBatches(ctx, func(ctx context.Context, conn batcher) error {
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SET LOCAL synchronous_commit TO OFF`)
		b.Queue(`UPDATE sessions SET cursor = greatest(cursor, $2) WHERE id = $1`, chatID, seq).
			Exec(func(tag pgconn.CommandTag) error {
				moved = tag.RowsAffected()
				return nil
			})
		b.Queue(`COMMIT`)
		return runBatch(ctx, conn, b)
	})
	if err == nil && moved == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set cursor: %w", err)
	}
	return nil
}

// SetPush stores the chat's push subscription; a zero token cancels it.
func (s *Store) SetPush(ctx context.Context, chatID string, p chat.PushToken) error {
	err := s.mustChange(ctx, `UPDATE sessions SET push_kind = $2, push_token = $3, push_topic = $4 WHERE id = $1`,
		chatID, p.Kind, p.Token, p.Topic)
	if err != nil {
		return fmt.Errorf("set push: %w", err)
	}
	return nil
}
