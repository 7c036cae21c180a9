package routing_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/routing"
)

// The load of the concurrency test: enough to make every path of routing
// race with the others under -race, small enough to finish in seconds.
const (
	raceCustomers     = 6
	raceChatsEach     = 12
	raceAgents        = 8
	raceChaos         = 2 * time.Second // agents keep working at least this long
	raceOfferTimeout  = 60 * time.Millisecond
	raceAgentPatience = 5 * time.Millisecond // an agent looks again at least this often
)

// TestConcurrentRoutingKeepsItsPromises has customers request and end chats
// while agents go ready and not ready, accept, reject, end and transfer
// whatever their views show, offers expire and inactivity timeouts fire.
// Throughout and at the end: no chat is ever with two agents at once, no
// agent ever holds more chats and offers than their capacity, no agent who
// is not ready is offered anything, and every chat is either over, with an
// agent or waiting in its queue, never lost.
func TestConcurrentRoutingKeepsItsPromises(t *testing.T) {
	if testing.Short() {
		t.Skip("concurrency test: seconds of load")
	}
	h := newHarness(t, realClock(), offerTimeout(raceOfferTimeout), running(5*time.Millisecond))

	capacity := map[string]int{}
	var agents []string
	for i := range raceAgents {
		id := fmt.Sprintf("agent-%d", i)
		skills := []string{}
		if i%2 == 0 {
			skills = append(skills, "support")
		}
		capacity[id] = 1 + i%3
		agents = append(agents, id)
		h.login(id, capacity[id], skills...)
	}

	stop := make(chan struct{})
	var sampler, workers, customers sync.WaitGroup

	// Sample every agent's view while everything runs.
	sampler.Go(func() {
		for {
			for _, id := range agents {
				checkView(t, id, h.router.View(id), capacity[id])
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	})

	for n, id := range agents {
		workers.Go(func() { h.agentAtWork(t, id, agents, rand.New(rand.NewPCG(uint64(n), 1)), stop) })
	}

	var mu sync.Mutex
	var requested []chat.Session
	for n := range raceCustomers {
		customers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(n), 2))
			apps := []string{salesApp, salesApp, supportApp, hastyApp}
			var mine []chat.Session
			for range raceChatsEach {
				s, err := h.tryRequest(tenant, apps[rng.IntN(len(apps))])
				if err != nil {
					t.Errorf("request chat: %v", err)
					return
				}
				mine = append(mine, s)
				// Talk in one chat, end another now and then; a chat that
				// ended already answers 5005, which is fine.
				talk := mine[rng.IntN(len(mine))]
				msg := chat.Event{Type: chat.TypeMessage, MsgID: chat.NewID(), Payload: chat.Payload{Msg: "hello"}}
				if err := h.svc.Send(h.ctx, &talk, []chat.Event{msg}); err != nil && chat.ErrorCode(err) != chat.CodeChatNotFound {
					t.Errorf("customer message: %v", err)
				}
				if rng.IntN(3) == 0 {
					gone := mine[rng.IntN(len(mine))]
					if err := h.svc.Send(h.ctx, &gone, []chat.Event{{Type: chat.TypeEnd}}); err != nil && chat.ErrorCode(err) != chat.CodeChatNotFound {
						t.Errorf("customer end: %v", err)
					}
				}
			}
			mu.Lock()
			requested = append(requested, mine...)
			mu.Unlock()
		})
	}

	chaos := time.NewTimer(raceChaos)
	customers.Wait()
	<-chaos.C
	close(stop)
	workers.Wait()
	sampler.Wait()
	if t.Failed() {
		return
	}

	// Nothing was lost: every chat is over, with an agent who knows it, or
	// waiting in its queue.
	h.checkAccounted(t, requested, agents)

	// And nothing is stuck: agents who take every offer and finish every
	// chat serve the whole queue.
	for _, id := range agents {
		if err := h.router.SetState(id, routing.StateReady, ""); err != nil {
			t.Fatal(err)
		}
	}
	h.eventually("every waiting chat to be served", func() bool {
		busy := false
		for _, id := range agents {
			v := h.router.View(id)
			if v.State != routing.StateReady {
				if err := h.router.SetState(id, routing.StateReady, ""); err != nil {
					t.Fatal(err)
				}
			}
			for _, o := range v.Offers {
				busy = true
				if err := h.router.Accept(h.ctx, id, o.ChatID); err != nil && chat.ErrorCode(err) != chat.CodeChatNotFound {
					t.Fatalf("accept while draining: %v", err)
				}
			}
			for _, c := range v.Chats {
				busy = true
				if err := h.router.End(h.ctx, id, c); err != nil && chat.ErrorCode(err) != chat.CodeChatNotFound {
					t.Fatalf("end while draining: %v", err)
				}
			}
		}
		return !busy && len(h.router.Waiting()) == 0
	})

	count := map[string]int{}
	for _, s := range requested {
		evs := h.events(s.ID)
		checkLog(t, s.ID, evs)
		if !slices.Contains(types(evs), chat.TypeEnded) {
			t.Errorf("chat %s is still live after the queue was served: %v", s.ID, types(evs))
		}
		for _, ev := range evs {
			name := string(ev.Type)
			if ev.Type == chat.TypeStatus {
				name += " " + ev.State
			}
			count[name]++
		}
	}
	t.Logf("%d chats; their events: %v", len(requested), count)
}

// agentAtWork acts on what the agent's view shows until stop: mostly
// accepting offers and ending chats, sometimes rejecting, transferring,
// taking a break, or letting an offer expire.
func (h *harness) agentAtWork(t *testing.T, id string, agents []string, rng *rand.Rand, stop <-chan struct{}) {
	wake, unwatch := h.bus.Watch(routing.AgentTopic(id))
	defer unwatch()
	look := time.NewTicker(raceAgentPatience)
	defer look.Stop()
	fine := func(what string, err error) {
		// Whatever the view showed may be gone by now (withdrawn, expired,
		// ended, transferred): that is answered 5005, anything else is wrong.
		if err != nil && chat.ErrorCode(err) != chat.CodeChatNotFound {
			t.Errorf("%s %s: %v", id, what, err)
		}
	}
	for {
		select {
		case <-stop:
			return
		case <-wake:
		case <-look.C:
		}
		v := h.router.View(id)
		switch {
		case v.State != routing.StateReady && rng.IntN(4) == 0:
			fine("ready", h.router.SetState(id, routing.StateReady, ""))
		case v.State == routing.StateReady && rng.IntN(20) == 0:
			fine("not ready", h.router.SetState(id, routing.StateNotReady, "break"))
		}
		for _, o := range v.Offers {
			switch r := rng.IntN(10); {
			case r < 7:
				fine("accept", h.router.Accept(h.ctx, id, o.ChatID))
			case r < 9:
				fine("reject", h.router.Reject(id, o.ChatID))
			default: // look away: the offer expires
			}
		}
		for _, c := range v.Chats {
			switch r := rng.IntN(40); {
			case r == 0:
				fine("end", h.router.End(h.ctx, id, c))
			case r == 1:
				to := agents[rng.IntN(len(agents))]
				if err := h.router.Transfer(h.ctx, id, c, to, ""); err != nil &&
					chat.ErrorCode(err) != chat.CodeChatNotFound && chat.ErrorCode(err) != chat.CodeInvalid {
					t.Errorf("%s transfer to %s: %v", id, to, err)
				}
			case r == 2:
				fine("transfer to the queue", h.router.Transfer(h.ctx, id, c, "", ""))
			}
		}
	}
}

// checkView checks one look at an agent's desktop.
func checkView(t *testing.T, id string, v routing.View, capacity int) {
	t.Helper()
	if n := len(v.Chats) + len(v.Offers); n > capacity {
		t.Errorf("%s holds %d chats and %d offers, capacity %d", id, len(v.Chats), len(v.Offers), capacity)
	}
	if v.State != routing.StateReady && len(v.Offers) > 0 {
		t.Errorf("%s is %s (%s) yet offered %d chats", id, v.State, v.Reason, len(v.Offers))
	}
}

// checkAccounted checks that every chat is over, assigned to an agent whose
// view shows it, or waiting in its queue, and that every chat an agent's
// view shows is assigned to them.
func (h *harness) checkAccounted(t *testing.T, chats []chat.Session, agents []string) {
	t.Helper()
	holder := map[string]string{}
	for _, id := range agents {
		for _, c := range h.router.View(id).Chats {
			if other, ok := holder[c]; ok {
				t.Errorf("chat %s is in the views of %s and %s", c, other, id)
			}
			holder[c] = id
		}
	}
	waiting := h.router.Waiting()
	for _, s := range chats {
		sess := h.session(s.ID)
		agent, _, assigned := h.router.Assignment(s.ID)
		switch {
		case !sess.Live():
			if h.router.Tracked(s.ID) {
				t.Errorf("chat %s ended but routing still tracks it", s.ID)
			}
		case assigned:
			if holder[s.ID] != agent {
				t.Errorf("chat %s is assigned to %s but %q's view shows it", s.ID, agent, holder[s.ID])
			}
			if sess.AgentID != agent {
				t.Errorf("chat %s is assigned to %s, its session says %q", s.ID, agent, sess.AgentID)
			}
		case !slices.Contains(waiting, s.ID):
			t.Errorf("chat %s (state %s, agent %q) is neither over, assigned nor waiting", s.ID, sess.State, sess.AgentID)
		}
	}
}

// checkLog checks what one chat's customer was told: never a second agent
// joined before the first left, connected only with an agent, queued only
// without one, and nothing after the end.
func checkLog(t *testing.T, chatID string, evs []chat.Event) {
	t.Helper()
	joined := map[string]string{} // party -> agent
	for i, ev := range evs {
		switch {
		case i > 0 && evs[i-1].Type == chat.TypeEnded:
			t.Errorf("chat %s: %s after the end: %v", chatID, ev.Type, types(evs))
			return
		case ev.Type == chat.TypePartyJoined && ev.PartyType == chat.PartyInternal:
			if len(joined) > 0 {
				t.Errorf("chat %s: %s joined while %v had not left: %v", chatID, ev.AgentID, joined, types(evs))
				return
			}
			joined[ev.PartyID] = ev.AgentID
		case ev.Type == chat.TypePartyLeft && ev.PartyID != chatID:
			if _, ok := joined[ev.PartyID]; !ok {
				t.Errorf("chat %s: party %s left without having joined: %v", chatID, ev.PartyID, types(evs))
				return
			}
			delete(joined, ev.PartyID)
		case ev.Type == chat.TypeStatus && ev.State == chat.StateConnected && len(joined) != 1:
			t.Errorf("chat %s: connected with %d agents joined: %v", chatID, len(joined), types(evs))
			return
		case ev.Type == chat.TypeStatus && ev.State == chat.StateQueued && len(joined) != 0:
			t.Errorf("chat %s: told it is queued while %v is in it (event %d): %v", chatID, joined, i, types(evs))
			return
		}
	}
}
