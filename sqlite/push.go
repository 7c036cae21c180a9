package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

var _ chat.PushStore = (*Store)(nil)

// QueuePush stores a push job unless the chat's event has one already.
func (s *Store) QueuePush(ctx context.Context, j chat.PushJob) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO push_outbox (chat_id, seq, not_before, attempts) VALUES (?, ?, ?, ?)
			ON CONFLICT (chat_id, seq) DO NOTHING`, j.ChatID, j.Seq, j.NotBefore.UnixMilli(), j.Attempts)
		return err
	})
}

// ClaimPushes leases the jobs due at now until until. It runs in the
// writer, so two claims never see the same due row.
func (s *Store) ClaimPushes(ctx context.Context, now, until time.Time, limit int) ([]chat.PushJob, error) {
	var jobs []chat.PushJob
	err := s.exec(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		rows, err := tx.Query(`SELECT chat_id, seq, attempts FROM push_outbox
			WHERE not_before <= ? ORDER BY not_before, chat_id, seq LIMIT ?`, now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			j := chat.PushJob{NotBefore: time.UnixMilli(until.UnixMilli())}
			if err := rows.Scan(&j.ChatID, &j.Seq, &j.Attempts); err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, j)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := tx.Exec(`UPDATE push_outbox SET not_before = ? WHERE chat_id = ? AND seq = ?`,
				until.UnixMilli(), j.ChatID, j.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim pushes: %w", err)
	}
	return jobs, nil
}

// RetryPush reschedules a job after a failed attempt.
func (s *Store) RetryPush(ctx context.Context, j chat.PushJob) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		return mustChange(tx.Exec(`UPDATE push_outbox SET not_before = ?, attempts = ? WHERE chat_id = ? AND seq = ?`,
			j.NotBefore.UnixMilli(), j.Attempts, j.ChatID, j.Seq))
	})
}

// DeletePush removes a job that was sent or given up.
func (s *Store) DeletePush(ctx context.Context, chatID string, seq int64) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM push_outbox WHERE chat_id = ? AND seq = ?`, chatID, seq)
		return err
	})
}
