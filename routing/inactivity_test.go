package routing_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// slack absorbs the millisecond resolution of stored event times and the
// moments between routing's decision and the event's stamp.
const slack = 10 * time.Millisecond

func TestASilentCustomerIsWarnedThenTheChatEnds(t *testing.T) {
	h := newHarness(t, realClock(), running(10*time.Millisecond))
	h.login("ann", 1)
	h.login("bob", 1)
	h.ready("ann", "bob")
	s := h.request(idleApp)
	h.assign("ann", s.ID)
	_, party, _ := h.router.Assignment(s.ID)
	quiet := h.request(salesApp) // an entry without timeouts
	h.assign("bob", quiet.ID)
	queued := h.request(idleApp) // waits the whole time: no agent is free

	h.eventually("the silent chat to end", func() bool { return h.hasType(s.ID, chat.TypeEnded) })

	seen := h.seen(s)
	want := []chat.Type{
		chat.TypeStatus, chat.TypePartyJoined, chat.TypeStatus,
		chat.TypeTimeoutWarning, chat.TypeInactivityTimeout,
		chat.TypePartyLeft, chat.TypeStatus, chat.TypeEnded,
	}
	if got := types(seen); !slices.Equal(got, want) {
		t.Fatalf("customer sees %v, want %v", got, want)
	}
	joined, warning, timeout := seen[1], seen[3], seen[4]
	if warning.Msg != warningMsg || timeout.Msg != endMsg {
		t.Errorf("notices = %q, %q; want the entry's %q, %q", warning.Msg, timeout.Msg, warningMsg, endMsg)
	}
	if d := warning.Time.Sub(joined.Time); d < inactivityWarning-slack {
		t.Errorf("warned %v after the agent joined, want at least %v", d, inactivityWarning)
	}
	if d := timeout.Time.Sub(joined.Time); d < inactivityEnd-slack {
		t.Errorf("ended %v after the agent joined, want at least %v", d, inactivityEnd)
	}
	if left := seen[5]; left.PartyID != party {
		t.Errorf("party left = %q, want the agent's %q", left.PartyID, party)
	}
	if completed := seen[6]; completed.State != chat.StateCompleted {
		t.Errorf("final status = %q, want completed", completed.State)
	}

	for _, other := range []chat.Session{queued, quiet} {
		if got := types(h.seen(other)); slices.Contains(got, chat.TypeTimeoutWarning) || slices.Contains(got, chat.TypeEnded) {
			t.Errorf("chat %s (waiting or on an entry without timeouts) got %v", other.ID, got)
		}
	}
	// ann is free again and takes the chat that waited. Routing learns of
	// the end just after the events are stored, so this is awaited too.
	h.eventually("ann to be offered the waiting chat", func() bool {
		return len(h.chats("ann")) == 0 && sameSet(h.offers("ann"), []string{queued.ID})
	})
}

func TestACustomerMessageAfterTheWarningResetsTheClock(t *testing.T) {
	h := newHarness(t, realClock(), running(10*time.Millisecond))
	h.login("ann", 1)
	h.ready("ann")
	s := h.request(idleApp)
	h.accept("ann", s.ID)

	h.eventually("the first warning", func() bool { return h.hasType(s.ID, chat.TypeTimeoutWarning) })
	h.say(s, "still here")
	h.eventually("the chat to end", func() bool { return h.hasType(s.ID, chat.TypeEnded) })

	evs := h.events(s.ID)
	msg := ofType(evs, chat.TypeMessage)[0]
	warnings := ofType(evs, chat.TypeTimeoutWarning)
	timeout := ofType(evs, chat.TypeInactivityTimeout)
	if len(warnings) != 2 || len(timeout) != 1 {
		t.Fatalf("log = %v, want two warnings and one timeout", types(evs))
	}
	if warnings[0].Seq > msg.Seq || warnings[1].Seq < msg.Seq {
		t.Fatalf("log = %v, want a warning before the message and another after it", types(evs))
	}
	if d := warnings[1].Time.Sub(msg.Time); d < inactivityWarning-slack {
		t.Errorf("warned again %v after the message, want at least %v", d, inactivityWarning)
	}
	if d := timeout[0].Time.Sub(msg.Time); d < inactivityEnd-slack {
		t.Errorf("ended %v after the message, want at least %v: the message must reset the clock", d, inactivityEnd)
	}
}
