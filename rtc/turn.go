package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"
)

// DefaultRealm is the realm of the embedded TURN server unless set.
const DefaultRealm = "parley"

// Config configures the embedded TURN/STUN server.
type Config struct {
	// Addr is the UDP address it listens on, e.g. ":3478"; "" runs none.
	Addr string
	// PublicIP is the IPv4 address callers reach it and its relays at.
	// Unset, it is the listen address's IP when that names one (127.0.0.1
	// for "localhost"); a server listening on every interface needs it.
	PublicIP string
	Realm    string // default DefaultRealm
	Secret   string // the shared secret credentials are made with (required)
	Log      *slog.Logger
}

// Server is the embedded TURN/STUN server: it answers STUN binding requests
// and allocates UDP relays to callers holding credentials made with its
// secret (see Credentials) that have not expired.
type Server struct {
	turn  *turn.Server
	addr  *net.UDPAddr
	relay Relay
}

// Listen starts the embedded server on c.Addr. Close stops it.
func Listen(c Config) (*Server, error) {
	if c.Secret == "" {
		return nil, errors.New("turn: a secret is required")
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("turn: listen address: %w", err)
	}
	public, err := publicIP(host, c.PublicIP)
	if err != nil {
		return nil, err
	}
	bind := "0.0.0.0"
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		bind = ip.String()
	} else if host == "localhost" {
		bind = "127.0.0.1"
	}
	// Relays are IPv4 (pion allocates them with "udp4"), so is the listener.
	conn, err := net.ListenPacket("udp4", net.JoinHostPort(bind, portOf(c.Addr)))
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	log := c.Log.With("component", "turn")
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         c.Realm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(c.Secret, pionLogger{log}),
		LoggerFactory: pionLogger{log},
		EventHandler:  events(log),
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: public, Address: bind},
			PermissionHandler:     PeerAllowed(public),
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("turn: %w", err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	hostPort := net.JoinHostPort(public.String(), strconv.Itoa(addr.Port))
	s := &Server{turn: srv, addr: addr, relay: Relay{
		URLs:   []string{"stun:" + hostPort, "turn:" + hostPort + "?transport=udp"},
		Secret: c.Secret,
	}}
	log.Info("TURN server listening", "addr", addr.String(), "public_ip", public.String(), "realm", c.Realm)
	return s, nil
}

// publicIP is the address relays are advertised at (see Config.PublicIP).
func publicIP(listenHost, configured string) (net.IP, error) {
	if configured != "" {
		ip := net.ParseIP(configured).To4()
		if ip == nil || ip.IsUnspecified() {
			return nil, fmt.Errorf("turn: public IP %q is not an IPv4 address", configured)
		}
		return ip, nil
	}
	if listenHost == "localhost" {
		return net.IPv4(127, 0, 0, 1).To4(), nil
	}
	if ip := net.ParseIP(listenHost).To4(); ip != nil && !ip.IsUnspecified() {
		return ip, nil
	}
	return nil, fmt.Errorf("turn: a public IP to advertise is needed when listening on every interface (%q)", listenHost)
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// PeerAllowed is the rule for where a relay on the public IP may send: not
// to the server's own loopback, link-local addresses (cloud metadata
// services), unspecified or multicast ones, and into private networks only
// from a relay that is itself in one (a LAN deployment). A relay advertised
// on loopback (development, tests) may reach anything local.
func PeerAllowed(public net.IP) turn.PermissionHandler {
	return func(_ net.Addr, peer net.IP) bool {
		switch {
		case peer.IsUnspecified(), peer.IsMulticast(), peer.IsLinkLocalUnicast(), peer.IsLinkLocalMulticast():
			return false
		case public.IsLoopback():
			return true
		case peer.IsLoopback():
			return false
		case peer.IsPrivate():
			return public.IsPrivate()
		}
		return true
	}
}

// Addr is the UDP address the server listens on.
func (s *Server) Addr() *net.UDPAddr { return s.addr }

// Relay is what entries with turn: {embedded: true} are given: the server's
// stun: and turn: URLs at the public IP, and the secret to make credentials.
func (s *Server) Relay() *Relay {
	r := s.relay
	r.URLs = append([]string(nil), s.relay.URLs...)
	return &r
}

// Close stops the server: its listener and every relay.
func (s *Server) Close() error { return s.turn.Close() }

func events(log *slog.Logger) turn.EventHandler {
	return turn.EventHandler{
		OnAuth: func(src, _ net.Addr, _, username, _, method string, ok bool) {
			if !ok {
				log.Debug("TURN credentials refused", "src", src.String(), "username", username, "method", method)
			}
		},
		OnAllocationCreated: func(src, _ net.Addr, _, username, _ string, relay net.Addr, _ int) {
			log.Debug("TURN relay allocated", "src", src.String(), "username", username, "relay", relay.String())
		},
		OnAllocationDeleted: func(src, _ net.Addr, _, username, _ string) {
			log.Debug("TURN relay released", "src", src.String(), "username", username)
		},
	}
}

// pionLogger makes pion's logging go to slog. Pion's errors are mostly about
// what a remote party sent, so they are warnings here; its info is per packet.
type pionLogger struct{ log *slog.Logger }

func (l pionLogger) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{l.log.With("scope", scope)}
}

func (l pionLogger) logf(level slog.Level, format string, args []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)                 {}
func (l pionLogger) Tracef(string, ...any)        {}
func (l pionLogger) Debug(msg string)             { l.log.Debug(msg) }
func (l pionLogger) Debugf(f string, args ...any) { l.logf(slog.LevelDebug, f, args) }
func (l pionLogger) Info(msg string)              { l.log.Debug(msg) }
func (l pionLogger) Infof(f string, args ...any)  { l.logf(slog.LevelDebug, f, args) }
func (l pionLogger) Warn(msg string)              { l.log.Warn(msg) }
func (l pionLogger) Warnf(f string, args ...any)  { l.logf(slog.LevelWarn, f, args) }
func (l pionLogger) Error(msg string)             { l.log.Warn(msg) }
func (l pionLogger) Errorf(f string, args ...any) { l.logf(slog.LevelWarn, f, args) }
