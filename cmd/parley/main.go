// Command parley is the Parley contact-center messaging server.
//
//	parley serve     run a node (embedded SQLite store by default)
//	parley loadgen   simulated customers and agents against a server
//	parley backup    copy the embedded store and local files of a data directory, online
//	parley restore   bring a backup back into an empty data directory
//	parley admin     manage tenants, entries and agents over the admin API
//	parley config    apply a configuration file over the admin API
//	parley version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parley-chat/parley/loadgen"
	"github.com/parley-chat/parley/rtc"
	"github.com/parley-chat/parley/server"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "loadgen":
		err = loadgen.Main(os.Args[2:])
	case "backup":
		err = backupCmd(os.Args[2:])
	case "restore":
		err = restoreCmd(os.Args[2:])
	case "admin":
		err = adminCmd(os.Args[2:])
	case "config":
		err = configCmd(os.Args[2:])
	case "version":
		fmt.Print(versionText())
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "parley: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: parley <command> [flags]

commands:
  serve     run a Parley node
  loadgen   simulated customers and agents against a server (parley loadgen -h)
  backup    copy the embedded store and local files of a data directory, online
  restore   bring a backup back into an empty data directory
  admin     manage tenants, entries, agents and admin tokens (parley admin -h)
  config    apply a configuration file to a running server (parley config apply -h)
  version   print the version and how the binary was built
`)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", env("PARLEY_ADDR", ":8080"), "listen address (PARLEY_ADDR)")
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	// The store's, the bus's and the files' defaults are read from the
	// environment after parsing, so that -h does not show credentials
	// they may hold.
	storeURL := fs.String("store", "", "PostgreSQL URL (postgres://…) of a store shared by several nodes; default the SQLite file in --data (PARLEY_STORE)")
	busURL := fs.String("bus", "", "NATS URL (nats://…) of a bus shared by several nodes; default in-process (PARLEY_BUS)")
	filesURL := fs.String("files", "", "where uploaded files are kept: nats (a JetStream object store on the --bus server) or a nats:// URL, with ?bucket=&replicas=; default --data/files (PARLEY_FILES)")
	pollTimeout := fs.Duration("poll-timeout", envDuration("PARLEY_POLL_TIMEOUT", 10*time.Second), "how long an idle poll is held (PARLEY_POLL_TIMEOUT)")
	configFile := fs.String("config", env("PARLEY_CONFIG", ""), "YAML file with tenants and entries (PARLEY_CONFIG)")
	offerTimeout := fs.Duration("offer-timeout", envDuration("PARLEY_OFFER_TIMEOUT", 30*time.Second), "how long an agent has to accept a chat (PARLEY_OFFER_TIMEOUT)")
	logLevel := fs.String("log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	pushGrace := fs.Duration("push-grace", envDuration("PARLEY_PUSH_GRACE", 10*time.Second), "how long an event waits for the app's poll before its device is pushed (PARLEY_PUSH_GRACE)")
	turnAddr := fs.String("turn-addr", env("PARLEY_TURN_ADDR", ""), "UDP address of the embedded TURN/STUN server, e.g. :3478; none if empty (PARLEY_TURN_ADDR)")
	turnIP := fs.String("turn-public-ip", env("PARLEY_TURN_PUBLIC_IP", ""), "IPv4 address callers reach the TURN server and its relays at; default the --turn-addr IP (PARLEY_TURN_PUBLIC_IP)")
	turnRealm := fs.String("turn-realm", env("PARLEY_TURN_REALM", rtc.DefaultRealm), "realm of the embedded TURN server (PARLEY_TURN_REALM)")
	// The secret's default is not shown by -h: it is read from the
	// environment after parsing.
	turnSecret := fs.String("turn-secret", "", "shared secret of TURN credentials, as coturn's static-auth-secret; better given as PARLEY_TURN_SECRET")
	ops := addOpsFlags(fs)
	limits := addLimitFlags(fs)
	pprofAddr := fs.String("pprof-addr", env("PARLEY_PPROF_ADDR", ""), "serve net/http/pprof on this address, e.g. 127.0.0.1:6060; none if empty (PARLEY_PPROF_ADDR)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // -h asked for the flags, which Parse printed
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// A flag given after a stray word would be silently dropped.
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if *turnSecret == "" {
		*turnSecret = os.Getenv("PARLEY_TURN_SECRET")
	}
	if *storeURL == "" {
		*storeURL = os.Getenv("PARLEY_STORE")
	}
	if *busURL == "" {
		*busURL = os.Getenv("PARLEY_BUS")
	}
	if *filesURL == "" {
		*filesURL = os.Getenv("PARLEY_FILES")
	}
	if *turnAddr != "" && *turnSecret == "" {
		return errors.New("--turn-addr needs a secret: set PARLEY_TURN_SECRET (or --turn-secret)")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log, err := ops.logger(os.Stderr, level)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	startReload, stopReload := reloadOnHangup(log)
	defer stopReload()
	if *pprofAddr != "" {
		if err := servePprof(ctx, *pprofAddr, log); err != nil {
			return err
		}
	}
	opts := server.Options{
		Addr: *addr, Data: *data, Store: *storeURL, Bus: *busURL, Files: *filesURL, PollTimeout: *pollTimeout, ConfigFile: *configFile, OfferTimeout: *offerTimeout, Log: log, PushGrace: *pushGrace,
		TURN: rtc.Config{Addr: *turnAddr, PublicIP: *turnIP, Realm: *turnRealm, Secret: *turnSecret},
	}
	ops.apply(&opts)
	limits.apply(&opts)
	srv, err := server.New(ctx, opts)
	if err != nil {
		return err
	}
	startReload(srv)
	return srv.ListenAndServe(ctx)
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: %s: %v\n", key, err)
		os.Exit(2)
	}
	return d
}
