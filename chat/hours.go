package chat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours are an entry's business hours: a weekly schedule in a time zone and
// holidays on which it stays closed. An entry without hours is always open.
type Hours struct {
	TimeZone string `json:"time_zone"` // IANA name, e.g. "Europe/Berlin"
	// Weekly maps a lowercase three-letter day ("mon" … "sun") to its open
	// spans as "HH:MM-HH:MM"; a day not listed is closed.
	Weekly   map[string][]string `json:"weekly"`
	Holidays []string            `json:"holidays,omitempty"` // "YYYY-MM-DD"
}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Validate reports the first problem of the hours, if any.
func (h *Hours) Validate() error {
	if _, err := time.LoadLocation(h.TimeZone); err != nil {
		return fmt.Errorf("time_zone %q: %w", h.TimeZone, err)
	}
	for day, spans := range h.Weekly {
		if !validDay(day) {
			return fmt.Errorf("weekly: unknown day %q", day)
		}
		for _, s := range spans {
			if _, _, err := parseSpan(s); err != nil {
				return fmt.Errorf("weekly.%s: %w", day, err)
			}
		}
	}
	for _, d := range h.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return fmt.Errorf("holidays: %q is not YYYY-MM-DD", d)
		}
	}
	return nil
}

// Open reports whether the schedule is open at t. Hours that do not validate
// are closed: an operator's typo must not open a contact center at night.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return false
	}
	t = t.In(loc)
	date := t.Format(time.DateOnly)
	for _, d := range h.Holidays {
		if d == date {
			return false
		}
	}
	minute := t.Hour()*60 + t.Minute()
	for _, s := range h.Weekly[weekdays[t.Weekday()]] {
		from, to, err := parseSpan(s)
		if err == nil && minute >= from && minute < to {
			return true
		}
	}
	return false
}

func validDay(d string) bool {
	for _, w := range weekdays {
		if w == d {
			return true
		}
	}
	return false
}

// parseSpan parses "HH:MM-HH:MM" into minutes of the day; "24:00" ends a day.
func parseSpan(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("span %q: want HH:MM-HH:MM", s)
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, err
	}
	if to, err = parseClock(b); err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, fmt.Errorf("span %q ends before it starts", s)
	}
	return from, to, nil
}

// parseClock parses "HH:MM" (or "H:MM"), 00:00 to 24:00, into minutes. The
// whole text must be the time: "8:00pm" is no 8:00.
func parseClock(s string) (int, error) {
	hh, mm, _ := strings.Cut(strings.TrimSpace(s), ":")
	if len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !allDigits(hh) || !allDigits(mm) {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	if m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	return h*60 + m, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
