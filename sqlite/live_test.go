package sqlite

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/chat"
)

// TestLiveCacheHoldsABoundedTail checks the cache's bounds: each chat
// keeps a tail of at most twice liveTail events, the count of events held
// is right through appends, trims and drops, and past liveEvents the least
// recently written chats go.
func TestLiveCacheHoldsABoundedTail(t *testing.T) {
	var c liveCache
	// A full tail in each chat, one chat more than the budget holds; the
	// first chat is written to longest, through several trims.
	perChat := 2 * liveTail
	chats := liveEvents/perChat + 1
	for i := range chats {
		id := fmt.Sprintf("chat-%d", i)
		n := perChat
		if i == 0 {
			n = 10 * liveTail
		}
		for seq := int64(1); seq <= int64(n); seq++ {
			c.appended(id, []chat.Event{{ChatID: id, Seq: seq, Type: chat.TypeMessage, Payload: chat.Payload{Msg: "hi"}}}, chat.SessionUpdate{}, seq)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum := 0
	for id, lc := range c.chats {
		if len(lc.evs) > 2*liveTail {
			t.Fatalf("%s holds %d events, want at most %d", id, len(lc.evs), 2*liveTail)
		}
		if n := len(lc.evs); n == 0 || lc.evs[n-1].Seq != lc.lo+int64(n) || n < liveTail {
			t.Fatalf("%s holds events %d after %d, want a tail of at least %d ending at the newest", id, n, lc.lo, liveTail)
		}
		sum += len(lc.evs)
	}
	if sum != c.held {
		t.Fatalf("held = %d, the chats hold %d", c.held, sum)
	}
	if c.held > liveEvents {
		t.Fatalf("held %d events, want at most %d", c.held, liveEvents)
	}
	if len(c.chats) == chats {
		t.Fatalf("all %d chats kept past the budget of %d events", chats, liveEvents)
	}
	if _, ok := c.chats[fmt.Sprintf("chat-%d", chats-1)]; !ok {
		t.Fatalf("the chat written last was dropped")
	}
}
