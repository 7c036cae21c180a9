package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/browser"
	"github.com/parley-chat/parley/internal/testserver"
	"github.com/parley-chat/parley/rtc"
)

// statsJS is a JavaScript function of an RTCPeerConnection that resolves to
// what its stats say of the call: bytes received per kind of media and the
// types of the local and remote candidates of the pair in use.
const statsJS = `(async (pc) => {
	const out = { audio: 0, video: 0, local: '', remote: '' };
	if (!pc) return out;
	const stats = await pc.getStats();
	stats.forEach((r) => {
		if (r.type === 'inbound-rtp' && (r.kind === 'audio' || r.kind === 'video')) out[r.kind] += r.bytesReceived || 0;
		if (r.type === 'transport' && r.selectedCandidatePairId) {
			const pair = stats.get(r.selectedCandidatePairId);
			if (pair) {
				out.local = (stats.get(pair.localCandidateId) || {}).candidateType || '';
				out.remote = (stats.get(pair.remoteCandidateId) || {}).candidateType || '';
			}
		}
	});
	return out;
})`

// callStats is what statsJS resolves to.
type callStats struct {
	Audio  float64 `json:"audio"`
	Video  float64 `json:"video"`
	Local  string  `json:"local"`
	Remote string  `json:"remote"`
}

// The peer connections of the call as each page shows it to tests.
const (
	agentPC    = `parleyConsole.call?.pc`
	customerPC = `document.querySelector('parley-chat')?.call?.pc`
)

// TestVideoCallThroughTheEmbeddedTURNServer is a real call: the agent in
// the console calls the customer in the widget on the demo page, both
// browsers forced to relay everything through the node's embedded TURN
// server. Media flows both ways, then the agent hangs up.
func TestVideoCallThroughTheEmbeddedTURNServer(t *testing.T) {
	t.Parallel()
	base := testserver.Start(t, testserver.Options{
		ConfigFile: demoWithEmbeddedTURN(t),
		TURN:       rtc.Config{Addr: "127.0.0.1:0", Secret: "the-call-tests-turn-secret"},
	})
	// The agent has a photo: the widget shows it (without one, the probe's
	// 404 would be a console error).
	loginAgent(t, base).setPhoto(avatarPNG(t))
	b := browser.New(t)
	agent := b.NewTab("agent")
	customer := b.NewTab("customer")
	agent.Do(t, chromedp.EmulateViewport(1280, 800))

	loginConsole(t, agent, base)
	click(t, agent, "#state-toggle")
	agent.WaitFor(t, "the ready state", `document.querySelector('#state-text').textContent === 'Ready'`)

	customer.Do(t, chromedp.Navigate(base+"/"))
	waitLauncher(t, customer)
	openWidget(t, customer)
	startChat(t, customer, map[string]string{"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"})
	if !browser.Eval[bool](t, customer, q(".call-btn")+`.hidden`) {
		t.Error("the widget offers to ask for a call before an agent is there")
	}

	agent.WaitFor(t, "the offer", `document.querySelector('.offer')`)
	chatID := browser.Eval[string](t, agent, `document.querySelector('.offer').dataset.chatId`)
	click(t, agent, ".offer .offer-accept")
	panel := "#panel-" + chatID
	customer.WaitFor(t, "the agent", q(".title")+`.textContent === "Dana"`)

	// Both pages use TURN relays only: the call cannot go any other way.
	for _, tab := range []*browser.Tab{agent, customer} {
		browser.Eval[bool](t, tab, `window.parleyForceRelay = true`)
	}

	// The customer asks for a video call; the console shows the request.
	customer.WaitFor(t, "the call button", `!`+q(".call-btn")+`.hidden`)
	browser.Eval[bool](t, customer, q(".call-btn")+`.click() ?? true`)
	customer.WaitFor(t, "the call choice", `!`+q(".ask")+`.hidden && `+shadow+`.activeElement === `+q(".ask-audio"))
	browser.Eval[bool](t, customer, q(".ask-video")+`.click() ?? true`)
	customer.WaitFor(t, "the request noted", q(".log")+`.textContent.includes("You asked for a video call")`)
	agent.WaitFor(t, "the call request", fmt.Sprintf(`(() => { const r = document.querySelector('%s .call-request');
		return !r.hidden && r.textContent.includes('Ann asks for a video call') })()`, panel))
	if browser.Eval[bool](t, agent, fmt.Sprintf(`document.querySelector('%s .act-video').hidden`, panel)) {
		t.Error("the console shows no video call button on an entry with calls")
	}

	// The agent calls back with video; the widget rings and is answered.
	click(t, agent, panel+" .call-start")
	customer.WaitFor(t, "the ringing", `!`+q(".call")+`.hidden && !`+q(".ring")+`.hidden && `+
		q(".ring-text")+`.textContent === "Incoming video call from Dana"`)
	agent.WaitFor(t, "the console calling", `parleyConsole.call?.state === 'calling'`)
	browser.Eval[bool](t, customer, q(".answer")+`.click() ?? true`)

	agent.WaitFor(t, "the agent's side connected", agentPC+`?.connectionState === 'connected' && parleyConsole.call.state === 'connected'`)
	customer.WaitFor(t, "the customer's side connected", customerPC+`?.connectionState === 'connected'`)
	customer.WaitFor(t, "the customer's call state", q(".call-state")+`.textContent === "Video call: connected"`)
	agent.WaitFor(t, "the console's call state", fmt.Sprintf(`document.querySelector('%s .call-state').textContent.startsWith('Video call · ')`, panel))

	// Media flows both ways, audio and video, through relays.
	for _, side := range []struct {
		name string
		tab  *browser.Tab
		pc   string
	}{{"agent", agent, agentPC}, {"customer", customer, customerPC}} {
		side.tab.WaitFor(t, side.name+" receiving audio and video",
			fmt.Sprintf(`%s(%s).then(s => s.audio > 0 && s.video > 0)`, statsJS, side.pc))
		first := browser.Eval[callStats](t, side.tab, fmt.Sprintf(`%s(%s)`, statsJS, side.pc))
		if first.Local != "relay" || first.Remote != "relay" {
			t.Errorf("%s: the call goes from a %q to a %q candidate, want relay to relay", side.name, first.Local, first.Remote)
		}
		side.tab.WaitFor(t, side.name+" receiving more",
			fmt.Sprintf(`%s(%s).then(s => s.audio > %v && s.video > %v)`, statsJS, side.pc, first.Audio, first.Video))
		if !browser.Eval[bool](t, side.tab, fmt.Sprintf(`(() => { const c = %s; return !!c && c.getReceivers().some(r => r.track.kind === 'video') })()`, side.pc)) {
			t.Errorf("%s: no video track received", side.name)
		}
	}
	if !browser.Eval[bool](t, agent, fmt.Sprintf(`document.querySelector('%s .call-remote').srcObject instanceof MediaStream && document.querySelector('%s .call-local').muted`, panel, panel)) {
		t.Error("the console does not show the customer's video next to its own, muted")
	}
	if !browser.Eval[bool](t, customer, q(".remote")+`.srcObject instanceof MediaStream && `+q(".local")+`.muted`) {
		t.Error("the widget does not show the agent's video next to its own, muted")
	}

	// The agent hangs up: both sides are back to idle.
	click(t, agent, panel+" .call-hangup")
	agent.WaitFor(t, "the agent's side closed", agentPC+`?.connectionState === 'closed' && parleyConsole.call.state === 'idle'`)
	customer.WaitFor(t, "the customer's side closed", customerPC+`?.connectionState === 'closed' && `+
		`document.querySelector('parley-chat').call.state === 'idle'`)
	customer.WaitFor(t, "the widget without the call", q(".call")+`.hidden && `+q(".log")+`.textContent.includes("The call has ended.")`)
	agent.WaitFor(t, "the console without the call", fmt.Sprintf(`document.querySelector('%s .call').hidden && `, panel)+transcriptHas(panel, "Call ended"))
	if browser.Eval[bool](t, customer, q(".call-btn")+`.hidden`) {
		t.Error("after the call the customer cannot ask for another")
	}

	for _, tab := range []*browser.Tab{agent, customer} {
		if errs := tab.Errors(); len(errs) > 0 {
			t.Errorf("console errors: %q", errs)
		}
	}
}

// demoWithEmbeddedTURN writes a configuration that gives the demo entry the
// node's embedded TURN server.
func demoWithEmbeddedTURN(t *testing.T) string {
	t.Helper()
	demo := config.Demo()
	demo.Agents = nil // seeded already
	demo.Tenants[0].Entries[0].TURN = &chat.TURNConfig{Embedded: true}
	data, err := json.Marshal(demo)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
