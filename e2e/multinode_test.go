package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
)

// The tenant of the multi-node test: one entry, and three agents with room
// for every chat of the test.
const (
	multiTenant = "multi.example.com"
	multiApp    = "app"
	multiConfig = `
tenants:
  - host: multi.example.com
    entries:
      - app_id: app
agents:
  - {tenant: multi.example.com, username: ann, password: ann-secret, first_name: Ann, capacity: 10}
  - {tenant: multi.example.com, username: ben, password: ben-secret, first_name: Ben, capacity: 10}
  - {tenant: multi.example.com, username: cat, password: cat-secret, first_name: Cat, capacity: 10}
`
)

// Where the clients of the multi-node test go, by node number: each first
// to the first node of its list, and on through the others when that one
// fails. Customers poll through node 1 and send through node 3; agents
// work through node 2.
var (
	customerPolls = []int{1, 3, 2}
	customerSends = []int{3, 1, 2}
	agentNodes    = []int{2, 3, 1}
)

// resumeTimeout bounds the wait for every chat to go on after a node was
// killed or started again: clients find the other nodes, routing's work
// passes to another node, agents reopen their streams. Generous, for a
// loaded machine.
const resumeTimeout = 30 * time.Second

// TestMultiNodeKillsLoseNoAcknowledgedMessage runs three nodes on one
// PostgreSQL schema and one NATS server. Customers request chats and poll
// through node 1 and send through node 3; three agents take the chats and
// answer every message through node 2. Each customer sends its next message
// once it has the answer to the last, so that every chat always has a
// request on its way somewhere.
//
// In the middle of the conversations node 3 is killed with SIGKILL, then,
// once every chat has gone on without it and it has been started again
// and rejoined, node 2: the agents' node, and routing's leader (it starts
// first; /metrics must say it leads, and that another node does after it).
// Clients whose node died go on through the others, sending again what was
// not acknowledged with the same msg_id, as the SDKs do; a customer who
// arrives while a node is down must be routed to an agent all the same.
// After each kill every chat must resume: a customer message acknowledged
// after the kill, and answered by the agent through a send acknowledged
// after it too, reaches the customer's poll.
//
// At the end the history of every chat, read through every node by the
// customer and by the agent, must hold every message either side saw
// acknowledged exactly once, in the order it was sent, and no msg_id of
// either side twice.
func TestMultiNodeKillsLoseNoAcknowledgedMessage(t *testing.T) {
	// Not parallel: three nodes sharing two cores with other tests would
	// make the timing of this one, not its logic, decide whether it passes.
	started := time.Now()
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, multiConfig)
	// Node 2 starts first: the agents' node is also the one that comes first
	// to everything nodes take turns on, routing included.
	cl := startCluster(t, []int{2, 1, 3},
		"--config", cfg, "--poll-timeout", "1s", "--offer-timeout", "20s",
		// The customers talk without pause, all from one address: the rate
		// limits would refuse them.
		"--client-rate", "0", "--ip-rate", "0")
	t.Logf("3 nodes ready in %v", time.Since(started).Round(time.Millisecond))

	ctx, cancel := context.WithCancel(context.Background())
	var load sync.WaitGroup
	defer func() {
		cancel()
		load.Wait()
	}()
	var agents []*mnAgent
	for _, name := range []string{"ann", "ben", "cat"} {
		a := newMNAgent(t, cl, name)
		agents = append(agents, a)
		load.Go(func() { a.stream(ctx) })
		load.Go(func() { a.work(ctx) })
	}
	var customers []*mnCustomer
	join := func(name string) {
		c := newMNCustomer(t, cl, name)
		customers = append(customers, c)
		load.Go(func() { c.poll(ctx) })
		load.Go(func() { c.send(ctx) })
	}
	for i := range 8 {
		join(fmt.Sprintf("customer-%d", i))
	}
	awaitResume(t, "every chat is taken and answered", customers, agents, nil)
	t.Logf("8 chats under way after %v", time.Since(started).Round(time.Millisecond))
	if leader, err := cl.awaitLeader(ctx, resumeTimeout); err != nil || leader != 2 {
		t.Fatalf("routing leader = node %d, %v; want node 2, the first to start", leader, err)
	}

	for k, victim := range []int{3, 2} {
		// Let the conversations go on for a random number of messages, then
		// pull the plug.
		more := acknowledged(customers, agents) + 20 + rand.IntN(80)
		if err := waitFor(resumeTimeout, func() (bool, error) { return acknowledged(customers, agents) >= more, nil }); err != nil {
			t.Fatalf("the conversations stall before node %d is killed: %v", victim, err)
		}
		reconnects := make([]int, len(agents))
		for i, a := range agents {
			reconnects[i] = a.reconnectCount()
		}
		cl.kill(victim)
		killed := time.Now()
		base := snapshot(customers)
		t.Logf("node %d killed; %d messages acknowledged so far", victim, acknowledged(customers, agents))
		join(fmt.Sprintf("late-%d", k)) // arrives while the node is down
		awaitResume(t, fmt.Sprintf("every chat goes on without node %d", victim), customers, agents, base)
		t.Logf("node %d killed: every chat resumed within %v", victim, time.Since(killed).Round(time.Millisecond))
		for i, a := range agents {
			if victim == agentNodes[0] && a.reconnectCount() == reconnects[i] {
				t.Errorf("%s's stream was on node %d, yet it did not reopen it", a.name, victim)
			}
		}
		leader, err := cl.awaitLeader(ctx, resumeTimeout)
		if err != nil {
			t.Fatalf("node %d killed: %v", victim, err)
		}
		t.Logf("node %d leads routing", leader)

		cl.start(victim)
		restarted := time.Now()
		before := cl.answered(victim)
		base = snapshot(customers)
		awaitResume(t, fmt.Sprintf("every chat goes on with node %d back", victim), customers, agents, base)
		if err := waitFor(resumeTimeout, func() (bool, error) { return cl.answered(victim) > before, nil }); err != nil {
			t.Fatalf("node %d started again but answers no client: %v", victim, err)
		}
		t.Logf("node %d started again: every chat resumed within %v", victim, time.Since(restarted).Round(time.Millisecond))
	}
	cancel()
	load.Wait()
	if t.Failed() {
		return
	}

	var resent, deduped, reconnects int
	for _, c := range customers {
		resent += c.resentCount()
	}
	for _, a := range agents {
		resent += a.resentCount()
		deduped += a.dedupedCount()
		reconnects += a.reconnectCount()
	}
	t.Logf("%d messages acknowledged in %d chats; %d requests sent again after an attempt of unknown outcome "+
		"(%d agent answers found stored by their resend); %d agent stream reconnects",
		acknowledged(customers, agents), len(customers), resent, deduped, reconnects)
	for _, c := range customers {
		owner := ownerOf(agents, c.chatID)
		if owner == nil {
			t.Errorf("%s: no agent answered the chat", c.name)
			continue
		}
		var reads []chatRead
		for _, n := range cl.live() {
			reads = append(reads, readChat(t, n, c, owner)...)
		}
		checkChat(t, c, owner, reads)
	}
	t.Logf("checked on nodes %v; %v in all", cl.live(), time.Since(started).Round(time.Millisecond))
}

// chatRead is a chat's events as one side read them through one node.
type chatRead struct {
	what string // "node 2: customer-0's history"
	evs  []client.Event
}

// readChat reads a chat through node n as its customer (history) and as
// its agent (events, from the first).
func readChat(t *testing.T, n int, c *mnCustomer, a *mnAgent) []chatRead {
	t.Helper()
	ctx := testContext(t)
	history, err := c.api[n-1].History(ctx, c.chatID)
	if err != nil {
		t.Errorf("node %d: %s's history: %v", n, c.name, err)
		return nil
	}
	var transcript []client.Event
	for {
		evs, err := a.api[n-1].Events(ctx, c.chatID, client.LastSeq(transcript))
		if err != nil {
			t.Errorf("node %d: %s reads %s's chat: %v", n, a.name, c.name, err)
			return nil
		}
		if len(evs) == 0 {
			break
		}
		transcript = append(transcript, evs...)
	}
	for i, ev := range transcript {
		if ev.Seq != int64(i+1) {
			t.Errorf("node %d: %s's chat: the agent's transcript has seq %d at position %d, want every seq from 1 once", n, c.name, ev.Seq, i+1)
			break
		}
	}
	return []chatRead{
		{fmt.Sprintf("node %d: %s's history", n, c.name), history},
		{fmt.Sprintf("node %d: %s's transcript of %s's chat", n, a.name, c.name), transcript},
	}
}

// checkChat checks the reads of a chat: each holds every message of either
// side that was acknowledged exactly once and in the order sent, and no
// msg_id of a party twice; all hold the same messages at the same seqs,
// some perhaps not yet a send that ended with the test, unacknowledged;
// and the customer's polls gave the agent's messages in that order.
func checkChat(t *testing.T, c *mnCustomer, a *mnAgent, reads []chatRead) {
	t.Helper()
	var longest []string
	for _, r := range reads {
		checkOnceInOrder(t, r.what+": "+c.name+"'s messages", r.evs, c.chatID, true, c.ackedIDs())
		checkOnceInOrder(t, r.what+": "+a.name+"'s answers", r.evs, c.chatID, false, a.ackedIDs(c.chatID))
		seen := map[[2]string]bool{}
		for _, ev := range r.evs {
			if ev.Event != client.EventMessage {
				continue
			}
			k := [2]string{ev.PartyID, ev.MsgID}
			if seen[k] {
				t.Errorf("%s: msg_id %s of party %s twice", r.what, ev.MsgID, ev.PartyID)
			}
			seen[k] = true
		}
		if m := messages(r.evs); len(m) > len(longest) {
			longest = m
		}
	}
	for _, r := range reads {
		if m := messages(r.evs); !slices.Equal(m, longest[:len(m)]) {
			t.Errorf("%s differs from another read of the chat:\n%v\n%v", r.what, m, longest)
		}
	}
	var stored []string
	for _, m := range longest {
		if party, id := messageParty(m); party != c.chatID {
			stored = append(stored, id)
		}
	}
	if answers := c.answerIDs(); len(answers) > len(stored) || !slices.Equal(answers, stored[:len(answers)]) {
		t.Errorf("%s: the customer's polls gave the answers %v, want the start of %v", c.name, answers, stored)
	}
}

// messages lists the chat's messages as seq:party:msg_id.
func messages(evs []client.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Event == client.EventMessage {
			out = append(out, fmt.Sprintf("%d:%s:%s", ev.Seq, ev.PartyID, ev.MsgID))
		}
	}
	return out
}

// messageParty splits an entry of messages into its party and msg_id.
func messageParty(m string) (party, msgID string) {
	_, rest, _ := strings.Cut(m, ":")
	party, msgID, _ = strings.Cut(rest, ":")
	return party, msgID
}

// snapshot returns how many messages each customer has had acknowledged.
func snapshot(customers []*mnCustomer) map[*mnCustomer]int {
	out := map[*mnCustomer]int{}
	for _, c := range customers {
		out[c] = c.ackedCount()
	}
	return out
}

// awaitResume waits until every chat has resumed since base: its customer
// has the answer to a message sent after base was taken. That message was
// acknowledged after base; its answer, sent once the agent saw it, was
// acknowledged after base too, and polled. Customers not in base must have
// the answer to their second message.
func awaitResume(t *testing.T, what string, customers []*mnCustomer, agents []*mnAgent, base map[*mnCustomer]int) {
	t.Helper()
	for _, c := range customers {
		n := base[c] + 2 // base[c]+1 may have been on its way at base
		if err := waitFor(resumeTimeout, func() (bool, error) { return c.answeredCount() >= n, nil }); err != nil {
			var where []string
			for _, a := range agents {
				where = append(where, a.describe(c.chatID))
			}
			t.Fatalf("%s: %s has no answer to its message %d: %v (%d acknowledged, %d answered); %s",
				what, c.name, n, err, c.ackedCount(), c.answeredCount(), strings.Join(where, "; "))
		}
	}
}

// acknowledged counts the messages acknowledged to either side.
func acknowledged(customers []*mnCustomer, agents []*mnAgent) int {
	n := 0
	for _, c := range customers {
		n += c.ackedCount()
	}
	for _, a := range agents {
		n += a.ackedCount()
	}
	return n
}

// ownerOf returns the agent who answered in the chat.
func ownerOf(agents []*mnAgent, chatID string) *mnAgent {
	for _, a := range agents {
		if len(a.ackedIDs(chatID)) > 0 {
			return a
		}
	}
	return nil
}

// mnCustomer is a customer's app that knows every node: it requests its
// chat and polls through node 1 and sends through node 3, going on through
// the others when its node fails. It sends its messages one at a time,
// each until acknowledged and the next once the agent has answered.
type mnCustomer struct {
	t      *testing.T
	cl     *cluster
	name   string
	chatID string
	api    []*client.Client // by node number - 1

	mu      sync.Mutex
	acked   []string // msg ids acknowledged, in order
	answers []string // msg ids of the agent's messages polled, in order
	resent  int
	changed chan struct{} // closed and replaced when an answer comes
}

func newMNCustomer(t *testing.T, cl *cluster, name string) *mnCustomer {
	t.Helper()
	c := &mnCustomer{t: t, cl: cl, name: name, api: cl.customer(multiTenant, multiApp, name), changed: make(chan struct{})}
	var info client.ChatInfo
	// Requesting again is safe: a client has one live chat, which a second
	// request returns.
	if _, err := cl.failover(testContext(t), customerPolls, func(ctx context.Context, n int) error {
		var err error
		info, err = c.api[n-1].RequestChat(ctx, client.ChatRequest{})
		return err
	}); err != nil {
		t.Fatalf("%s: request a chat: %v", name, err)
	}
	c.chatID = info.ChatID
	return c
}

// poll long-polls the chat and keeps the agent's messages. After a poll
// that failed, whose answer may have been lost with events the server
// counts as given, it asks for everything after the last event it has.
func (c *mnCustomer) poll(ctx context.Context) {
	var last int64
	lost := false
	for {
		var evs []client.Event
		unsure, err := c.cl.failover(ctx, customerPolls, func(actx context.Context, n int) error {
			var err error
			if lost {
				evs, err = c.api[n-1].PollAfter(actx, c.chatID, last)
			} else {
				evs, err = c.api[n-1].Poll(actx, c.chatID)
			}
			if err != nil {
				lost = true
			}
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				c.t.Errorf("%s: poll: %v", c.name, err)
			}
			return
		}
		lost = false
		c.mu.Lock()
		c.resent += unsure
		for _, ev := range evs {
			if ev.Seq <= last {
				continue // given again after a recovery
			}
			last = ev.Seq
			if ev.Event == client.EventMessage && ev.PartyID != c.chatID {
				c.answers = append(c.answers, ev.MsgID)
				close(c.changed)
				c.changed = make(chan struct{})
			}
		}
		c.mu.Unlock()
	}
}

// send sends numbered messages, each until acknowledged, the next once the
// answer to the last has come.
func (c *mnCustomer) send(ctx context.Context) {
	for i := 1; ; i++ {
		id := fmt.Sprintf("%s-m%d", c.name, i)
		unsure, err := c.cl.failover(ctx, customerSends, func(actx context.Context, n int) error {
			return c.api[n-1].SendEvents(actx, c.chatID, client.Message(id, "message "+id))
		})
		c.mu.Lock()
		c.resent += unsure
		if err == nil {
			c.acked = append(c.acked, id)
		}
		c.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				c.t.Errorf("%s: send %s: %v", c.name, id, err)
			}
			return // not acknowledged: it may or may not be stored
		}
		if !c.awaitAnswer(ctx, answerID(id)) {
			return
		}
	}
}

// answerID is the msg_id of the agent's answer to a customer's message.
func answerID(msgID string) string { return "re-" + msgID }

// awaitAnswer waits until the answer id has been polled, or ctx ends. The
// check and the channel to wait on are taken under one lock: an answer
// polled between the two would otherwise wake nobody, and the customer,
// who sends nothing more until answered, would wait for good.
func (c *mnCustomer) awaitAnswer(ctx context.Context, id string) bool {
	for {
		c.mu.Lock()
		answered := slices.Contains(c.answers, id)
		changed := c.changed
		c.mu.Unlock()
		if answered {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

func (c *mnCustomer) ackedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acked)
}

// answeredCount is how many of the customer's messages have their answer.
func (c *mnCustomer) answeredCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range c.acked {
		if slices.Contains(c.answers, answerID(id)) {
			n++
		}
	}
	return n
}

func (c *mnCustomer) ackedIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.acked)
}

func (c *mnCustomer) answerIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.answers)
}

func (c *mnCustomer) resentCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resent
}

// mnAgent is an agent's desktop that knows every node: logged in through
// node 2, its stream open there and its requests sent there, going on
// through the others when node 2 fails. Its stream is read without pause
// (it must answer the server's pings); a worker accepts what is offered
// and answers every customer message once, in order, with a msg_id made
// from the customer's, sending again until acknowledged.
type mnAgent struct {
	t    *testing.T
	cl   *cluster
	name string
	api  []*client.Agent // by node number - 1, one login
	kick chan struct{}   // the stream gave something new

	mu         sync.Mutex
	view       client.RoutingView   // the routing view the stream gave last
	listed     []client.Offer       // the offers the REST view listed last
	seen       map[string]int64     // chat → last seq the stream gave
	asks       map[string][]string  // chat → customer msg ids seen, in order
	acked      map[string][]string  // chat → answers stored, in order
	tried      map[string]time.Time // offers accepted lately, not yet seen as ours
	resent     int
	deduped    int
	reconnects int
}

func newMNAgent(t *testing.T, cl *cluster, name string) *mnAgent {
	t.Helper()
	a := &mnAgent{
		t: t, cl: cl, name: name, api: cl.agent(), kick: make(chan struct{}, 1),
		seen: map[string]int64{}, asks: map[string][]string{}, acked: map[string][]string{}, tried: map[string]time.Time{},
	}
	ctx := testContext(t)
	var token string
	if _, err := cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
		info, err := a.api[n-1].Login(actx, multiTenant, name, name+"-secret")
		token = info.Token
		return err
	}); err != nil {
		t.Fatalf("%s logs in: %v", name, err)
	}
	for _, api := range a.api {
		api.SetToken(token) // logins are in the store: valid on every node
	}
	if _, err := cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
		_, err := a.api[n-1].SetState(actx, client.AgentReady, "")
		return err
	}); err != nil {
		t.Fatalf("%s goes ready: %v", name, err)
	}
	return a
}

// stream reads the agent's stream, opening it again from its cursors on
// the next node when it breaks.
func (a *mnAgent) stream(ctx context.Context) {
	var cursors map[string]int64
	for {
		var s *client.AgentStream
		if _, err := a.cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
			var err error
			s, err = a.api[n-1].Stream(actx, cursors)
			return err
		}); err != nil {
			if ctx.Err() == nil {
				a.t.Errorf("%s: open stream: %v", a.name, err)
			}
			return
		}
		for {
			m, err := s.Next(ctx)
			if err != nil {
				break
			}
			a.take(m)
		}
		cursors = s.Cursors()
		s.Close()
		if ctx.Err() != nil {
			return
		}
		a.mu.Lock()
		a.reconnects++
		a.mu.Unlock()
	}
}

// take keeps what a stream message says and wakes the worker.
func (a *mnAgent) take(m client.StreamMessage) {
	a.mu.Lock()
	switch m.Type {
	case client.StreamRouting:
		a.view = *m.Routing
	case client.StreamEvents:
		for _, ev := range m.Events {
			if ev.Seq <= a.seen[m.ChatID] {
				continue // given again after a reconnect
			}
			a.seen[m.ChatID] = ev.Seq
			if ev.Event == client.EventMessage && ev.PartyID == m.ChatID {
				a.asks[m.ChatID] = append(a.asks[m.ChatID], ev.MsgID)
			}
		}
	}
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// work accepts the chats offered and answers every customer message not
// answered yet, until ctx ends. Besides the stream's wake-ups it looks at
// the REST view of its routing now and then, should an offer have come
// while the stream was being opened again.
func (a *mnAgent) work(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-tick.C:
			var me client.AgentStatus
			if _, err := a.cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
				var err error
				me, err = a.api[n-1].Me(actx)
				return err
			}); err != nil {
				if ctx.Err() == nil {
					a.t.Errorf("%s: Me: %v", a.name, err)
				}
				return
			}
			a.mu.Lock()
			a.listed = me.Routing.Offers
			a.mu.Unlock()
		}
		for _, chatID := range a.offers() {
			a.accept(ctx, chatID)
		}
		for chatID, ids := range a.unanswered() {
			for _, id := range ids {
				if !a.reply(ctx, chatID, answerID(id)) {
					return
				}
			}
		}
	}
}

// offers returns the chats offered and not accepted lately.
func (a *mnAgent) offers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, o := range slices.Concat(a.view.Offers, a.listed) {
		ours := slices.Contains(a.view.Chats, o.ChatID)
		if !ours && time.Since(a.tried[o.ChatID]) > time.Second && !slices.Contains(out, o.ChatID) {
			out = append(out, o.ChatID)
		}
	}
	return out
}

// accept accepts an offered chat. An offer withdrawn meanwhile, or one
// taken by an accept whose answer was lost, is answered 404: the stream
// says which chats are the agent's.
func (a *mnAgent) accept(ctx context.Context, chatID string) {
	a.mu.Lock()
	a.tried[chatID] = time.Now()
	a.mu.Unlock()
	_, err := a.cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
		_, err := a.api[n-1].Accept(actx, chatID)
		return err
	})
	if err != nil && ctx.Err() == nil && !client.HasCode(err, client.CodeChatNotFound) {
		a.t.Errorf("%s: accept %s: %v", a.name, chatID, err)
	}
}

// unanswered returns, by chat, the customer messages not answered yet.
func (a *mnAgent) unanswered() map[string][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string][]string{}
	for chatID, asks := range a.asks {
		if n := len(a.acked[chatID]); n < len(asks) {
			out[chatID] = slices.Clone(asks[n:])
		}
	}
	return out
}

// reply sends an answer until it is acknowledged; false when it could not
// be. The agent API stores a msg_id of the agent once, so a resend of an
// answer stored whose acknowledgement was lost is acknowledged with
// nothing new stored.
func (a *mnAgent) reply(ctx context.Context, chatID, id string) bool {
	var stored []client.Event
	unsure, err := a.cl.failover(ctx, agentNodes, func(actx context.Context, n int) error {
		var err error
		stored, err = a.api[n-1].Send(actx, chatID, client.Message(id, "answer "+id))
		return err
	})
	a.mu.Lock()
	a.resent += unsure
	if err == nil {
		a.acked[chatID] = append(a.acked[chatID], id)
		if len(stored) == 0 {
			a.deduped++
		}
	}
	a.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		a.t.Errorf("%s: answer %s: %v", a.name, id, err)
	case err == nil && len(stored) > 0 && (len(stored) != 1 || stored[0].MsgID != id):
		a.t.Errorf("%s: answer %s stored as %+v, want that one message", a.name, id, stored)
	case err == nil && len(stored) == 0 && unsure == 0:
		a.t.Errorf("%s: answer %s, sent once, stored nothing", a.name, id)
	}
	return err == nil
}

// dedupedCount is how many answers were acknowledged by a resend that
// stored nothing: an attempt before had stored them, unacknowledged.
func (a *mnAgent) dedupedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deduped
}

// describe tells what the agent knows of a chat and of its routing, for a
// failure's message.
func (a *mnAgent) describe(chatID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("%s: stream at seq %d of the chat, %d of its messages seen and %d answered, %d stream reconnects; routing view %s, %d chats, %d offers",
		a.name, a.seen[chatID], len(a.asks[chatID]), len(a.acked[chatID]), a.reconnects, a.view.State, len(a.view.Chats), len(a.view.Offers))
}

func (a *mnAgent) ackedIDs(chatID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.acked[chatID])
}

func (a *mnAgent) ackedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ids := range a.acked {
		n += len(ids)
	}
	return n
}

func (a *mnAgent) resentCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.resent
}

func (a *mnAgent) reconnectCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reconnects
}
