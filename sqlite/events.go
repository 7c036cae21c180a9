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

// Append stores events at the end of a live chat's log.
func (s *Store) Append(ctx context.Context, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	var stored []chat.Event
	var last int64
	err := s.execAfter(ctx, func(tx *sql.Tx) (err error) {
		stored, last, err = s.appendEvents(tx, chatID, evs, u)
		return err
	}, func() { s.live.appended(chatID, stored, u, last) })
	return stored, err
}

// appendEvents assigns sequence numbers after the chat's last one, skips
// duplicates by msg_id and applies u, all inside tx. It returns the events
// stored and the chat's last sequence after them.
func (s *Store) appendEvents(tx *sql.Tx, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, int64, error) {
	last, ended, known := s.knownLast(chatID)
	if !known {
		var endedAt int64
		err := s.stmt(tx, s.st.lastSeq).QueryRow(chatID).Scan(&endedAt, &last)
		if errors.Is(err, sql.ErrNoRows) || endedAt != 0 {
			ended = true
		} else if err != nil {
			return nil, 0, err
		}
	}
	if ended {
		return nil, 0, unchanged{chat.ErrNotFound}
	}
	var keys *dedupSet // the chat's msg_ids (dedup.go), read at the first one
	stored := make([]chat.Event, 0, len(evs))
	insert := s.stmt(tx, s.st.insertEvent)
	for _, ev := range evs {
		key, h := ev.DedupKey(), uint64(0)
		if key != "" {
			var err error
			if keys == nil {
				if keys, err = s.dedup.set(s.stmt(tx, s.st.loadDedup), chatID); err != nil {
					return nil, 0, err
				}
			}
			h = s.dedup.hash(key)
			if dup, err := s.seen(tx, keys, chatID, key, h); err != nil {
				return nil, 0, err
			} else if dup {
				continue
			}
		}
		ev.ChatID, ev.Seq = chatID, last+1
		// Into the writer's buffer: the driver copies what it binds.
		payload, err := ev.Payload.AppendJSON(s.payload[:0])
		if err != nil {
			return nil, 0, fmt.Errorf("encode payload: %w", err)
		}
		s.payload = payload
		var dedupKey any // NULL for the events that have none
		if key != "" {
			keys.add(h) // before the insert: never fewer keys than the log
			dedupKey = key
		}
		if _, err := insert.Exec(chatID, ev.Seq, ev.Type, ev.PartyID, ev.MsgID, dedupKey, ev.Time.UnixMilli(), payload); err != nil {
			return nil, 0, err
		}
		last++
		stored = append(stored, ev)
	}
	if err := s.updateSession(tx, chatID, u); err != nil {
		return nil, 0, err
	}
	if !u.End.IsZero() {
		s.dedup.forget(chatID) // no more appends
	}
	s.groupLast[chatID] = groupSeq{last: last, ended: !u.End.IsZero()}
	return stored, last, nil
}

// groupSeq is where a chat's log stands after a write of the group being
// committed.
type groupSeq struct {
	last  int64
	ended bool
}

// knownLast returns a chat's last sequence and whether it ended without
// asking the database, when the writer knows them: from a write earlier in
// the group, or from the live cache (what is committed). Only the writer
// calls it.
func (s *Store) knownLast(chatID string) (last int64, ended, ok bool) {
	if s.groupAsk {
		return 0, false, false
	}
	if g, ok := s.groupLast[chatID]; ok {
		return g.last, g.ended, true
	}
	if sess, ok := s.live.session(chatID); ok {
		return sess.LastSeq, !sess.Ended.IsZero(), true
	}
	return 0, false, false
}

const insertEventSQL = `INSERT INTO events (chat_id, seq, type, party_id, msg_id, dedup_key, created, payload)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// updateSession applies u to the session row. Most appends (messages,
// receipts, typing) change nothing in it, the last sequence being that of
// the newest event, and leave the row alone.
func (s *Store) updateSession(tx *sql.Tx, chatID string, u chat.SessionUpdate) error {
	if u == (chat.SessionUpdate{}) {
		return nil
	}
	var ended int64
	if !u.End.IsZero() {
		ended = u.End.UnixMilli()
	}
	var caseID sql.NullString
	if u.CaseID != nil {
		caseID = sql.NullString{String: *u.CaseID, Valid: true}
	}
	var agentID sql.NullString
	if u.AgentID != nil {
		agentID = sql.NullString{String: *u.AgentID, Valid: true}
	}
	var ewt sql.NullInt64
	if u.EWT != nil {
		ewt = sql.NullInt64{Int64: int64(*u.EWT), Valid: true}
	}
	_, err := s.stmt(tx, s.st.updateSession).Exec(u.State, u.State, ewt, caseID, agentID, ended, ended, chatID)
	return err
}

const updateSessionSQL = `UPDATE sessions SET
		state = CASE WHEN ? <> '' THEN ? ELSE state END,
		ewt = coalesce(?, ewt),
		case_id = coalesce(?, case_id),
		agent_id = coalesce(?, agent_id),
		ended = CASE WHEN ? <> 0 THEN ? ELSE ended END
	WHERE id = ?`

// Events returns up to limit events of the chat after the given sequence.
func (s *Store) Events(ctx context.Context, chatID string, after int64, limit int) (out []chat.Event, err error) {
	if evs, ok := s.live.events(chatID, after, limit); ok && !s.closed() {
		return evs, nil
	}
	err = s.onReader(ctx, func() error {
		out, err = s.events(ctx, chatID, after, limit)
		return err
	})
	return out, err
}

func (s *Store) events(ctx context.Context, chatID string, after int64, limit int) ([]chat.Event, error) {
	rows, err := s.st.events.QueryContext(ctx, chatID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []chat.Event
	for rows.Next() {
		ev := chat.Event{ChatID: chatID}
		var created int64
		var payload []byte
		if err := rows.Scan(&ev.Seq, &ev.Type, &ev.PartyID, &ev.MsgID, &created, &payload); err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		if err := json.Unmarshal(payload, &ev.Payload); err != nil {
			return nil, fmt.Errorf("decode event %s/%d: %w", chatID, ev.Seq, err)
		}
		ev.Time = time.UnixMilli(created)
		out = append(out, ev)
	}
	return out, rows.Err()
}
