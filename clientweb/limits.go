package clientweb

import (
	"hash/maphash"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/netx"
)

// Limits protect the customer API from a client that floods it: each client
// (tenant, appId, clientId) and each client address may send requests at a
// sustained Rate per second with bursts of Burst (token buckets). A request
// over a limit is answered 429 with error code 5429 (Parley's own: the
// spec's table has none) and Retry-After, without touching the store.
//
// The defaults never bother an SDK: an app polls once per answer, sends
// what its user types and acknowledges what it is given, a few requests a
// second at most, with bursts when it comes back online or acknowledges a
// history. Addresses get far more, because many customers share one (a
// carrier's NAT, an office); behind a reverse proxy the address is the
// customer's only if the proxy is trusted (netx), otherwise every customer
// shares the proxy's and the per-address limit must be raised or turned off.
type Limits struct {
	ClientRate  float64 // requests per second of one client; 0: no limit
	ClientBurst int
	IPRate      float64 // requests per second of one address; 0: no limit
	IPBurst     int
}

// DefaultLimits are the limits of a node unless configured.
var DefaultLimits = Limits{ClientRate: 20, ClientBurst: 200, IPRate: 1000, IPBurst: 2000}

// limiter is a set of token buckets, one per key, in shards so that
// concurrent requests seldom wait for one another. Buckets that have
// refilled are dropped as the shards are swept, so idle clients cost
// nothing.
type limiter[K comparable] struct {
	rate   float64 // tokens per second
	burst  float64
	seed   maphash.Seed
	shards [32]limiterShard[K]
}

type limiterShard[K comparable] struct {
	mu      sync.Mutex
	buckets map[K]*bucket
	swept   int64 // unix nanoseconds of the last sweep
}

type bucket struct {
	tokens float64
	last   int64 // unix nanoseconds
}

func newLimiter[K comparable](rate float64, burst int) *limiter[K] {
	if rate <= 0 {
		return nil
	}
	l := &limiter[K]{rate: rate, burst: math.Max(float64(burst), 1), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = map[K]*bucket{}
	}
	return l
}

// allow takes a token of key's bucket, or says how long until one is
// there. A nil limiter allows everything.
func (l *limiter[K]) allow(key K, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	sh := &l.shards[maphash.Comparable(l.seed, key)%uint64(len(l.shards))]
	t := now.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l.sweep(sh, t)
	b := sh.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: t}
		sh.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+float64(t-b.last)/1e9*l.rate)
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * 1e9)
}

// sweep drops the shard's full buckets once a minute: a full bucket is
// what a new one would be.
func (l *limiter[K]) sweep(sh *limiterShard[K], now int64) {
	if now-sh.swept < int64(time.Minute) {
		return
	}
	sh.swept = now
	for k, b := range sh.buckets {
		if b.tokens+float64(now-b.last)/1e9*l.rate >= l.burst {
			delete(sh.buckets, k)
		}
	}
}

// limits are the limiters of a handler, made from its Limits when it first
// serves.
type limits struct {
	once    sync.Once
	clients *limiter[chat.ClientKey]
	ips     *limiter[netip.Addr]
}

func (h *Handler) limiters() *limits {
	h.limits.once.Do(func() {
		h.limits.clients = newLimiter[chat.ClientKey](h.Limits.ClientRate, h.Limits.ClientBurst)
		h.limits.ips = newLimiter[netip.Addr](h.Limits.IPRate, h.Limits.IPBurst)
	})
	return &h.limits
}

// allowAddress applies the per-address limit to r, answering it when over.
func (h *Handler) allowAddress(w http.ResponseWriter, r *http.Request) bool {
	l := h.limiters().ips
	if l == nil {
		return true
	}
	ok, wait := l.allow(clientAddr(r), time.Now())
	if !ok {
		h.refuse(w, r, wait, "too many requests from this address")
	}
	return ok
}

// allowClient applies the per-client limit, answering the request when over.
func (h *Handler) allowClient(w http.ResponseWriter, r *http.Request, k chat.ClientKey) bool {
	ok, wait := h.limiters().clients.allow(k, time.Now())
	if !ok {
		h.refuse(w, r, wait, "too many requests from this client")
	}
	return ok
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	h.writeError(w, r, chat.Errorf(chat.CodeRateLimited, "%s: slow down", msg))
}

// clientAddr is the address a request came from: the customer's as the
// node resolved it through its trusted proxies, else the peer's.
func clientAddr(r *http.Request) netip.Addr {
	if a := netx.ClientIP(r); a.IsValid() {
		return a.Unmap()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// bodyDeadline bounds reading the rest of the request: a client that sends
// its body slowly (a slowloris) loses the connection instead of holding it.
// The returned function lifts the bound, so that it cannot cut what the
// request does after reading, a held poll above all. Connections that
// cannot set deadlines are left alone.
func bodyDeadline(w http.ResponseWriter, d time.Duration) func() {
	if d <= 0 {
		return func() {}
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return func() {}
	}
	return func() { rc.SetReadDeadline(time.Time{}) }
}

// idleReader reads an upload, moving the connection's read deadline idle
// ahead as data comes (at most once a second): a slow upload goes on, a
// stalled one fails.
type idleReader struct {
	r     io.Reader
	rc    *http.ResponseController
	idle  time.Duration
	moved time.Time
}

func newIdleReader(w http.ResponseWriter, r io.Reader, idle time.Duration) (*idleReader, func()) {
	rc := http.NewResponseController(w)
	if idle <= 0 || rc.SetReadDeadline(time.Now().Add(idle)) != nil {
		return &idleReader{r: r}, func() {}
	}
	return &idleReader{r: r, rc: rc, idle: idle, moved: time.Now()}, func() { rc.SetReadDeadline(time.Time{}) }
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if ir.rc != nil && n > 0 {
		if now := time.Now(); now.Sub(ir.moved) >= time.Second {
			ir.moved = now
			ir.rc.SetReadDeadline(now.Add(ir.idle))
		}
	}
	return n, err
}
