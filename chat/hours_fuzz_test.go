package chat

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clockText is a time of a span as written: H:MM or HH:MM.
var clockText = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)

// FuzzHours reads business hours as configuration gives them (a time zone,
// a Monday span "HH:MM-HH:MM" and a holiday) and checks what validates: a
// span is minutes within the day that written again as HH:MM reads the
// same, the schedule is open from its first minute to its last, and a
// holiday is a date as Open compares it. Seeds are in
// testdata/fuzz/FuzzHours.
func FuzzHours(f *testing.F) {
	f.Fuzz(func(t *testing.T, zone, span, holiday string) {
		h := &Hours{TimeZone: zone, Weekly: map[string][]string{"mon": {span}}}
		if holiday != "" {
			h.Holidays = []string{holiday}
		}
		if err := h.Validate(); err != nil {
			return
		}
		if holiday != "" {
			if d, err := time.Parse(time.DateOnly, holiday); err != nil || d.Format(time.DateOnly) != holiday {
				t.Fatalf("holiday %q validates but is not the date %q Open compares", holiday, d.Format(time.DateOnly))
			}
		}
		from, to, err := parseSpan(span)
		if err != nil || from < 0 || to > 24*60 || from >= to {
			t.Fatalf("span %q validates as minutes %d to %d (%v)", span, from, to, err)
		}
		// The span is the clock times written, as written: HH:MM-HH:MM.
		a, b, _ := strings.Cut(span, "-")
		for i, side := range []string{a, b} {
			m := clockText.FindStringSubmatch(strings.TrimSpace(side))
			if m == nil {
				t.Fatalf("span %q validates, but %q is not HH:MM", span, side)
			}
			h, _ := strconv.Atoi(m[1])
			min, _ := strconv.Atoi(m[2])
			if want := []int{from, to}[i]; h*60+min != want {
				t.Fatalf("span %q reads %q as minute %d", span, side, want)
			}
		}
		clock := fmt.Sprintf("%02d:%02d-%02d:%02d", from/60, from%60, to/60, to%60)
		if f2, t2, err := parseSpan(clock); err != nil || f2 != from || t2 != to {
			t.Fatalf("span %q reads as %d to %d, but %q as %d to %d (%v)", span, from, to, clock, f2, t2, err)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatalf("time zone %q validates but does not load: %v", zone, err)
		}
		// A Monday, not the holiday; a minute that does not exist there
		// (a change of daylight saving time) proves nothing.
		for _, day := range []int{5, 12} {
			at := func(minute int) (time.Time, bool) {
				tm := time.Date(2026, time.January, day, minute/60, minute%60, 0, 0, loc)
				return tm, tm.Weekday() == time.Monday && tm.Hour()*60+tm.Minute() == minute
			}
			if first, ok := at(from); ok && first.Format(time.DateOnly) != holiday {
				if !h.Open(first) {
					t.Fatalf("hours %+v are closed at %v, the first minute of %q", h, first, span)
				}
				if end, ok := at(to); ok && to < 24*60 && h.Open(end) {
					t.Fatalf("hours %+v are open at %v, the end of %q", h, end, span)
				}
				return
			}
		}
	})
}
