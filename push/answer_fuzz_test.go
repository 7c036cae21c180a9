package push

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzServiceAnswer judges an error answer of APNs or FCM: a status, a
// Retry-After header and a body. Every answer gets one of the three
// verdicts, and the retry Parley schedules waits at least what the service
// asked (seconds or an HTTP date), up to a day, and never more than a day.
// Seeds are in testdata/fuzz/FuzzServiceAnswer.
func FuzzServiceAnswer(f *testing.F) {
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, fcm bool, status uint16, retryAfterValue string, body []byte) {
		resp := &http.Response{StatusCode: int(status), Header: http.Header{}}
		if retryAfterValue != "" {
			resp.Header.Set("Retry-After", retryAfterValue)
		}
		judge := apnsError
		if fcm {
			judge = fcmError
		}
		se := judge(resp, body)
		if se.verdict != retry && se.verdict != badToken && se.verdict != fatal || se.status != int(status) {
			t.Fatalf("status %d, body %q: verdict %d, status %d", status, body, se.verdict, se.status)
		}
		wait := backoff(1, time.Second, time.Minute, retryAfter(resp.Header, now))
		if asked := askedDelay(retryAfterValue, now); wait < asked || wait > 24*time.Hour {
			t.Fatalf("Retry-After %q asks for %v, Parley waits %v", retryAfterValue, asked, wait)
		}
	})
}

// askedDelay is the delay a Retry-After value asks for, at most a day:
// delay-seconds (digits) or an HTTP date (RFC 9110 §10.2.3).
func askedDelay(v string, now time.Time) time.Duration {
	const day = 24 * time.Hour
	if v != "" && strings.Trim(v, "0123456789") == "" {
		digits := strings.TrimLeft(v, "0")
		if len(digits) > 6 {
			return day
		}
		s, _ := strconv.Atoi(digits)
		return min(time.Duration(s)*time.Second, day)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), day)
	}
	return 0
}
