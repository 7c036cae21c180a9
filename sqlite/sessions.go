package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/chat"
)

// sessionColumns are what scanSession reads. The last sequence is not a
// column: it is that of the chat's newest event (migration 0007).
const sessionColumns = `id, tenant, app_id, client_id, state, ewt, phone_number, from_name,
	parameters, case_id, created, ended, ` + lastSeqOfSession + `, cursor, push_kind, push_token, push_topic, agent_id`

// lastSeqOfSession is the sequence of the newest event of the session of
// the row being read: one seek in the index events_chat (chat_id, seq).
const lastSeqOfSession = `coalesce((SELECT seq FROM events WHERE chat_id = sessions.id ORDER BY seq DESC LIMIT 1), 0)`

// insertSessionColumns are the columns CreateSession writes.
const insertSessionColumns = `id, tenant, app_id, client_id, state, ewt, phone_number, from_name,
	parameters, case_id, created, ended, cursor, push_kind, push_token, push_topic, agent_id`

// CreateSession stores a new live session and its first events.
func (s *Store) CreateSession(ctx context.Context, sess chat.Session, first []chat.Event) ([]chat.Event, error) {
	params := string(sess.Parameters)
	if params == "" {
		params = "{}"
	}
	var stored []chat.Event
	err := s.execAfter(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO sessions (`+insertSessionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '', '', '', ?)`,
			sess.ID, sess.Tenant, sess.AppID, sess.ClientID, sess.State, sess.EWT,
			sess.PhoneNumber, sess.From, params, sess.CaseID, sess.Created.UnixMilli(), sess.AgentID)
		if isUnique(err) {
			return unchanged{chat.ErrConflict}
		}
		if err != nil {
			return err
		}
		s.dedup.fresh(sess.ID)
		stored, _, err = s.appendEvents(tx, sess.ID, first, chat.SessionUpdate{})
		return changed(err) // the session row is written
	}, func() { s.live.created(sess, params, stored) })
	return stored, err
}

// Session returns the session id.
func (s *Store) Session(ctx context.Context, id string) (chat.Session, error) {
	if sess, ok := s.live.session(id); ok && !s.closed() {
		if c, ok := s.cursors.get(id); ok && c > sess.Cursor {
			sess.Cursor = c
		}
		return sess, nil // every send and poll: no allocation
	}
	return s.readSession(ctx, id)
}

func (s *Store) readSession(ctx context.Context, id string) (sess chat.Session, err error) {
	err = s.onReader(ctx, func() error {
		sess, err = s.scanSession(s.st.session.QueryRowContext(ctx, id))
		return err
	})
	return sess, err
}

// LiveSession returns the client's live session on its entry.
func (s *Store) LiveSession(ctx context.Context, k chat.ClientKey) (sess chat.Session, err error) {
	err = s.onReader(ctx, func() error {
		sess, err = s.scanSession(s.st.liveSession.QueryRowContext(ctx, k.Tenant, k.AppID, k.ClientID))
		return err
	})
	return sess, err
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scanSession(row scanner) (chat.Session, error) {
	var sess chat.Session
	var params string
	var created, ended int64
	err := row.Scan(&sess.ID, &sess.Tenant, &sess.AppID, &sess.ClientID, &sess.State, &sess.EWT,
		&sess.PhoneNumber, &sess.From, &params, &sess.CaseID, &created, &ended, &sess.LastSeq,
		&sess.Cursor, &sess.Push.Kind, &sess.Push.Token, &sess.Push.Topic, &sess.AgentID)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Session{}, chat.ErrNotFound
	}
	if err != nil {
		return chat.Session{}, fmt.Errorf("read session: %w", err)
	}
	if c, ok := s.cursors.get(sess.ID); ok && c > sess.Cursor {
		sess.Cursor = c // written behind (cursors.go)
	}
	sess.Parameters = []byte(params)
	sess.Created = time.UnixMilli(created)
	if ended != 0 {
		sess.Ended = time.UnixMilli(ended)
	}
	return sess, nil
}

// SetPush stores the chat's push subscription; a zero token cancels it.
func (s *Store) SetPush(ctx context.Context, chatID string, p chat.PushToken) error {
	return s.execAfter(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE sessions SET push_kind = ?, push_token = ?, push_topic = ? WHERE id = ?`,
			p.Kind, p.Token, p.Topic, chatID)
		return mustChange(res, err)
	}, func() { s.live.pushSet(chatID, p) })
}

// mustChange turns an update that matched no row into ErrNotFound.
func mustChange(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chat.ErrNotFound
	}
	return nil
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
