package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
)

// TestHealth checks the probes a process manager uses.
func TestHealth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range []struct {
		name, path, body string
	}{
		{"the liveness probe answers ok", "/healthz", "ok\n"},
		{"the readiness probe answers ready once the store answers", "/readyz", "ready\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := hc.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != tc.body {
				t.Errorf("GET %s = %d %q, want 200 %q", tc.path, resp.StatusCode, body, tc.body)
			}
		})
	}
}

// TestGracefulShutdown stops a server under a held poll: the poll must be
// answered at once with no events, the process must exit cleanly, and a
// server restarted on the same data directory must still have the chat.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	// A poll held this long can only come back early because of SIGTERM.
	srv := startServer(t, "--poll-timeout", "30s")
	ctx := testContext(t)
	const clientID = "0b8e4f52-durable"
	alice := srv.demoClient(t, clientID)
	info, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatalf("RequestChat: %v", err)
	}
	picture := pngImage(t)
	upload, err := alice.UploadFile(ctx, "receipt.png", bytes.NewReader(picture))
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	if err := alice.SendEvents(ctx, info.ChatID,
		client.Message("m-1", "are you still there?"),
		client.File("f-1", upload.FileID, "receipt.png", "image"),
	); err != nil {
		t.Fatalf("SendEvents: %v", err)
	}
	if _, err := alice.Poll(ctx, info.ChatID); err != nil { // the opening events
		t.Fatalf("Poll: %v", err)
	}
	before, err := alice.History(ctx, info.ChatID)
	if err != nil {
		t.Fatalf("History: %v", err)
	}

	waiting := startWaitingPoll(ctx, t, alice, info.ChatID)
	signalled := time.Now()
	srv.signal(t, syscall.SIGTERM)
	held := <-waiting
	if held.err != nil || string(held.raw) != `{"events":[]}` {
		t.Errorf("held poll answered %s, %v on SIGTERM; want {\"events\":[]}", held.raw, held.err)
	}
	if took := time.Since(signalled); took > 5*time.Second {
		t.Errorf("held poll answered %v after SIGTERM, want at once", took)
	}
	if code := srv.wait(t); code != 0 {
		t.Errorf("parley exited with code %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(srv.log(), "shutting down") {
		t.Errorf("parley did not log its shutdown:\n%s", srv.log())
	}

	restarted := startServer(t, "--data", srv.Data, "--poll-timeout", "30s")
	alice = restarted.demoClient(t, clientID)
	active, err := alice.ActiveChat(ctx)
	if err != nil || active.ChatID != info.ChatID || active.State != "queued" {
		t.Errorf("ActiveChat after restart = %+v, %v; want chat %s still queued", active, err, info.ChatID)
	}
	after, err := alice.History(ctx, info.ChatID)
	if err != nil {
		t.Fatalf("History after restart: %v", err)
	}
	if !reflect.DeepEqual(rawEvents(after), rawEvents(before)) {
		t.Errorf("history after restart:\n%s\nwant as before:\n%s", rawEvents(after), rawEvents(before))
	}
	if _, ok := findEvent(after, client.EventMessage, "m-1"); !ok {
		t.Errorf("history after restart lost message m-1: %v", eventTypes(after))
	}
	file, err := alice.DownloadFile(ctx, upload.FileID)
	if err != nil || !bytes.Equal(file.Data, picture) {
		t.Errorf("DownloadFile after restart = %d bytes, %v; want the %d bytes uploaded", len(file.Data), err, len(picture))
	}
	again, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil || again.ChatID != info.ChatID || again.IsNewChat {
		t.Errorf("RequestChat after restart = %+v, %v; want chat %s with is_new_chat false", again, err, info.ChatID)
	}

	// What alice was given before the restart is not given again: her
	// next poll holds only what came after.
	if err := alice.SendEvents(ctx, info.ChatID, client.End()); err != nil {
		t.Fatalf("send chat_session_end: %v", err)
	}
	closing, err := alice.Poll(ctx, info.ChatID)
	if want := []client.EventType{client.EventStatus, client.EventEnded}; err != nil || !reflect.DeepEqual(eventTypes(closing), want) {
		t.Errorf("Poll after restart gave %v, %v; want only the closing %v", eventTypes(closing), err, want)
	}
}

// TestRestartKeepsDemoAndDoesNotReseed restarts a server on its data
// directory: the start must succeed, keep the chats, and leave the demo
// entry as the operator last configured it rather than seed it again.
func TestRestartKeepsDemoAndDoesNotReseed(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// The operator changes the demo entry's parameters on the first start.
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, `
tenants:
  - host: demo.parley.local
    name: Parley demo, customised
    entries:
      - app_id: demo-chat
        parameters:
          - {name: phone, type: PHONE}
`)
	first := startServer(t, "--config", cfg)
	if !strings.Contains(first.log(), "seeded the demo tenant") {
		t.Errorf("first start did not seed the demo:\n%s", first.log())
	}
	info, err := first.demoClient(t, "c4e1-restart").RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatalf("RequestChat: %v", err)
	}
	if code := first.stop(t); code != 0 {
		t.Fatalf("first server exited with code %d, want 0", code)
	}

	second := startServer(t, "--data", first.Data)
	if strings.Contains(second.log(), "seeded the demo tenant") {
		t.Errorf("second start seeded the demo again:\n%s", second.log())
	}
	demo := second.demoClient(t, "c4e1-restart")
	params, err := demo.Parameters(ctx)
	if want := []client.Parameter{{Name: "phone", Type: "PHONE"}}; err != nil || !reflect.DeepEqual(params, want) {
		t.Errorf("demo Parameters after restart = %+v, %v; want the operator's %+v", params, err, want)
	}
	active, err := demo.ActiveChat(ctx)
	if err != nil || active.ChatID != info.ChatID {
		t.Errorf("ActiveChat after restart = %+v, %v; want chat %s", active, err, info.ChatID)
	}
	if code := second.stop(t); code != 0 {
		t.Errorf("second server exited with code %d, want 0", code)
	}
}

// rawEvents returns the wire form of each event.
func rawEvents(evs []client.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Raw)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFailedFirstStartStillSeedsTheDemo starts a server on a data directory
// where the first start fails after the store file is created (here: the
// uploads directory cannot be made, as it could not after a crash, a full
// disk or a SIGTERM during start-up). Once the cause is gone, the next start
// must seed the demo the first one never got to.
func TestFailedFirstStartStillSeedsTheDemo(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	blocker := filepath.Join(data, "files")
	writeFile(t, blocker, "a file where the uploads directory belongs")
	first := runParley(t, "serve", "--addr", "127.0.0.1:0", "--data", data)
	if first.code == 0 || !strings.Contains(first.stderr, "files dir") {
		t.Fatalf("first start exited %d, said:\n%s\nwant a failure naming the files dir", first.code, first.stderr)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, "--data", data)
	if _, err := srv.demoClient(t, "e7d2-newcomer").Availability(testContext(t)); err != nil {
		t.Errorf("demo Availability after a failed first start: %v", err)
	}
}

// TestCommandLine checks the parts of the command line that do not serve.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		args        []string
		code        int
		stdout      string // a prefix of what it prints
		stderrHas   []string
		stderrLacks string
	}{
		{
			name: "version prints the server version", args: []string{"version"},
			code: 0, stdout: "parley ",
		},
		{
			name: "serve --help lists every flag and succeeds", args: []string{"serve", "--help"},
			code: 0, stderrHas: []string{"-addr", "-data", "-poll-timeout", "-config", "-log-level", "PARLEY_DATA"},
			stderrLacks: "help requested",
		},
		{
			name: "an unknown command is a usage error", args: []string{"sevre"},
			code: 2, stderrHas: []string{`unknown command "sevre"`, "usage: parley"},
		},
		{
			name: "a stray argument to serve is refused rather than ignored",
			args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "parley.yaml"},
			code: 1, stderrHas: []string{`unexpected argument "parley.yaml"`},
		},
		{
			name: "an unknown log level is refused",
			args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "loud"},
			code: 1, stderrHas: []string{"--log-level"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runParley(t, tc.args...)
			if got.code != tc.code {
				t.Errorf("parley %s exited %d, want %d; it said:\n%s", strings.Join(tc.args, " "), got.code, tc.code, got.stderr)
			}
			if !strings.HasPrefix(got.stdout, tc.stdout) {
				t.Errorf("parley %s printed %q, want it to start with %q", strings.Join(tc.args, " "), got.stdout, tc.stdout)
			}
			for _, w := range tc.stderrHas {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("parley %s said:\n%s\nwant it to name %q", strings.Join(tc.args, " "), got.stderr, w)
				}
			}
			if tc.stderrLacks != "" && strings.Contains(got.stderr, tc.stderrLacks) {
				t.Errorf("parley %s said:\n%s\nwant no %q", strings.Join(tc.args, " "), got.stderr, tc.stderrLacks)
			}
		})
	}
}
