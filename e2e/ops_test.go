package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
	_ "github.com/parley-chat/parley/sqlite" // the database/sql driver, to age a store
)

// testCA issues the certificates of the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Parley test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a certificate for 127.0.0.1 and localhost with the given
// serial number, and its key, to certFile and keyFile, replacing them
// whole as a certificate manager would.
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	replaceFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsClient is an HTTPS client that trusts ca, speaking HTTP/2 when h2 is
// set and HTTP/1.1 only otherwise.
func tlsClient(t *testing.T, ca *testCA, h2 bool) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: h2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

// get fetches path and returns the answer with its body read.
func get(t *testing.T, hc *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func servedSerial(resp *http.Response) int64 {
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return 0
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// TestTLS serves HTTPS from certificate files: HTTP/2 for clients that
// offer it, HTTP/1.1 for the others, the customer API over HTTP/2, and a
// SIGHUP that swaps the certificate for new connections without dropping
// the ones open (a held poll among them).
func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, 1001, certFile, keyFile)
	srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %s, want https", srv.URL)
	}

	h2 := tlsClient(t, ca, true)
	resp, body := get(t, h2, srv.URL+"/healthz")
	if resp.StatusCode != 200 || body != "ok\n" || resp.ProtoMajor != 2 {
		t.Fatalf("GET /healthz over TLS = %d %q in %s, want 200 ok in HTTP/2", resp.StatusCode, body, resp.Proto)
	}
	if got := servedSerial(resp); got != 1001 {
		t.Errorf("served certificate serial %d, want 1001", got)
	}
	resp, _ = get(t, tlsClient(t, ca, false), srv.URL+"/healthz")
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
		t.Errorf("GET /healthz from an HTTP/1.1 client = %d in %s, want 200 in HTTP/1.1", resp.StatusCode, resp.Proto)
	}
	if resp, _ := get(t, &http.Client{Timeout: 5 * time.Second}, "http://"+srv.Addr+"/healthz"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP on the TLS port = %d, want 400", resp.StatusCode)
	}

	// A customer's chat over HTTP/2.
	ctx := testContext(t)
	alice, err := client.New(srv.URL, client.WithTenant(config.DemoTenant), client.WithAppID(config.DemoApp),
		client.WithClientID("tls-alice"), client.WithHTTPClient(h2))
	if err != nil {
		t.Fatal(err)
	}
	info, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatalf("RequestChat over HTTP/2: %v", err)
	}
	if err := alice.SendEvents(ctx, info.ChatID, client.Message("m-1", "hello over h2")); err != nil {
		t.Fatalf("SendEvents over HTTP/2: %v", err)
	}
	if evs, err := alice.Poll(ctx, info.ChatID); err != nil || len(evs) == 0 {
		t.Fatalf("Poll over HTTP/2 = %d events, %v", len(evs), err)
	}

	// A poll is held on the open connection while the certificate changes.
	held := make(chan error, 1)
	go func() {
		_, err := alice.Poll(ctx, info.ChatID)
		held <- err
	}()
	ca.issue(t, 1002, certFile, keyFile)
	srv.signal(t, syscall.SIGHUP)
	if err := waitFor(waitTimeout, func() (bool, error) {
		return strings.Count(srv.log(), "TLS certificate loaded") == 2, nil
	}); err != nil {
		t.Fatalf("the certificate was not reloaded on SIGHUP: %v\n%s", err, srv.log())
	}
	if err := <-held; err != nil {
		t.Errorf("a poll held across the reload failed: %v", err)
	}
	resp, _ = get(t, h2, srv.URL+"/healthz")
	if got := servedSerial(resp); got != 1001 || resp.StatusCode != 200 {
		t.Errorf("the open connection answered %d with certificate %d, want 200 on the connection of certificate 1001", resp.StatusCode, got)
	}
	resp, _ = get(t, tlsClient(t, ca, true), srv.URL+"/healthz")
	if got := servedSerial(resp); got != 1002 {
		t.Errorf("a new connection got certificate %d after SIGHUP, want 1002", got)
	}

	// A broken certificate file is refused; the last good one is served.
	replaceFile(t, certFile, []byte("not a certificate"))
	srv.signal(t, syscall.SIGHUP)
	if err := waitFor(waitTimeout, func() (bool, error) { return strings.Contains(srv.log(), "reload failed"), nil }); err != nil {
		t.Fatalf("a broken certificate was not reported: %v\n%s", err, srv.log())
	}
	resp, _ = get(t, tlsClient(t, ca, true), srv.URL+"/healthz")
	if got := servedSerial(resp); got != 1002 || resp.StatusCode != 200 {
		t.Errorf("after a failed reload a new connection got %d with certificate %d, want 200 with 1002", resp.StatusCode, got)
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("parley exited %d, want 0", code)
	}
}

// TestTLSFlagsAreChecked refuses half a TLS configuration.
func TestTLSFlagsAreChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newTestCA(t).issue(t, 1, certFile, keyFile)
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"a certificate without its key", []string{"--tls-cert", certFile}, "both the certificate and the key"},
		{"a key that is not there", []string{"--tls-cert", certFile, "--tls-key", filepath.Join(dir, "missing.pem")}, "missing.pem"},
		{"files and ACME at once", []string{"--tls-cert", certFile, "--tls-key", keyFile, "--acme-domain", "chat.example.com"}, "not both"},
		{"a bad proxy list", []string{"--trusted-proxies", "10.0.0.0/99"}, "trusted proxy"},
		{"an unknown log format", []string{"--log-format", "xml"}, "--log-format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, tc.args...)
			got := runParley(t, args...)
			if got.code != 1 || !strings.Contains(got.stderr, tc.says) {
				t.Errorf("parley %s exited %d, said:\n%s\nwant 1 and %q", strings.Join(tc.args, " "), got.code, got.stderr, tc.says)
			}
		})
	}
}

// TestACME starts a node that would get its certificates from an ACME CA,
// without ever reaching one: the challenge listener answers and redirects,
// names outside --acme-domain are refused at the handshake, and the
// account cache lives in the data directory.
func TestACME(t *testing.T) {
	t.Parallel()
	challenges := freeAddr(t)
	srv := startServer(t, "--acme-domain", "chat.example.com", "--acme-email", "ops@example.com",
		"--acme-http-addr", challenges, "--acme-directory", "http://127.0.0.1:1/directory")
	if err := waitFor(waitTimeout, func() (bool, error) {
		return strings.Contains(srv.log(), "for=\"ACME challenges\""), nil
	}); err != nil {
		t.Fatalf("no ACME challenge listener: %v\n%s", err, srv.log())
	}
	if st, err := os.Stat(filepath.Join(srv.Data, "acme")); err != nil || !st.IsDir() {
		t.Errorf("no ACME cache in the data directory: %v", err)
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	for _, tc := range []struct {
		name, host, path string
		code             int
		location         string
	}{
		{"an unknown challenge token", "chat.example.com", "/.well-known/acme-challenge/unknown-token", http.StatusNotFound, ""},
		{"a challenge for a name outside --acme-domain", "other.example.net", "/.well-known/acme-challenge/unknown-token", http.StatusForbidden, ""},
		{"plain HTTP is sent to https", "chat.example.com", "/agent/", http.StatusFound, "https://chat.example.com/agent/"},
	} {
		req, _ := http.NewRequestWithContext(testContext(t), "GET", "http://"+challenges+tc.path, nil)
		req.Host = tc.host
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != tc.code || loc != tc.location {
			t.Errorf("%s: GET %s (Host %s) = %d to %q, want %d to %q", tc.name, tc.path, tc.host, resp.StatusCode, loc, tc.code, tc.location)
		}
	}
	conn, err := tls.Dial("tcp", srv.Addr, &tls.Config{ServerName: "not-ours.example.net", InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Error("a handshake for a name outside --acme-domain succeeded")
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("parley exited %d, want 0", code)
	}
}

// TestMetrics checks /metrics after some traffic: every family the
// operations guide and the Grafana dashboard use is there.
func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testContext(t)
	alice := srv.demoClient(t, "metrics-alice")
	info, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.SendEvents(ctx, info.ChatID, client.Message("m-1", "hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Poll(ctx, info.ChatID); err != nil {
		t.Fatal(err)
	}
	agent := newAgentClient(t, srv)
	if _, err := agent.Login(ctx, config.DemoTenant, config.DemoAgent, config.DemoPassword); err != nil {
		t.Fatal(err)
	}
	waiting := startWaitingPoll(ctx, t, alice, info.ChatID)

	resp, body := get(t, &http.Client{Timeout: testTimeout}, srv.URL+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`parley_http_requests_total{code="200",method="POST",route="POST /clientweb/api/v2/chats"} 1`,
		`parley_http_requests_total{code="200",method="POST",route="POST /agent/api/v1/login"} 1`,
		`parley_http_request_duration_seconds_bucket{route="GET /clientweb/api/v2/chats/{chatId}/events",le="+Inf"}`,
		`parley_http_requests_in_flight `,
		`parley_polls_pending 1`,
		`parley_chats_live{state="queued"} 1`,
		`parley_chats_live{state="assigned"} 0`,
		`parley_queue_waiting_chats{queue="` + config.DemoApp + `",tenant="` + config.DemoTenant + `"} 1`,
		`parley_queue_oldest_wait_seconds{queue="` + config.DemoApp + `",tenant="` + config.DemoTenant + `"}`,
		`parley_queue_handle_time_seconds{`,
		`parley_agents{state="not_ready"} 1`,
		`parley_agents{state="ready"} 0`,
		`parley_store_write_duration_seconds_count{op="append"}`,
		`parley_store_write_duration_seconds_count{op="create"} 1`,
		`parley_push_notifications_total{outcome="sent"} 0`,
		`parley_build_info{`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	if strings.Contains(body, "parley_bus_") {
		t.Error("the in-process bus reports bus metrics")
	}
	// Every parley_* family the dashboard and the guide name is served
	// (the bus's only on a NATS bus, which server/ops_test.go scrapes).
	for _, doc := range []string{"docs/grafana-dashboard.json", "docs/operations.md"} {
		text, err := os.ReadFile(filepath.Join(moduleRoot(t), doc))
		if err != nil {
			t.Fatal(err)
		}
		names := regexp.MustCompile("`parley_[a-z_]+|[({]parley_[a-z_]+").FindAllString(string(text), -1)
		if len(names) < 10 {
			t.Errorf("%s names only %d metrics", doc, len(names))
		}
		for _, name := range names {
			name = strings.TrimLeft(name, "`({")
			family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
			if strings.HasPrefix(family, "parley_bus_") || strings.HasSuffix(family, "_") {
				continue
			}
			if !strings.Contains(body, "\n# TYPE "+family+" ") {
				t.Errorf("%s names %s, which /metrics does not serve", doc, name)
			}
		}
	}
	srv.stop(t)
	<-waiting
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(dir) // the tests run in e2e/
}

// TestMetricsOnTheirOwnAddress keeps /metrics off the public listener.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	srv := startServer(t, "--metrics-addr", metricsAddr)
	hc := &http.Client{Timeout: testTimeout}
	if resp, _ := get(t, hc, srv.URL+"/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on --addr = %d, want 404", resp.StatusCode)
	}
	var body string
	if err := waitFor(waitTimeout, func() (bool, error) {
		resp, err := hc.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200, nil
	}); err != nil {
		t.Fatalf("/metrics on --metrics-addr: %v", err)
	}
	if !strings.Contains(body, "parley_http_requests_total") {
		t.Errorf("/metrics on --metrics-addr lacks the request counts:\n%s", body)
	}
}

// accessLine is a JSON access log line.
type accessLine struct {
	Level     string  `json:"level"`
	Msg       string  `json:"msg"`
	RequestID string  `json:"request_id"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	Route     string  `json:"route"`
	Status    int     `json:"status"`
	ClientIP  string  `json:"client_ip"`
	Duration  float64 `json:"duration_ms"`
}

// accessLines returns the access log lines of a JSON log.
func accessLines(t *testing.T, log string) []accessLine {
	t.Helper()
	var out []accessLine
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var l accessLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a log line is not JSON: %q: %v", sc.Text(), err)
		}
		if l.Msg == "request" {
			out = append(out, l)
		}
	}
	return out
}

// TestRequestIDsAndAccessLog checks the JSON log: a request's id is echoed
// (the caller's, or one made up), every access line names it, polls stay
// out of the info log, and no message text is logged.
func TestRequestIDsAndAccessLog(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--log-format", "json")
	hc := &http.Client{Timeout: testTimeout}
	resp, _ := get(t, hc, srv.URL+"/agent/api/v1/me", "X-Request-Id", "e2e-req-42")
	if got := resp.Header.Get("X-Request-Id"); got != "e2e-req-42" || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /agent/api/v1/me = %d with X-Request-Id %q, want 401 echoing e2e-req-42", resp.StatusCode, got)
	}
	resp, _ = get(t, hc, srv.URL+"/healthz")
	made := resp.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(made) {
		t.Errorf("a request without an id was given %q, want 16 hex digits", made)
	}
	resp, _ = get(t, hc, srv.URL+"/healthz", "X-Request-Id", "bad id with spaces")
	if got := resp.Header.Get("X-Request-Id"); got == "bad id with spaces" || got == "" {
		t.Errorf("an unusable id was echoed as %q, want a new one", got)
	}

	ctx := testContext(t)
	const secret = "my card number is 4111-1111"
	alice := srv.demoClient(t, "log-alice")
	info, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.SendEvents(ctx, info.ChatID, client.Message("m-1", secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Poll(ctx, info.ChatID); err != nil {
		t.Fatal(err)
	}
	var lines []accessLine
	if err := waitFor(waitTimeout, func() (bool, error) {
		lines = accessLines(t, srv.log())
		for _, l := range lines {
			if l.Route == "POST /clientweb/api/v2/chats/{chatId}/events" {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no access line for the sent message: %v\n%s", err, srv.log())
	}
	var me *accessLine
	for i, l := range lines {
		if l.RequestID == "" {
			t.Errorf("access line without a request id: %+v", l)
		}
		if l.Route == "GET /clientweb/api/v2/chats/{chatId}/events" || l.Route == "GET /healthz" {
			t.Errorf("a poll or probe was logged at info: %+v", l)
		}
		if l.RequestID == "e2e-req-42" {
			me = &lines[i]
		}
	}
	if me == nil {
		t.Fatalf("no access line with the caller's request id:\n%s", srv.log())
	}
	if me.Level != "INFO" || me.Method != "GET" || me.Path != "/agent/api/v1/me" || me.Route != "GET /agent/api/v1/me" ||
		me.Status != 401 || me.ClientIP != "127.0.0.1" || me.Duration < 0 {
		t.Errorf("access line = %+v", *me)
	}
	if strings.Contains(srv.log(), secret) {
		t.Errorf("the log holds a customer's message text:\n%s", srv.log())
	}
}

// TestTrustedProxies believes X-Forwarded-For only from --trusted-proxies.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, proxies, want string
	}{
		{"a trusted proxy names the client", "10.0.0.0/8,127.0.0.1", "203.0.113.7"},
		{"anyone else is the client", "10.0.0.0/8", "127.0.0.1"},
		{"no proxies trust nobody", "", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, "--trusted-proxies", tc.proxies)
			get(t, &http.Client{Timeout: testTimeout}, srv.URL+"/agent/api/v1/me",
				"X-Forwarded-For", "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto", "https", "X-Request-Id", "proxied-1")
			want := "request_id=proxied-1"
			if err := waitFor(waitTimeout, func() (bool, error) { return strings.Contains(srv.log(), want), nil }); err != nil {
				t.Fatalf("no access line: %v\n%s", err, srv.log())
			}
			for l := range strings.Lines(srv.log()) {
				if strings.Contains(l, want) && !strings.Contains(l, "client_ip="+tc.want+" ") {
					t.Errorf("access line %q, want client_ip=%s", l, tc.want)
				}
			}
		})
	}
}

// TestAStoreNewerThanTheBinaryIsRefused is the upgrade guard: a binary
// never serves a store a newer one has migrated, since it would misread
// it; going back means restoring a backup taken before the upgrade.
func TestAStoreNewerThanTheBinaryIsRefused(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.stop(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(srv.Data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_the_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got := runParley(t, "serve", "--addr", "127.0.0.1:0", "--data", srv.Data)
	if got.code != 1 || !strings.Contains(got.stderr, "newer than this binary") {
		t.Errorf("serve on a newer store exited %d, said:\n%s\nwant 1 and \"newer than this binary\"", got.code, got.stderr)
	}
}

// TestVersion prints the version and how the binary was built.
func TestVersion(t *testing.T) {
	t.Parallel()
	got := runParley(t, "version")
	if got.code != 0 || !strings.HasPrefix(got.stdout, "parley ") || !strings.Contains(got.stdout, "\ngo:       go1.") ||
		!strings.Contains(got.stdout, "\nrevision: ") || !strings.Contains(got.stdout, "github.com/parley-chat/parley") {
		t.Errorf("parley version exited %d, printed:\n%s", got.code, got.stdout)
	}
}
