package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// portsPerAddress is how many connections we let one source address hold
// towards the server: Linux's default ephemeral range (32768–60999) has
// 28,232 ports, and closing connections linger in TIME_WAIT.
const portsPerAddress = 16000

// sourceAddresses returns the loopback addresses to spread connections
// over: one is enough for conns connections to a remote server (the system
// chooses), while a server on 127.0.0.0/8 is reached from 127.0.0.1,
// 127.0.0.2, … so that more connections than one address has ports can be
// open at once. n > 0 forces n addresses.
func sourceAddresses(target *url.URL, conns, n int) ([]net.IP, error) {
	host := target.Hostname()
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		if n > 1 {
			return nil, fmt.Errorf("--source-ips: the server %s is not on a loopback IPv4 address", host)
		}
		return nil, nil
	}
	if n <= 0 {
		n = (conns + portsPerAddress - 1) / portsPerAddress
	}
	if n <= 1 {
		return nil, nil
	}
	if n > 250 {
		return nil, fmt.Errorf("--source-ips: at most 250 addresses")
	}
	out := make([]net.IP, n)
	for i := range out {
		out[i] = net.IPv4(127, 0, 0, byte(i+1))
	}
	return out, nil
}

// newTransport returns the transport every simulated client of one process
// shares: enough idle connections kept for every customer's poll and send,
// and new connections spread over the source addresses.
func newTransport(addrs []net.IP, idle int) *http.Transport {
	var next atomic.Uint64
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	dial := dialer.DialContext
	if len(addrs) > 0 {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			ip := addrs[next.Add(1)%uint64(len(addrs))]
			d := *dialer
			d.LocalAddr = &net.TCPAddr{IP: ip}
			return d.DialContext(ctx, network, addr)
		}
	}
	return &http.Transport{
		Proxy:                 nil, // a load test talks to the server itself
		DialContext:           dial,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // polls are held by design
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}
