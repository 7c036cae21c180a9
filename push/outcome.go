package push

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// verdict is what a failed send means for its outbox row.
type verdict int

const (
	// retry: the service or the network failed for now (429, 5xx,
	// timeouts); the row is tried again later.
	retry verdict = iota
	// badToken: the service says the device token is no good for this app
	// (unregistered, malformed, another app's); the subscription is
	// cancelled and the row dropped.
	badToken
	// fatal: the request cannot succeed as it is (credentials refused,
	// payload refused, nothing configured); the row is dropped as failed.
	fatal
)

// sendError is a send that did not succeed, with what to do about it.
type sendError struct {
	verdict    verdict
	status     int           // HTTP status; 0 when no answer came
	reason     string        // the service's reason or error code
	retryAfter time.Duration // the service's Retry-After, if any
	err        error         // the transport error, if any
}

func (e *sendError) Error() string {
	switch {
	case e.err != nil:
		return e.err.Error()
	case e.reason != "":
		return fmt.Sprintf("status %d: %s", e.status, e.reason)
	}
	return fmt.Sprintf("status %d", e.status)
}

func (e *sendError) Unwrap() error { return e.err }

// verdictOf classifies err; errors that are not sendErrors are retried.
func verdictOf(err error) (verdict, time.Duration) {
	var se *sendError
	if errors.As(err, &se) {
		return se.verdict, se.retryAfter
	}
	if errors.Is(err, errNoCredentials) {
		return fatal, 0
	}
	return retry, 0
}

// byStatus is the verdict of an HTTP status both services share.
func byStatus(status int) verdict {
	if status == http.StatusTooManyRequests || status >= 500 {
		return retry
	}
	return fatal
}

// maxRetryAfter is the longest a service's Retry-After is honoured.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP date. Seconds
// count up to maxRetryAfter: more would overflow a Duration.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	s, err := strconv.Atoi(v)
	switch {
	case err == nil && s > 0:
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-"):
		return maxRetryAfter // more seconds than an int holds
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// backoff is the delay before attempt n+1 after n failed ones: doubling
// from base up to max, with jitter so that rows failed together (a service
// outage) do not come back together. A Retry-After from the service is
// honoured, up to a day.
func backoff(n int, base, max, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, maxRetryAfter)
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	// Equal jitter: at least half the delay, at most all of it.
	half := d / 2
	return half + rand.N(d-half+1)
}
