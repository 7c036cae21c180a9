package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/parley-chat/parley/internal/browser"
	"github.com/parley-chat/parley/internal/testserver"
)

// The widget lives in the shadow root of <parley-chat>; tests read and drive
// it through JavaScript.
const shadow = `document.querySelector('parley-chat')?.shadowRoot`

// q is a JavaScript expression for the first element of the widget that
// matches a CSS selector.
func q(selector string) string {
	return fmt.Sprintf("%s?.querySelector(%q)", shadow, selector)
}

// TestWidget runs the widget's stories in one Chromium, each in a browser
// context of its own (starting Chromium is the slow part).
func TestWidget(t *testing.T) {
	t.Parallel()
	b := browser.New(t)
	stories := []struct {
		name string
		run  func(*testing.T, *browser.Tab)
	}{
		{"the demo page shows it without errors", demoPage},
		{"a customer chats with an agent", conversation},
		{"a reload and a second tab resume the chat", resume},
		{"it is full screen on a phone", phone},
		{"another site's widget follows its entry", otherSite},
	}
	tabs := make([]*browser.Tab, len(stories))
	for i, s := range stories {
		tabs[i] = b.NewTab(s.name)
	}
	// The stories run at once, whatever -parallel says: they mostly wait
	// on the browser and the servers, not on the CPU.
	var wg sync.WaitGroup
	for i, s := range stories {
		wg.Go(func() {
			t.Run(s.name, func(t *testing.T) { s.run(t, tabs[i]) })
		})
	}
	wg.Wait()
}

// demoPage: a visitor of the demo site sees the launcher, opens the window
// on the pre-chat form and closes it with the keyboard; nothing goes wrong.
func demoPage(t *testing.T, tab *browser.Tab) {
	base := testserver.Start(t, testserver.Options{})
	tab.Do(t, chromedp.Navigate(base+"/"))

	tab.WaitFor(t, "the demo page", `document.title.includes("Fernhill")`)
	note := browser.Eval[string](t, tab, `document.querySelector('.demo-note').innerText`)
	for _, want := range []string{"/agent/", "demo", "parley-demo"} {
		if !strings.Contains(note, want) {
			t.Errorf("the demo note %q does not mention %q", note, want)
		}
	}
	waitLauncher(t, tab)
	if n := browser.Eval[int](t, tab, `document.querySelectorAll('parley-chat').length`); n != 1 {
		t.Errorf("%d <parley-chat> elements, want 1", n)
	}
	// The script adds no globals: the page's window has only what a blank
	// window has.
	globals := browser.Eval[[]string](t, tab, `(() => {
		const f = document.createElement('iframe');
		document.body.append(f);
		const blank = new Set(Object.getOwnPropertyNames(f.contentWindow));
		f.remove();
		return Object.getOwnPropertyNames(window).filter(k => !blank.has(k));
	})()`)
	if len(globals) > 0 {
		t.Errorf("globals added to the page: %q", globals)
	}

	// The window opens on the pre-chat form the entry's parameters describe,
	// with the configured title and the availability.
	browser.Eval[bool](t, tab, q(".launcher")+`.click() ?? true`)
	tab.WaitFor(t, "the pre-chat form", q(`input[name="email"]`))
	fields := browser.Eval[map[string]string](t, tab, `Object.fromEntries([...`+shadow+`.querySelectorAll('.fields input')].map(i => [i.name, i.type]))`)
	want := map[string]string{"first_name": "text", "last_name": "text", "email": "email"}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("pre-chat fields %v, want %v", fields, want)
	}
	if label := browser.Eval[string](t, tab, q(`label[for="pc-f-email"]`)+`.textContent`); label != "Email" {
		t.Errorf("email label %q", label)
	}
	tab.WaitFor(t, "the availability", q(".subtitle")+`.textContent.includes("We are online")`)
	for sel, want := range map[string]string{".title": "Chat with us", ".greeting": "How can we help", ".wait": "Estimated wait: about 2 min"} {
		if got := browser.Eval[string](t, tab, q(sel)+`.textContent`); !strings.Contains(got, want) {
			t.Errorf("%s says %q, want %q in it", sel, got, want)
		}
	}
	if label := browser.Eval[string](t, tab, q(`[role="dialog"]`)+`.getAttribute('aria-label')`); label != "Chat with us" {
		t.Errorf("dialog label %q", label)
	}
	if !browser.Eval[bool](t, tab, shadow+`.activeElement === `+q(`input[name="first_name"]`)) {
		t.Error("opening the window does not focus the first field")
	}

	// Escape closes the window and gives the focus back to the launcher.
	tab.Do(t, chromedp.KeyEvent(kb.Escape))
	tab.WaitFor(t, "the window to close", q(".window")+`.hidden`)
	if !browser.Eval[bool](t, tab, shadow+`.activeElement === `+q(".launcher")) {
		t.Error("closing the window does not focus the launcher")
	}
	if got := browser.Eval[string](t, tab, q(".launcher")+`.getAttribute('aria-expanded')`); got != "false" {
		t.Errorf("launcher aria-expanded %q after closing", got)
	}
	// Nothing is stored for a visitor who has not chatted.
	if n := browser.Eval[int](t, tab, `localStorage.length`); n != 0 {
		t.Errorf("%d localStorage keys before any chat", n)
	}
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// conversation: a customer fills in the pre-chat form and talks with the
// agent, typing, receipts, files and markup included, until the agent ends
// the chat.
func conversation(t *testing.T, tab *browser.Tab) {
	base := testserver.Start(t, testserver.Options{})
	agent := loginAgent(t, base)
	agent.setPhoto(avatarPNG(t))
	tab.Do(t, chromedp.Navigate(base+"/"))
	waitLauncher(t, tab)
	openWidget(t, tab)
	startChat(t, tab, map[string]string{"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"})
	// Nobody is ready yet: the customer is told how long the wait may be.
	tab.WaitFor(t, "the estimated wait", q(".banner-text")+`.textContent === "Estimated wait: about 2 min"`)
	agent.ready()

	// The customer types (the agent is told) and sends with Enter.
	first := "Hi! My order 1042 came ground, but I asked for whole beans."
	typeMessage(t, tab, first)
	tab.WaitFor(t, "the customer's message to be sent", q(".row.me")+`?.dataset.status === "sent"`)

	chatID := agent.waitOffer()
	agent.accept(chatID)
	customerMsg := agent.waitEvent(chatID, "the customer's message", func(e event) bool {
		return e.Event == "chat_session_message" && e.Msg == first && e.PartyID == chatID
	})
	agent.waitEvent(chatID, "the customer's typing", func(e event) bool {
		return e.Event == "chat_session_typing" && e.PartyID == chatID
	})
	agent.waitEvent(chatID, "the customer's typing to stop", func(e event) bool {
		return e.Event == "chat_session_not_typing" && e.PartyID == chatID
	})
	tab.WaitFor(t, "the agent's name in the header", q(".title")+`.textContent === "Dana"`)
	tab.WaitFor(t, "the agent's photo", q(".head-avatar img")+`?.naturalWidth > 0`)
	tab.WaitFor(t, "the join notice", q(".log")+`.textContent.includes("Dana joined the chat")`)
	if !browser.Eval[bool](t, tab, q(".banner")+`.hidden`) {
		t.Error("the waiting banner stays once connected")
	}

	// Typing the other way, then the reply.
	agent.send(chatID, map[string]any{"event": "chat_session_typing"})
	tab.WaitFor(t, "the agent's typing indicator", `!`+q(".typing")+`.hidden && `+q(".typing-text")+`.textContent === "Dana is typing…"`)
	reply := agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "Hi Ann, sorry about that! Could you send me a photo of the label?"})
	tab.WaitFor(t, "the agent's reply", q(".row.them .bubble")+`?.textContent === "Hi Ann, sorry about that! Could you send me a photo of the label?"`)
	tab.WaitFor(t, "the typing indicator to go", q(".typing")+`.hidden`)
	// The widget acknowledges the reply: delivered, and read since the
	// window is open.
	for _, kind := range []string{"chat_session_message_delivered", "chat_session_message_read"} {
		agent.waitEvent(chatID, kind+" of the reply", func(e event) bool {
			return e.Event == kind && e.RefMsgID == reply.MsgID && e.PartyID == chatID
		})
	}

	// The agent reads the customer's message: the widget marks it read.
	agent.send(chatID, map[string]any{"event": "chat_session_message_delivered", "ref_msg_id": customerMsg.MsgID})
	agent.send(chatID, map[string]any{"event": "chat_session_message_read", "ref_msg_id": customerMsg.MsgID})
	tab.WaitFor(t, "the read mark", q(".row.me")+`.dataset.status === "read"`)

	// A picture, uploaded as the file input's change.
	uploadImage(t, tab, "label.png")
	file := agent.waitEvent(chatID, "the customer's picture", func(e event) bool {
		return e.Event == "chat_session_file" && e.PartyID == chatID
	})
	if file.FileType != "image" || file.FileName != "label.png" || file.FileID == "" {
		t.Errorf("file event %+v", file)
	}
	tab.WaitFor(t, "the picture from the server", `[...`+shadow+`.querySelectorAll('.row.me img')].some(i => i.src.endsWith('/clientweb/file/`+file.FileID+`') && i.naturalWidth > 0)`)
	tab.WaitFor(t, "the picture to be sent", `[...`+shadow+`.querySelectorAll('.row.me')].at(-1).dataset.status === "sent"`)

	agent.send(chatID, map[string]any{"event": "chat_session_message_read", "ref_msg_id": file.MsgID})
	agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "Thanks, got it. A fresh bag of whole beans goes out today, no need to send the other one back."})
	tab.WaitFor(t, "the second reply", q(".log")+`.textContent.includes("no need to send the other one back")`)

	// A document from the agent is a download link.
	var doc struct {
		FileID string `json:"file_id"`
	}
	agent.upload("POST", "files", "returns-label.pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), &doc)
	agent.send(chatID, map[string]any{"event": "chat_session_file", "file_id": doc.FileID})
	link := q(`.row.them a.file[download="returns-label.pdf"]`)
	tab.WaitFor(t, "the agent's document", link+`?.textContent === "returns-label.pdf"`)
	if href := browser.Eval[string](t, tab, link+`.href`); href != base+"/clientweb/file/"+doc.FileID {
		t.Errorf("document link %q", href)
	}
	if status := browser.Eval[int](t, tab, `fetch(`+link+`.href).then(r => r.status)`); status != http.StatusOK {
		t.Errorf("downloading the document: %d", status)
	}
	typeMessage(t, tab, "Wonderful, thank you so much!")
	agent.waitEvent(chatID, "the thanks", func(e event) bool { return e.Msg == "Wonderful, thank you so much!" })
	agent.send(chatID, map[string]any{"event": "chat_session_typing"})
	tab.WaitFor(t, "the agent typing again", `!`+q(".typing")+`.hidden`)
	saveScreenshot(t, tab, "widget.png")

	// Markup from the contact center is shown as text, never run.
	browser.Eval[bool](t, tab, `(window.__alerted = false, window.alert = () => { window.__alerted = true }, true)`)
	markup := agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": `<img src=x onerror=alert(1)>`})
	last := `[...` + shadow + `.querySelectorAll('.row.them .bubble')].at(-1)`
	tab.WaitFor(t, "the markup as text", last+`.textContent.includes("<img")`)
	if n := browser.Eval[int](t, tab, last+`.querySelectorAll('*').length`); n != 0 {
		t.Errorf("the agent's markup made %d elements", n)
	}
	if browser.Eval[bool](t, tab, `window.__alerted`) {
		t.Error("the agent's markup ran a script")
	}

	// The agent ends the chat once the customer has read everything: the
	// widget says so and offers a new one.
	agent.waitEvent(chatID, "the customer reading the markup", func(e event) bool {
		return e.Event == "chat_session_message_read" && e.RefMsgID == markup.MsgID
	})
	agent.call("POST", "chats/"+chatID+"/end", nil, nil)
	tab.WaitFor(t, "the end of the chat", `!`+q(".ended")+`.hidden && `+q(".composer")+`.hidden`)
	if got := browser.Eval[string](t, tab, q(".log")+`.lastElementChild.textContent`); got != "The chat has ended." {
		t.Errorf("last line of the log %q", got)
	}
	if !browser.Eval[bool](t, tab, q(".end-btn")+`.hidden`) {
		t.Error("the end button stays after the chat ended")
	}
	browser.Eval[bool](t, tab, q(".restart")+`.click() ?? true`)
	tab.WaitFor(t, "a new pre-chat form", `!`+q(".prechat")+`.hidden && `+q(`input[name="first_name"]`)+`.value === "Ann"`)
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// resume: a reload comes back to the live chat with its history, a second
// tab of the same browser shows it too, and ending it in one tab ends it in
// both.
func resume(t *testing.T, tab *browser.Tab) {
	base := testserver.Start(t, testserver.Options{})
	agent := loginAgent(t, base)
	agent.ready()
	tab.Do(t, chromedp.Navigate(base+"/"))
	waitLauncher(t, tab)
	openWidget(t, tab)
	startChat(t, tab, map[string]string{"first_name": "Bo"})
	typeMessage(t, tab, "Do you ship to Norway?")
	chatID := agent.waitOffer()
	agent.accept(chatID)
	agent.waitEvent(chatID, "the question", func(e event) bool { return e.Msg == "Do you ship to Norway?" })
	agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "We do, in 3 to 5 days."})
	tab.WaitFor(t, "the answer", q(".log")+`.textContent.includes("We do, in 3 to 5 days.")`)
	tab.WaitFor(t, "the question to be sent", q(".row.me")+`?.dataset.status === "sent"`)
	key := browser.Eval[string](t, tab, `Object.keys(localStorage).find(k => k.startsWith('parley:'))`)
	if key != "parley:demo.parley.local:demo-chat" {
		t.Errorf("storage key %q", key)
	}

	// A reload comes back to the open window with the whole conversation.
	tab.Do(t, chromedp.Reload())
	waitLauncher(t, tab)
	tab.WaitFor(t, "the window to reopen", `!`+q(".window")+`.hidden`)
	tab.WaitFor(t, "the history", q(".log")+`.textContent.includes("Do you ship to Norway?") && `+q(".log")+`.textContent.includes("We do, in 3 to 5 days.")`)
	if got := browser.Eval[string](t, tab, q(".title")+`.textContent`); got != "Dana" {
		t.Errorf("header after reload %q, want the agent", got)
	}
	// The demo agent has no photo: the avatar shows the initial.
	if got := browser.Eval[string](t, tab, q(".head-avatar")+`.textContent + ' ' + !`+q(".head-avatar img")); got != "D true" {
		t.Errorf("avatar of an agent without a photo: %q", got)
	}
	if n := browser.Eval[int](t, tab, shadow+`.querySelectorAll('.row').length`); n != 2 {
		t.Errorf("%d messages after reload, want 2", n)
	}
	agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "Anything else?"})
	tab.WaitFor(t, "a message after the reload", q(".log")+`.textContent.includes("Anything else?")`)

	// A second tab of the same browser shows the same chat, and both tabs
	// follow it.
	ctx2, cancel := chromedp.NewContext(tab.Ctx)
	t.Cleanup(cancel)
	// The first run opens the tab; it must be on the tab's own context, which
	// outlives the deadlines of later steps.
	if err := chromedp.Do(ctx2); err != nil {
		t.Fatal(err)
	}
	tab2 := &browser.Tab{Ctx: ctx2}
	tab2.Do(t, chromedp.Navigate(base+"/"))
	waitLauncher(t, tab2)
	openWidget(t, tab2)
	tab2.WaitFor(t, "the chat in the second tab", q(".log")+`.textContent.includes("Anything else?")`)
	agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "Seen in both tabs"})
	tab.WaitFor(t, "the message in the first tab", q(".log")+`.textContent.includes("Seen in both tabs")`)
	tab2.WaitFor(t, "the message in the second tab", q(".log")+`.textContent.includes("Seen in both tabs")`)
	typeMessage(t, tab2, "Sent from the second tab")
	agent.waitEvent(chatID, "the second tab's message", func(e event) bool { return e.Msg == "Sent from the second tab" })
	tab.WaitFor(t, "the second tab's message in the first", q(".log")+`.textContent.includes("Sent from the second tab")`)

	// The customer ends the chat in one tab; both show it ended.
	browser.Eval[bool](t, tab, q(".end-btn")+`.click() ?? true`)
	tab.WaitFor(t, "the confirmation", `!`+q(".confirm")+`.hidden`)
	browser.Eval[bool](t, tab, q(".confirm-end")+`.click() ?? true`)
	agent.waitEvent(chatID, "the customer's end", func(e event) bool { return e.Event == "chat_session_ended" })
	tab.WaitFor(t, "the end in the first tab", `!`+q(".ended")+`.hidden`)
	tab2.WaitFor(t, "the end in the second tab", `!`+q(".ended")+`.hidden`)
	if id := browser.Eval[string](t, tab, `JSON.parse(localStorage.getItem('parley:demo.parley.local:demo-chat')).chatId`); id != "" {
		t.Errorf("the ended chat %q is still remembered", id)
	}
}

// phone: on a phone-sized screen the window takes the whole screen.
func phone(t *testing.T, tab *browser.Tab) {
	base := testserver.Start(t, testserver.Options{})
	tab.Do(t, chromedp.EmulateViewport(375, 700), chromedp.Navigate(base+"/"))
	waitLauncher(t, tab)
	openWidget(t, tab)
	// Once it has slid in, the window covers the whole screen.
	tab.WaitFor(t, "the window to cover the screen", `(r => r.left === 0 && r.top === 0 && r.width === 375 && r.height === 700)(`+q(".window")+`.getBoundingClientRect())`)
	if browser.Eval[string](t, tab, `getComputedStyle(`+q(".launcher")+`).display`) != "none" {
		t.Error("the launcher shows over the full-screen window")
	}
	if !browser.Eval[bool](t, tab, `(r => r.width > 0 && r.right <= 375)(`+q(".close-btn")+`.getBoundingClientRect())`) {
		t.Error("the close button is not on screen")
	}
}

// shopConfig is a second tenant whose widget settings differ from the demo's.
const shopConfig = `
tenants:
  - host: shop.example
    name: Another shop
    entries:
      - app_id: shop-web
        name: Shop web chat
        cors_origins: ["*"]
        parameters:
          - {name: first_name, type: FIRST_NAME}
          - {name: phone, type: PHONE}
          - {name: company, type: COMPANY}
          - {name: order_number, type: TEXT}
        widgets:
          - name: chat
            urls: []
            definition:
              contact_tab:
                enabled: true
                location: bottom_left
                color: "#1d1d1d"
                bg_color: "#ffd43b"
                title: Talk to the shop
                greeting: Ask us about your order.
                agents_available_msg: Open now
agents:
  - {tenant: shop.example, username: sam, password: shop-password, first_name: Sam, display_name: Sam, capacity: 2}
`

// otherSite puts the widget on a page of another origin, whose own CSS is
// hostile, for a tenant with its own settings.
func otherSite(t *testing.T, tab *browser.Tab) {
	cfg := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(cfg, []byte(shopConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	base := testserver.Start(t, testserver.Options{ConfigFile: cfg})
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><head><title>Another shop</title>
<style>* { font: italic 30px serif !important; color: red !important; } button { background: lime !important; }
div, p, section { display: block !important; border: 3px solid red !important; } [hidden] { display: block !important; }</style>
</head><body><h1>Another shop</h1>
<script src="%s/widget/parley.js" data-tenant="shop.example" data-app="shop-web" async></script>
</body></html>`, base)
	}))
	t.Cleanup(site.Close)
	agent := loginAgentAs(t, base, "shop.example", "sam", "shop-password")
	agent.ready()

	tab.Do(t, chromedp.Navigate(site.URL+"/"))
	waitLauncher(t, tab)
	style := browser.Eval[map[string]string](t, tab, `(s => ({background: s.backgroundColor, left: String(`+q(".launcher")+`.getBoundingClientRect().left)}))(getComputedStyle(`+q(".launcher")+`))`)
	if style["background"] != "rgb(255, 212, 59)" || style["left"] != "20" {
		t.Errorf("launcher %v, want the entry's colour on the left", style)
	}
	openWidget(t, tab)
	tab.WaitFor(t, "the entry's title", q(".title")+`.textContent === "Talk to the shop" && `+q(".subtitle")+`.textContent === "Open now"`)
	fields := browser.Eval[[]string](t, tab, `[...`+shadow+`.querySelectorAll('.fields input')].map(i => i.name + ':' + i.type + ':' + (i.autocomplete || '') + ':' + i.labels[0].textContent)`)
	want := []string{"first_name:text:given-name:First name", "phone:tel:tel:Phone", "company:text:organization:Company", "order_number:text::Order number"}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
	// The page's CSS stays outside the shadow root.
	look := browser.Eval[string](t, tab, `(s => s.fontSize + ' ' + s.fontStyle + ' ' + s.color)(getComputedStyle(`+q(".greeting")+`))`)
	if look != "15px normal rgb(29, 33, 48)" {
		t.Errorf("greeting styled %q by the page", look)
	}
	if !browser.Eval[bool](t, tab, `getComputedStyle(`+q(".conversation")+`).display === "none"`) {
		t.Error("the page's CSS shows the widget's hidden parts")
	}

	// Across origins, the chat works the same.
	startChat(t, tab, map[string]string{"first_name": "Cy", "phone": "+1 555 0100", "order_number": "A-77"})
	typeMessage(t, tab, "Where is order A-77?")
	chatID := agent.waitOffer()
	var chat struct {
		Chat struct {
			Parameters map[string]any `json:"parameters"`
		} `json:"chat"`
	}
	agent.call("GET", "chats/"+chatID, nil, &chat)
	p := chat.Chat.Parameters
	platform, _ := p["user_platform"].(map[string]any)
	if p["first_name"] != "Cy" || p["phone"] != "+1 555 0100" || p["order_number"] != "A-77" || platform["os"] != "web" || !strings.Contains(fmt.Sprint(platform["name"]), "Mozilla") {
		t.Errorf("chat parameters %v", p)
	}
	if _, ok := p["company"]; ok {
		t.Errorf("an empty field was sent: %v", p)
	}
	agent.accept(chatID)
	agent.waitEvent(chatID, "the question", func(e event) bool { return e.Msg == "Where is order A-77?" })
	agent.send(chatID, map[string]any{"event": "chat_session_message", "msg": "On its way!"})
	tab.WaitFor(t, "the answer", q(".log")+`.textContent.includes("On its way!")`)
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// waitLauncher waits until the widget's launcher is on screen.
func waitLauncher(t *testing.T, tab *browser.Tab) {
	t.Helper()
	tab.WaitFor(t, "the launcher", `(l => l && l.getBoundingClientRect().width > 0 && getComputedStyle(l).opacity === "1")(`+q(".root.ready .launcher")+`)`)
}

func openWidget(t *testing.T, tab *browser.Tab) {
	t.Helper()
	browser.Eval[bool](t, tab, `(`+q(".window")+`.hidden && `+q(".launcher")+`.click(), true)`)
	tab.WaitFor(t, "the window", `!`+q(".window")+`.hidden`)
}

// startChat fills in the pre-chat form and starts the chat.
func startChat(t *testing.T, tab *browser.Tab, values map[string]string) {
	t.Helper()
	tab.WaitFor(t, "the pre-chat form", q(`input[name="first_name"]`))
	v, _ := json.Marshal(values)
	browser.Eval[bool](t, tab, fmt.Sprintf(`(Object.entries(%s).forEach(([k, v]) => {
		const i = %s.querySelector('input[name="' + k + '"]');
		i.value = v; i.dispatchEvent(new Event('input', {bubbles: true}));
	}), %s.click(), true)`, v, shadow, q(".start")))
	tab.WaitFor(t, "the conversation", `!`+q(".conversation")+`.hidden && `+q(".prechat")+`.hidden`)
}

// typeMessage enters text in the composer as typing does (input events)
// and sends it with the Enter key.
func typeMessage(t *testing.T, tab *browser.Tab, text string) {
	t.Helper()
	browser.Eval[bool](t, tab, fmt.Sprintf(`(%s.focus(), document.execCommand('insertText', false, %q))`, q(".input"), text))
	tab.Do(t, chromedp.KeyEvent(kb.Enter))
	tab.WaitFor(t, "the composer to empty", q(".input")+`.value === ""`)
}

// uploadImage gives the widget's file input a picture drawn in the page.
func uploadImage(t *testing.T, tab *browser.Tab, name string) {
	t.Helper()
	browser.Eval[bool](t, tab, fmt.Sprintf(`(async () => {
		const c = document.createElement('canvas');
		c.width = 360; c.height = 240;
		const g = c.getContext('2d');
		const grad = g.createLinearGradient(0, 0, 360, 240);
		grad.addColorStop(0, '#8a5a3c'); grad.addColorStop(1, '#4a2c1c');
		g.fillStyle = grad; g.fillRect(0, 0, 360, 240);
		g.fillStyle = '#f4e3cf'; g.fillRect(90, 40, 180, 160);
		g.fillStyle = '#4a2c1c'; g.font = 'bold 22px sans-serif'; g.textAlign = 'center';
		g.fillText('FERNHILL', 180, 95); g.font = '16px sans-serif';
		g.fillText('House Blend', 180, 125); g.fillText('GROUND · 250 g', 180, 160);
		const blob = await new Promise(r => c.toBlob(r, 'image/png'));
		const dt = new DataTransfer();
		dt.items.add(new File([blob], %q, {type: 'image/png'}));
		const input = %s;
		input.files = dt.files;
		input.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`, name, q(".file-input")))
}

// saveScreenshot saves the page for the README when PARLEY_SCREENSHOTS=1.
func saveScreenshot(t *testing.T, tab *browser.Tab, name string) {
	t.Helper()
	if os.Getenv("PARLEY_SCREENSHOTS") != "1" {
		return
	}
	// Let the typing dots and the pictures settle.
	tab.WaitFor(t, "pictures to load", `[...`+shadow+`.querySelectorAll('img')].every(i => i.complete)`)
	path := filepath.Join("..", "docs", "screenshots", name)
	if err := tab.Screenshot(path); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot saved to %s", path)
}

// avatarPNG draws a small profile picture for the agent.
func avatarPNG(t *testing.T) []byte {
	t.Helper()
	const n = 96
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			c := color.RGBA{0xe7, 0xd5, 0xc4, 0xff}
			dx, dy := x-n/2, y-38
			if dx*dx+dy*dy < 18*18 {
				c = color.RGBA{0x8a, 0x5a, 0x3c, 0xff} // head
			}
			dy = y - 100
			if dx*dx+dy*dy < 40*40 {
				c = color.RGBA{0x3b, 0x5b, 0xdb, 0xff} // shoulders
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// event is a chat event as the agent API's transcript gives it.
type event struct {
	Event    string `json:"event"`
	Seq      int64  `json:"seq"`
	PartyID  string `json:"party_id"`
	MsgID    string `json:"msg_id"`
	Msg      string `json:"msg"`
	RefMsgID string `json:"ref_msg_id"`
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	FileType string `json:"file_type"`
}

// agentClient plays the demo agent through the agent REST API.
type agentClient struct {
	t     *testing.T
	api   string
	token string
}

// loginAgent logs in the demo agent.
func loginAgent(t *testing.T, base string) *agentClient {
	t.Helper()
	return loginAgentAs(t, base, "demo.parley.local", "demo", "parley-demo")
}

func loginAgentAs(t *testing.T, base, tenant, username, password string) *agentClient {
	t.Helper()
	a := &agentClient{t: t, api: base + "/agent/api/v1/"}
	var out struct {
		Token string `json:"token"`
	}
	a.call("POST", "login", map[string]string{"tenant": tenant, "username": username, "password": password}, &out)
	if out.Token == "" {
		t.Fatal("login gave no token")
	}
	a.token = out.Token
	return a
}

// call sends a JSON request (or a multipart one when body is a
// *multipartBody) and decodes the answer into out.
func (a *agentClient) call(method, path string, body, out any) {
	a.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case *multipartBody:
		rd, ctype = b.buf, b.ctype
	default:
		data, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.api+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("agent %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("agent %s %s: %v", method, path, err)
	}
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("agent %s %s: %s %s", method, path, res.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("agent %s %s: %v in %s", method, path, err, data)
		}
	}
}

type multipartBody struct {
	buf   *bytes.Buffer
	ctype string
}

// upload sends a file to method path as the multipart field "file".
func (a *agentClient) upload(method, path, name string, data []byte, out any) {
	a.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		a.t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	a.call(method, path, &multipartBody{buf: &buf, ctype: w.FormDataContentType()}, out)
}

func (a *agentClient) setPhoto(pic []byte) {
	a.t.Helper()
	a.upload("PUT", "me/photo", "dana.png", pic, nil)
}

func (a *agentClient) ready() {
	a.t.Helper()
	a.call("PUT", "me/state", map[string]string{"state": "ready"}, nil)
}

// waitOffer waits for a chat to be offered to the agent and returns its id.
func (a *agentClient) waitOffer() string {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var me struct {
			Routing struct {
				Offers []struct {
					ChatID string `json:"chat_id"`
				} `json:"offers"`
			} `json:"routing"`
		}
		a.call("GET", "me", nil, &me)
		if len(me.Routing.Offers) > 0 {
			return me.Routing.Offers[0].ChatID
		}
		if time.Now().After(deadline) {
			a.t.Fatal("no chat was offered to the agent")
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the condition
	}
}

func (a *agentClient) accept(chatID string) {
	a.t.Helper()
	a.call("POST", "chats/"+chatID+"/accept", nil, nil)
}

// send posts one event as the agent and returns it as stored.
func (a *agentClient) send(chatID string, ev map[string]any) event {
	a.t.Helper()
	var out struct {
		Events []event `json:"events"`
	}
	a.call("POST", "chats/"+chatID+"/events", map[string]any{"events": []any{ev}}, &out)
	if len(out.Events) != 1 {
		a.t.Fatalf("sending %v stored %d events", ev, len(out.Events))
	}
	return out.Events[0]
}

// waitEvent waits until the chat's transcript holds an event that matches.
func (a *agentClient) waitEvent(chatID, what string, match func(event) bool) event {
	a.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out struct {
			Events []event `json:"events"`
		}
		a.call("GET", "chats/"+chatID+"/events", nil, &out)
		for _, e := range out.Events {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("waiting for %s in the transcript: %+v", what, out.Events)
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the condition
	}
}
