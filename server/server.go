// Package server assembles a Parley node from its parts (store, bus, files,
// the HTTP APIs) and runs it until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley/adminapi"
	"github.com/parley-chat/parley/agentapi"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/cluster"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/files"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/natsfiles"
	"github.com/parley-chat/parley/netx"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/privacy"
	"github.com/parley-chat/parley/push"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/rtc"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/web"
)

// Options configure a node.
type Options struct {
	Addr         string        // listen address, e.g. ":8080"
	Data         string        // data directory (store file, and uploads unless Files)
	Store        string        // PostgreSQL URL (postgres://…) shared by nodes; "" for SQLite in Data
	Bus          string        // NATS URL (nats://…) shared by nodes; "" for the in-process bus
	Files        string        // "" files in Data; "nats" in a JetStream object store on Bus's server; or a nats:// URL (natsfiles.ParseURL)
	PollTimeout  time.Duration // how long an idle poll is held, and how often an agent stream looks again unwoken
	ConfigFile   string        // optional YAML file applied at start
	OfferTimeout time.Duration // how long an agent has to accept an offer
	PushGrace    time.Duration // how long an event waits for a poll before a push (default 10 s)
	TURN         rtc.Config    // the embedded TURN/STUN server; none when TURN.Addr is ""
	Log          *slog.Logger

	TLS TLSOptions // HTTPS (and HTTP/2) served by the node itself; plain HTTP by default
	// TrustedProxies are the reverse proxies (comma-separated CIDR prefixes
	// or addresses) whose X-Forwarded-For and X-Forwarded-Proto are
	// believed; none by default.
	TrustedProxies string
	// MetricsAddr is where /metrics is served instead of Addr, so that a
	// node facing the internet keeps its metrics to the operators' network.
	// "" serves /metrics on Addr.
	MetricsAddr string
	// Limits are the customer API's request rate limits; nil: the
	// defaults (clientweb.DefaultLimits). MaxPollsPerClient caps the
	// polls one client id holds pending: 0 the default, below 0 no cap.
	Limits            *clientweb.Limits
	MaxPollsPerClient int
}

// Server is a running-to-be Parley node.
type Server struct {
	opts    Options
	store   nodeStore
	bus     chat.Bus
	blobs   nodeBlobs
	service *chat.Service
	client  *clientweb.Handler
	agents  *agentapi.Handler
	// routing is this node's Router (router) on a store of its own, or
	// the routing leader elected among the nodes sharing PostgreSQL and
	// NATS (node, on lock).
	routing routing.Interface
	router  *routing.Router
	node    *cluster.Node
	lock    *postgres.Leadership
	push    *push.Notifier
	turn    *rtc.Server // nil unless Options.TURN.Addr is set
	http    *http.Server
	metrics *metrics.Metrics
	proxies *netx.Proxies
	tls     *serverTLS // nil when serving plain HTTP

	// stopPush stops the push worker and waits for its sends; set by Serve.
	stopPush func()
	// stopRetention stops the retention job and waits for it; set by Serve.
	stopRetention func()
}

// New opens the data directory, migrates the store, applies the
// configuration (seeding the demo into an empty directory) and builds the
// HTTP handlers.
func New(ctx context.Context, o Options) (*Server, error) {
	// Whatever is logged with a request's context names the request.
	o.Log = slog.New(netx.LogHandler(o.Log.Handler()))
	proxies, err := netx.ParseProxies(o.TrustedProxies)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	serverTLS, err := newServerTLS(o.TLS, o.Data, o.Log)
	if err != nil {
		return nil, err
	}
	bus, err := openBus(o)
	if err != nil {
		return nil, err
	}
	store, fresh, err := openStore(ctx, o)
	if err != nil {
		closeBus(bus, o.Log)
		return nil, err
	}
	s := &Server{opts: o, store: store, bus: bus, proxies: proxies, tls: serverTLS, metrics: metrics.New(Version)}
	if s.blobs, err = openBlobs(ctx, o); err != nil {
		store.Close()
		closeBus(bus, o.Log)
		return nil, err
	}
	if err := s.configure(ctx, fresh); err != nil {
		s.close()
		return nil, err
	}
	if err := s.startTURN(); err != nil {
		s.close()
		return nil, err
	}
	// The service's event writes are timed; the rest of the node uses the
	// store as it is.
	s.service = chat.NewService(s.metrics.TimeStore(store), bus, o.Log)
	if err := s.newRouting(ctx); err != nil {
		s.close()
		return nil, err
	}
	s.push = push.New(s.service, store, o.Log, push.Options{Grace: o.PushGrace})
	s.client = clientweb.New(s.service, s.blobs, o.Log)
	s.agents = agentapi.New(s.service, s.routing, s.blobs, o.Log)
	s.client.Version = "parley " + Version
	if s.turn != nil {
		s.client.EmbeddedTURN = s.turn.Relay()
		s.agents.EmbeddedTURN = s.turn.Relay()
	}
	if o.PollTimeout > 0 {
		s.client.PollTimeout = o.PollTimeout
		s.agents.Relook = o.PollTimeout
	}
	if o.Limits != nil {
		s.client.Limits = *o.Limits
	}
	if o.MaxPollsPerClient != 0 {
		s.client.MaxPollsPerClient = max(o.MaxPollsPerClient, 0)
	}
	s.watchMetrics()
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}
	if s.tls != nil {
		s.http.TLSConfig = s.tls.config
	}
	s.http.RegisterOnShutdown(s.client.Close)
	s.http.RegisterOnShutdown(s.agents.Close)
	return s, nil
}

// newRouting sets the node's routing up. Nodes sharing PostgreSQL and NATS
// route through one leader among them, elected on a lock of the database
// (package cluster); any other node routes by itself.
func (s *Server) newRouting(ctx context.Context) error {
	o := routing.Options{OfferTimeout: s.opts.OfferTimeout}
	pg, shared := s.store.(*postgres.Store)
	nb, onNATS := s.bus.(*natsbus.Bus)
	if !shared || !onNATS {
		s.router = routing.New(s.service, s.opts.Log, o)
		s.routing = routing.Local(s.router)
		return nil
	}
	lock, err := pg.Leadership(ctx)
	if err != nil {
		return fmt.Errorf("routing leadership: %w", err)
	}
	s.lock = lock
	s.node = cluster.New(cluster.Options{Lock: lock, Transport: nb, Service: s.service, Log: s.opts.Log, Routing: o})
	s.routing = s.node
	s.opts.Log.Info("routing is shared: one node of those on this database leads it", "scope", lock.Scope())
	return nil
}

// agentChangeTimeout bounds telling routing of an agent changed through
// the admin API.
const agentChangeTimeout = 5 * time.Second

// nodeStore is what a node needs of its store.
type nodeStore interface {
	chat.Store
	chat.PushStore
	chat.AdminStore
	chat.PrivacyStore
}

// adminAPI returns the admin API handler: PARLEY_ADMIN_TOKEN, when set, is
// a bootstrap token with every scope, and agent changes reach routing.
func (s *Server) adminAPI() *adminapi.Handler {
	h := adminapi.New(s.store, s.opts.Log)
	h.Bootstrap = os.Getenv("PARLEY_ADMIN_TOKEN")
	h.OnAgentChange = func(a chat.Agent) {
		ctx, cancel := context.WithTimeout(context.Background(), agentChangeTimeout)
		defer cancel()
		var err error
		if a.Disabled {
			err = s.routing.Logout(ctx, a.ID)
		} else {
			err = s.routing.UpdateAgent(ctx, a)
		}
		if err != nil {
			// Stored: routing has the change at the agent's next login, or
			// its next restore (a disabled agent is not restored).
			s.opts.Log.Warn("tell routing of a changed agent", "agent_id", a.ID, "err", err)
		}
	}
	return h
}

// openStore opens the store o names: PostgreSQL for a postgres:// URL, the
// SQLite file in the data directory by default. fresh reports a new SQLite
// store, to be seeded with the demo; a PostgreSQL store is seeded when it
// has no tenant (see configure).
func openStore(ctx context.Context, o Options) (st nodeStore, fresh bool, err error) {
	switch {
	case o.Store == "":
		dbPath := filepath.Join(o.Data, "parley.db")
		if fresh, err = needsDemo(o.Data, dbPath); err != nil {
			return nil, false, err
		}
		st, err := sqlite.Open(ctx, dbPath)
		return st, fresh, err
	case strings.HasPrefix(o.Store, "postgres://"), strings.HasPrefix(o.Store, "postgresql://"):
		st, err := postgres.Open(ctx, o.Store)
		return st, false, err
	}
	return nil, false, errors.New("store: want a postgres:// URL, or none for SQLite in the data directory")
}

// openBus opens the bus o names: NATS for a nats:// (or tls://) URL, the
// in-process bus by default.
func openBus(o Options) (chat.Bus, error) {
	switch {
	case o.Bus == "":
		return memory.New(), nil
	case strings.HasPrefix(o.Bus, "nats://"), strings.HasPrefix(o.Bus, "tls://"):
		return natsbus.Open(o.Bus, natsbus.Options{Log: o.Log})
	}
	return nil, errors.New("bus: want a nats:// URL, or none for the in-process bus")
}

// nodeBlobs is what a node needs of its file storage.
type nodeBlobs interface {
	chat.Blobs
	Close() error
}

// openBlobs opens the file storage o names: a NATS object store for
// "nats" (on the bus's server) or a nats:// URL, the data directory by
// default.
func openBlobs(ctx context.Context, o Options) (nodeBlobs, error) {
	switch {
	case o.Files == "":
		return files.OpenDisk(filepath.Join(o.Data, "files"))
	case o.Files == "nats", strings.HasPrefix(o.Files, "nats?"),
		strings.HasPrefix(o.Files, "nats://"), strings.HasPrefix(o.Files, "tls://"):
		servers, fo, err := natsfiles.ParseURL(o.Files)
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		if servers == "nats" {
			if o.Bus == "" {
				return nil, errors.New(`files: "nats" keeps files on the NATS server of the bus, and there is no bus: give --bus, or a nats:// URL to --files`)
			}
			// On a connection of its own all the same: an upload's chunks
			// must not queue ahead of the bus's wake-ups on one socket.
			servers = o.Bus
		}
		// Downloads are spooled on the data disk, which the node may
		// write to in any deployment.
		fo.TempDir, fo.Log = filepath.Join(o.Data, "tmp"), o.Log
		return natsfiles.Open(ctx, servers, fo)
	}
	return nil, errors.New("files: want nats, a nats:// URL, or none for the data directory")
}

// closeBus closes a bus that holds a connection.
func closeBus(bus chat.Bus, log *slog.Logger) {
	if c, ok := bus.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			log.Error("close bus", "err", err)
		}
	}
}

// demoPending names a file that exists in a data directory from its first
// start until the demo is seeded, so that a first start that fails or is
// stopped after creating the store (a full disk, a SIGTERM while migrating)
// does not leave a store that will never get the demo.
const demoPending = ".demo-pending"

// needsDemo reports whether the demo is to be seeded into the data directory:
// when it has no store yet, or its first start did not get to seed it.
func needsDemo(data, dbPath string) (bool, error) {
	marker := filepath.Join(data, demoPending)
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(marker, nil, 0o640); err != nil {
			return false, fmt.Errorf("mark new data dir: %w", err)
		}
		return true, nil
	}
	_, err := os.Stat(marker)
	return err == nil, nil
}

func (s *Server) configure(ctx context.Context, fresh bool) error {
	if pg, ok := s.store.(*postgres.Store); ok {
		// Nodes sharing the database configure it one at a time; the first
		// to find it without tenants seeds the demo.
		return pg.Exclusive(ctx, s.apply)
	}
	return s.apply(ctx, fresh)
}

// apply seeds the demo when asked to, then applies the configuration file.
func (s *Server) apply(ctx context.Context, fresh bool) error {
	if fresh {
		if err := config.Demo().Apply(ctx, s.store); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		if err := os.Remove(filepath.Join(s.opts.Data, demoPending)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("seed demo: %w", err)
		}
		s.opts.Log.Info("seeded the demo tenant", "tenant", config.DemoTenant, "app_id", config.DemoApp)
	}
	if s.opts.ConfigFile == "" {
		return nil
	}
	f, err := config.Load(s.opts.ConfigFile)
	if err != nil {
		return err
	}
	return f.Apply(ctx, s.store)
}

// startTURN starts the embedded TURN/STUN server if one is configured.
func (s *Server) startTURN() error {
	c := s.opts.TURN
	if c.Addr == "" {
		return nil
	}
	if c.Log == nil {
		c.Log = s.opts.Log
	}
	var err error
	s.turn, err = rtc.Listen(c)
	return err
}

// watchMetrics makes the metrics read the node's own numbers at each
// scrape.
func (s *Server) watchMetrics() {
	src := metrics.Sources{
		PendingPolls:  s.client.Pending,
		Routing:       s.routingStats,
		RoutingLeader: s.routingLeader,
		Push:          s.push.Stats().Snapshot,
	}
	if nb, ok := s.bus.(*natsbus.Bus); ok {
		// Well under Prometheus's default 10 s scrape timeout.
		src.BusRTT = func() (time.Duration, error) { return nb.RTT(2 * time.Second) }
		src.BusDropped = nb.Dropped
	}
	if st, ok := s.store.(*sqlite.Store); ok {
		src.Writer = func() metrics.WriterStats {
			w := st.WriterStats()
			return metrics.WriterStats{Commits: w.Commits, Writes: w.Writes, Busy: w.Busy}
		}
	}
	s.metrics.Watch(src)
}

func (s *Server) routingStats() routing.Stats {
	if s.node != nil {
		return s.node.Stats()
	}
	return s.router.Stats()
}

func (s *Server) routingLeader() bool { return s.node == nil || s.node.Leading() }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.opts.MetricsAddr == "" {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
	mux.Handle("/clientweb/", s.client)
	mux.Handle("/agent/api/", s.agents)
	admin := s.adminAPI()
	mux.Handle(adminapi.Prefix, admin)
	mux.Handle(privacy.Prefix, privacy.NewHandler(&privacy.Eraser{Store: s.store, Blobs: s.blobs}, admin.Authorize, s.opts.Log))
	mux.Handle("/", web.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return s.observe(clientweb.CollapseSlashes(mux))
}

// Serve accepts connections on ln until ctx ends, then shuts down
// gracefully: pending polls are answered at once, in-flight requests
// finish, and the store is closed last.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	side, err := s.startSideListeners()
	if err != nil {
		ln.Close()
		s.close()
		return err
	}
	defer side.stop()
	s.opts.Log.Info("listening", "addr", ln.Addr().String(), "tls", s.tls != nil)
	s.logTryIt(ln.Addr())
	routingCtx, stopRouting := context.WithCancel(ctx)
	defer stopRouting()
	routed := make(chan error, 1)
	if s.node != nil {
		// The election runs for as long as the node; whichever node
		// leads restores routing from the store before it routes.
		go func() { routed <- s.node.Run(routingCtx) }()
	} else {
		// Routing knows every live chat before the first request is served.
		if err := s.router.Restore(ctx); err != nil {
			s.close()
			if ctx.Err() != nil {
				return nil // stopped while starting: a shutdown, not a failure
			}
			return fmt.Errorf("restore routing: %w", err)
		}
		go func() { routed <- s.router.Run(routingCtx) }()
	}
	// The push worker outlives ctx until close: events of the shutdown
	// (routing's last notices) are still queued, and sends under way finish.
	pushCtx, cancelPush := context.WithCancel(context.WithoutCancel(ctx))
	pushed := make(chan error, 1)
	go func() { pushed <- s.push.Run(pushCtx) }()
	s.stopPush = func() { cancelPush(); <-pushed }
	// The retention job runs at start and every few minutes, until close.
	retainCtx, cancelRetain := context.WithCancel(context.WithoutCancel(ctx))
	retained := make(chan error, 1)
	go func() {
		retained <- (&retention.Job{Eraser: &privacy.Eraser{Store: s.store, Blobs: s.blobs}, Log: s.opts.Log}).Run(retainCtx)
	}()
	s.stopRetention = func() { cancelRetain(); <-retained }
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			// The certificate comes from TLSConfig.GetCertificate;
			// ServeTLS enables HTTP/2 on it.
			errc <- s.http.ServeTLS(ln, "", "")
			return
		}
		// Through the customer API's listener, waiting polls are parked
		// off the HTTP server and come back to it (clientweb/park.go).
		errc <- s.http.Serve(s.client.Listener(ln))
	}()
	select {
	case err := <-errc:
		stopRouting()
		<-routed
		s.close()
		return err
	case err := <-routed:
		if err != nil {
			s.http.Close()
			s.close()
			return fmt.Errorf("routing: %w", err)
		}
	case <-ctx.Done():
	}
	s.opts.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = s.http.Shutdown(shutdownCtx)
	stopRouting()
	<-routed
	s.close()
	return err
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Reload reads the TLS certificate files again, as SIGHUP asks: new
// handshakes get the new certificate, connections already open keep
// theirs. A certificate that fails to load leaves the old one served.
func (s *Server) Reload() error {
	if s.tls == nil || s.tls.certs == nil {
		s.opts.Log.Info("reload: no certificate files to read again")
		return nil
	}
	return s.tls.certs.load()
}

// sideListeners are the node's listeners besides the API's: the metrics'
// and ACME's plain-HTTP challenges.
type sideListeners []*http.Server

// startSideListeners listens on the side addresses and serves them until
// stop.
func (s *Server) startSideListeners() (sideListeners, error) {
	var side sideListeners
	serve := func(srv *http.Server, what string) error {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			return fmt.Errorf("listen for %s: %w", what, err)
		}
		side = append(side, srv)
		s.opts.Log.Info("listening", "addr", ln.Addr().String(), "for", what)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Log.Error("listener failed", "addr", srv.Addr, "for", what, "err", err)
			}
		}()
		return nil
	}
	if s.opts.MetricsAddr != "" {
		if err := serve(s.metricsServer(), "metrics"); err != nil {
			return nil, err
		}
	}
	if s.tls != nil && s.tls.http01 != nil {
		if err := serve(s.tls.http01, "ACME challenges"); err != nil {
			side.stop()
			return nil, err
		}
	}
	return side, nil
}

// stop closes the side listeners: what they serve is for scrapers and
// CAs, which try again.
func (side sideListeners) stop() {
	for _, srv := range side {
		srv.Close()
	}
}

func (s *Server) close() {
	if s.stopPush != nil {
		s.stopPush() // before the store closes: the worker writes to it
	}
	if s.stopRetention != nil {
		s.stopRetention()
	}
	if s.lock != nil {
		s.lock.Close() // a leader's lock is released at once
	}
	closeBus(s.bus, s.opts.Log)
	if err := s.store.Close(); err != nil {
		s.opts.Log.Error("close store", "err", err)
	}
	s.blobs.Close()
	if s.turn != nil {
		if err := s.turn.Close(); err != nil {
			s.opts.Log.Error("close TURN server", "err", err)
		}
	}
}

func (s *Server) logTryIt(addr net.Addr) {
	if _, err := s.store.Tenant(context.Background(), config.DemoTenant); err != nil {
		return
	}
	port := "8080"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	s.opts.Log.Info("demo agent login: POST /agent/api/v1/login", "tenant", config.DemoTenant,
		"username", config.DemoAgent, "password", config.DemoPassword)
	s.opts.Log.Info("try the demo: curl -s -X POST 'http://localhost:" + port +
		"/clientweb/api/v2/chats?tenantUrl=" + config.DemoTenant + "' -H 'Authorization: " +
		clientweb.Scheme + " appId=" + config.DemoApp + ", clientId=my-first-client' -d '{}'")
}
