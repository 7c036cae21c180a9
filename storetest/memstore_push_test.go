package storetest

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley/chat"
)

var _ chat.PushStore = (*memStore)(nil)

// pushKey identifies a job of the push outbox: one per event.
type pushKey struct {
	chatID string
	seq    int64
}

func (m *memStore) QueuePush(_ context.Context, j chat.PushJob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.outbox == nil {
		m.outbox = map[pushKey]chat.PushJob{}
	}
	k := pushKey{j.ChatID, j.Seq}
	if _, ok := m.outbox[k]; !ok {
		m.outbox[k] = j
	}
	return nil
}

func (m *memStore) ClaimPushes(_ context.Context, now, until time.Time, limit int) ([]chat.PushJob, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []chat.PushJob
	for _, j := range m.outbox {
		if !j.NotBefore.After(now) {
			due = append(due, j)
		}
	}
	slices.SortFunc(due, func(a, b chat.PushJob) int {
		return cmp.Or(a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.ChatID, b.ChatID), cmp.Compare(a.Seq, b.Seq))
	})
	due = due[:min(limit, len(due))]
	for i := range due {
		due[i].NotBefore = until
		m.outbox[pushKey{due[i].ChatID, due[i].Seq}] = due[i]
	}
	return due, nil
}

func (m *memStore) RetryPush(_ context.Context, j chat.PushJob) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := pushKey{j.ChatID, j.Seq}
	if _, ok := m.outbox[k]; !ok {
		return chat.ErrNotFound
	}
	m.outbox[k] = j
	return nil
}

func (m *memStore) DeletePush(_ context.Context, chatID string, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.outbox, pushKey{chatID, seq})
	return nil
}
