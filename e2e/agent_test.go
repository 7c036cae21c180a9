package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/client"
)

// The help desk tenant of the agent tests: three entries (one needing the
// billing skill, one with short inactivity timeouts) and three agents of
// different skills and capacities.
const (
	deskTenant = "help.example.com"
	webApp     = "web"     // any agent
	billingApp = "billing" // agents with the billing skill
	quickApp   = "quick"   // warns after 2 s of customer silence, ends after 4 s
)

const deskConfig = `
tenants:
  - host: help.example.com
    name: Example help desk
    entries:
      - app_id: web
      - app_id: billing
        skills: [billing]
      - app_id: quick
        inactivity: {warning: "2s", end: "4s"}
agents:
  - {tenant: help.example.com, username: ann, password: ann-secret, first_name: Ann, last_name: Archer,
     display_name: Ann A., skills: [billing], capacity: 2}
  - {tenant: help.example.com, username: ben, password: ben-secret, first_name: Ben, last_name: Baker,
     capacity: 1}
  - {tenant: help.example.com, username: cat, password: cat-secret, first_name: Cat, last_name: Cole,
     display_name: Cat C., capacity: 3, role: admin}
`

// Names of the agents of deskConfig, as customers are told them.
var deskAgents = map[string]struct{ first, last, display string }{
	"ann": {"Ann", "Archer", "Ann A."},
	"ben": {"Ben", "Baker", "Ben"},
	"cat": {"Cat", "Cole", "Cat C."},
}

// waitTimeout bounds every wait for something the server does on its own.
const waitTimeout = 10 * time.Second

// startHelpDesk starts a server with the help desk configuration, agents
// having offerTimeout to accept an offer.
func startHelpDesk(t *testing.T, offerTimeout time.Duration) *server {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, deskConfig)
	return startServer(t, "--config", cfg, "--offer-timeout", offerTimeout.String())
}

// TestAgentRouting runs three agents and ten customers through routing:
// the longest idle agent is offered a chat first, a rejected or expired
// offer moves on (an expired one makes its agent not ready), waiting chats
// go out oldest first, and no agent ever holds more chats and offers than
// their capacity.
func TestAgentRouting(t *testing.T) {
	t.Parallel()
	const offerTimeout = 2 * time.Second // short, yet ample for a prompt accept on a loaded machine
	srv := startHelpDesk(t, offerTimeout)
	ctx := testContext(t)
	ann, ben, cat := openDesk(t, srv, "ann"), openDesk(t, srv, "ben"), openDesk(t, srv, "cat")
	var callers []*caller
	for i := range 10 {
		callers = append(callers, newCaller(t, srv, webApp, fmt.Sprintf("caller-%d", i)))
	}

	t.Log("the longest idle agent is offered the first chat; a reject and a timeout pass it on")
	for _, d := range []*desk{ann, ben, cat} { // ann has waited longest, cat least
		d.setState(ctx, client.AgentReady, "")
	}
	c0 := callers[0].request(ctx)
	ann.waitOffers(c0)
	ben.wantNoOffers()
	cat.wantNoOffers()
	if err := ann.Reject(ctx, c0); err != nil {
		t.Fatalf("ann rejects: %v", err)
	}
	ben.waitOffers(c0)
	offered := time.Now()
	view := ben.waitRouting("ben set not ready for missing the offer", func(v client.RoutingView) bool {
		return v.State == client.AgentNotReady
	})
	if view.Reason != "missed offer" || len(view.Offers) != 0 {
		t.Errorf("ben's view after the timeout = %+v, want not ready for a missed offer, no offers", view)
	}
	if waited := time.Since(offered); waited < offerTimeout/2 {
		t.Errorf("ben's offer expired %v after it was seen, want about the %v offer timeout", waited, offerTimeout)
	}
	cat.waitOffers(c0)
	cat.accept(ctx, c0)
	if _, err := ann.Accept(ctx, c0); !client.HasCode(err, client.CodeChatNotFound) {
		t.Errorf("ann accepting the chat cat took: err = %v, want 404/5005", err)
	}
	callers[0].waitJoined(ctx, "cat")

	t.Log("with every agent away, nine more customers queue")
	ann.setState(ctx, client.AgentNotReady, "briefing")
	cat.setState(ctx, client.AgentNotReady, "briefing")
	ids := []string{c0}
	for _, c := range callers[1:] {
		ids = append(ids, c.request(ctx))
	}
	for _, c := range callers[1:] {
		if got := c.state(ctx); got != "queued" {
			t.Errorf("%s's chat is %s, want queued", c.name, got)
		}
	}

	t.Log("agents coming back are offered the oldest chats, up to their capacity")
	ann.setState(ctx, client.AgentReady, "")
	ann.waitOffers(ids[1], ids[2]) // capacity 2
	ann.accept(ctx, ids[1])
	ann.accept(ctx, ids[2])
	ben.setState(ctx, client.AgentReady, "")
	ben.waitOffers(ids[3]) // capacity 1
	ben.accept(ctx, ids[3])
	cat.setState(ctx, client.AgentReady, "")
	cat.waitOffers(ids[4], ids[5]) // capacity 3, one taken by the first chat
	cat.accept(ctx, ids[4])
	cat.accept(ctx, ids[5])
	served := []struct {
		caller int
		agent  string
	}{{1, "ann"}, {2, "ann"}, {3, "ben"}, {4, "cat"}, {5, "cat"}}
	for _, s := range served {
		callers[s.caller].waitJoined(ctx, s.agent)
	}
	for _, c := range callers[6:] {
		if got := c.state(ctx); got != "queued" {
			t.Errorf("%s's chat is %s, want still queued: every agent is full", c.name, got)
		}
	}
	ann.wantNoOffers()
	ben.wantNoOffers()
	cat.wantNoOffers()

	t.Log("a chat ended by its agent frees a slot for the oldest waiting chat")
	if err := ann.End(ctx, ids[1]); err != nil {
		t.Fatalf("ann ends: %v", err)
	}
	callers[1].waitEnded(ctx)
	ann.waitOffers(ids[6])
	ann.accept(ctx, ids[6])
	callers[6].waitJoined(ctx, "ann")

	t.Log("a chat ended by its customer frees a slot too")
	callers[3].send(ctx, client.End())
	ben.waitEvent(ids[3], "the customer's chat_session_ended", isType(client.EventEnded))
	ben.waitOffers(ids[7])
	ben.accept(ctx, ids[7])
	callers[7].waitJoined(ctx, "ben")
	for _, c := range callers[8:] {
		if got := c.state(ctx); got != "queued" {
			t.Errorf("%s's chat is %s, want still queued behind older chats", c.name, got)
		}
	}
}

// TestAgentConversation follows a chat from the agent's side: skills pick
// the agent, the customer is told who joined, messages, typing, receipts
// and files go both ways, a transfer hands the chat to another agent, and
// chats end from either side.
func TestAgentConversation(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	ann, ben, cat := openDesk(t, srv, "ann"), openDesk(t, srv, "ben"), openDesk(t, srv, "cat")
	photo := pngImage(t)
	if info, err := ann.SetPhoto(ctx, "ann.png", bytes.NewReader(photo)); err != nil || info.PhotoID == "" {
		t.Fatalf("ann's SetPhoto = %+v, %v; want a photo id", info, err)
	}
	for _, d := range []*desk{ben, cat, ann} { // ann has waited least
		d.setState(ctx, client.AgentReady, "")
	}

	t.Log("a billing chat goes to the only agent with the billing skill")
	payer := newCaller(t, srv, billingApp, "payer")
	payerChat := payer.request(ctx)
	ann.waitOffers(payerChat)
	ben.wantNoOffers()
	cat.wantNoOffers()
	ann.accept(ctx, payerChat)

	t.Log("a web chat goes to the agent idle longest; the customer is told who joined")
	alice := newCaller(t, srv, webApp, "alice")
	aliceChat := alice.requestWith(ctx, client.ChatRequest{Parameters: map[string]any{"first_name": "Alice"}})
	ben.waitOffers(aliceChat)
	accepted := ben.accept(ctx, aliceChat)
	if !strings.Contains(string(accepted.Parameters), `"Alice"`) || accepted.ClientID != "alice" {
		t.Errorf("accepted chat = %+v, want alice's parameters and client id", accepted)
	}
	benParty := alice.waitJoined(ctx, "ben")
	if benParty != accepted.PartyID {
		t.Errorf("party joined = %q, want the accepted chat's party %q", benParty, accepted.PartyID)
	}

	t.Log("customer messages reach the agent's stream in order")
	alice.send(ctx, client.Message("m-1", "Hello"), client.Message("m-2", "My invoice is wrong"))
	ben.waitEvent(aliceChat, "message m-2", hasMsgID(client.EventMessage, "m-2"))
	var msgs []string
	for _, ev := range ben.events(aliceChat) {
		if ev.Event == client.EventMessage {
			msgs = append(msgs, ev.MsgID+":"+ev.Msg+":"+ev.PartyID)
		}
	}
	if want := []string{"m-1:Hello:" + aliceChat, "m-2:My invoice is wrong:" + aliceChat}; !slices.Equal(msgs, want) {
		t.Errorf("messages on ben's stream = %q, want %q", msgs, want)
	}

	t.Log("the agent types and answers; the customer polls both from the agent's party")
	stored, err := ben.Send(ctx, aliceChat, client.Typing(), client.Message("b-1", "Let me check that for you"))
	if err != nil {
		t.Fatalf("ben sends: %v", err)
	}
	if len(stored) != 2 || stored[0].Seq == 0 || stored[1].Seq != stored[0].Seq+1 || stored[1].PartyID != benParty {
		t.Errorf("ben's stored events = %s, want consecutive seqs from ben's party", rawEvents(stored))
	}
	alice.waitEvent(ctx, "ben's message b-1", hasMsgID(client.EventMessage, "b-1"))
	typing := alice.find(isType(client.EventTyping))
	answer := alice.find(hasMsgID(client.EventMessage, "b-1"))
	if typing.PartyID != benParty || answer.PartyID != benParty || answer.Msg != "Let me check that for you" || typing.Seq > answer.Seq {
		t.Errorf("alice got typing %s then message %s, want both from ben's party in that order", typing.Raw, answer.Raw)
	}

	t.Log("receipts go both ways")
	alice.send(ctx, client.Delivered("b-1"), client.Read("b-1"))
	ben.waitEvent(aliceChat, "alice's read receipt", hasRef(client.EventRead, "b-1"))
	if got := ben.find(aliceChat, hasRef(client.EventDelivered, "b-1")); got.PartyID != aliceChat {
		t.Errorf("delivered receipt on ben's stream = %s, want from alice's party", got.Raw)
	}
	if _, err := ben.Send(ctx, aliceChat, client.Delivered("m-1"), client.Read("m-2")); err != nil {
		t.Fatalf("ben sends receipts: %v", err)
	}
	if got := alice.waitEvent(ctx, "ben's read receipt", hasRef(client.EventRead, "m-2")); got.PartyID != benParty {
		t.Errorf("read receipt = %s, want from ben's party", got.Raw)
	}
	if got := alice.find(hasRef(client.EventDelivered, "m-1")); got.PartyID != benParty {
		t.Errorf("delivered receipt = %s, want from ben's party", got.Raw)
	}

	t.Log("the customer's typing reaches the agent")
	alice.send(ctx, client.Typing(), client.NotTyping())
	ben.waitEvent(aliceChat, "alice stopped typing", isType(client.EventNotTyping))

	t.Log("files go both ways and can be downloaded by the other side")
	invoice := pngImage(t)
	up, err := ben.UploadFile(ctx, "invoice.png", bytes.NewReader(invoice))
	if err != nil {
		t.Fatalf("ben uploads: %v", err)
	}
	if _, err := ben.Send(ctx, aliceChat, client.File("bf-1", up.FileID, "", "")); err != nil {
		t.Fatalf("ben sends the file: %v", err)
	}
	file := alice.waitEvent(ctx, "ben's file", hasMsgID(client.EventFile, "bf-1"))
	if file.FileID != up.FileID || file.FileName != "invoice.png" || file.FileType != "image" || file.PartyID != benParty {
		t.Errorf("file event = %s, want ben's invoice.png as an image", file.Raw)
	}
	got, err := alice.DownloadFile(ctx, file.FileID)
	if err != nil || !bytes.Equal(got.Data, invoice) {
		t.Errorf("alice downloads ben's file: %d bytes, %v; want the %d uploaded", len(got.Data), err, len(invoice))
	}
	receipt := pngImage(t)
	mine, err := alice.UploadFile(ctx, "receipt.png", bytes.NewReader(receipt))
	if err != nil {
		t.Fatalf("alice uploads: %v", err)
	}
	alice.send(ctx, client.File("af-1", mine.FileID, "receipt.png", "image"))
	ben.waitEvent(aliceChat, "alice's file", hasMsgID(client.EventFile, "af-1"))
	if got, err := ben.DownloadFile(ctx, mine.FileID); err != nil || !bytes.Equal(got.Data, receipt) {
		t.Errorf("ben downloads alice's file: %d bytes, %v; want the %d uploaded", len(got.Data), err, len(receipt))
	}

	t.Log("a transfer takes the first agent out and brings the second in")
	if err := ben.Transfer(ctx, aliceChat, ann.info.ID, ""); err != nil {
		t.Fatalf("ben transfers to ann: %v", err)
	}
	ben.waitRouting("alice's chat gone from ben's chats", func(v client.RoutingView) bool { return !v.Handles(aliceChat) })
	if _, err := ben.Send(ctx, aliceChat, client.Message("b-2", "still there?")); !client.IsNotFound(err) {
		t.Errorf("ben sending after the transfer: err = %v, want 404", err)
	}
	ann.waitOffers(aliceChat)
	annChat := ann.accept(ctx, aliceChat)
	left := alice.waitEvent(ctx, "ben leaving", isType(client.EventPartyLeft))
	annParty := alice.waitJoined(ctx, "ann")
	if left.PartyID != benParty || annParty != annChat.PartyID || annParty == benParty {
		t.Errorf("party_left %s and party %q joined, want ben's party %q out and ann's %q in", left.Raw, annParty, benParty, annChat.PartyID)
	}
	if joined := alice.find(isJoinOf(annParty)); left.Seq > joined.Seq {
		t.Errorf("ann joined (seq %d) before ben left (seq %d)", joined.Seq, left.Seq)
	}
	if pic, err := alice.ProfilePhoto(ctx, aliceChat, annParty); err != nil || !bytes.Equal(pic.Data, photo) {
		t.Errorf("ann's profile photo: %d bytes, %v; want ann's %d", len(pic.Data), err, len(photo))
	}
	ann.waitEvent(aliceChat, "the chat's history from its start", hasMsgID(client.EventMessage, "m-1"))

	t.Log("the agent ends the chat: the customer is told, then the chat is gone")
	if err := ann.End(ctx, aliceChat); err != nil {
		t.Fatalf("ann ends: %v", err)
	}
	alice.waitEnded(ctx)
	if got := alice.events[len(alice.events)-3:]; got[0].Event != client.EventPartyLeft || got[0].PartyID != annParty || got[1].State != "completed" {
		t.Errorf("closing events = %v, want ann's party_left, status completed, ended", rawEvents(got))
	}
	ann.waitEvent(aliceChat, "chat_session_ended", isType(client.EventEnded))
	ann.waitRouting("alice's chat gone from ann's chats", func(v client.RoutingView) bool { return !v.Handles(aliceChat) })

	t.Log("the agent wraps the chat up and finds it among their ended chats")
	if _, err := ann.WrapUp(ctx, aliceChat, "solved", "corrected the invoice"); err != nil {
		t.Fatalf("WrapUp: %v", err)
	}
	detail, wrapups, err := ann.Chat(ctx, aliceChat)
	if err != nil || !detail.Ended || len(wrapups) != 1 || wrapups[0].Code != "solved" || wrapups[0].AgentID != ann.info.ID {
		t.Errorf("Chat = %+v, wrap-ups %+v, %v; want ended with ann's wrap-up", detail, wrapups, err)
	}
	ended, err := ann.EndedChats(ctx, 10)
	if err != nil || !slices.ContainsFunc(ended, func(c client.AgentChat) bool { return c.ChatID == aliceChat }) {
		t.Errorf("ann's ended chats = %+v, %v; want alice's among them", ended, err)
	}
	if _, err := ben.WrapUp(ctx, aliceChat, "x", ""); !client.IsNotFound(err) {
		t.Errorf("ben wrapping up a chat ann finished: err = %v, want 404", err)
	}

	t.Log("the customer ends the other chat: the agent's stream says so and the chat leaves the desk")
	payer.send(ctx, client.End())
	end := ann.waitEvent(payerChat, "the customer's chat_session_end", isType(client.EventEnd))
	last := ann.waitEvent(payerChat, "chat_session_ended", isType(client.EventEnded))
	if end.PartyID != payerChat || end.Seq > last.Seq {
		t.Errorf("chat_session_end %s then ended %s, want the customer's end first", end.Raw, last.Raw)
	}
	ann.waitRouting("the payer's chat gone from ann's chats", func(v client.RoutingView) bool { return len(v.Chats) == 0 })
	payer.waitEnded(ctx)
	if chats, err := ann.Chats(ctx); err != nil || len(chats) != 0 {
		t.Errorf("ann's chats = %+v, %v; want none", chats, err)
	}
}

// TestAgentTransferToAQueue sends a chat to the billing queue, where only
// an agent with the billing skill may take it, and lets a customer give up
// while their chat is offered.
func TestAgentTransferToAQueue(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	ann, ben, cat := openDesk(t, srv, "ann"), openDesk(t, srv, "ben"), openDesk(t, srv, "cat")
	ben.setState(ctx, client.AgentReady, "")
	cat.setState(ctx, client.AgentReady, "")
	dora := newCaller(t, srv, webApp, "dora")
	chatID := dora.request(ctx)
	ben.waitOffers(chatID)
	ben.accept(ctx, chatID)
	benParty := dora.waitJoined(ctx, "ben")

	t.Log("only the chat's agent may transfer it, and only to a queue that exists")
	if err := cat.Transfer(ctx, chatID, "", billingApp); !client.IsNotFound(err) {
		t.Errorf("cat transferring ben's chat: err = %v, want 404", err)
	}
	if err := ben.Transfer(ctx, chatID, "", "no-such-queue"); !client.HasCode(err, client.CodeInvalid) {
		t.Errorf("transfer to an unknown queue: err = %v, want 400/5003", err)
	}
	if err := ben.Transfer(ctx, chatID, ben.info.ID, ""); !client.HasCode(err, client.CodeInvalid) {
		t.Errorf("transfer to oneself: err = %v, want 400/5003", err)
	}

	t.Log("in the billing queue the chat waits for an agent with the skill")
	if err := ben.Transfer(ctx, chatID, "", billingApp); err != nil {
		t.Fatalf("transfer to the billing queue: %v", err)
	}
	left := dora.waitEvent(ctx, "ben leaving", isType(client.EventPartyLeft))
	queued := dora.waitEvent(ctx, "status queued again", func(ev client.Event) bool {
		return ev.Event == client.EventStatus && ev.State == "queued" && ev.Seq > left.Seq
	})
	if _, err := strconv.Atoi(queued.EWT); left.PartyID != benParty || err != nil {
		t.Errorf("after the transfer dora got %s then %s, want ben's party_left then queued with an ewt", left.Raw, queued.Raw)
	}
	cat.wantNoOffers()
	ben.wantNoOffers()
	ann.setState(ctx, client.AgentReady, "")
	ann.waitOffers(chatID)
	ann.accept(ctx, chatID)
	dora.waitJoined(ctx, "ann")

	t.Log("a customer who gives up while offered takes the offer back")
	eve := newCaller(t, srv, billingApp, "eve")
	eveChat := eve.request(ctx)
	ann.waitOffers(eveChat)
	eve.send(ctx, client.End())
	ann.waitOffers()
	if _, err := ann.Accept(ctx, eveChat); !client.IsNotFound(err) {
		t.Errorf("accepting a chat its customer ended: err = %v, want 404", err)
	}
	eve.waitEnded(ctx)
}

// TestAgentInactivityTimeouts leaves a connected customer silent on an
// entry that warns after 2 s and ends after 4 s.
func TestAgentInactivityTimeouts(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	ben := openDesk(t, srv, "ben")
	ben.setState(ctx, client.AgentReady, "")
	quinn := newCaller(t, srv, quickApp, "quinn")
	chatID := quinn.request(ctx)
	ben.waitOffers(chatID)
	ben.accept(ctx, chatID)
	party := quinn.waitJoined(ctx, "ben")
	silent := time.Now() // no later than the server's clock of the customer's last event
	quinn.send(ctx, client.Message("q-1", "one moment"))

	warning := quinn.waitEvent(ctx, "the timeout warning", isType(client.EventTimeoutWarning))
	if waited := time.Since(silent); waited < 2*time.Second || warning.Msg == "" {
		t.Errorf("warning %s came %v after the customer's message, want a notice after 2 s", warning.Raw, waited)
	}
	quinn.waitEnded(ctx)
	if waited := time.Since(silent); waited < 4*time.Second {
		t.Errorf("the chat ended %v after the customer's message, want after 4 s", waited)
	}
	got := quinn.events[slices.IndexFunc(quinn.events, isType(client.EventTimeoutWarning)):]
	want := []client.EventType{client.EventTimeoutWarning, client.EventInactivityTimeout, client.EventPartyLeft, client.EventStatus, client.EventEnded}
	if !slices.Equal(eventTypes(got), want) || got[2].PartyID != party || got[3].State != "completed" {
		t.Errorf("events from the warning on = %v, want %v with ben leaving", rawEvents(got), want)
	}
	ben.waitEvent(chatID, "the inactivity timeout", isType(client.EventInactivityTimeout))
	ben.waitEvent(chatID, "chat_session_ended", isType(client.EventEnded))
	ben.waitRouting("the chat gone from ben's chats", func(v client.RoutingView) bool { return len(v.Chats) == 0 })
}

// TestAgentCases links chats of one customer to a case: the customer's case
// history shows it, and a later chat attached to the same case joins it.
func TestAgentCases(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	cat := openDesk(t, srv, "cat")
	cat.setState(ctx, client.AgentReady, "")
	alice := newCaller(t, srv, webApp, "alice")
	first := alice.request(ctx)
	cat.waitOffers(first)
	cat.accept(ctx, first)
	if _, err := alice.CaseHistory(ctx, first); !client.HasCode(err, client.CodeNoCase) {
		t.Errorf("case history before a case: err = %v, want 406/5601", err)
	}
	if _, err := cat.CaseHistory(ctx, first); !client.HasCode(err, client.CodeNoCase) {
		t.Errorf("agent's case history before a case: err = %v, want 406/5601", err)
	}

	t.Log("the agent creates a case; the customer is told and sees it in case history")
	caseID, err := cat.SetCase(ctx, first, "")
	if err != nil || caseID == "" {
		t.Fatalf("SetCase = %q, %v; want a new case", caseID, err)
	}
	if set := alice.waitEvent(ctx, "chat_session_case_set", isType(client.EventCaseSet)); set.CaseID != caseID {
		t.Errorf("case_set = %s, want case %s", set.Raw, caseID)
	}
	alice.send(ctx, client.Message("m-1", "first visit"))
	sessions, err := alice.CaseHistory(ctx, first)
	if err != nil || len(sessions) != 1 || sessions[0].ChatID != first {
		t.Fatalf("case history = %+v, %v; want the first chat", sessions, err)
	}
	if err := cat.End(ctx, first); err != nil {
		t.Fatalf("End: %v", err)
	}
	alice.waitEnded(ctx)

	t.Log("a later chat of the same customer joins the case")
	second := alice.request(ctx)
	cat.waitOffers(second)
	cat.accept(ctx, second)
	if again, err := cat.SetCase(ctx, second, caseID); err != nil || again != caseID {
		t.Fatalf("SetCase of the existing case = %q, %v; want %s", again, err, caseID)
	}
	sessions, err = alice.CaseHistory(ctx, second)
	if err != nil || len(sessions) != 2 || sessions[0].ChatID != first || sessions[1].ChatID != second {
		t.Fatalf("case history = %+v, %v; want the first chat then the second", sessions, err)
	}
	if _, ok := findEvent(sessions[0].Events, client.EventMessage, "m-1"); !ok {
		t.Errorf("the first chat in case history lacks its message: %v", eventTypes(sessions[0].Events))
	}
	history, err := cat.CaseHistory(ctx, second)
	if err != nil || history.CaseID != caseID || len(history.Sessions) != 2 || history.Sessions[0].Chat.ChatID != first {
		t.Errorf("agent's case history = %+v, %v; want both chats of case %s", history, err, caseID)
	}

	t.Log("another customer's chat cannot join the case")
	bob := newCaller(t, srv, webApp, "bob")
	bobs := bob.request(ctx)
	cat.waitOffers(bobs)
	cat.accept(ctx, bobs)
	if _, err := cat.SetCase(ctx, bobs, caseID); !client.HasCode(err, client.CodeInvalid) {
		t.Errorf("attaching alice's case to bob's chat: err = %v, want 400/5003", err)
	}
	if err := cat.CloseCase(ctx, bobs); !client.HasCode(err, client.CodeNoCase) {
		t.Errorf("closing the case of a chat without one: err = %v, want 406/5601", err)
	}

	t.Log("closing the case leaves the chat going")
	if err := cat.CloseCase(ctx, second); err != nil {
		t.Fatalf("agent closes the case: %v", err)
	}
	if err := alice.CloseCase(ctx, second); err != nil {
		t.Errorf("customer closes the closed case: %v", err)
	}
	alice.send(ctx, client.Message("m-2", "thanks"))
	cat.waitEvent(second, "a message after the case closed", hasMsgID(client.EventMessage, "m-2"))
}

// TestAgentEstimatedWait keeps the only ready agent busy: queued customers
// are told a wait, and a shorter one as they move up the queue.
func TestAgentEstimatedWait(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	ben := openDesk(t, srv, "ben") // capacity 1, the only agent logged in
	ben.setState(ctx, client.AgentReady, "")
	first := newCaller(t, srv, webApp, "first")
	firstChat := first.request(ctx)
	ben.waitOffers(firstChat)
	ben.accept(ctx, firstChat)

	var queued []*caller
	told := map[*caller]int{}
	for i := range 3 {
		c := newCaller(t, srv, webApp, fmt.Sprintf("queued-%d", i))
		info, err := c.RequestChat(ctx, client.ChatRequest{})
		if err != nil {
			t.Fatalf("RequestChat: %v", err)
		}
		c.chatID = info.ChatID
		ewt, err := strconv.Atoi(info.EWT)
		if err != nil || ewt <= 0 {
			t.Errorf("%s is told ewt %q with the agent busy, want a wait", c.name, info.EWT)
		}
		if i > 0 && ewt <= told[queued[i-1]] {
			t.Errorf("%s is told %d s, want more than the %d s of the customer ahead", c.name, ewt, told[queued[i-1]])
		}
		told[c] = ewt
		queued = append(queued, c)
	}

	t.Log("the first chat ends; the next is served and the others are told shorter waits")
	if err := ben.End(ctx, firstChat); err != nil {
		t.Fatalf("End: %v", err)
	}
	ben.waitOffers(queued[0].chatID)
	ben.accept(ctx, queued[0].chatID)
	queued[0].waitJoined(ctx, "ben")
	for _, c := range queued[1:] {
		update := c.waitEvent(ctx, "a shorter estimated wait", func(ev client.Event) bool {
			ewt, err := strconv.Atoi(ev.EWT)
			return ev.Event == client.EventStatus && ev.State == "queued" && err == nil && ewt < told[c]
		})
		if ewt, _ := strconv.Atoi(update.EWT); ewt <= 0 {
			t.Errorf("%s is told %s s while the agent is still busy, want a wait", c.name, update.EWT)
		}
	}
}

// TestAgentStreamResume drops an agent's stream while things happen and
// reconnects with its cursors: nothing is lost and nothing comes twice.
// The desk checks that every chat's seqs arrive one after the other.
func TestAgentStreamResume(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)
	ann := openDesk(t, srv, "ann") // capacity 2
	ann.setState(ctx, client.AgentReady, "")
	alice, carl := newCaller(t, srv, webApp, "alice"), newCaller(t, srv, webApp, "carl")
	aliceChat, carlChat := alice.request(ctx), carl.request(ctx)
	ann.waitOffers(aliceChat, carlChat)
	ann.accept(ctx, aliceChat)
	ann.accept(ctx, carlChat)
	alice.send(ctx, client.Message("m-1", "before the drop"))
	ann.waitEvent(aliceChat, "m-1", hasMsgID(client.EventMessage, "m-1"))

	t.Log("while the stream is down, messages arrive, a chat ends and another is accepted")
	ann.disconnect()
	alice.send(ctx, client.Message("m-2", "during the drop"), client.Message("m-3", "still during"))
	carl.send(ctx, client.Message("c-1", "never mind, bye"), client.End())
	bob := newCaller(t, srv, webApp, "bob")
	bobChat := bob.request(ctx)
	if err := waitFor(waitTimeout, func() (bool, error) {
		me, err := ann.Me(ctx)
		return err == nil && me.Routing.Offered(bobChat), err
	}); err != nil {
		t.Fatalf("waiting for bob's offer without a stream: %v", err)
	}
	if _, err := ann.Accept(ctx, bobChat); err != nil {
		t.Fatalf("Accept without a stream: %v", err)
	}
	bob.send(ctx, client.Message("b-1", "hi from bob"))

	t.Log("the resumed stream delivers exactly what was missed, the end of the chat that ended too")
	ann.reconnect()
	ann.waitEvent(aliceChat, "m-3", hasMsgID(client.EventMessage, "m-3"))
	ann.waitEvent(bobChat, "bob's b-1", hasMsgID(client.EventMessage, "b-1"))
	ann.waitEvent(carlChat, "carl's last message", hasMsgID(client.EventMessage, "c-1"))
	ann.waitEvent(carlChat, "the end of carl's chat", isType(client.EventEnded))
	for _, chatID := range []string{aliceChat, bobChat, carlChat} {
		transcript, err := ann.Events(ctx, chatID, 0)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		streamed := ann.events(chatID)
		if got, want := seqs(streamed), seqs(transcript[:len(streamed)]); !slices.Equal(got, want) {
			t.Errorf("chat %s: stream gave seqs %v, transcript has %v", chatID, got, want)
		}
	}

	t.Log("a browser's stream, with the token in the URL, is served too")
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/agent/api/v1/stream?token="+ann.Token(), nil)
	if err != nil {
		t.Fatalf("dial the stream with ?token=: %v", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	_, data, err := conn.Read(ctx)
	var first client.StreamMessage
	if err == nil {
		err = json.Unmarshal(data, &first)
	}
	if err != nil || first.Type == "" {
		t.Errorf("first message of a browser's stream = %s, %v; want a stream message", data, err)
	}
}

// TestAgentChatsSurviveARestart restarts the server under a live chat: the
// agent's login, the assignment and the conversation carry on.
func TestAgentChatsSurviveARestart(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	writeFile(t, cfg, deskConfig)
	data := t.TempDir()
	srv := startServer(t, "--config", cfg, "--data", data)
	ctx := testContext(t)
	ann := openDesk(t, srv, "ann")
	ann.setState(ctx, client.AgentReady, "")
	alice := newCaller(t, srv, webApp, "alice")
	chatID := alice.request(ctx)
	ann.waitOffers(chatID)
	accepted := ann.accept(ctx, chatID)
	alice.waitJoined(ctx, "ann")
	alice.send(ctx, client.Message("m-1", "before the restart"))
	ann.waitEvent(chatID, "m-1", hasMsgID(client.EventMessage, "m-1"))
	ann.disconnect()
	if code := srv.stop(t); code != 0 {
		t.Fatalf("parley exited with %d on SIGTERM, want 0", code)
	}

	t.Log("after the restart the same login finds its chat and the conversation goes on")
	again := startServer(t, "--config", cfg, "--data", data)
	t.Cleanup(ann.disconnect) // before this server stops, as the first did
	token := ann.Token()
	ann.Agent = newAgentClient(t, again)
	ann.SetToken(token)
	// Routing rebuilds its queues while the server already serves: the
	// chat comes back to the agent's desk a moment after the start.
	var me client.AgentStatus
	if err := waitFor(waitTimeout, func() (bool, error) {
		var err error
		me, err = ann.Me(ctx)
		return err == nil && me.Routing.Handles(chatID), err
	}); err != nil || me.Routing.State != client.AgentNotReady {
		t.Fatalf("Me after the restart = %+v, %v; want alice's chat, not ready", me.Routing, err)
	}
	ann.reconnect()
	alice.Client = again.client(t, deskTenant, webApp, "alice")
	alice.send(ctx, client.Message("m-2", "after the restart"))
	ann.waitEvent(chatID, "m-2", hasMsgID(client.EventMessage, "m-2"))
	stored, err := ann.Send(ctx, chatID, client.Message("a-1", "welcome back"))
	if err != nil || len(stored) != 1 || stored[0].PartyID != accepted.PartyID {
		t.Fatalf("ann's answer after the restart = %s, %v; want it from her party %s", rawEvents(stored), err, accepted.PartyID)
	}
	alice.waitEvent(ctx, "ann's answer", hasMsgID(client.EventMessage, "a-1"))
	if err := ann.End(ctx, chatID); err != nil {
		t.Fatalf("End after the restart: %v", err)
	}
	alice.waitEnded(ctx)
}

// TestAgentAccounts covers logging in and out and what administrators do.
func TestAgentAccounts(t *testing.T) {
	t.Parallel()
	srv := startHelpDesk(t, 10*time.Second)
	ctx := testContext(t)

	t.Run("a wrong password is refused", func(t *testing.T) {
		a := newAgentClient(t, srv)
		if _, err := a.Login(ctx, deskTenant, "ann", "not-her-password"); !client.HasCode(err, client.CodeUnauthorized) {
			t.Errorf("Login with a wrong password: err = %v, want 401/4010", err)
		}
		if _, err := a.Me(ctx); !client.HasStatus(err, http.StatusUnauthorized) {
			t.Errorf("Me without a login: err = %v, want 401", err)
		}
	})

	t.Run("an agent logs in not ready and out again", func(t *testing.T) {
		ann := loginAgent(t, srv, "ann")
		me, err := ann.Me(ctx)
		if err != nil || me.Agent.Username != "ann" || me.Routing.State != client.AgentNotReady {
			t.Errorf("Me = %+v, %v; want ann, not ready", me, err)
		}
		revoked := ann.Token()
		if err := ann.Logout(ctx); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		ann.SetToken(revoked)
		if _, err := ann.Me(ctx); !client.HasCode(err, client.CodeUnauthorized) {
			t.Errorf("Me after logout: err = %v, want 401/4010", err)
		}
		if _, err := ann.Stream(ctx, nil); !client.HasCode(err, client.CodeUnauthorized) {
			t.Errorf("Stream after logout: err = %v, want 401/4010", err)
		}
	})

	t.Run("administrators list, create and disable agents", func(t *testing.T) {
		cat, ben := loginAgent(t, srv, "cat"), loginAgent(t, srv, "ben")
		if _, err := ben.ListAgents(ctx); !client.HasCode(err, client.CodeForbidden) {
			t.Errorf("ListAgents by an agent: err = %v, want 403/4030", err)
		}
		listed, err := cat.ListAgents(ctx)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		var names []string
		for _, a := range listed {
			names = append(names, a.Username+"/"+a.Routing.State)
		}
		slices.Sort(names)
		if !slices.Contains(names, "ben/not_ready") || !slices.Contains(names, "cat/not_ready") || len(names) < 3 {
			t.Errorf("listed agents = %v, want ann, ben and cat with ben and cat logged in", names)
		}
		dan, err := cat.CreateAgent(ctx, client.AgentSettings{
			Username: new("dan"), Password: new("dan-secret"), FirstName: new("Dan"), Capacity: new(2),
		})
		if err != nil || dan.ID == "" || dan.DisplayName != "Dan" || dan.Role != client.RoleAgent {
			t.Fatalf("CreateAgent = %+v, %v; want agent dan displayed as Dan", dan, err)
		}
		danDesk := loginAgent(t, srv, "dan")
		if _, err := cat.UpdateAgent(ctx, dan.ID, client.AgentSettings{Disabled: new(true)}); err != nil {
			t.Fatalf("UpdateAgent: %v", err)
		}
		if _, err := danDesk.Me(ctx); !client.HasCode(err, client.CodeUnauthorized) {
			t.Errorf("a disabled agent's Me: err = %v, want 401/4010", err)
		}
		if _, err := cat.CreateAgent(ctx, client.AgentSettings{Username: new("ben"), Password: new("whatever-1")}); !client.HasCode(err, client.CodeInvalid) {
			t.Errorf("creating a second ben: err = %v, want 400/5003", err)
		}
	})
}

// newAgentClient returns an agent client of srv, not logged in.
func newAgentClient(t *testing.T, srv *server) *client.Agent {
	t.Helper()
	a, err := client.NewAgent(srv.URL)
	if err != nil {
		t.Fatalf("NewAgent(%q): %v", srv.URL, err)
	}
	return a
}

// loginAgent returns an agent client of srv logged in as username of the
// help desk (password <username>-secret).
func loginAgent(t *testing.T, srv *server, username string) *client.Agent {
	t.Helper()
	a := newAgentClient(t, srv)
	if _, err := a.Login(testContext(t), deskTenant, username, username+"-secret"); err != nil {
		t.Fatalf("%s logs in: %v", username, err)
	}
	return a
}

// desk is an agent's desktop: logged in, with its stream read in the
// background. It keeps every routing view and every chat event the stream
// gave, and checks as they come that the agent never holds more chats and
// offers than their capacity, is offered nothing unless ready, and is given
// each chat's events with consecutive seqs: nothing lost, nothing twice,
// across reconnects too.
type desk struct {
	*client.Agent
	t    *testing.T
	name string
	info client.AgentInfo

	stream *client.AgentStream
	stop   context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	views   []client.RoutingView
	chats   map[string][]client.Event
	changed chan struct{} // closed and replaced at every message
}

// openDesk logs username in and opens their stream.
func openDesk(t *testing.T, srv *server, username string) *desk {
	t.Helper()
	d := &desk{t: t, name: username, chats: map[string][]client.Event{}, changed: make(chan struct{})}
	d.Agent = loginAgent(t, srv, username)
	me, err := d.Me(testContext(t))
	if err != nil {
		t.Fatalf("%s: Me: %v", username, err)
	}
	d.info = me.Agent
	d.connect(nil)
	t.Cleanup(d.disconnect)
	return d
}

// connect opens the stream from cursors and reads it until disconnect.
func (d *desk) connect(cursors map[string]int64) {
	d.t.Helper()
	s, err := d.Stream(testContext(d.t), cursors)
	if err != nil {
		d.t.Fatalf("%s: open stream: %v", d.name, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	d.stream, d.stop, d.done = s, stop, make(chan struct{})
	go d.read(ctx, s, d.done)
}

// disconnect closes the stream and waits until its reader has stopped.
func (d *desk) disconnect() {
	if d.stream == nil {
		return
	}
	d.stop()
	<-d.done
	d.stream.Close()
}

// reconnect opens a new stream from where the last one stopped.
func (d *desk) reconnect() {
	d.t.Helper()
	d.connect(d.stream.Cursors())
}

func (d *desk) read(ctx context.Context, s *client.AgentStream, done chan struct{}) {
	defer close(done)
	for {
		m, err := s.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.t.Errorf("%s: stream: %v", d.name, err)
			}
			return
		}
		d.mu.Lock()
		switch m.Type {
		case client.StreamRouting:
			v := *m.Routing
			if n := len(v.Offers) + len(v.Chats); n > d.info.Capacity {
				d.t.Errorf("%s holds %d chats and offers, over their capacity %d: %s", d.name, n, d.info.Capacity, m.Raw)
			}
			if v.State != client.AgentReady && len(v.Offers) > 0 {
				d.t.Errorf("%s is %s yet offered chats: %s", d.name, v.State, m.Raw)
			}
			d.views = append(d.views, v)
		case client.StreamEvents:
			have := d.chats[m.ChatID]
			for _, ev := range m.Events {
				want := int64(1)
				if len(have) > 0 {
					want = have[len(have)-1].Seq + 1
				}
				if ev.Seq != want {
					d.t.Errorf("%s: chat %s: stream gave seq %d, want %d", d.name, m.ChatID, ev.Seq, want)
				}
				have = append(have, ev)
			}
			d.chats[m.ChatID] = have
		}
		close(d.changed)
		d.changed = make(chan struct{})
		d.mu.Unlock()
	}
}

// waitUntil waits until cond, called under the desk's lock, holds.
func (d *desk) waitUntil(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		ok, changed := cond(), d.changed
		d.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			d.t.Fatalf("%s: no %s on the stream within %v; last routing view %+v", d.name, what, waitTimeout, d.latest())
		}
	}
}

// latest returns the routing view the stream gave last.
func (d *desk) latest() client.RoutingView {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.views) == 0 {
		return client.RoutingView{}
	}
	return d.views[len(d.views)-1]
}

// waitRouting waits until the latest routing view satisfies cond.
func (d *desk) waitRouting(what string, cond func(client.RoutingView) bool) client.RoutingView {
	d.t.Helper()
	var v client.RoutingView
	d.waitUntil(what, func() bool {
		if len(d.views) == 0 {
			return false
		}
		v = d.views[len(d.views)-1]
		return cond(v)
	})
	return v
}

// waitOffers waits until the agent is offered exactly chatIDs.
func (d *desk) waitOffers(chatIDs ...string) {
	d.t.Helper()
	want := slices.Sorted(slices.Values(chatIDs))
	d.waitRouting(fmt.Sprintf("offers of %v", want), func(v client.RoutingView) bool {
		var got []string
		for _, o := range v.Offers {
			got = append(got, o.ChatID)
		}
		slices.Sort(got)
		return slices.Equal(got, want)
	})
}

// wantNoOffers fails if the agent holds an offer now. It asks the server
// rather than the stream, which may not have caught up.
func (d *desk) wantNoOffers() {
	d.t.Helper()
	me, err := d.Me(testContext(d.t))
	if err != nil {
		d.t.Fatalf("%s: Me: %v", d.name, err)
	}
	if len(me.Routing.Offers) > 0 {
		d.t.Errorf("%s is offered %+v, want no offers", d.name, me.Routing.Offers)
	}
}

// setState changes the agent's state.
func (d *desk) setState(ctx context.Context, state, reason string) {
	d.t.Helper()
	if _, err := d.SetState(ctx, state, reason); err != nil {
		d.t.Fatalf("%s: SetState(%s): %v", d.name, state, err)
	}
}

// accept accepts an offered chat and waits until the stream lists it.
func (d *desk) accept(ctx context.Context, chatID string) client.AgentChat {
	d.t.Helper()
	c, err := d.Accept(ctx, chatID)
	if err != nil {
		d.t.Fatalf("%s: Accept(%s): %v", d.name, chatID, err)
	}
	if c.ChatID != chatID || c.AgentID != d.info.ID || c.PartyID == "" || c.State != "connected" {
		d.t.Errorf("%s: accepted chat = %+v, want %s connected to them with a party", d.name, c, chatID)
	}
	d.waitRouting("the accepted chat", func(v client.RoutingView) bool { return v.Handles(chatID) && !v.Offered(chatID) })
	return c
}

// events returns the chat's events the stream gave so far.
func (d *desk) events(chatID string) []client.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.chats[chatID])
}

// waitEvent waits for an event of the chat matching match.
func (d *desk) waitEvent(chatID, what string, match func(client.Event) bool) client.Event {
	d.t.Helper()
	var found client.Event
	d.waitUntil(what+" in chat "+chatID, func() bool {
		i := slices.IndexFunc(d.chats[chatID], match)
		if i >= 0 {
			found = d.chats[chatID][i]
		}
		return i >= 0
	})
	return found
}

// find returns the chat's first event matching match, failing without one.
func (d *desk) find(chatID string, match func(client.Event) bool) client.Event {
	d.t.Helper()
	evs := d.events(chatID)
	i := slices.IndexFunc(evs, match)
	if i < 0 {
		d.t.Fatalf("%s: no such event in chat %s: %v", d.name, chatID, eventTypes(evs))
	}
	return evs[i]
}

// caller is a customer of the help desk who keeps every event polled.
type caller struct {
	*client.Client
	t      *testing.T
	name   string
	chatID string
	events []client.Event
}

func newCaller(t *testing.T, srv *server, appID, clientID string) *caller {
	t.Helper()
	return &caller{Client: srv.client(t, deskTenant, appID, clientID), t: t, name: clientID}
}

// request starts a new chat and returns its id.
func (c *caller) request(ctx context.Context) string {
	c.t.Helper()
	return c.requestWith(ctx, client.ChatRequest{})
}

func (c *caller) requestWith(ctx context.Context, r client.ChatRequest) string {
	c.t.Helper()
	info, err := c.RequestChat(ctx, r)
	if err != nil || !info.IsNewChat {
		c.t.Fatalf("%s: RequestChat = %+v, %v; want a new chat", c.name, info, err)
	}
	c.chatID, c.events = info.ChatID, nil
	return info.ChatID
}

// state returns the state of the caller's live chat.
func (c *caller) state(ctx context.Context) string {
	c.t.Helper()
	info, err := c.ActiveChat(ctx)
	if err != nil {
		c.t.Fatalf("%s: ActiveChat: %v", c.name, err)
	}
	return info.State
}

// send sends events in the caller's chat.
func (c *caller) send(ctx context.Context, evs ...client.Event) {
	c.t.Helper()
	if err := c.SendEvents(ctx, c.chatID, evs...); err != nil {
		c.t.Fatalf("%s: SendEvents: %v", c.name, err)
	}
}

// pollUntil polls until done holds for the events so far. A 404 ends the
// polling too and is returned.
func (c *caller) pollUntil(ctx context.Context, what string, done func() bool) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	for !done() {
		evs, err := c.Poll(ctx, c.chatID)
		if client.IsNotFound(err) {
			return err
		}
		if err != nil {
			c.t.Fatalf("%s: no %s within %v: %v; got %v", c.name, what, waitTimeout, err, eventTypes(c.events))
		}
		c.events = append(c.events, evs...)
	}
	return nil
}

// waitEvent polls until an event matching match arrives.
func (c *caller) waitEvent(ctx context.Context, what string, match func(client.Event) bool) client.Event {
	c.t.Helper()
	if err := c.pollUntil(ctx, what, func() bool { return slices.ContainsFunc(c.events, match) }); err != nil {
		c.t.Fatalf("%s: the chat ended before %s: %v; got %v", c.name, what, err, eventTypes(c.events))
	}
	return c.find(match)
}

// find returns the first event polled matching match, failing without one.
func (c *caller) find(match func(client.Event) bool) client.Event {
	c.t.Helper()
	i := slices.IndexFunc(c.events, match)
	if i < 0 {
		c.t.Fatalf("%s: no such event among %v", c.name, eventTypes(c.events))
	}
	return c.events[i]
}

// waitJoined waits until the agent named joins (party_joined of an
// internal party with their names, then status connected) and returns
// their party id.
func (c *caller) waitJoined(ctx context.Context, agent string) string {
	c.t.Helper()
	names := deskAgents[agent]
	joined := c.waitEvent(ctx, agent+" joining", func(ev client.Event) bool {
		return ev.Event == client.EventPartyJoined && ev.FirstName == names.first
	})
	if joined.PartyType != "internal" || joined.LastName != names.last || joined.DisplayName != names.display || joined.PartyID == "" {
		c.t.Errorf("%s: party_joined = %s, want %s as an internal party", c.name, joined.Raw, agent)
	}
	connected := c.waitEvent(ctx, "status connected", func(ev client.Event) bool {
		return ev.Event == client.EventStatus && ev.State == "connected" && ev.Seq > joined.Seq
	})
	if connected.EWT != "0" {
		c.t.Errorf("%s: status connected = %s, want ewt 0", c.name, connected.Raw)
	}
	return joined.PartyID
}

// waitEnded polls until chat_session_ended, then expects the next poll to
// be 404: the end is delivered once.
func (c *caller) waitEnded(ctx context.Context) {
	c.t.Helper()
	c.waitEvent(ctx, "chat_session_ended", isType(client.EventEnded))
	if last := c.events[len(c.events)-1]; last.Event != client.EventEnded {
		c.t.Errorf("%s: events after chat_session_ended: %v", c.name, eventTypes(c.events))
	}
	if _, err := c.Poll(ctx, c.chatID); !client.HasCode(err, client.CodeChatNotFound) || !client.IsNotFound(err) {
		c.t.Errorf("%s: Poll after the end: err = %v, want 404/5005", c.name, err)
	}
}

// isType matches events of a type.
func isType(typ client.EventType) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Event == typ }
}

// hasMsgID matches the event of a type with a msg_id.
func hasMsgID(typ client.EventType, msgID string) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Event == typ && ev.MsgID == msgID }
}

// hasRef matches the receipt of a type for a message.
func hasRef(typ client.EventType, refMsgID string) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Event == typ && ev.RefMsgID == refMsgID }
}

// isJoinOf matches the party_joined of a party.
func isJoinOf(partyID string) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Event == client.EventPartyJoined && ev.PartyID == partyID }
}

// seqs lists the seqs of events.
func seqs(evs []client.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}
