package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"github.com/parley-chat/parley/natsbus/natstest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestACMEFlagsBuildTheManager checks what --acme-* make of a node without
// reaching a CA: the manager accepts only the configured names, keeps its
// cache in the data directory, and the TLS config offers HTTP/2 and the
// TLS-ALPN-01 challenge.
func TestACMEFlagsBuildTheManager(t *testing.T) {
	data := t.TempDir()
	srv, err := New(t.Context(), Options{Data: data, Log: quietLog(), TLS: TLSOptions{
		ACMEDomains: []string{" Chat.Example.com ", "", "www.example.com"}, ACMEEmail: "ops@example.com",
		ACMEHTTPAddr: ":80", ACMEDirectory: "https://acme-staging-v02.api.letsencrypt.org/directory",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	m := srv.tls.acme
	if m == nil || srv.tls.certs != nil {
		t.Fatalf("tls = %+v, want an ACME manager and no certificate files", srv.tls)
	}
	for host, ok := range map[string]bool{"chat.example.com": true, "www.example.com": true, "example.com": false, "evil.example.net": false} {
		if err := m.HostPolicy(t.Context(), host); (err == nil) != ok {
			t.Errorf("HostPolicy(%q) = %v, want allowed %v", host, err, ok)
		}
	}
	if m.Email != "ops@example.com" || m.Client == nil || m.Client.DirectoryURL != "https://acme-staging-v02.api.letsencrypt.org/directory" {
		t.Errorf("manager email %q, client %+v", m.Email, m.Client)
	}
	if cache, ok := m.Cache.(autocert.DirCache); !ok || string(cache) != filepath.Join(data, "acme") {
		t.Errorf("cache = %#v, want the acme directory in the data directory", m.Cache)
	}
	if st, err := os.Stat(filepath.Join(data, "acme")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v; want it private", st, err)
	}
	if protos := srv.http.TLSConfig.NextProtos; !slices.Contains(protos, "h2") || !slices.Contains(protos, "acme-tls/1") {
		t.Errorf("NextProtos = %q, want h2 and acme-tls/1", protos)
	}
	if srv.tls.http01 == nil || srv.tls.http01.Addr != ":80" {
		t.Errorf("no HTTP-01 listener on :80")
	}
	if err := srv.Reload(); err != nil {
		t.Errorf("Reload of an ACME node: %v", err)
	}
}

func TestDefaultACMEDirectoryIsLetsEncrypt(t *testing.T) {
	m, err := newACME(TLSOptions{ACMEDomains: []string{"chat.example.com"}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m.Client != nil {
		t.Errorf("client = %+v, want the default (Let's Encrypt production)", m.Client)
	}
}

// TestBusMetricsOnNATS scrapes a node on a NATS bus: the bus answers its
// round trip and has dropped nothing.
func TestBusMetricsOnNATS(t *testing.T) {
	url := natstest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Options{Data: t.TempDir(), Bus: url, Log: quietLog()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"\nparley_bus_up 1\n", "\nparley_bus_rtt_seconds ", "\nparley_bus_dropped_total 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
