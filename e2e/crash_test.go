package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
)

// long runs the long forms of the tests that have one: go test ./e2e/ -long
// (or PARLEY_LONG=1).
var long = flag.Bool("long", false, "run the long forms of tests (20 crashes instead of 3)")

func longRun() bool { return *long || os.Getenv("PARLEY_LONG") == "1" }

// The tenant of the crash test: one entry and one agent who takes every chat.
const crashConfig = `
tenants:
  - host: crash.example.com
    entries:
      - app_id: app
agents:
  - {tenant: crash.example.com, username: ann, password: ann-secret, first_name: Ann, capacity: 20}
`

// TestCrashesLoseNoAcknowledgedMessage kills the server with SIGKILL at
// random moments while customers send messages without pause and an agent
// answers each, and restarts it on the same data directory. After every
// restart each chat must resume (its customer polls and sends again), and
// at the end every message a client saw acknowledged (a {} answer, or the
// agent's stored event) is in the chat's history exactly once and in the
// order it was sent.
//
// Clients behave as the SDKs do: a send that failed (the server went away
// mid-request) is sent again with the same msg_id until it is acknowledged,
// so a message the server stored but could not acknowledge must not be
// stored twice.
func TestCrashesLoseNoAcknowledgedMessage(t *testing.T) {
	t.Parallel()
	kills := 3
	if longRun() {
		kills = 20
	}
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, crashConfig)
	data := t.TempDir()
	// The customers send without pause, far faster than an app: the
	// rate limits would refuse them.
	start := func() *server {
		return startServer(t, "--config", cfg, "--data", data, "--poll-timeout", "1s", "--client-rate", "0", "--ip-rate", "0")
	}
	cluster := &crashCluster{srv: start()}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desk := newCrashDesk(t, cluster)
	const customers = 4
	var chats []*crashCustomer
	for i := range customers {
		c := newCrashCustomer(t, cluster, fmt.Sprintf("crash-%d", i))
		chats = append(chats, c)
		desk.take(ctx, c.chatID)
	}
	var load sync.WaitGroup
	for _, c := range chats {
		load.Go(func() { c.send(ctx) })
		load.Go(func() { c.poll(ctx) })
	}
	load.Go(func() { desk.answer(ctx, chats) })

	for k := 1; k <= kills; k++ {
		// Let the load run for a random while, then pull the plug.
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		before := cluster.current()
		before.signal(t, syscall.SIGKILL)
		before.wait(t)
		acked := make([]int, len(chats))
		for i, c := range chats {
			acked[i] = c.ackedCount()
		}
		cluster.set(start())
		t.Logf("kill %d/%d: restarted; %d messages acknowledged so far", k, kills, desk.total(chats))
		// Every chat resumes: its customer gets a send acknowledged and
		// its poll answered by the new process.
		for i, c := range chats {
			if err := waitFor(waitTimeout, func() (bool, error) {
				return c.ackedCount() > acked[i] && c.polledSince(cluster.generation()), nil
			}); err != nil {
				t.Fatalf("kill %d: chat of %s did not resume: %v (acknowledged %d before, %d now)", k, c.name, err, acked[i], c.ackedCount())
			}
		}
	}
	cancel()
	load.Wait()
	if t.Failed() {
		return
	}

	// Every acknowledged message is in the history exactly once, in order.
	vctx := testContext(t)
	resent := 0
	for _, c := range chats {
		resent += c.resent
	}
	t.Logf("%d messages acknowledged; %d customer sends were repeated after a crash", desk.total(chats), resent)
	for _, c := range chats {
		history, err := cluster.customer(c.name).History(vctx, c.chatID)
		if err != nil {
			t.Fatalf("%s: history: %v", c.name, err)
		}
		checkOnceInOrder(t, c.name+"'s messages", history, c.chatID, true, c.ackedIDs())
		checkOnceInOrder(t, "ann's answers to "+c.name, history, c.chatID, false, desk.ackedIDs(c.chatID))
		if len(c.ackedIDs()) == 0 || len(desk.ackedIDs(c.chatID)) == 0 {
			t.Errorf("%s: no traffic acknowledged (%d sent, %d answered): the test measured nothing", c.name, len(c.ackedIDs()), len(desk.ackedIDs(c.chatID)))
		}
		seen := map[int64]bool{}
		for _, ev := range history {
			if seen[ev.Seq] {
				t.Errorf("%s: seq %d twice in the history", c.name, ev.Seq)
			}
			seen[ev.Seq] = true
		}
	}
}

// checkOnceInOrder checks that each of ids is in history exactly once among
// the messages of the customer (own) or of the agent, in the order of ids.
func checkOnceInOrder(t *testing.T, what string, history []client.Event, chatID string, own bool, ids []string) {
	t.Helper()
	pos := map[string][]int{}
	for i, ev := range history {
		if ev.Event == client.EventMessage && (ev.PartyID == chatID) == own {
			pos[ev.MsgID] = append(pos[ev.MsgID], i)
		}
	}
	last := -1
	for _, id := range ids {
		switch p := pos[id]; {
		case len(p) == 0:
			t.Errorf("%s: acknowledged message %s is not in the history", what, id)
		case len(p) > 1:
			t.Errorf("%s: message %s is in the history %d times", what, id, len(p))
		case p[0] < last:
			t.Errorf("%s: message %s is before the message acknowledged before it", what, id)
		default:
			last = p[0]
		}
	}
}

// crashCluster is the server of the moment and the clients of it; clients
// are made again for each new process (it listens on another port).
type crashCluster struct {
	mu  sync.Mutex
	srv *server
	gen int // how many times the server was started again
}

func (c *crashCluster) current() *server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srv
}

func (c *crashCluster) generation() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *crashCluster) set(s *server) {
	c.mu.Lock()
	c.srv, c.gen = s, c.gen+1
	c.mu.Unlock()
}

// customer returns a client of the current server as clientID.
func (c *crashCluster) customer(clientID string) *client.Client {
	cl, _ := client.New(c.current().URL, client.WithTenant("crash.example.com"), client.WithAppID("app"), client.WithClientID(clientID))
	return cl
}

// crashCustomer sends numbered messages one after the other, each until it
// is acknowledged, and polls without pause.
type crashCustomer struct {
	t       *testing.T
	cluster *crashCluster
	name    string
	chatID  string

	mu       sync.Mutex
	acked    []string // msg ids in the order they were acknowledged
	resent   int      // sends repeated after a failure
	polledAt int      // generation of the server that last answered a poll
}

func newCrashCustomer(t *testing.T, cluster *crashCluster, name string) *crashCustomer {
	t.Helper()
	info, err := cluster.customer(name).RequestChat(testContext(t), client.ChatRequest{})
	if err != nil {
		t.Fatalf("%s: RequestChat: %v", name, err)
	}
	return &crashCustomer{t: t, cluster: cluster, name: name, chatID: info.ChatID, polledAt: -1}
}

func (c *crashCustomer) send(ctx context.Context) {
	for n := 1; ctx.Err() == nil; n++ {
		id := fmt.Sprintf("%s-m%d", c.name, n)
		for {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.cluster.customer(c.name).SendEvents(sctx, c.chatID, client.Message(id, "message "+id))
			cancel()
			if err == nil {
				c.mu.Lock()
				c.acked = append(c.acked, id)
				c.mu.Unlock()
				break
			}
			if ctx.Err() != nil {
				return // not acknowledged: it may or may not be stored
			}
			if _, isAPI := client.AsAPIError(err); isAPI {
				c.t.Errorf("%s: send %s: %v", c.name, id, err) // the server answered an error
				return
			}
			c.mu.Lock()
			c.resent++
			c.mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the server is down: send again
		}
	}
}

func (c *crashCustomer) poll(ctx context.Context) {
	for ctx.Err() == nil {
		gen := c.cluster.generation()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.cluster.customer(c.name).Poll(pctx, c.chatID)
		cancel()
		if err == nil {
			c.mu.Lock()
			c.polledAt = max(c.polledAt, gen)
			c.mu.Unlock()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if _, isAPI := client.AsAPIError(err); isAPI {
			c.t.Errorf("%s: poll: %v", c.name, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *crashCustomer) ackedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acked)
}

func (c *crashCustomer) ackedIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.acked)
}

func (c *crashCustomer) polledSince(gen int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.polledAt >= gen
}

// crashDesk is the agent: it answers every customer message once, with a
// msg_id made from the customer's, sent again until stored.
type crashDesk struct {
	t       *testing.T
	cluster *crashCluster
	token   string

	mu    sync.Mutex
	acked map[string][]string // chat → msg ids of answers stored, in order
}

func newCrashDesk(t *testing.T, cluster *crashCluster) *crashDesk {
	t.Helper()
	a, err := client.NewAgent(cluster.current().URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if _, err := a.Login(ctx, "crash.example.com", "ann", "ann-secret"); err != nil {
		t.Fatalf("ann logs in: %v", err)
	}
	if _, err := a.SetState(ctx, client.AgentReady, ""); err != nil {
		t.Fatalf("ann goes ready: %v", err)
	}
	return &crashDesk{t: t, cluster: cluster, token: a.Token(), acked: map[string][]string{}}
}

// agent returns the agent's client of the current server.
func (d *crashDesk) agent() *client.Agent {
	a, _ := client.NewAgent(d.cluster.current().URL)
	a.SetToken(d.token) // logins are stored: they outlive restarts
	return a
}

// take waits for the chat's offer and accepts it.
func (d *crashDesk) take(ctx context.Context, chatID string) {
	d.t.Helper()
	if err := waitFor(waitTimeout, func() (bool, error) {
		_, err := d.agent().Accept(ctx, chatID)
		return err == nil, nil
	}); err != nil {
		d.t.Fatalf("ann could not accept chat %s: %v", chatID, err)
	}
}

// answer reads each chat's transcript and answers every customer message
// not answered yet, until ctx ends.
func (d *crashDesk) answer(ctx context.Context, chats []*crashCustomer) {
	after := map[string]int64{}
	for ctx.Err() == nil {
		idle := true
		for _, c := range chats {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			evs, err := d.agent().Events(actx, c.chatID, after[c.chatID])
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					if _, isAPI := client.AsAPIError(err); isAPI {
						d.t.Errorf("ann: events of %s: %v", c.name, err)
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			for _, ev := range evs {
				if ev.Event == client.EventMessage && ev.PartyID == c.chatID && strings.HasPrefix(ev.MsgID, c.name+"-m") {
					idle = false
					if !d.reply(ctx, c.chatID, "re-"+ev.MsgID) {
						return
					}
				}
				after[c.chatID] = ev.Seq
			}
		}
		if idle {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// reply sends an answer until it is stored; false when ctx ended first.
func (d *crashDesk) reply(ctx context.Context, chatID, id string) bool {
	for ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := d.agent().Send(sctx, chatID, client.Message(id, "answer "+id))
		cancel()
		if err == nil {
			d.mu.Lock()
			d.acked[chatID] = append(d.acked[chatID], id)
			d.mu.Unlock()
			return true
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && ctx.Err() == nil {
			d.t.Errorf("ann: answer %s: %v", id, err)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (d *crashDesk) ackedIDs(chatID string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.acked[chatID])
}

func (d *crashDesk) total(chats []*crashCustomer) int {
	n := 0
	for _, c := range chats {
		n += c.ackedCount() + len(d.ackedIDs(c.chatID))
	}
	return n
}
