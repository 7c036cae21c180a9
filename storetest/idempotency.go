package storetest

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/chat"
)

// dedupCases are sends to one chat, batch by batch, with the events each
// append must return and the log they must leave (after the opening status),
// named by each event's text.
var dedupCases = []struct {
	name   string
	sends  [][]chat.Event
	stored [][]string // returned by each append
}{
	{
		name:   "a message resent with its msg_id is stored once",
		sends:  [][]chat.Event{{message("c", "m1", "a")}, {message("c", "m1", "a again")}},
		stored: [][]string{{"a"}, {}},
	},
	{
		name:   "a msg_id repeated within one batch is stored once",
		sends:  [][]chat.Event{{message("c", "m1", "a"), message("c", "m1", "b"), message("c", "m2", "c")}},
		stored: [][]string{{"a", "c"}},
	},
	{
		name:   "a batch keeps its new events and skips its repeated ones",
		sends:  [][]chat.Event{{message("c", "m1", "a")}, {message("c", "m1", "b"), message("c", "m2", "c"), message("c", "m1", "d")}},
		stored: [][]string{{"a"}, {"c"}},
	},
	{
		name: "files, locations and signaling are deduplicated too",
		sends: [][]chat.Event{
			{event("c", chat.TypeFile, "f1", "a"), event("c", chat.TypeLocation, "l1", "b"), event("c", chat.TypeSignaling, "s1", "c")},
			{event("c", chat.TypeFile, "f1", "d"), event("c", chat.TypeLocation, "l1", "e"), event("c", chat.TypeSignaling, "s1", "f")},
		},
		stored: [][]string{{"a", "b", "c"}, {}},
	},
	{
		name:   "a msg_id the chat holds skips an event of another deduplicated type",
		sends:  [][]chat.Event{{message("c", "x1", "a")}, {event("c", chat.TypeFile, "x1", "b")}},
		stored: [][]string{{"a"}, {}},
	},
	{
		name:   "an empty msg_id is never deduplicated",
		sends:  [][]chat.Event{{message("c", "", "a")}, {message("c", "", "b"), message("c", "", "c")}},
		stored: [][]string{{"a"}, {"b", "c"}},
	},
	{
		name:   "the msg_id null of Android is never deduplicated",
		sends:  [][]chat.Event{{message("c", "null", "a")}, {message("c", "null", "b"), message("c", "null", "c")}},
		stored: [][]string{{"a"}, {"b", "c"}},
	},
	{
		name: "receipts without a msg_id are always stored",
		sends: [][]chat.Event{
			{event("c", chat.TypeDelivered, "", "a"), event("c", chat.TypeDelivered, "", "b")},
			{event("c", chat.TypeDelivered, "", "c"), event("c", chat.TypeRead, "", "d")},
		},
		stored: [][]string{{"a", "b"}, {"c", "d"}},
	},
	{
		name: "types that are not deduplicated are stored even with a repeated msg_id",
		sends: [][]chat.Event{
			{event("c", chat.TypeTyping, "t1", "a"), event("c", chat.TypeTyping, "t1", "b")},
			{event("c", chat.TypeStatus, "t1", "c")},
		},
		stored: [][]string{{"a", "b"}, {"c"}},
	},
	{
		name: "the same msg_id from another party is another event",
		sends: [][]chat.Event{
			{message("c", "1", "a")},
			{fromParty(message("c", "1", "b"), "agent-party"), fromParty(message("c", "1", "c"), "agent-party")},
			{message("c", "1", "d")},
		},
		stored: [][]string{{"a"}, {"b"}, {}},
	},
	{
		name:   "msg_ids are compared verbatim",
		sends:  [][]chat.Event{{message("c", "m1", "a"), message("c", "M1", "b"), message("c", "m1 ", "c"), message("c", " m1", "d")}},
		stored: [][]string{{"a", "b", "c", "d"}},
	},
}

var idempotencyTests = func() []test {
	var ts []test
	for _, tc := range dedupCases {
		ts = append(ts, test{tc.name, func(t *testing.T, st chat.Store) {
			s := create(t, st, newSession("chat-1", key("client-1"), t0))
			var log []string
			for i, batch := range tc.sends {
				evs := slices.Clone(batch)
				for j := range evs {
					evs[j].ChatID = s.ID
					if evs[j].PartyID == "c" {
						evs[j].PartyID = s.ID
					}
				}
				got := appendEvents(t, st, s.ID, evs, chat.SessionUpdate{})
				if !slices.Equal(texts(got), tc.stored[i]) {
					t.Errorf("append %d returned %q, want %q", i, texts(got), tc.stored[i])
				}
				wantGapFree(t, "Append", got, int64(len(log))+2)
				log = append(log, tc.stored[i]...)
			}
			evs := allEvents(t, st, s.ID)
			wantGapFree(t, "Events", evs, 1)
			if got := texts(evs[1:]); !slices.Equal(got, log) {
				t.Errorf("Events = %q, want %q", got, log)
			}
			if last := session(t, st, s.ID).LastSeq; last != int64(len(log))+1 {
				t.Errorf("LastSeq = %d, want %d", last, len(log)+1)
			}
		}})
	}
	return append(ts,
		test{"the same msg_id in another chat is stored", func(t *testing.T, st chat.Store) {
			a := create(t, st, newSession("chat-a", key("client-1"), t0))
			b := create(t, st, newSession("chat-b", key("client-2"), t0))
			appendEvents(t, st, a.ID, []chat.Event{message(a.ID, "m1", "a")}, chat.SessionUpdate{})
			got := appendEvents(t, st, b.ID, []chat.Event{message(b.ID, "m1", "b")}, chat.SessionUpdate{})
			if !slices.Equal(texts(got), []string{"b"}) {
				t.Errorf("Append(other chat) = %q, want [b]", texts(got))
			}
			if evs := allEvents(t, st, b.ID); !slices.Equal(texts(evs[1:]), []string{"b"}) {
				t.Errorf("Events(other chat) = %q, want [b]", texts(evs[1:]))
			}
		}},
		test{"a skipped resend still applies the session update", func(t *testing.T, st chat.Store) {
			s := create(t, st, newSession("chat-1", key("client-1"), t0))
			appendEvents(t, st, s.ID, []chat.Event{message(s.ID, "m1", "a")}, chat.SessionUpdate{})
			got := appendEvents(t, st, s.ID, []chat.Event{message(s.ID, "m1", "a")}, chat.SessionUpdate{State: chat.StateConnected})
			if len(got) != 0 {
				t.Errorf("Append(resend) = %q, want nothing", texts(got))
			}
			if sess := session(t, st, s.ID); sess.State != chat.StateConnected || sess.LastSeq != 2 {
				t.Errorf("Session = state %q, last seq %d; want %q, 2", sess.State, sess.LastSeq, chat.StateConnected)
			}
		}},
	)
}()
