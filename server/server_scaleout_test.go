package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// scaleOutPoll is the nodes' poll hold: far longer than any wake-up takes,
// so that a poll answered early was woken, not timed out.
const scaleOutPoll = 20 * time.Second

// node is one Parley node of a test, serving on a loopback port.
type node struct {
	srv *Server
	url string
}

// startNodes starts n nodes at once on one PostgreSQL schema and one NATS
// server, each with its own data directory, as a deployment's nodes start
// together: they migrate and seed the shared store between them. They stop
// when the test ends. Each of tune, if any, changes every node's options.
func startNodes(t *testing.T, n int, dsn, natsURL string, tune ...func(*Options)) []node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nodes := make([]node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			o := Options{
				Data: t.TempDir(), Store: dsn, Bus: natsURL, PollTimeout: scaleOutPoll,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			for _, f := range tune {
				f(&o)
			}
			srv, err := New(ctx, o)
			if err != nil {
				errs[i] = err
				return
			}
			nodes[i].srv = srv
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		cancel()
		for _, nd := range nodes {
			if nd.srv != nil {
				nd.srv.close()
			}
		}
		t.Fatalf("start nodes: %v", err)
	}
	done := make(chan error, n)
	for i := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		nodes[i].url = "http://" + ln.Addr().String()
		go func() { done <- nodes[i].srv.Serve(ctx, ln) }()
	}
	t.Cleanup(func() {
		cancel()
		for range nodes {
			if err := <-done; err != nil {
				t.Errorf("node: %v", err)
			}
		}
	})
	return nodes
}

// customer is the demo app of clientID talking to one node.
func customer(t *testing.T, nd node, clientID string) *client.Client {
	t.Helper()
	c, err := client.New(nd.url, client.WithTenant(config.DemoTenant), client.WithAppID(config.DemoApp),
		client.WithClientID(clientID))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return c
}

// waitFor waits until cond holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parkedPoll starts a long poll of the chat and returns once the node
// holds it (watching the chat's topic), with a channel of its answer.
func parkedPoll(t *testing.T, nd node, c *client.Client, ctx context.Context, chatID string) <-chan pollAnswer {
	t.Helper()
	before := nd.srv.client.Pending()
	answer := make(chan pollAnswer, 1)
	start := time.Now()
	go func() {
		evs, err := c.Poll(ctx, chatID)
		answer <- pollAnswer{evs, err, time.Since(start)}
	}()
	waitFor(t, "the node holds the poll", func() bool { return nd.srv.client.Pending() > before })
	return answer
}

type pollAnswer struct {
	events []client.Event
	err    error
	took   time.Duration
}

// awaitWoken returns the events of a parked poll, and of the polls after
// it until want is among them, failing the test unless each was answered
// well before the poll's hold ran out: woken, not timed out. (Another
// writer, such as routing, may wake the poll first.)
func awaitWoken(t *testing.T, ctx context.Context, c *client.Client, chatID string, answer <-chan pollAnswer, want func([]client.Event) bool) []client.Event {
	t.Helper()
	var all []client.Event
	for {
		a := <-answer
		if a.err != nil {
			t.Fatalf("poll: %v", a.err)
		}
		if a.took > scaleOutPoll/2 {
			t.Fatalf("poll answered after %v: timed out rather than woken", a.took)
		}
		all = append(all, a.events...)
		if want(all) {
			return all
		}
		next := make(chan pollAnswer, 1)
		start := time.Now()
		evs, err := c.Poll(ctx, chatID)
		next <- pollAnswer{evs, err, time.Since(start)}
		answer = next
	}
}

// drain polls until the chat has nothing waiting for the customer that
// was not given yet, so that the next poll waits; seen says when to stop.
func drain(t *testing.T, ctx context.Context, c *client.Client, chatID string, seen func(client.Event) bool) {
	t.Helper()
	for {
		evs, err := c.Poll(ctx, chatID)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if len(evs) == 0 {
			t.Fatal("drain: a poll timed out before the awaited event came")
		}
		for _, ev := range evs {
			if seen(ev) {
				return
			}
		}
	}
}

func hasMessage(evs []client.Event, text string) bool {
	for _, ev := range evs {
		if ev.Event == client.EventMessage && ev.Msg == text {
			return true
		}
	}
	return false
}

func wantChatNotFound(t *testing.T, what string, err error) {
	t.Helper()
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != client.CodeChatNotFound {
		t.Errorf("%s: error = %v, want 404 with code %s", what, err, client.CodeChatNotFound)
	}
}

func TestTwoNodesOnPostgreSQLAndNATSServeChatsTogether(t *testing.T) {
	dsn := pgtest.Schema(t)
	natsURL := natstest.URL(t)
	nodes := startNodes(t, 2, dsn, natsURL)
	a, b := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	t.Run("every node is ready: its store answers", func(t *testing.T) {
		for _, nd := range nodes {
			resp, err := http.Get(nd.url + "/readyz")
			if err != nil {
				t.Fatalf("GET /readyz: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s/readyz = %d, want 200", nd.url, resp.StatusCode)
			}
		}
	})

	t.Run("nodes starting together seed the demo once", func(t *testing.T) {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		defer st.Close()
		agents, err := st.Agents(ctx, config.DemoTenant)
		if err != nil || len(agents) != 1 {
			t.Errorf("demo agents = %d, %v; want 1", len(agents), err)
		}
		entries, err := st.Entries(ctx, config.DemoTenant)
		if err != nil || len(entries) != 1 {
			t.Errorf("demo entries = %d, %v; want 1", len(entries), err)
		}
	})

	var chatID string
	t.Run("a chat requested on one node is read on the other", func(t *testing.T) {
		onA, onB := customer(t, a, "scale-out-ann"), customer(t, b, "scale-out-ann")
		info, err := onA.RequestChat(ctx, client.ChatRequest{Parameters: map[string]any{"first_name": "Ann"}})
		if err != nil || !info.IsNewChat {
			t.Fatalf("RequestChat on A = %+v, %v; want a new chat", info, err)
		}
		chatID = info.ChatID
		if err := onA.SendEvents(ctx, chatID, client.Message("m1", "hello through A")); err != nil {
			t.Fatalf("SendEvents on A: %v", err)
		}
		hist, err := onB.History(ctx, chatID)
		if err != nil || !hasMessage(hist, "hello through A") {
			t.Fatalf("History on B = %+v, %v; want the message sent through A", hist, err)
		}
		again, err := onB.RequestChat(ctx, client.ChatRequest{})
		if err != nil || again.ChatID != chatID || again.IsNewChat {
			t.Errorf("RequestChat on B = %+v, %v; want the live chat %s", again, err, chatID)
		}
		if active, err := onB.ActiveChat(ctx); err != nil || active.ChatID != chatID {
			t.Errorf("ActiveChat on B = %+v, %v; want %s", active, err, chatID)
		}
	})

	t.Run("a customer's poll on one node is woken by an agent's reply through the other", func(t *testing.T) {
		// Routing is per node (see docs/scale-out.md): the chat is
		// requested on B, whose router offers it to the agent logged in on B.
		onA, onB := customer(t, a, "scale-out-bob"), customer(t, b, "scale-out-bob")
		info, err := onB.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat on B: %v", err)
		}
		agent, err := client.NewAgent(b.url)
		if err != nil {
			t.Fatalf("agent client: %v", err)
		}
		if _, err := agent.Login(ctx, config.DemoTenant, config.DemoAgent, config.DemoPassword); err != nil {
			t.Fatalf("agent login on B: %v", err)
		}
		if _, err := agent.SetState(ctx, client.AgentReady, ""); err != nil {
			t.Fatalf("agent ready on B: %v", err)
		}
		waitFor(t, "the chat is offered to the agent on B", func() bool {
			me, err := agent.Me(ctx)
			return err == nil && me.Routing.Offered(info.ChatID)
		})
		if _, err := agent.Accept(ctx, info.ChatID); err != nil {
			t.Fatalf("accept on B: %v", err)
		}
		drain(t, ctx, onA, info.ChatID, func(ev client.Event) bool {
			return ev.Event == client.EventStatus && ev.State == "connected"
		})
		answer := parkedPoll(t, a, onA, ctx, info.ChatID)
		if _, err := agent.Send(ctx, info.ChatID, client.Message("", "hello from the agent on B")); err != nil {
			t.Fatalf("agent send on B: %v", err)
		}
		awaitWoken(t, ctx, onA, info.ChatID, answer, func(evs []client.Event) bool {
			return hasMessage(evs, "hello from the agent on B")
		})
	})

	t.Run("a chat ended through one node ends on both", func(t *testing.T) {
		if chatID == "" {
			t.Skip("no chat from the first subtest")
		}
		onA, onB := customer(t, a, "scale-out-ann"), customer(t, b, "scale-out-ann")
		drain(t, ctx, onA, chatID, func(ev client.Event) bool { return ev.Event == client.EventStatus })
		answer := parkedPoll(t, a, onA, ctx, chatID)
		if err := onB.SendEvents(ctx, chatID, client.End()); err != nil {
			t.Fatalf("end through B: %v", err)
		}
		awaitWoken(t, ctx, onA, chatID, answer, func(evs []client.Event) bool {
			return len(evs) > 0 && evs[len(evs)-1].Event == client.EventEnded
		})
		for _, tc := range []struct {
			name string
			c    *client.Client
		}{{"A", onA}, {"B", onB}} {
			_, err := tc.c.Poll(ctx, chatID)
			wantChatNotFound(t, "poll of the ended chat on "+tc.name, err)
			_, err = tc.c.ActiveChat(ctx)
			wantChatNotFound(t, "active chat on "+tc.name, err)
			hist, err := tc.c.History(ctx, chatID)
			if err != nil || len(hist) == 0 || hist[len(hist)-1].Event != client.EventEnded {
				t.Errorf("history on %s = %d events, %v; want the whole chat, ended", tc.name, len(hist), err)
			}
		}
	})
}

func TestUnknownStoreAndBusURLsAreRefused(t *testing.T) {
	for _, o := range []Options{
		{Store: "mysql://root@127.0.0.1/parley"},
		{Bus: "amqp://127.0.0.1"},
	} {
		o.Data = t.TempDir()
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := New(t.Context(), o)
		if err == nil {
			srv.close()
			t.Errorf("New(store %q, bus %q) succeeded", o.Store, o.Bus)
			continue
		}
		if strings.Contains(err.Error(), "root@") {
			t.Errorf("New: error %q shows the URL", err)
		}
	}
}
