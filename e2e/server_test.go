// Package e2e runs the real parley binary and talks to it over HTTP, as a
// customer's app and an operator do: the binary is built once, each test
// starts its own server on a free loopback port with its own data directory,
// and stops it with SIGTERM as a process manager would.
package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/logbuf"
)

// Timings of the suite. The poll timeout is short so that an idle poll never
// holds a test for long, and far longer than any prompt answer we measure.
const (
	pollTimeout  = 2 * time.Second
	startTimeout = 20 * time.Second // a loaded machine starts slowly
	stopTimeout  = 10 * time.Second // SIGTERM to exit, before we kill
	testTimeout  = 30 * time.Second // bounds every client call of a test
)

// binary is the parley executable built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds the binary, runs the tests and removes the binary.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "parley-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "parley")
	if err := build(binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// build compiles ./cmd/parley of this module into out.
func build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "build", "-o", out, "./cmd/parley")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/parley: %w\n%s", err, msg)
	}
	return nil
}

// server is one running `parley serve` process.
type server struct {
	URL  string // http://127.0.0.1:<port> (https:// when it serves TLS)
	Addr string // 127.0.0.1:<port>
	Data string // its data directory
	// acme is set for a server that gets its certificates from an ACME CA:
	// it has none to answer /readyz with in a test.
	acme bool

	cmd    *exec.Cmd
	stderr *logbuf.Buffer
	exited chan struct{} // closed once the process has exited
}

// startServer starts `parley serve` on a free loopback port, by default
// with a fresh data directory, a 2 s poll timeout and text logs; args add flags or
// replace those (--data <dir> restarts on an existing directory, --addr on
// a given address). It returns
// once the server is listening and /readyz answers 200. The server is
// stopped with SIGTERM when the test ends, and its log shows if the test
// failed.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	if lastFlag(args, "--data") == "" {
		args = append([]string{"--data", t.TempDir()}, args...)
	}
	if lastFlag(args, "--poll-timeout") == "" {
		args = append([]string{"--poll-timeout", pollTimeout.String()}, args...)
	}
	if lastFlag(args, "--log-format") == "" {
		args = append([]string{"--log-format", "text"}, args...)
	}
	for attempt := 1; ; attempt++ {
		s, err := tryStart(t, args)
		if err == nil {
			return s
		}
		// Another process may take the port between our probe and the
		// server's listen; any other failure is the server's.
		if !strings.Contains(err.Error(), "address already in use") || attempt == 3 {
			t.Fatalf("start parley: %v", err)
		}
	}
}

func tryStart(t *testing.T, args []string) (*server, error) {
	t.Helper()
	addr := lastFlag(args, "--addr") // a node restarted where it was
	if addr == "" {
		addr = freeAddr(t)
	}
	all := append([]string{"serve", "--addr", addr}, args...)
	scheme := "http"
	if lastFlag(args, "--tls-cert") != "" || lastFlag(args, "--acme-domain") != "" {
		scheme = "https"
	}
	s := &server{
		URL: scheme + "://" + addr, Addr: addr, Data: lastFlag(args, "--data"),
		acme:   lastFlag(args, "--acme-domain") != "",
		cmd:    exec.Command(binary, all...),
		stderr: &logbuf.Buffer{},
		exited: make(chan struct{}),
	}
	s.cmd.Env = environWithoutParley()
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		if !s.hasExited() {
			s.signal(t, syscall.SIGTERM)
			s.wait(t)
		}
		if t.Failed() {
			t.Logf("parley %s (exit code %d) logged:\n%s", strings.Join(all, " "), s.cmd.ProcessState.ExitCode(), shortLog(t, s.log()))
		}
	})
	if err := s.waitReady(); err != nil {
		return nil, err
	}
	return s, nil
}

// waitReady waits until the process logs that it listens on its address and
// /readyz answers 200, failing early if it exits. Checking the log makes
// sure the answer comes from this process, not from another that holds the
// port.
func (s *server) waitReady() error {
	// The probe only asks whether the server answers; the TLS tests check
	// its certificate themselves.
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	defer hc.CloseIdleConnections()
	// The line of either log format.
	listening := []string{"msg=listening addr=" + s.Addr + " ", `"msg":"listening","addr":"` + s.Addr + `"`}
	err := waitFor(startTimeout, func() (bool, error) {
		if s.hasExited() {
			return false, fmt.Errorf("parley exited with code %d before it was ready:\n%s", s.cmd.ProcessState.ExitCode(), s.stderr)
		}
		if log := s.stderr.String(); !strings.Contains(log, listening[0]) && !strings.Contains(log, listening[1]) {
			return false, nil
		}
		if s.acme {
			return true, nil
		}
		resp, err := hc.Get(s.URL + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		s.cmd.Process.Kill()
		<-s.exited
	}
	return err
}

// signal sends sig to the server process.
func (s *server) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("signal parley: %v", err)
	}
}

// wait waits for the process to exit, kills it when it does not within
// stopTimeout, and returns its exit code (-1 when killed).
func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		t.Errorf("parley did not exit within %v; killing it", stopTimeout)
		s.cmd.Process.Kill()
		<-s.exited
	}
	return s.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.signal(t, syscall.SIGTERM)
	return s.wait(t)
}

func (s *server) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// log returns what the server has logged so far.
func (s *server) log() string { return s.stderr.String() }

// client returns a customer's client of the server.
func (s *server) client(t *testing.T, tenant, appID, clientID string) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, client.WithTenant(tenant), client.WithAppID(appID), client.WithClientID(clientID))
	if err != nil {
		t.Fatalf("client.New(%q): %v", s.URL, err)
	}
	return c
}

// demoClient returns a client of the demo tenant seeded on first start.
func (s *server) demoClient(t *testing.T, clientID string) *client.Client {
	t.Helper()
	return s.client(t, config.DemoTenant, config.DemoApp, clientID)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// maxLogLines is how much of a server's log a failed test shows whole.
const maxLogLines = 500

// shortLog returns a server's log for a failed test's output. A long one
// (a load test's access lines) is kept whole in a file, and shown without
// its access lines of answered requests.
func shortLog(t *testing.T, log string) string {
	t.Helper()
	lines := strings.SplitAfter(log, "\n")
	if len(lines) <= maxLogLines {
		return log
	}
	f, err := os.CreateTemp("", "parley-e2e-*.log")
	if err == nil {
		_, err = f.WriteString(log)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "(the whole log could not be kept: %v)\n", err)
	} else {
		fmt.Fprintf(&b, "(%d lines, kept whole in %s; access lines of answers below 500 left out)\n", len(lines), f.Name())
	}
	for _, l := range lines {
		access := strings.Contains(l, "msg=request ") || strings.Contains(l, `"msg":"request"`)
		if !access || strings.Contains(l, "status=5") || strings.Contains(l, `"status":5`) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// lastFlag returns the value of the last --name in args, in either form.
func lastFlag(args []string, name string) string {
	v := ""
	for i, a := range args {
		if a == name && i+1 < len(args) {
			v = args[i+1]
		} else if strings.HasPrefix(a, name+"=") {
			v = strings.TrimPrefix(a, name+"=")
		}
	}
	return v
}

// environWithoutParley is the test's environment without PARLEY_*
// settings, so that a developer's shell cannot change what a test runs.
func environWithoutParley() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitFor checks cond every few milliseconds until it holds, returns an
// error, or timeout passes.
func waitFor(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %v", timeout)
		}
		<-tick.C
	}
}

// testContext bounds the client calls of a test.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
