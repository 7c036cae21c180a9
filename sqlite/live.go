package sqlite

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
)

// The live cache keeps, for the chats this store wrote to lately, the
// session row and the newest events of the log, as they were committed.
// Every poll and every send reads its session, every poll and every agent
// stream the events after a cursor; on a busy node these reads were the
// larger part of the store's work, each a statement of the pure-Go SQLite
// engine and a JSON decoding. From memory they cost a map lookup and a copy.
//
// Only the writer fills it, after each commit and before the writes of
// that commit are answered (so before their wake-ups are published): a
// read never puts into the cache what it read, and the cache never holds
// what is not durable. A read the cache cannot answer (a chat not written
// to since the start or for a while, events older than the tail) goes to
// the database. Every statement that changes sessions or events must keep
// the cache right: appendEvents (through its writes' after hooks),
// SetPush, DeleteSession (forget). The cursor is not kept here: reads take
// it from the cursor buffer (cursors.go).

// A reader is seldom more than a few events behind the newest (a poll
// answered, the next one asks after what it got), so a short tail answers
// nearly every read; its size bounds the cache's memory, a few hundred
// bytes per event.
const (
	liveTail   = 16               // events kept per chat, at least (up to twice as many)
	liveIdle   = 10 * time.Minute // a chat not written to for this long is dropped
	liveChats  = 200000           // at most this many chats
	liveEvents = 500000           // at most this many events in all
)

type liveCache struct {
	mu    sync.Mutex
	chats map[string]*liveChat
	held  int // events held, over all chats
	swept time.Time
}

type liveChat struct {
	sess    chat.Session
	hasSess bool         // the session row is known
	lo      int64        // the events after lo, up to the newest, are in evs
	evs     []chat.Event // oldest first
	touched time.Time
}

func (c *liveCache) get(chatID string) *liveChat {
	if c.chats == nil {
		c.chats = map[string]*liveChat{}
	}
	lc := c.chats[chatID]
	if lc == nil {
		lc = &liveChat{}
		c.chats[chatID] = lc
	}
	lc.touched = time.Now()
	return lc
}

// created notes a new session. Its first events are not kept: the
// client's first poll reads them once, and a chat that then only waits (a
// queued customer, thousands of them) costs its session row alone; events
// appended later are kept from there on.
func (c *liveCache) created(sess chat.Session, params string, stored []chat.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc := c.get(sess.ID)
	// As a read of the row would give it.
	sess.Parameters = []byte(params)
	sess.Created = time.UnixMilli(sess.Created.UnixMilli())
	sess.Ended, sess.Cursor, sess.Push = time.Time{}, 0, chat.PushToken{}
	if n := len(stored); n > 0 {
		sess.LastSeq = stored[n-1].Seq
	}
	lc.sess, lc.hasSess = sess, true
	c.held -= len(lc.evs)
	lc.lo, lc.evs = sess.LastSeq, nil
	c.sweep()
}

// appended notes events stored at the end of a chat's log and the update of
// its session that came with them; last is the sequence of the chat's
// newest event.
func (c *liveCache) appended(chatID string, stored []chat.Event, u chat.SessionUpdate, last int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc := c.get(chatID)
	if lc.hasSess {
		s := &lc.sess
		s.LastSeq = last
		if u.State != "" {
			s.State = u.State
		}
		if u.EWT != nil {
			s.EWT = *u.EWT
		}
		if u.CaseID != nil {
			s.CaseID = *u.CaseID
		}
		if u.AgentID != nil {
			s.AgentID = *u.AgentID
		}
		if !u.End.IsZero() {
			s.Ended = time.UnixMilli(u.End.UnixMilli())
		}
	}
	c.held -= len(lc.evs)
	lc.add(stored)
	c.held += len(lc.evs)
	c.sweep()
}

// add puts events after the tail, or starts the tail again at them when
// they do not follow it.
func (lc *liveChat) add(stored []chat.Event) {
	if len(stored) == 0 {
		return
	}
	if first := stored[0].Seq; first != lc.lo+int64(len(lc.evs))+1 {
		lc.lo, lc.evs = first-1, nil
	}
	for _, ev := range stored {
		// As a read of the row would give it: times to the millisecond,
		// form data as encoded.
		ev.Time = time.UnixMilli(ev.Time.UnixMilli())
		if len(ev.FormData) > 0 {
			var b bytes.Buffer
			if json.Compact(&b, ev.FormData) == nil {
				ev.FormData = b.Bytes()
			}
		}
		lc.evs = append(lc.evs, ev)
	}
	if n := len(lc.evs); n > 2*liveTail {
		// Trimmed in bulk: a copy of the tail at every append would cost
		// more than the reads it saves.
		lc.lo = lc.evs[n-liveTail-1].Seq
		lc.evs = append(make([]chat.Event, 0, 2*liveTail+8), lc.evs[n-liveTail:]...)
	}
}

// pushSet notes a chat's new push subscription.
func (c *liveCache) pushSet(chatID string, p chat.PushToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.chats[chatID]; lc != nil && lc.hasSess {
		lc.sess.Push = p
	}
}

// forget drops a chat.
func (c *liveCache) forget(chatID string) {
	c.mu.Lock()
	if lc := c.chats[chatID]; lc != nil {
		c.held -= len(lc.evs)
		delete(c.chats, chatID)
	}
	c.mu.Unlock()
}

// session returns the session row of a chat, if known.
func (c *liveCache) session(chatID string) (chat.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.chats[chatID]; lc != nil && lc.hasSess {
		return lc.sess, true
	}
	return chat.Session{}, false
}

// events returns up to limit events after the sequence after, if the tail
// has all of them: a copy, which the caller may change.
func (c *liveCache) events(chatID string, after int64, limit int) ([]chat.Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc := c.chats[chatID]
	if lc == nil || after < lc.lo {
		return nil, false
	}
	skip := int(min(after-lc.lo, int64(len(lc.evs))))
	rest := lc.evs[skip:]
	if len(rest) > limit {
		rest = rest[:limit]
	}
	if len(rest) == 0 {
		return nil, true
	}
	return append([]chat.Event(nil), rest...), true
}

// sweep drops chats not written to for liveIdle, every half minute, and
// the least recently written half when there are too many chats or events;
// the caller holds the lock.
func (c *liveCache) sweep() {
	now := time.Now()
	full := len(c.chats) > liveChats || c.held > liveEvents
	if now.Sub(c.swept) < 30*time.Second && !full {
		return
	}
	c.swept = now
	cut := now.Add(-liveIdle)
	if full {
		// Keep the half written to most recently.
		cut = medianTouched(c.chats, func(lc *liveChat) time.Time { return lc.touched })
	}
	for id, lc := range c.chats {
		if lc.touched.Before(cut) {
			c.held -= len(lc.evs)
			delete(c.chats, id)
		}
	}
}

// medianTouched is about the median of the times entries of m were last
// used, from a sample of up to 1,001 of them: what a cache that has grown
// too large drops what is older than, to keep about half.
func medianTouched[V any](m map[string]V, touched func(V) time.Time) time.Time {
	sample := make([]time.Time, 0, min(len(m), 1001))
	for _, v := range m {
		sample = append(sample, touched(v))
		if len(sample) == cap(sample) {
			break
		}
	}
	if len(sample) == 0 {
		return time.Time{}
	}
	slices.SortFunc(sample, time.Time.Compare)
	return sample[len(sample)/2]
}
