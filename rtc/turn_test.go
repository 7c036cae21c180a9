package rtc_test

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/rtc"
	"github.com/pion/logging"
	"github.com/pion/turn/v4"
)

const turnSecret = "a-long-random-turn-secret"

// ioLimit bounds every network wait of these tests.
const ioLimit = 5 * time.Second

// startTURN runs an embedded server on a loopback port until the test ends.
func startTURN(t *testing.T, c rtc.Config) *rtc.Server {
	t.Helper()
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Secret == "" {
		c.Secret = turnSecret
	}
	c.Log = slog.New(slog.DiscardHandler)
	s, err := rtc.Listen(c)
	if err != nil {
		t.Fatalf("start TURN server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// turnClient is a pion TURN client on its own loopback socket, as a
// browser's ICE agent would use the server.
func turnClient(t *testing.T, server string, username, password string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Username: username, Password: password,
		Conn: conn, LoggerFactory: quiet, RTO: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("new TURN client: %v", err)
	}
	if err := c.Listen(); err != nil {
		t.Fatalf("TURN client listen: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// peer is a UDP socket on loopback that a relay sends to.
func peer(t *testing.T) net.PacketConn {
	t.Helper()
	p, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// read reads one datagram within ioLimit.
func read(t *testing.T, conn net.PacketConn) ([]byte, net.Addr) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(ioLimit)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, from, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read from %v: %v", conn.LocalAddr(), err)
	}
	return buf[:n], from
}

// turnAddr is the host:port of the server's turn: URL, as a caller would
// take it from the ICE servers it was given.
func turnAddr(t *testing.T, s *rtc.Server) string {
	t.Helper()
	for _, u := range s.Relay().URLs {
		if rest, ok := strings.CutPrefix(u, "turn:"); ok {
			hostPort, _, _ := strings.Cut(rest, "?")
			return hostPort
		}
	}
	t.Fatalf("no turn: URL in %v", s.Relay().URLs)
	return ""
}

func TestEmbeddedTURNRelaysForValidCredentials(t *testing.T) {
	s := startTURN(t, rtc.Config{})
	user, pass := rtc.Credentials(turnSecret, "c-caller", time.Now().Add(time.Hour))
	c := turnClient(t, turnAddr(t, s), user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate with valid credentials: %v", err)
	}
	defer relay.Close()
	if ip := relay.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("relay address %v, want one on the public IP 127.0.0.1", relay.LocalAddr())
	}

	p := peer(t)
	if _, err := relay.WriteTo([]byte("hello through the relay"), p.LocalAddr()); err != nil {
		t.Fatalf("send through the relay: %v", err)
	}
	data, from := read(t, p)
	if string(data) != "hello through the relay" {
		t.Errorf("peer got %q", data)
	}
	if from.String() != relay.LocalAddr().String() {
		t.Errorf("peer got it from %v, want the relay address %v", from, relay.LocalAddr())
	}

	if _, err := p.WriteTo([]byte("and back"), from); err != nil {
		t.Fatal(err)
	}
	data, from = read(t, relay)
	if string(data) != "and back" || from.String() != p.LocalAddr().String() {
		t.Errorf("caller got %q from %v, want %q from the peer %v", data, from, "and back", p.LocalAddr())
	}
}

func TestEmbeddedTURNRefusesBadCredentials(t *testing.T) {
	s := startTURN(t, rtc.Config{})
	expiredUser, expiredPass := rtc.Credentials(turnSecret, "c-caller", time.Now().Add(-time.Minute))
	wrongUser, wrongPass := rtc.Credentials("another-secret", "c-caller", time.Now().Add(time.Hour))
	validUser, _ := rtc.Credentials(turnSecret, "c-caller", time.Now().Add(time.Hour))
	for _, tc := range []struct{ name, user, pass string }{
		{"expired credentials", expiredUser, expiredPass},
		{"credentials made with another secret", wrongUser, wrongPass},
		{"a valid username with a guessed password", validUser, "guess"},
		{"a username without an expiry", "c-caller", hmacSHA1(turnSecret, "c-caller")},
		{"a later expiry on a credential made for an earlier one", strings.Replace(expiredUser, ":", "9:", 1), expiredPass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := turnClient(t, turnAddr(t, s), tc.user, tc.pass)
			relay, err := c.Allocate()
			if err == nil {
				relay.Close()
				t.Fatalf("Allocate succeeded, want it refused")
			}
		})
	}
}

func TestEmbeddedServerAnswersSTUN(t *testing.T) {
	s := startTURN(t, rtc.Config{})
	c := turnClient(t, turnAddr(t, s), "", "")
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatalf("STUN binding request: %v", err)
	}
	if !strings.HasPrefix(mapped.String(), "127.0.0.1:") {
		t.Errorf("mapped address %v, want the client's loopback address", mapped)
	}
}

func TestEmbeddedTURNKeepsRelaysOffTheServersOwnNetwork(t *testing.T) {
	// Advertised on a public address, the relay must not reach loopback.
	s := startTURN(t, rtc.Config{PublicIP: "203.0.113.7"})
	user, pass := rtc.Credentials(turnSecret, "c-caller", time.Now().Add(time.Hour))
	c := turnClient(t, s.Addr().String(), user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer relay.Close()
	if _, err := relay.WriteTo([]byte("to the server's loopback"), peer(t).LocalAddr()); err == nil {
		t.Errorf("a relay on a public address was allowed to send to loopback")
	}
}

func TestPeerAllowed(t *testing.T) {
	for _, tc := range []struct {
		public, peer string
		want         bool
	}{
		{"203.0.113.7", "198.51.100.20", true},
		{"203.0.113.7", "203.0.113.7", true}, // both callers relayed by this server
		{"203.0.113.7", "127.0.0.1", false},
		{"203.0.113.7", "10.1.2.3", false},
		{"203.0.113.7", "192.168.1.10", false},
		{"203.0.113.7", "169.254.169.254", false}, // cloud metadata
		{"203.0.113.7", "0.0.0.0", false},
		{"203.0.113.7", "224.0.0.1", false},
		{"10.0.0.5", "10.1.2.3", true}, // a LAN deployment
		{"10.0.0.5", "127.0.0.1", false},
		{"127.0.0.1", "127.0.0.1", true}, // development
		{"127.0.0.1", "169.254.169.254", false},
	} {
		got := rtc.PeerAllowed(net.ParseIP(tc.public))(nil, net.ParseIP(tc.peer))
		if got != tc.want {
			t.Errorf("relay on %s sending to %s: allowed = %v, want %v", tc.public, tc.peer, got, tc.want)
		}
	}
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    rtc.Config
		want string // the public host of the URLs, or part of the error
	}{
		{"a loopback address is its own public IP", rtc.Config{Addr: "127.0.0.1:0", Secret: "s"}, "127.0.0.1"},
		{"localhost is 127.0.0.1", rtc.Config{Addr: "localhost:0", Secret: "s"}, "127.0.0.1"},
		{"a public IP is advertised", rtc.Config{Addr: "127.0.0.1:0", PublicIP: "198.51.100.4", Secret: "s"}, "198.51.100.4"},
		{"a secret is required", rtc.Config{Addr: "127.0.0.1:0"}, "secret is required"},
		{"every interface needs a public IP", rtc.Config{Addr: ":0", Secret: "s"}, "public IP to advertise is needed"},
		{"so does 0.0.0.0", rtc.Config{Addr: "0.0.0.0:0", Secret: "s"}, "public IP to advertise is needed"},
		{"the public IP is an IPv4 address", rtc.Config{Addr: "127.0.0.1:0", PublicIP: "turn.example.com", Secret: "s"}, "not an IPv4 address"},
		{"an address needs a port", rtc.Config{Addr: "127.0.0.1", Secret: "s"}, "listen address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := rtc.Listen(tc.c)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Listen error = %v, want it to mention %q", err, tc.want)
				}
				return
			}
			defer s.Close()
			port := s.Addr().Port
			want := []string{"stun:" + tc.want + ":" + strconv.Itoa(port), "turn:" + tc.want + ":" + strconv.Itoa(port) + "?transport=udp"}
			if got := s.Relay().URLs; strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("URLs = %v, want %v", got, want)
			}
			if s.Relay().Secret != tc.c.Secret {
				t.Errorf("Relay secret is not the configured one")
			}
		})
	}
}

func TestCloseStopsTheServer(t *testing.T) {
	s, err := rtc.Listen(rtc.Config{Addr: "127.0.0.1:0", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	conn, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("the server's port is still taken after Close: %v", err)
	}
	conn.Close()
}
