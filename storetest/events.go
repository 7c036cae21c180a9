package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parley-chat/parley/chat"
)

var eventsTests = []test{
	{"events are read after a cursor up to a limit", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		other := create(t, st, newSession("chat-2", key("client-2"), t0))
		var evs []chat.Event
		for i := 2; i <= 10; i++ {
			evs = append(evs, message(s.ID, fmt.Sprint(i), fmt.Sprint(i)))
		}
		appendEvents(t, st, s.ID, evs, chat.SessionUpdate{})
		appendEvents(t, st, other.ID, []chat.Event{message(other.ID, "x", "x")}, chat.SessionUpdate{})
		for _, tc := range []struct {
			name  string
			after int64
			limit int
			want  []int64
		}{
			{"from the start, everything", 0, 100, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
			{"from the start, the first few", 0, 3, []int64{1, 2, 3}},
			{"from a cursor, the next few", 3, 3, []int64{4, 5, 6}},
			{"a limit past the end, what is left", 8, 5, []int64{9, 10}},
			{"a limit of one, one event", 4, 1, []int64{5}},
			{"a limit exactly to the end, what is left", 7, 3, []int64{8, 9, 10}},
			{"at the end, nothing", 10, 5, nil},
			{"past the end, nothing", 50, 5, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := st.Events(t.Context(), s.ID, tc.after, tc.limit)
				if err != nil {
					t.Fatalf("Events(after %d, limit %d): %v", tc.after, tc.limit, err)
				}
				if !slices.Equal(seqs(got), tc.want) && len(got)+len(tc.want) > 0 {
					t.Errorf("Events(after %d, limit %d) seqs = %v, want %v", tc.after, tc.limit, seqs(got), tc.want)
				}
				for _, ev := range got {
					if ev.ChatID != s.ID {
						t.Errorf("Events: seq %d has ChatID %q, want %q", ev.Seq, ev.ChatID, s.ID)
					}
				}
			})
		}
	}},
	{"paging through a log reads each event once in order", func(t *testing.T, st chat.Store) {
		s := create(t, st, newSession("chat-1", key("client-1"), t0))
		var evs []chat.Event
		for i := 2; i <= 250; i++ {
			evs = append(evs, message(s.ID, "", fmt.Sprint(i)))
		}
		appendEvents(t, st, s.ID, evs, chat.SessionUpdate{})
		for _, limit := range []int{1, 7, 100, 1000} {
			var got []chat.Event
			for after := int64(0); ; {
				page, err := st.Events(t.Context(), s.ID, after, limit)
				if err != nil {
					t.Fatalf("Events(after %d, limit %d): %v", after, limit, err)
				}
				if len(page) > limit {
					t.Fatalf("Events(after %d, limit %d) = %d events", after, limit, len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1].Seq
			}
			wantGapFree(t, fmt.Sprintf("pages of %d", limit), got, 1)
			if len(got) != 250 {
				t.Errorf("pages of %d: %d events, want 250", limit, len(got))
			}
		}
	}},
}
