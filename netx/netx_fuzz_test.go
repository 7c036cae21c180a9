package netx

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// FuzzParseProxies reads a trusted-proxies setting. What it accepts is a
// list of masked prefixes of unmapped addresses, which written out again
// reads the same. Seeds are in testdata/fuzz/FuzzParseProxies.
func FuzzParseProxies(f *testing.F) {
	f.Fuzz(func(t *testing.T, list string) {
		p, err := ParseProxies(list)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseProxies(%q) failed (%v) but returned %v", list, err, p.prefixes)
			}
			return
		}
		written := make([]string, 0, len(p.prefixes))
		for _, prefix := range p.prefixes {
			if !prefix.IsValid() || prefix != prefix.Masked() || prefix.Addr().Is4In6() {
				t.Fatalf("ParseProxies(%q): prefix %v is not a masked prefix of an unmapped address", list, prefix)
			}
			if !p.Trusted(prefix.Addr()) {
				t.Fatalf("ParseProxies(%q): the address %v of prefix %v is not trusted", list, prefix.Addr(), prefix)
			}
			written = append(written, prefix.String())
		}
		again, err := ParseProxies(strings.Join(written, ","))
		if err != nil || !slices.Equal(again.prefixes, p.prefixes) {
			t.Fatalf("ParseProxies(%q) = %v, but %q reads as %v, %v", list, p.prefixes, strings.Join(written, ","), again, err)
		}
	})
}

// FuzzResolve resolves a request's client from its peer address and the
// X-Forwarded-For (one header per line of xff), X-Forwarded-Proto and
// X-Request-Id headers it carries, with the proxies a setting trusts.
// Forwarding headers count only from a trusted peer, and then only back to
// the first untrusted hop; the request id is kept only when it is safe to
// log. Seeds are in testdata/fuzz/FuzzResolve.
func FuzzResolve(f *testing.F) {
	f.Fuzz(func(t *testing.T, proxies, remoteAddr, xff, proto, requestID string, overTLS bool) {
		p, err := ParseProxies(proxies)
		if err != nil {
			p = nil // trusts none
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remoteAddr
		r.TLS = nil
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		var values []string
		if xff != "" {
			values = strings.Split(xff, "\n")
			r.Header["X-Forwarded-For"] = values
		}
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		if requestID != "" {
			r.Header.Set(RequestIDHeader, requestID)
		}
		info := p.Resolve(r)

		if info.Scheme != "http" && info.Scheme != "https" {
			t.Fatalf("Resolve: scheme %q", info.Scheme)
		}
		if !validRequestID(info.RequestID) || (validRequestID(requestID) && info.RequestID != requestID) {
			t.Fatalf("Resolve: request id %q for X-Request-Id %q", info.RequestID, requestID)
		}
		if info.ClientIP.Is4In6() {
			t.Fatalf("Resolve: client %v is a mapped address", info.ClientIP)
		}
		from := peer(r)
		if !p.Trusted(from) {
			wantScheme := map[bool]string{false: "http", true: "https"}[overTLS]
			if info.ClientIP != from || info.Scheme != wantScheme {
				t.Fatalf("Resolve from the untrusted peer %q: client %v, scheme %s; want the peer's %v, %s", remoteAddr, info.ClientIP, info.Scheme, from, wantScheme)
			}
			return
		}
		if info.ClientIP == from {
			return
		}
		// The client is a hop after which every hop is a trusted proxy.
		hops := forwardedFor(values)
		i := len(hops) - 1
		for ; i >= 0; i-- {
			addr, err := netip.ParseAddr(hops[i])
			if err != nil {
				t.Fatalf("Resolve: client %v past the garbled hop %q of %q", info.ClientIP, hops[i], values)
			}
			if addr.Unmap() == info.ClientIP {
				break
			}
			if !p.Trusted(addr) {
				t.Fatalf("Resolve: client %v past the untrusted hop %v of %q", info.ClientIP, addr, values)
			}
		}
		if i < 0 {
			t.Fatalf("Resolve: client %v is neither the peer %v nor a hop of %q", info.ClientIP, from, values)
		}
	})
}
