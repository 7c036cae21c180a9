package netx

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 192.168.1.7, ::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		proxies    *Proxies
		remote     string
		tls        bool
		xff, proto []string
		wantIP     string
		wantScheme string
	}{
		{name: "a direct client is its peer", proxies: proxies, remote: "203.0.113.5:4000", wantIP: "203.0.113.5", wantScheme: "http"},
		{name: "forwarding headers of an untrusted peer are ignored", proxies: proxies, remote: "203.0.113.5:4000",
			xff: []string{"198.51.100.1"}, proto: []string{"https"}, wantIP: "203.0.113.5", wantScheme: "http"},
		{name: "no proxies trust nobody", proxies: nil, remote: "10.1.2.3:4000",
			xff: []string{"198.51.100.1"}, proto: []string{"https"}, wantIP: "10.1.2.3", wantScheme: "http"},
		{name: "a trusted proxy tells the client and scheme", proxies: proxies, remote: "10.1.2.3:4000",
			xff: []string{"198.51.100.1"}, proto: []string{"https"}, wantIP: "198.51.100.1", wantScheme: "https"},
		{name: "a single trusted address is a proxy", proxies: proxies, remote: "192.168.1.7:4000",
			xff: []string{"198.51.100.1"}, wantIP: "198.51.100.1", wantScheme: "http"},
		{name: "IPv6 loopback proxy", proxies: proxies, remote: "[::1]:4000",
			xff: []string{"2001:db8::1"}, wantIP: "2001:db8::1", wantScheme: "http"},
		{name: "hops the client wrote before the first untrusted one are ignored", proxies: proxies, remote: "10.1.2.3:4000",
			xff: []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, wantIP: "198.51.100.1", wantScheme: "http"},
		{name: "several headers are one list", proxies: proxies, remote: "10.1.2.3:4000",
			xff: []string{"1.1.1.1", "198.51.100.1"}, wantIP: "198.51.100.1", wantScheme: "http"},
		{name: "a chain of trusted proxies only names the first of them", proxies: proxies, remote: "10.1.2.3:4000",
			xff: []string{"10.5.5.5, 10.6.6.6"}, wantIP: "10.5.5.5", wantScheme: "http"},
		{name: "a garbled hop stops the walk at the last good address", proxies: proxies, remote: "10.1.2.3:4000",
			xff: []string{"198.51.100.1, nonsense"}, wantIP: "10.1.2.3", wantScheme: "http"},
		{name: "TLS to the server is https", proxies: proxies, remote: "203.0.113.5:4000", tls: true, wantIP: "203.0.113.5", wantScheme: "https"},
		{name: "a proxy may say the client used http", proxies: proxies, remote: "10.1.2.3:4000", tls: true,
			proto: []string{"http"}, wantIP: "10.1.2.3", wantScheme: "http"},
		{name: "the first proxy's scheme counts", proxies: proxies, remote: "10.1.2.3:4000",
			proto: []string{"https, http"}, wantIP: "10.1.2.3", wantScheme: "https"},
		{name: "IPv4-mapped peers are IPv4", proxies: proxies, remote: "[::ffff:10.1.2.3]:4000",
			xff: []string{"198.51.100.1"}, wantIP: "198.51.100.1", wantScheme: "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			info := tc.proxies.Resolve(r)
			if got := info.ClientIP.String(); got != tc.wantIP {
				t.Errorf("client IP = %s, want %s", got, tc.wantIP)
			}
			if info.Scheme != tc.wantScheme {
				t.Errorf("scheme = %s, want %s", info.Scheme, tc.wantScheme)
			}
			r = With(r, &info)
			if got := ClientIP(r).String(); got != tc.wantIP {
				t.Errorf("ClientIP(r) = %s, want %s", got, tc.wantIP)
			}
			if got := Scheme(r); got != tc.wantScheme {
				t.Errorf("Scheme(r) = %s, want %s", got, tc.wantScheme)
			}
		})
	}
}

func TestParseProxiesRejectsGarbage(t *testing.T) {
	for _, list := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/", "1.2.3"} {
		if _, err := ParseProxies(list); err == nil {
			t.Errorf("ParseProxies(%q) succeeded, want an error", list)
		}
	}
	p, err := ParseProxies(" , ")
	if err != nil || p.Trusted(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("an empty list = %v, %v; want one that trusts nobody", p, err)
	}
}

func TestClientIPWithoutResolve(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.9:1234"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	if got := ClientIP(r).String(); got != "203.0.113.9" {
		t.Errorf("ClientIP = %s, want the peer", got)
	}
	if got := Scheme(r); got != "http" {
		t.Errorf("Scheme = %s, want http", got)
	}
	if got := RequestID(r.Context()); got != "" {
		t.Errorf("RequestID = %q, want none", got)
	}
}

func TestRequestID(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		kept         bool
	}{
		{"a proxy's id is kept", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"an id with punctuation is kept", "req-1.2:3/x+y=", true},
		{"a missing id is made", "", false},
		{"an id with spaces is replaced", "a b", false},
		{"an id with a quote is replaced", `a"b`, false},
		{"an overlong id is replaced", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set(RequestIDHeader, tc.header)
			}
			info := (*Proxies)(nil).Resolve(r)
			if tc.kept && info.RequestID != tc.header {
				t.Errorf("request id = %q, want %q", info.RequestID, tc.header)
			}
			if !tc.kept && (info.RequestID == tc.header || len(info.RequestID) != 16) {
				t.Errorf("request id = %q, want a new 16-digit id", info.RequestID)
			}
		})
	}
	if a, b := NewRequestID(), NewRequestID(); a == b {
		t.Errorf("two new ids are both %q", a)
	}
}

func TestLogHandlerAddsTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	r := With(httptest.NewRequest("GET", "/", nil), &Info{RequestID: "abc123"})
	log.InfoContext(r.Context(), "inside")
	log.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q", buf.String())
	}
	if !strings.Contains(lines[0], "request_id=abc123") || !strings.Contains(lines[0], "component=test") {
		t.Errorf("line logged with a request's context = %q, want its request_id", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line logged without one = %q, want no request_id", lines[1])
	}
	if h := LogHandler(LogHandler(slog.NewTextHandler(&buf, nil))); h.(requestIDHandler).Handler == nil {
		t.Error("wrapping twice lost the handler")
	}
}
