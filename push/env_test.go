package push

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/memory"
	"github.com/parley-chat/parley/sqlite"
)

const (
	tenant    = "push.parley.test"
	tokenApp  = "ios-token" // APNs token auth and FCM
	certApp   = "ios-cert"  // APNs certificate auth
	entryName = "ACME Support"
	agentName = "Alice Archer"
	agentPty  = "party-alice"
	// apnsToken is a device token as apps send it: 64 hex digits.
	apnsToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	fcmToken  = "fcm:APA91bH-test_token"
)

// env is a chat service on a real SQLite store with a Notifier whose
// services are local HTTP/2 fakes of APNs and FCM.
type env struct {
	t     *testing.T
	path  string
	store *sqlite.Store
	svc   *chat.Service
	n     *Notifier
	stop  func() // stops the worker and waits for it
	apns  *fakeAPNs
	cert  *fakeAPNs // the APNs of certificate auth
	fcm   *fakeFCM
	opts  Options
}

// fastOptions make retries and the grace period short for tests.
func fastOptions() Options {
	return Options{Grace: 20 * time.Millisecond, BackoffBase: 5 * time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Poll: 50 * time.Millisecond, Timeout: 5 * time.Second}
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "parley.db"),
		apns: newFakeAPNs(t, false), cert: newFakeAPNs(t, true), fcm: newFakeFCM(t)}
	o.RootCAs = roots(e.apns.srv, e.cert.srv, e.fcm.srv)
	e.opts = o
	e.open(true)
	ctx := t.Context()
	if err := e.store.PutTenant(ctx, chat.Tenant{Host: tenant, Name: "ACME"}); err != nil {
		t.Fatal(err)
	}
	entries := []chat.Entry{
		{AppID: tokenApp, Name: entryName, Push: chat.PushConfig{
			APNs: &chat.APNsConfig{KeyID: testKeyID, TeamID: testTeamID, KeyPEM: creds().apnsKeyPEM, Endpoint: e.apns.srv.URL},
			FCM:  &chat.FCMConfig{ServiceAccount: e.fcm.serviceAccount(), Endpoint: e.fcm.srv.URL},
		}},
		{AppID: certApp, Name: entryName, Push: chat.PushConfig{
			APNs: &chat.APNsConfig{CertPEM: creds().certPEM, KeyPEM: creds().certKeyPEM, Endpoint: e.cert.srv.URL},
		}},
	}
	for _, en := range entries {
		if err := Validate(en.Push); err != nil {
			t.Fatalf("test credentials: %v", err)
		}
		if err := e.store.PutEntry(ctx, tenant, en); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(e.close)
	return e
}

// open opens the store and starts a notifier on it, with its worker if run.
func (e *env) open(run bool) {
	st, err := sqlite.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	e.store = st
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(tWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.svc = chat.NewService(st, memory.New(), log)
	e.n = New(e.svc, st, log, e.opts)
	if !run {
		e.stop = func() {}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	e.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
	})
}

// close stops the worker, then closes the store.
func (e *env) close() {
	if e.store == nil {
		return
	}
	e.stop()
	if err := e.store.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.store = nil
}

// reopen closes the node and opens a new one on the same database.
func (e *env) reopen(run bool) {
	e.close()
	e.open(run)
}

// chatWith starts a chat on the entry, subscribes it and has the agent join.
func (e *env) chatWith(appID string, sub chat.PushToken) chat.Session {
	e.t.Helper()
	ctx := e.t.Context()
	en, err := e.svc.Resolve(ctx, tenant, appID)
	if err != nil {
		e.t.Fatal(err)
	}
	k := chat.ClientKey{Tenant: tenant, AppID: appID, ClientID: chat.NewID()}
	sess, _, err := e.svc.RequestChat(ctx, k, &en, chat.ChatRequest{})
	if err != nil {
		e.t.Fatal(err)
	}
	if sub.Kind != "" {
		if err := e.svc.Subscribe(ctx, &sess, &en, sub); err != nil {
			e.t.Fatal(err)
		}
	}
	agent := &chat.Agent{ID: "agent-1", FirstName: "Alice", LastName: "Archer", DisplayName: agentName}
	if err := e.svc.Join(ctx, sess.ID, agentPty, agent); err != nil {
		e.t.Fatal(err)
	}
	return e.session(sess.ID)
}

// say has the agent send a message and returns its sequence number.
func (e *env) say(sess chat.Session, text string) int64 {
	e.t.Helper()
	stored, err := e.svc.AgentSend(e.t.Context(), &sess, agentPty,
		[]chat.Event{{Type: chat.TypeMessage, Payload: chat.Payload{Msg: text, MsgText: text}}})
	if err != nil || len(stored) != 1 {
		e.t.Fatalf("AgentSend: %v (%d stored)", err, len(stored))
	}
	return stored[0].Seq
}

func (e *env) session(id string) chat.Session {
	e.t.Helper()
	s, err := e.store.Session(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// settled waits until every queued row has been sent, skipped, dropped or
// given up (counted once its row is settled in the store).
func (e *env) settled() {
	e.t.Helper()
	eventually(e.t, "the outbox to settle", func() bool {
		c := e.n.Stats().Snapshot()
		return c.Queued > 0 && c.Sent+c.Skipped+c.Failed+c.Dropped >= c.Queued
	})
}

// wantCounts checks the counters.
func (e *env) wantCounts(want Counts) {
	e.t.Helper()
	if got := e.n.Stats().Snapshot(); got != want {
		e.t.Errorf("counters = %+v, want %+v", got, want)
	}
}

// tWriter sends log lines to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
