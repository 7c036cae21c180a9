// Package testserver starts a whole Parley node in the test's process, on a
// loopback port and a temporary data directory, for tests that need the
// real HTTP surface (browser tests, client tests).
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/parley-chat/parley/rtc"
	"github.com/parley-chat/parley/server"
)

// Options change the node a test starts.
type Options struct {
	PollTimeout  time.Duration // default 2 s
	OfferTimeout time.Duration // default 30 s
	ConfigFile   string
	TURN         rtc.Config // the embedded TURN server; none by default
	Log          io.Writer  // default: discarded
}

// Start runs a node until the test ends and returns its base URL
// ("http://127.0.0.1:port"). The demo tenant and agent are seeded.
func Start(t testing.TB, o Options) string {
	t.Helper()
	if o.PollTimeout == 0 {
		o.PollTimeout = 2 * time.Second
	}
	logOut := o.Log
	if logOut == nil {
		logOut = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Options{
		Data: t.TempDir(), PollTimeout: o.PollTimeout, OfferTimeout: o.OfferTimeout,
		ConfigFile: o.ConfigFile, Log: slog.New(slog.NewTextHandler(logOut, nil)), TURN: o.TURN,
	})
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
