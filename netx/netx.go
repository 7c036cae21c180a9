// Package netx knows what the server has learnt about a request's origin:
// the client's address and scheme (through the reverse proxies it was told
// to trust) and the request id that ties its log lines together. The
// server's outermost handler resolves them once per request (Proxies.Resolve,
// With); handlers, rate limits and logs read them with ClientIP, Scheme and
// RequestID.
//
// It imports the standard library only, so that any package may use it.
package netx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// RequestIDHeader carries a request's id, in both directions: a proxy's id
// is kept, and the answer always tells the id the server logged.
const RequestIDHeader = "X-Request-Id"

// Info is what the server resolved about a request.
type Info struct {
	ClientIP  netip.Addr // the client's address; invalid when unknown
	Scheme    string     // "https" or "http", as the client used it
	RequestID string
}

type ctxKey struct{}

// With returns r with info in its context.
func With(r *http.Request, info *Info) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
}

// FromContext returns the Info a server stored in ctx, if any.
func FromContext(ctx context.Context) (*Info, bool) {
	info, ok := ctx.Value(ctxKey{}).(*Info)
	return info, ok
}

// ClientIP returns the address of the client that sent r: the one the
// server resolved through its trusted proxies, or the peer's address for a
// request it did not see.
func ClientIP(r *http.Request) netip.Addr {
	if info, ok := FromContext(r.Context()); ok {
		return info.ClientIP
	}
	return peer(r)
}

// Scheme returns "https" when the client reached the server over TLS,
// itself or through a trusted proxy, and "http" otherwise.
func Scheme(r *http.Request) string {
	if info, ok := FromContext(r.Context()); ok {
		return info.Scheme
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if info, ok := FromContext(ctx); ok {
		return info.RequestID
	}
	return ""
}

// Proxies are the reverse proxies whose X-Forwarded-For and
// X-Forwarded-Proto headers are believed. A nil or empty Proxies trusts
// none: the peer is the client.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads a comma-separated list of CIDR prefixes or single
// addresses ("10.0.0.0/8, 192.168.1.7, ::1").
func ParseProxies(list string) (*Proxies, error) {
	p := &Proxies{}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix", item)
			}
			addr = addr.Unmap()
			p.prefixes = append(p.prefixes, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", item, err)
		}
		if prefix.Addr().Is4In6() && prefix.Bits() >= 96 {
			prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96)
		}
		p.prefixes = append(p.prefixes, prefix.Masked())
	}
	return p, nil
}

// Trusted reports whether addr is one of the proxies.
func (p *Proxies) Trusted(addr netip.Addr) bool {
	if p == nil || !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, prefix := range p.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve works out who sent r. Forwarding headers count only when the peer
// is a trusted proxy: the client is then the last address of
// X-Forwarded-For that is not itself a trusted proxy (the ones before it
// were written by the client and prove nothing), and the scheme is the
// first proxy's X-Forwarded-Proto. A valid X-Request-Id is kept, from
// anyone (it only labels log lines); otherwise a new id is made.
func (p *Proxies) Resolve(r *http.Request) Info {
	info := Info{ClientIP: peer(r), Scheme: "http", RequestID: r.Header.Get(RequestIDHeader)}
	if r.TLS != nil {
		info.Scheme = "https"
	}
	if !validRequestID(info.RequestID) {
		info.RequestID = NewRequestID()
	}
	if !p.Trusted(info.ClientIP) {
		return info
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a garbled hop: keep the last address we could trust
		}
		info.ClientIP = addr.Unmap()
		if !p.Trusted(info.ClientIP) {
			break
		}
	}
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		proto, _, _ = strings.Cut(proto, ",")
		switch strings.ToLower(strings.TrimSpace(proto)) {
		case "https":
			info.Scheme = "https"
		case "http":
			info.Scheme = "http"
		}
	}
	return info
}

// forwardedFor flattens X-Forwarded-For headers into their hops, in order.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for hop := range strings.SplitSeq(v, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	return hops
}

// peer is the address of the connection r came on.
func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

// NewRequestID returns a new random request id (16 hex digits).
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID reports whether id may be logged and echoed as it is:
// 1 to 128 characters that need no quoting anywhere.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=':
		default:
			return false
		}
	}
	return true
}

// LogHandler returns a slog.Handler that adds the request_id of the
// context a record is logged with (Logger.InfoContext and the like), so
// that every line logged about a request carries its id.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
