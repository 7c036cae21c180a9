package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/chat"
)

// Append stores events at the end of a live chat's log.
//
// The transaction first takes the session's row lock: every append to a
// chat, from any node, waits for the one before it, so sequence numbers
// follow last_seq without gaps. Under that lock it reads which of the
// batch's dedup keys (sender and msg_id) the chat already holds. That read
// is a statement of its own, after the lock is granted: in READ COMMITTED
// each statement sees what was committed before it began, so it sees the
// events of the append it waited for. Skipped duplicates take no sequence
// number; the unique index on the keys stays as the last line of defence.
func (s *Store) Append(ctx context.Context, chatID string, evs []chat.Event, u chat.SessionUpdate) ([]chat.Event, error) {
	msgIDs := dedupMsgIDs(evs)
	var stored []chat.Event
	err := s.writeBatches(ctx, func(ctx context.Context, conn batcher) error {
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SELECT last_seq FROM sessions WHERE id = $1 AND ended IS NULL FOR UPDATE`, chatID)
		if len(msgIDs) > 0 {
			b.Queue(`SELECT party_id, dedup_key FROM events WHERE chat_id = $1 AND dedup_key = ANY($2)`, chatID, msgIDs)
		}
		last, held, err := readLock(ctx, conn, b, len(msgIDs) > 0)
		if err != nil {
			return err
		}
		stored = number(chatID, evs, last, held)
		b = &pgx.Batch{}
		if len(stored) > 0 || u != (chat.SessionUpdate{}) {
			if err := queueInserts(b, stored); err != nil {
				return err
			}
			queueUpdate(b, chatID, lastSeq(stored, last), u)
		}
		b.Queue(`COMMIT`)
		return runBatch(ctx, conn, b)
	})
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	return stored, nil
}

// senderMsg is an event's dedup key as the store keeps it: its sender's
// party id and its msg_id.
type senderMsg struct{ party, msgID string }

// readLock sends the batch that begins the transaction, locks a live
// session and, with keys, lists the dedup keys its log already holds.
func readLock(ctx context.Context, conn batcher, b *pgx.Batch, keys bool) (last int64, held map[senderMsg]bool, err error) {
	br := conn.SendBatch(ctx, b)
	defer func() { err = errors.Join(err, br.Close()) }()
	if _, err := br.Exec(); err != nil { // BEGIN
		return 0, nil, err
	}
	if err := br.QueryRow().Scan(&last); err != nil {
		return 0, nil, notFound(err)
	}
	if !keys {
		return last, nil, nil
	}
	rows, err := br.Query()
	if err != nil {
		return 0, nil, err
	}
	held = map[senderMsg]bool{}
	for rows.Next() {
		var k senderMsg
		if err := rows.Scan(&k.party, &k.msgID); err != nil {
			rows.Close()
			return 0, nil, err
		}
		held[k] = true
	}
	rows.Close()
	return last, held, rows.Err()
}

// number assigns sequence numbers after last to the events that are to be
// stored: all but those whose dedup key the chat holds or the batch
// repeats.
func number(chatID string, evs []chat.Event, last int64, held map[senderMsg]bool) []chat.Event {
	stored := make([]chat.Event, 0, len(evs))
	var seen map[senderMsg]bool
	for _, ev := range evs {
		if ev.DedupKey() != "" {
			k := senderMsg{ev.PartyID, ev.MsgID}
			if held[k] || seen[k] {
				continue
			}
			if seen == nil {
				seen = map[senderMsg]bool{}
			}
			seen[k] = true
		}
		last++
		ev.ChatID, ev.Seq = chatID, last
		stored = append(stored, ev)
	}
	return stored
}

// lastSeq is the sequence of the newest stored event, or last when none was.
func lastSeq(stored []chat.Event, last int64) int64 {
	if len(stored) == 0 {
		return last
	}
	return stored[len(stored)-1].Seq
}

// dedupMsgIDs lists the msg_ids of the events that have a dedup key.
func dedupMsgIDs(evs []chat.Event) []string {
	var ids []string
	for i := range evs {
		if evs[i].DedupKey() != "" {
			ids = append(ids, evs[i].MsgID)
		}
	}
	return ids
}

const insertEvent = `INSERT INTO events (chat_id, seq, type, party_id, msg_id, dedup_key, created, payload)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// queueInserts adds an insert of each numbered event to b. A duplicate
// found only by the unique index (the lock and the read under it leave it
// no way in) is a unique violation: PostgreSQL aborts the transaction, so
// the COMMIT sent in the same batch does not run, and the whole append
// fails with chat.ErrConflict rather than leave a gap.
func queueInserts(b *pgx.Batch, stored []chat.Event) error {
	for i := range stored {
		ev := &stored[i]
		var key *string // the dedup_key column: the msg_id of a deduplicated event
		if ev.DedupKey() != "" {
			key = &ev.MsgID
		}
		payload, err := json.Marshal(ev.Payload)
		if err != nil {
			return fmt.Errorf("encode payload of event %d: %w", ev.Seq, err)
		}
		b.Queue(insertEvent, ev.ChatID, ev.Seq, string(ev.Type), ev.PartyID, ev.MsgID, key, ev.Time, payload)
	}
	return nil
}

// queueUpdate adds to b the change of the session that goes with the
// events: its last sequence and whatever u sets.
func queueUpdate(b *pgx.Batch, chatID string, last int64, u chat.SessionUpdate) {
	b.Queue(`UPDATE sessions SET last_seq = $2,
			state = CASE WHEN $3 <> '' THEN $3 ELSE state END,
			ewt = coalesce($4, ewt),
			case_id = coalesce($5, case_id),
			agent_id = coalesce($6, agent_id),
			ended = coalesce($7, ended)
		WHERE id = $1`, chatID, last, u.State, u.EWT, u.CaseID, u.AgentID, timeOrNil(u.End))
}

// runBatch sends b and returns the first error of its statements.
func runBatch(ctx context.Context, conn batcher, b *pgx.Batch) error {
	return conn.SendBatch(ctx, b).Close()
}

// Events returns up to limit events of the chat after the given sequence.
func (s *Store) Events(ctx context.Context, chatID string, after int64, limit int) ([]chat.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, type, party_id, msg_id, created, payload
		FROM events WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, chatID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", storeErr(err))
	}
	defer rows.Close()
	var out []chat.Event
	for rows.Next() {
		ev := chat.Event{ChatID: chatID}
		var typ string
		var created time.Time
		var payload []byte
		if err := rows.Scan(&ev.Seq, &typ, &ev.PartyID, &ev.MsgID, &created, &payload); err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		if err := json.Unmarshal(payload, &ev.Payload); err != nil {
			return nil, fmt.Errorf("decode event %s/%d: %w", chatID, ev.Seq, err)
		}
		ev.Type, ev.Time = chat.Type(typ), created
		out = append(out, ev)
	}
	return out, storeErr(rows.Err())
}
