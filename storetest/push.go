package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// pushTests are the rules of the push outbox (chat.PushStore), which every
// store must keep: a push owed is not lost, and not sent twice by workers
// claiming at once.
var pushTests = []test{
	{"a queued job is claimed once it is due and not before", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(10)})
		wantClaimed(t, ps, at(9), at(70), 10, nil)
		wantClaimed(t, ps, at(10), at(70), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(70)}})
	}},
	{"a claimed job is leased: not claimed again until the lease ends", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(10)})
		wantClaimed(t, ps, at(10), at(70), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(70)}})
		wantClaimed(t, ps, at(69), at(130), 10, nil)
		wantClaimed(t, ps, at(70), at(130), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(130)}})
	}},
	{"due jobs are claimed earliest first and at most limit at a time", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 3, NotBefore: at(3)})
		queue(t, ps, chat.PushJob{ChatID: "chat-2", Seq: 9, NotBefore: at(1)})
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 2, NotBefore: at(2)})
		queue(t, ps, chat.PushJob{ChatID: "chat-3", Seq: 1, NotBefore: at(50)})
		wantClaimed(t, ps, at(10), at(100), 2, []chat.PushJob{
			{ChatID: "chat-2", Seq: 9, NotBefore: at(100)},
			{ChatID: "chat-1", Seq: 2, NotBefore: at(100)},
		})
		wantClaimed(t, ps, at(10), at(100), 2, []chat.PushJob{{ChatID: "chat-1", Seq: 3, NotBefore: at(100)}})
	}},
	{"a job for an event already queued is kept once, the first as it was", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(10)})
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(1), Attempts: 3})
		wantClaimed(t, ps, at(5), at(70), 10, nil)
		wantClaimed(t, ps, at(10), at(70), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(70)}})
	}},
	{"jobs of other events and chats are kept apart", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(1)})
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 5, NotBefore: at(1)})
		queue(t, ps, chat.PushJob{ChatID: "chat-2", Seq: 4, NotBefore: at(1)})
		deletePush(t, ps, "chat-1", 4)
		wantClaimed(t, ps, at(1), at(9), 10, []chat.PushJob{
			{ChatID: "chat-1", Seq: 5, NotBefore: at(9)},
			{ChatID: "chat-2", Seq: 4, NotBefore: at(9)},
		})
	}},
	{"a retried job is due again at its new time with its attempts", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(10)})
		claimed := wantClaimed(t, ps, at(10), at(70), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(70)}})
		j := claimed[0]
		j.NotBefore, j.Attempts = at(20), 2
		if err := ps.RetryPush(t.Context(), j); err != nil {
			t.Fatalf("RetryPush: %v", err)
		}
		wantClaimed(t, ps, at(19), at(80), 10, nil)
		wantClaimed(t, ps, at(20), at(80), 10, []chat.PushJob{{ChatID: "chat-1", Seq: 4, NotBefore: at(80), Attempts: 2}})
	}},
	{"a deleted job is gone and deleting it again is no error", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		queue(t, ps, chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(10)})
		deletePush(t, ps, "chat-1", 4)
		deletePush(t, ps, "chat-1", 4)
		wantClaimed(t, ps, at(1000), at(2000), 10, nil)
		err := ps.RetryPush(t.Context(), chat.PushJob{ChatID: "chat-1", Seq: 4, NotBefore: at(20), Attempts: 1})
		wantErr(t, "RetryPush(deleted job)", err, chat.ErrNotFound)
	}},
	{"concurrent claims never hand out one job twice", func(t *testing.T, st chat.Store) {
		ps := pushStore(t, st)
		const jobs, workers = 60, 8
		for i := range jobs {
			queue(t, ps, chat.PushJob{ChatID: fmt.Sprintf("chat-%d", i%7), Seq: int64(i), NotBefore: at(i % 5)})
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					got, err := ps.ClaimPushes(t.Context(), at(10), at(1000), 3)
					if err != nil {
						t.Errorf("ClaimPushes: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, j := range got {
						seen[fmt.Sprintf("%s/%d", j.ChatID, j.Seq)]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != jobs {
			t.Errorf("claimed %d distinct jobs, want %d", len(seen), jobs)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("job %s claimed %d times, want once", k, n)
			}
		}
	}},
}

// pushStore returns the store's push outbox; every store must have one.
func pushStore(t *testing.T, st chat.Store) chat.PushStore {
	t.Helper()
	ps, ok := st.(chat.PushStore)
	if !ok {
		t.Fatalf("%T does not implement chat.PushStore (the push outbox)", st)
	}
	return ps
}

func queue(t *testing.T, ps chat.PushStore, j chat.PushJob) {
	t.Helper()
	if err := ps.QueuePush(t.Context(), j); err != nil {
		t.Fatalf("QueuePush(%s/%d): %v", j.ChatID, j.Seq, err)
	}
}

func deletePush(t *testing.T, ps chat.PushStore, chatID string, seq int64) {
	t.Helper()
	if err := ps.DeletePush(t.Context(), chatID, seq); err != nil {
		t.Fatalf("DeletePush(%s/%d): %v", chatID, seq, err)
	}
}

// wantClaimed claims the jobs due at now and checks they are want, in order.
func wantClaimed(t *testing.T, ps chat.PushStore, now, until time.Time, limit int, want []chat.PushJob) []chat.PushJob {
	t.Helper()
	got, err := ps.ClaimPushes(t.Context(), now, until, limit)
	if err != nil {
		t.Fatalf("ClaimPushes(%v): %v", now, err)
	}
	if len(got) != len(want) {
		t.Fatalf("ClaimPushes(%v) = %d jobs %+v, want %d %+v", now.Sub(t0), len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ChatID != w.ChatID || g.Seq != w.Seq || g.Attempts != w.Attempts || !sameTime(g.NotBefore, w.NotBefore) {
			t.Errorf("ClaimPushes(%v)[%d] = %+v, want %+v", now.Sub(t0), i, g, w)
		}
	}
	return got
}
