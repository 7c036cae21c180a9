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
	err := s.exec(ctx, func(tx *sql.Tx) (err error) {
		stored, err = appendEvents(tx, chatID, evs, u)
		return err
	})
	return stored, err
}

// appendEvents assigns sequence numbers after the chat's last one, skips
// duplicates by msg_id and applies u, all inside tx.
func appendEvents(tx *sql.Tx, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	var last int64
	err := tx.QueryRow(`SELECT last_seq FROM sessions WHERE id = ? AND ended = 0`, chatID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	stored := make([]chat.Event, 0, len(evs))
	for _, ev := range evs {
		ev.ChatID, ev.Seq = chatID, last+1
		payload, err := json.Marshal(ev.Payload)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		res, err := tx.Exec(`INSERT INTO events (chat_id, seq, type, party_id, msg_id, dedup_key, created, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING`,
			chatID, ev.Seq, ev.Type, ev.PartyID, ev.MsgID, dedupKey(&ev), ev.Time.UnixMilli(), payload)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			last++
			stored = append(stored, ev)
		}
	}
	return stored, updateSession(tx, chatID, last, u)
}

// dedupKey is the column value of an event's DedupKey: NULL when it has none.
func dedupKey(ev *chat.Event) any {
	if k := ev.DedupKey(); k != "" {
		return k
	}
	return nil
}

func updateSession(tx *sql.Tx, chatID string, last int64, u chat.SessionUpdate) error {
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
	_, err := tx.Exec(`UPDATE sessions SET last_seq = ?,
			state = CASE WHEN ? <> '' THEN ? ELSE state END,
			ewt = coalesce(?, ewt),
			case_id = coalesce(?, case_id),
			agent_id = coalesce(?, agent_id),
			ended = CASE WHEN ? <> 0 THEN ? ELSE ended END
		WHERE id = ?`, last, u.State, u.State, ewt, caseID, agentID, ended, ended, chatID)
	return err
}

// Events returns up to limit events of the chat after the given sequence.
func (s *Store) Events(ctx context.Context, chatID string, after int64, limit int) ([]chat.Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, type, party_id, msg_id, created, payload
		FROM events WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?`, chatID, after, limit)
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
