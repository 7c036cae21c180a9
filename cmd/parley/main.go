// Command parley is the Parley contact-center messaging server.
//
//	parley serve     run a node (embedded SQLite store by default)
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
	case "version":
		fmt.Println("parley", server.Version)
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
  version   print the version
`)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", env("PARLEY_ADDR", ":8080"), "listen address (PARLEY_ADDR)")
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	pollTimeout := fs.Duration("poll-timeout", envDuration("PARLEY_POLL_TIMEOUT", 10*time.Second), "how long an idle poll is held (PARLEY_POLL_TIMEOUT)")
	configFile := fs.String("config", env("PARLEY_CONFIG", ""), "YAML file with tenants and entries (PARLEY_CONFIG)")
	offerTimeout := fs.Duration("offer-timeout", envDuration("PARLEY_OFFER_TIMEOUT", 30*time.Second), "how long an agent has to accept a chat (PARLEY_OFFER_TIMEOUT)")
	logLevel := fs.String("log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // -h asked for the flags, which Parse printed
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// A flag given after a stray word would be silently dropped.
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := server.New(ctx, server.Options{
		Addr: *addr, Data: *data, PollTimeout: *pollTimeout, ConfigFile: *configFile, OfferTimeout: *offerTimeout, Log: log,
	})
	if err != nil {
		return err
	}
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
