package loadgen

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/client"
)

// engine runs one process's share of a run's customers and agents.
type engine struct {
	cfg   Config
	hc    *http.Client
	stats *stats
	start time.Time

	// stopSending ends the customers' and agents' sending; the run's
	// context ends polls and streams after the drain.
	sending context.Context
}

// msgPrefix starts the text of every message the load generator sends,
// followed by the send time in Unix nanoseconds.
const msgPrefix = "lg "

// filler makes messages the size of a short chat line.
const filler = " Hello, I have a question about my order; could you please check where it is?"

func messageText(now time.Time) string {
	return msgPrefix + strconv.FormatInt(now.UnixNano(), 10) + filler
}

// sentAt reads the send time out of a message the load generator sent.
func sentAt(text string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(text, msgPrefix)
	if !ok {
		return time.Time{}, false
	}
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	ns, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// think returns a pause of mean d, exponentially distributed and capped at
// ten times the mean.
func think(d time.Duration) time.Duration {
	x := -math.Log(1 - rand.Float64())
	return time.Duration(min(x, 10) * float64(d))
}

// sleep waits d or until ctx ends, reporting whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// customer is one simulated app installation.
type customer struct {
	e      *engine
	c      *client.Client
	id     string
	chatID string
	n      int // messages sent

	connected chan struct{} // closed when an agent has joined
	acks      chan string   // msg ids of answers to acknowledge
	ended     chan struct{} // closed when the chat is over for the poller
}

// runCustomer plays one customer until ctx ends: request a chat, then poll
// and (in the chat profile) talk until the sending phase is over.
func (e *engine) runCustomer(ctx context.Context, i int) {
	id := "lg-" + e.cfg.RunID + "-" + strconv.Itoa(i)
	c, err := client.New(e.cfg.URL, client.WithTenant(e.cfg.Tenant), client.WithAppID(e.cfg.App),
		client.WithClientID(id), client.WithHTTPClient(e.hc),
		client.WithHeader("UserAgent", "MobileClient"), client.WithHeader("Cache-Control", "no-cache"))
	if err != nil {
		e.stats.fail("new client", err)
		return
	}
	cu := &customer{e: e, c: c, id: id, connected: make(chan struct{}), acks: make(chan string, 64), ended: make(chan struct{})}
	e.stats.customers.Add(1)
	for {
		info, err := c.RequestChat(ctx, client.ChatRequest{Parameters: map[string]any{
			"first_name": "Load", "last_name": strconv.Itoa(i), "email": id + "@load.example",
			"user_platform": map[string]any{"os": "Android", "sdk": 34, "manufacturer": "parley", "model": "loadgen"},
		}})
		e.stats.requests.Add(1)
		if err == nil {
			cu.chatID = info.ChatID
			break
		}
		if ctx.Err() != nil {
			return
		}
		e.stats.fail("request chat", err)
		if !sleep(ctx, time.Second) {
			return
		}
	}
	e.stats.sessions.Add(1)
	defer e.stats.sessions.Add(-1)

	polled := make(chan struct{})
	go func() {
		defer close(polled)
		cu.poll(ctx)
	}()
	if e.cfg.Profile == ProfileChat {
		cu.talk(e.sending)
	} else {
		select {
		case <-e.sending.Done():
		case <-cu.ended:
		}
	}
	if e.cfg.EndChats {
		// The chat ends while the poller still runs: it sees the end and
		// stops on the 404 that follows, as an app does.
		endCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		select {
		case <-cu.ended:
		default:
			if err := c.SendEvents(endCtx, cu.chatID, client.End()); err != nil && endCtx.Err() == nil && !client.IsNotFound(err) {
				e.stats.fail("end chat", err)
			}
		}
		select {
		case <-polled:
		case <-endCtx.Done():
		}
		cancel()
	}
	<-polled
}

// poll long-polls the chat without pause, as the SDKs do, until the chat is
// over or ctx ends.
func (cu *customer) poll(ctx context.Context) {
	e := cu.e
	defer close(cu.ended)
	for ctx.Err() == nil {
		e.stats.polls.Add(1)
		evs, err := cu.c.Poll(ctx, cu.chatID)
		e.stats.polls.Add(-1)
		if ctx.Err() != nil {
			return
		}
		e.stats.requests.Add(1)
		if client.IsNotFound(err) {
			return // the chat is over: 404 stops an app's polling
		}
		if err != nil {
			e.stats.fail("poll", err)
			sleep(ctx, time.Second)
			continue
		}
		e.stats.pollAnswers.Add(1)
		now := time.Now()
		for i := range evs {
			ev := &evs[i]
			switch ev.Event {
			case client.EventStatus:
				if ev.State == "connected" {
					cu.markConnected()
				}
			case client.EventPartyJoined:
				if ev.PartyType == "internal" {
					cu.markConnected()
				}
			case client.EventMessage:
				if ev.PartyID == cu.chatID {
					continue // never given back, but be safe
				}
				if at, ok := sentAt(ev.Msg); ok {
					e.stats.a2c.Record(now.Sub(at))
				}
				if e.cfg.Receipts && ev.MsgID != "" {
					select {
					case cu.acks <- ev.MsgID:
					default: // the sender is far behind; skip this receipt
					}
				}
			case client.EventEnded:
				return
			}
		}
	}
}

func (cu *customer) markConnected() {
	select {
	case <-cu.connected:
	default:
		close(cu.connected)
		cu.e.stats.connected.Add(1)
	}
}

// talk sends messages with think times and acknowledges answers, one
// request at a time as an SDK's queue does, until ctx ends.
func (cu *customer) talk(ctx context.Context) {
	e := cu.e
	select {
	case <-cu.connected:
	case <-cu.ended:
		return
	case <-ctx.Done():
		return
	}
	defer func() {
		select {
		case <-cu.connected:
			e.stats.connected.Add(-1)
		default:
		}
	}()
	next := time.NewTimer(think(e.cfg.Think))
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-cu.ended:
			return
		case ref := <-cu.acks:
			if cu.send(ctx, "delivered", client.Delivered(ref)) {
				e.stats.receipts.Add(1)
			}
			if cu.send(ctx, "read", client.Read(ref)) {
				e.stats.receipts.Add(1)
			}
		case <-next.C:
			if e.cfg.Typing && cu.send(ctx, "typing", client.Typing()) {
				e.stats.typing.Add(1)
			}
			cu.n++
			msg := client.Message(cu.id+"-"+strconv.Itoa(cu.n), messageText(time.Now()))
			if cu.send(ctx, "send message", msg) {
				e.stats.customerMsgs.Add(1)
			}
			next.Reset(think(e.cfg.Think))
		}
	}
}

// send sends one event and reports whether the server took it.
func (cu *customer) send(ctx context.Context, op string, ev client.Event) bool {
	err := cu.c.SendEvents(ctx, cu.chatID, ev)
	if ctx.Err() != nil {
		return false
	}
	cu.e.stats.requests.Add(1)
	if err != nil {
		cu.e.stats.fail(op, err)
		return false
	}
	return true
}

// agent is one simulated agent desktop.
type agent struct {
	e        *engine
	a        *client.Agent
	name     string
	mu       sync.Mutex
	taking   map[string]bool // offers being accepted
	replies  chan reply
	replying sync.WaitGroup
}

type reply struct {
	chatID string
	n      int
}

// runAgent plays agent n until ctx ends: log in, clear the desk of chats a
// previous run left, go ready, accept every offer and answer every message.
func (e *engine) runAgent(ctx context.Context, n int) {
	name := e.cfg.AgentUser + strconv.Itoa(n)
	a, err := client.NewAgent(e.cfg.AgentURL, client.WithHTTPClient(e.hc))
	if err != nil {
		e.stats.fail("new agent", err)
		return
	}
	ag := &agent{e: e, a: a, name: name, taking: map[string]bool{}, replies: make(chan reply, 4096)}
	for {
		_, err := a.Login(ctx, e.cfg.Tenant, name, e.cfg.AgentPassword)
		e.stats.requests.Add(1)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		e.stats.fail("agent login", err)
		if !sleep(ctx, 2*time.Second) {
			return
		}
	}
	ag.clearDesk(ctx)
	stream, err := a.Stream(ctx, nil)
	e.stats.requests.Add(1)
	if err != nil {
		if ctx.Err() == nil {
			e.stats.fail("agent stream", err)
		}
		return
	}
	defer stream.Close()
	if _, err := a.SetState(ctx, client.AgentReady, ""); err != nil {
		if ctx.Err() == nil {
			e.stats.fail("agent ready", err)
		}
		return
	}
	e.stats.requests.Add(1)
	defer ag.logout()
	e.stats.agentsReady.Add(1)
	defer e.stats.agentsReady.Add(-1)
	// Answers go out from several goroutines: an agent types in many
	// chats at once, and one slow answer must not hold the others.
	for range 32 {
		ag.replying.Go(func() { ag.answer(ctx) })
	}
	defer ag.replying.Wait()
	for {
		m, err := stream.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.stats.fail("agent stream", err)
			}
			return
		}
		switch m.Type {
		case client.StreamRouting:
			if m.Routing != nil {
				for _, o := range m.Routing.Offers {
					ag.take(ctx, o.ChatID)
				}
			}
		case client.StreamEvents:
			ag.events(m.ChatID, m.Events)
		}
	}
}

// clearDesk ends the chats a previous run left with the agent: they would
// hold its capacity.
func (ag *agent) clearDesk(ctx context.Context) {
	chats, err := ag.a.Chats(ctx)
	ag.e.stats.requests.Add(1)
	if err != nil {
		if ctx.Err() == nil {
			ag.e.stats.fail("agent chats", err)
		}
		return
	}
	for _, c := range chats {
		if err := ag.a.End(ctx, c.ChatID); err != nil && ctx.Err() == nil && !client.IsNotFound(err) {
			ag.e.stats.fail("agent end old chat", err)
		}
	}
}

// take accepts an offered chat once.
func (ag *agent) take(ctx context.Context, chatID string) {
	ag.mu.Lock()
	busy := ag.taking[chatID]
	ag.taking[chatID] = true
	ag.mu.Unlock()
	if busy {
		return
	}
	go func() {
		_, err := ag.a.Accept(ctx, chatID)
		if ctx.Err() != nil {
			return
		}
		ag.e.stats.requests.Add(1)
		if err != nil && !client.IsNotFound(err) {
			ag.e.stats.fail("accept", err)
		}
		if err == nil {
			ag.e.stats.accepted.Add(1)
		}
	}()
}

// events handles the new events of one chat: every customer message is
// measured and answered.
func (ag *agent) events(chatID string, evs []client.Event) {
	now := time.Now()
	for i := range evs {
		ev := &evs[i]
		switch ev.Event {
		case client.EventMessage:
			if ev.PartyID != chatID {
				continue // the agent's own
			}
			at, ok := sentAt(ev.Msg)
			if !ok {
				continue
			}
			ag.e.stats.c2a.Record(now.Sub(at))
			select {
			case ag.replies <- reply{chatID: chatID, n: int(ev.Seq)}:
			default:
				ag.e.stats.fail("answer", errors.New("agent answer queue full"))
			}
		case client.EventEnded:
			ag.mu.Lock()
			delete(ag.taking, chatID)
			ag.mu.Unlock()
		}
	}
}

// answer sends the queued answers until the sending phase is over.
func (ag *agent) answer(ctx context.Context) {
	sending := ag.e.sending
	for {
		select {
		case <-sending.Done():
			return
		case r := <-ag.replies:
			if !sleep(sending, ag.e.cfg.AgentThink) {
				return
			}
			msg := client.Message(ag.name+"-"+r.chatID+"-"+strconv.Itoa(r.n), messageText(time.Now()))
			_, err := ag.a.Send(sending, r.chatID, msg)
			if sending.Err() != nil {
				return
			}
			ag.e.stats.requests.Add(1)
			if err != nil {
				if !client.IsNotFound(err) { // a chat that just ended
					ag.e.stats.fail("agent send", err)
				}
				continue
			}
			ag.e.stats.agentMsgs.Add(1)
		}
	}
}

// logout leaves routing tidy for the next run: the agent's chats ended with
// the customers, and a logged-out agent is offered nothing.
func (ag *agent) logout() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ag.a.Logout(ctx)
}
