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
	"github.com/parley-chat/parley/internal/logbuf"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// scaleOutPoll is the nodes' poll hold: far longer than any wake-up takes,
// so that a poll answered early was woken, not timed out.
const scaleOutPoll = 20 * time.Second

// node is one Parley node of a test, serving on a loopback port.
type node struct {
	srv  *Server
	url  string
	log  *logbuf.Buffer
	stop func() // stops the node and waits until it has; the test's end stops it too
}

// startNodes starts n nodes at once on one PostgreSQL schema and one NATS
// server, each with its own data directory, as a deployment's nodes start
// together: they migrate and seed the shared store between them. Each of
// tune, if any, changes every node's options. They stop when the test
// ends, if not before.
func startNodes(t *testing.T, n int, dsn, natsURL string, tune ...func(*Options)) []node {
	t.Helper()
	nodes := make([]node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range nodes {
		nodes[i].log = &logbuf.Buffer{}
		wg.Go(func() {
			o := Options{
				Data: t.TempDir(), Store: dsn, Bus: natsURL, PollTimeout: scaleOutPoll,
				Log: slog.New(slog.NewTextHandler(nodes[i].log, nil)),
			}
			for _, fn := range tune {
				fn(&o)
			}
			srv, err := New(context.Background(), o)
			if err != nil {
				errs[i] = err
				return
			}
			nodes[i].srv = srv
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, nd := range nodes {
			if nd.srv != nil {
				nd.srv.close()
			}
		}
		t.Fatalf("start nodes: %v", err)
	}
	for i := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		nodes[i].url = "http://" + ln.Addr().String()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- nodes[i].srv.Serve(ctx, ln) }()
		var once sync.Once
		nodes[i].stop = func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("node %d: %v", i, err)
				}
			})
		}
		t.Cleanup(nodes[i].stop)
	}
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
		onA := customer(t, a, "scale-out-bob")
		info, err := onA.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat on A: %v", err)
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

// leaderOf waits until one of the running nodes leads routing and returns
// its index.
func leaderOf(t *testing.T, nodes []node, running ...int) int {
	t.Helper()
	lead := -1
	waitFor(t, "a node leads routing", func() bool {
		n := 0
		for _, i := range running {
			if nodes[i].srv.node.Leading() {
				lead, n = i, n+1
			}
		}
		return n == 1
	})
	return lead
}

// agentOn logs the demo agent in through a node.
func agentOn(t *testing.T, ctx context.Context, nd node) *client.Agent {
	t.Helper()
	a, err := client.NewAgent(nd.url)
	if err != nil {
		t.Fatalf("agent client: %v", err)
	}
	if _, err := a.Login(ctx, config.DemoTenant, config.DemoAgent, config.DemoPassword); err != nil {
		t.Fatalf("agent login: %v", err)
	}
	return a
}

// awaitOffer waits until the agent is offered the chat.
func awaitOffer(t *testing.T, ctx context.Context, a *client.Agent, chatID string) {
	t.Helper()
	waitFor(t, "the chat is offered to the agent", func() bool {
		me, err := a.Me(ctx)
		return err == nil && me.Routing.Offered(chatID)
	})
}

func TestNodesRouteThroughOneLeaderAndAnotherTakesOverWhenItStops(t *testing.T) {
	dsn := pgtest.Schema(t)
	natsURL := natstest.URL(t)
	const offerTimeout = 2 * time.Second
	nodes := startNodes(t, 3, dsn, natsURL, func(o *Options) { o.OfferTimeout = offerTimeout })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	lead := leaderOf(t, nodes, 0, 1, 2)
	// The customer and the agent each talk to a node that does not lead.
	var followers []int
	for i := range nodes {
		if i != lead {
			followers = append(followers, i)
		}
	}
	custNode, agentNode := nodes[followers[0]], nodes[followers[1]]
	agent := agentOn(t, ctx, agentNode)
	if _, err := agent.SetState(ctx, client.AgentReady, ""); err != nil {
		t.Fatalf("agent ready: %v", err)
	}

	var first string
	t.Run("a chat requested on one node is offered to an agent on another, and they talk", func(t *testing.T) {
		c := customer(t, custNode, "routed-ann")
		info, err := c.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat: %v", err)
		}
		first = info.ChatID
		awaitOffer(t, ctx, agent, first)
		if _, err := agent.Accept(ctx, first); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		drain(t, ctx, c, first, func(ev client.Event) bool {
			return ev.Event == client.EventStatus && ev.State == "connected"
		})
		answer := parkedPoll(t, custNode, c, ctx, first)
		if _, err := agent.Send(ctx, first, client.Message("", "hello from the agent")); err != nil {
			t.Fatalf("agent send: %v", err)
		}
		awaitWoken(t, ctx, c, first, answer, func(evs []client.Event) bool { return hasMessage(evs, "hello from the agent") })
		if err := c.SendEvents(ctx, first, client.Message("m1", "hello from the customer")); err != nil {
			t.Fatalf("customer send: %v", err)
		}
		evs, err := agent.Events(ctx, first, 0)
		if err != nil || !hasMessage(evs, "hello from the customer") {
			t.Fatalf("the agent's transcript = %+v, %v; want the customer's message", evs, err)
		}
	})

	var second string
	t.Run("an offer that is not answered expires once", func(t *testing.T) {
		c := customer(t, custNode, "routed-bob")
		info, err := c.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat: %v", err)
		}
		second = info.ChatID
		awaitOffer(t, ctx, agent, second)
		waitFor(t, "the agent is made not ready for the missed offer", func() bool {
			me, err := agent.Me(ctx)
			return err == nil && me.Routing.State == client.AgentNotReady && me.Routing.Reason == "missed offer"
		})
		// Longer than another offer timeout: a second router would have
		// let its own offer expire by now.
		time.Sleep(offerTimeout + time.Second)
		expired := 0
		for _, nd := range nodes {
			expired += nd.log.Count(`msg="offer expired"`, "chat_id="+second)
		}
		if expired != 1 {
			t.Errorf("the offer of %s expired %d times across the nodes, want once", second, expired)
		}
		if _, err := agent.SetState(ctx, client.AgentReady, ""); err != nil {
			t.Fatalf("agent ready: %v", err)
		}
		awaitOffer(t, ctx, agent, second)
		if _, err := agent.Accept(ctx, second); err != nil {
			t.Fatalf("Accept: %v", err)
		}
	})

	t.Run("when the leader stops, another node leads on from the store", func(t *testing.T) {
		if first == "" || second == "" {
			t.Skip("no chats from the subtests before")
		}
		// A chat waits while the agent is on a break.
		if _, err := agent.SetState(ctx, client.AgentNotReady, "break"); err != nil {
			t.Fatalf("agent not ready: %v", err)
		}
		waiting := customer(t, custNode, "routed-cat")
		info, err := waiting.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat: %v", err)
		}
		third := info.ChatID
		waitFor(t, "the leader queues the chat", func() bool { return nodes[lead].srv.node.Stats().Queued == 1 })

		stopped := time.Now()
		nodes[lead].stop()
		next := leaderOf(t, nodes, followers...)
		t.Logf("node %d leads %v after node %d stopped", next, time.Since(stopped), lead)

		me, err := agent.Me(ctx)
		if err != nil {
			t.Fatalf("Me: %v", err)
		}
		if r := me.Routing; r.State != client.AgentNotReady || r.Reason != "break" || !r.Handles(first) || !r.Handles(second) || len(r.Chats) != 2 {
			t.Fatalf("after the takeover the agent is %+v; want not ready for a break, with both chats", r)
		}
		if st := nodes[next].srv.node.Stats(); st.Queued != 1 || st.Assigned != 2 {
			t.Fatalf("the new leader routes %+v; want 1 chat queued, 2 assigned", st)
		}

		// Routing goes on: the waiting chat, then a new one once a slot
		// is free, reach the agent still logged in.
		if _, err := agent.SetState(ctx, client.AgentReady, ""); err != nil {
			t.Fatalf("agent ready: %v", err)
		}
		awaitOffer(t, ctx, agent, third)
		if _, err := agent.Accept(ctx, third); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		if err := customer(t, custNode, "routed-ann").SendEvents(ctx, first, client.End()); err != nil {
			t.Fatalf("end the first chat: %v", err)
		}
		newcomer := customer(t, custNode, "routed-dan")
		info, err = newcomer.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat: %v", err)
		}
		awaitOffer(t, ctx, agent, info.ChatID)
		if _, err := agent.Accept(ctx, info.ChatID); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		if _, err := agent.Send(ctx, info.ChatID, client.Message("", "welcome")); err != nil {
			t.Fatalf("agent send: %v", err)
		}
		drain(t, ctx, newcomer, info.ChatID, func(ev client.Event) bool {
			return ev.Event == client.EventMessage && ev.Msg == "welcome"
		})
	})
}
