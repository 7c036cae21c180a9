package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chat"
)

var _ chat.PushStore = (*Store)(nil)

// QueuePush stores a push job unless the chat's event has one already.
func (s *Store) QueuePush(ctx context.Context, j chat.PushJob) error {
	if _, err := s.exec(ctx, `INSERT INTO push_outbox (chat_id, seq, not_before, attempts) VALUES ($1, $2, $3, $4)
		ON CONFLICT (chat_id, seq) DO NOTHING`, j.ChatID, j.Seq, j.NotBefore, j.Attempts); err != nil {
		return fmt.Errorf("queue push: %w", err)
	}
	return nil
}

// ClaimPushes leases the jobs due at now until until. Workers on several
// nodes claim at once without waiting for each other: each skips the rows
// another has locked, and a row claimed and committed meanwhile is checked
// again under its lock, where it is no longer due.
func (s *Store) ClaimPushes(ctx context.Context, now, until time.Time, limit int) ([]chat.PushJob, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT chat_id, seq, not_before FROM push_outbox
			WHERE not_before <= $1 ORDER BY not_before, chat_id, seq LIMIT $3
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE push_outbox p SET not_before = $2 FROM due
			WHERE p.chat_id = due.chat_id AND p.seq = due.seq
			RETURNING p.chat_id, p.seq, p.not_before, p.attempts, due.not_before AS was
		)
		SELECT chat_id, seq, not_before, attempts FROM claimed ORDER BY was, chat_id, seq`, now, until, limit)
	if err != nil {
		return nil, fmt.Errorf("claim pushes: %w", storeErr(err))
	}
	defer rows.Close()
	var jobs []chat.PushJob
	for rows.Next() {
		var j chat.PushJob
		if err := rows.Scan(&j.ChatID, &j.Seq, &j.NotBefore, &j.Attempts); err != nil {
			return nil, fmt.Errorf("claim pushes: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim pushes: %w", storeErr(err))
	}
	return jobs, nil
}

// RetryPush reschedules a job after a failed attempt.
func (s *Store) RetryPush(ctx context.Context, j chat.PushJob) error {
	if err := s.mustChange(ctx, `UPDATE push_outbox SET not_before = $3, attempts = $4 WHERE chat_id = $1 AND seq = $2`,
		j.ChatID, j.Seq, j.NotBefore, j.Attempts); err != nil {
		return fmt.Errorf("retry push: %w", err)
	}
	return nil
}

// DeletePush removes a job that was sent or given up.
func (s *Store) DeletePush(ctx context.Context, chatID string, seq int64) error {
	if _, err := s.exec(ctx, `DELETE FROM push_outbox WHERE chat_id = $1 AND seq = $2`, chatID, seq); err != nil {
		return fmt.Errorf("delete push: %w", err)
	}
	return nil
}
