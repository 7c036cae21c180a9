package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/browser"
	"github.com/parley-chat/parley/internal/testserver"
)

const (
	demoTenant   = "demo.parley.local"
	demoApp      = "demo-chat"
	demoAgent    = "demo"
	demoPassword = "parley-demo"
)

// TestConsoleLogin covers signing in and out, the layout on a phone, and
// an offer left to expire (the server then sets the agent not ready).
func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	base := testserver.Start(t, testserver.Options{OfferTimeout: 1500 * time.Millisecond})
	tab := browser.New(t).NewTab("agent")
	tab.Do(t, chromedp.EmulateViewport(1280, 800))
	tab.Do(t, chromedp.Navigate(base+"/agent/"))
	tab.WaitFor(t, "the login form", `document.querySelector('#login-form') && !document.querySelector('#login-view').hidden`)
	if errs := tab.Errors(); len(errs) > 0 {
		t.Fatalf("console errors on load: %q", errs)
	}

	fillLogin(t, tab, demoTenant, demoAgent, "not-the-password")
	tab.WaitFor(t, "the wrong password error", `!document.querySelector('#login-error').hidden`)
	if msg := browser.Eval[string](t, tab, `document.querySelector('#login-error').textContent`); !strings.Contains(msg, "Wrong") {
		t.Errorf("error shown for a wrong password = %q", msg)
	}
	if browser.Eval[bool](t, tab, `!document.querySelector('#console-view').hidden`) {
		t.Fatal("the console opened with a wrong password")
	}

	fillLogin(t, tab, demoTenant, demoAgent, demoPassword)
	tab.WaitFor(t, "the console", `!document.querySelector('#console-view').hidden && parleyConsole.online`)
	tab.WaitFor(t, "the agent's name", `document.querySelector('#me-name').textContent === 'Dana'`)
	tab.WaitFor(t, "the not ready state", `document.querySelector('#state-text').textContent.startsWith('Not ready')`)

	// An offer nobody answers expires; the server sets the agent not ready.
	click(t, tab, "#state-toggle")
	tab.WaitFor(t, "the ready state", `document.querySelector('#state-text').textContent === 'Ready'`)
	cust := newCustomer(t, base, "missed-offer-client", map[string]any{"first_name": "Mia"})
	tab.WaitFor(t, "the offer", fmt.Sprintf(`document.querySelector('.offer[data-chat-id=%q]') && parleyConsole.alerts === 1`, cust.chatID))
	tab.WaitFor(t, "the missed offer state",
		`document.querySelector('#state-text').textContent === 'Not ready · missed offer' && !document.querySelector('.offer')`)

	// Narrow screens: everything stays reachable without sideways scrolling.
	tab.Do(t, chromedp.EmulateViewport(390, 800))
	if w := browser.Eval[int](t, tab, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("at 390 px the page scrolls sideways by %d px", w)
	}
	if !browser.Eval[bool](t, tab, `document.querySelector('#state-toggle').getBoundingClientRect().right <= window.innerWidth`) {
		t.Error("at 390 px the ready button is off screen")
	}
	tab.Do(t, chromedp.EmulateViewport(1280, 800))

	click(t, tab, "#logout")
	tab.WaitFor(t, "the login form after logout", `!document.querySelector('#login-view').hidden`)
	if browser.Eval[bool](t, tab, `sessionStorage.length > 0`) {
		t.Error("logout left the token in sessionStorage")
	}
	for _, e := range tab.Errors() {
		// The wrong password's 401 is logged by the browser; nothing else may be.
		if !strings.Contains(e, "401") {
			t.Errorf("console error: %s", e)
		}
	}
}

// TestConsoleConversation plays a contact-center morning: two customers, one
// agent in the console. The customers are Go clients of the customer API.
func TestConsoleConversation(t *testing.T) {
	t.Parallel()
	base := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	tab := browser.New(t).NewTab("agent")
	tab.Do(t, chromedp.EmulateViewport(1280, 800))

	// Ann asked about billing yesterday: that chat is in her case history.
	annParams := map[string]any{
		"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
		"user_platform": map[string]any{"os": "Android", "sdk": 34, "manufacturer": "Google", "model": "Pixel 8"},
	}
	earlier := newCustomer(t, base, "ann-phone", annParams)
	earlier.send(t, client.Message("old-1", "Earlier question about my invoice"))
	earlier.send(t, client.End())

	loginConsole(t, tab, base)
	click(t, tab, "#state-toggle")
	tab.WaitFor(t, "the ready state", `document.querySelector('#state-text').textContent === 'Ready'`)

	// An offer arrives with an alert and a countdown, and is accepted.
	ann := newCustomer(t, base, "ann-phone", annParams)
	ann.send(t, client.Message("m1", "Hello, my parcel is late"))
	offer := fmt.Sprintf(`document.querySelector('.offer[data-chat-id=%q]')`, ann.chatID)
	tab.WaitFor(t, "Ann's offer", offer)
	tab.WaitFor(t, "the offer's alert, countdown and customer",
		offer+`.textContent.includes('Ann Lee') && /\d+ s/.test(`+offer+`.querySelector('.offer-left').textContent) && parleyConsole.alerts >= 1`)
	if !browser.Eval[bool](t, tab, `document.title.includes('New chat offer')`) {
		t.Error("the title does not announce the offer")
	}
	click(t, tab, fmt.Sprintf(`.offer[data-chat-id=%q] .offer-accept`, ann.chatID))
	annPanel := "#panel-" + ann.chatID
	tab.WaitFor(t, "Ann's message", transcriptHas(annPanel, "Hello, my parcel is late"))
	tab.WaitFor(t, "Ann's details", fmt.Sprintf(`(() => { const f = document.querySelector(%q).textContent;
		return f.includes('ann@example.com') && f.includes('Android') && f.includes('Pixel 8') && f.includes('ann-phone') })()`, annPanel+" .customer-facts"))
	tab.WaitFor(t, "Ann's earlier chat", fmt.Sprintf(`document.querySelector(%q).textContent.includes('Earlier question about my invoice')`, annPanel+" .history"))
	ann.waitFor(t, "the read receipt of m1", func(e client.Event) bool {
		return e.Event == client.EventRead && e.RefMsgID == "m1"
	})

	// The agent types (the customer sees typing) and sends with Enter.
	composer := chromedp.CSS(annPanel + " .composer-input")
	tab.Do(t, chromedp.SendKeys(composer, "Hi Ann, let me check that for you."))
	ann.waitFor(t, "the agent typing", func(e client.Event) bool {
		return e.Event == client.EventTyping && e.PartyID != ann.chatID
	})
	tab.Do(t, pressEnter())
	ann.waitFor(t, "the agent joining", func(e client.Event) bool {
		return e.Event == client.EventPartyJoined && e.PartyType == "internal" && e.DisplayName == "Dana"
	})
	reply := ann.waitFor(t, "the agent's reply", func(e client.Event) bool {
		return e.Event == client.EventMessage && e.Msg == "Hi Ann, let me check that for you."
	})
	if browser.Eval[string](t, tab, fmt.Sprintf(`document.querySelector(%q).value`, annPanel+" .composer-input")) != "" {
		t.Error("the composer was not emptied by sending")
	}

	// The customer reads it: the console marks the message read.
	ann.send(t, client.Read(reply.MsgID))
	tab.WaitFor(t, "the read mark", fmt.Sprintf(`document.querySelector('%s .msg[data-msg-id=%q]').dataset.status === 'read'`, annPanel, reply.MsgID))

	// The customer types: the console shows it, until the message comes.
	ann.send(t, client.Typing())
	typing := fmt.Sprintf(`!document.querySelector(%q).hidden`, annPanel+" .typing")
	tab.WaitFor(t, "the typing indicator", typing)
	ann.send(t, client.Message("m2", "Order 4711, sent last Monday"))
	tab.WaitFor(t, "the second message without the indicator", transcriptHas(annPanel, "Order 4711")+" && !("+typing+")")

	// Files both ways.
	pic := testPNG(t)
	up, err := ann.UploadFile(ctx, "parcel.png", bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	ann.send(t, client.File("f1", up.FileID, up.FileName, "image"))
	tab.WaitFor(t, "the customer's picture", fmt.Sprintf(`(() => { const i = document.querySelector('%s .msg--customer .file-preview');
		return i && i.complete && i.naturalWidth === 120 })()`, annPanel))
	labelPath := filepath.Join(t.TempDir(), "label.png")
	if err := os.WriteFile(labelPath, pic, 0o644); err != nil {
		t.Fatal(err)
	}
	tab.Do(t, chromedp.SetUploadFiles(chromedp.CSS(annPanel+" .file-input"), []string{labelPath}))
	ann.waitFor(t, "the agent's file", func(e client.Event) bool {
		return e.Event == client.EventFile && e.FileName == "label.png" && e.FileType == "image"
	})
	tab.Do(t, chromedp.SendKeys(composer, "Thanks! The parcel is at the local depot; it goes out again today."), pressEnter())
	ann.waitFor(t, "the agent's second reply", func(e client.Event) bool {
		return e.Event == client.EventMessage && strings.HasPrefix(e.Msg, "Thanks! The parcel")
	})

	// A second customer; while Ann's chat is in front, Bob's messages count
	// as unread on his tab.
	bob := newCustomer(t, base, "bob-laptop", map[string]any{"first_name": "Bob", "last_name": "Stone", "email": "bob@example.com",
		"user_platform": map[string]any{"os": "iOS", "name": "iPhone", "manufacturer": "Apple", "model": "iPhone 15"}})
	bob.send(t, client.Message("b1", "Can I change my delivery address?"))
	tab.WaitFor(t, "Bob's offer", fmt.Sprintf(`document.querySelector('.offer[data-chat-id=%q]')`, bob.chatID))
	click(t, tab, fmt.Sprintf(`.offer[data-chat-id=%q] .offer-accept`, bob.chatID))
	bobPanel := "#panel-" + bob.chatID
	tab.WaitFor(t, "Bob's chat in front", fmt.Sprintf(`parleyConsole.active === %q && `, bob.chatID)+transcriptHas(bobPanel, "delivery address"))
	click(t, tab, "#tab-"+ann.chatID)
	tab.WaitFor(t, "Ann's chat in front", fmt.Sprintf(`parleyConsole.active === %q && !document.querySelector(%q).hidden`, ann.chatID, annPanel))
	bob.send(t, client.Message("b2", "It should go to my office instead."))
	bob.send(t, client.Message("b3", "Hello?"))
	badge := fmt.Sprintf(`document.querySelector('#tab-%s .badge')`, bob.chatID)
	tab.WaitFor(t, "Bob's unread badge", badge+`.textContent.startsWith('2') && !`+badge+`.hidden`)
	if !browser.Eval[bool](t, tab, fmt.Sprintf(`document.querySelector('#tab-%s .badge').hidden`, ann.chatID)) {
		t.Error("the chat in front shows an unread badge")
	}
	bob.waitFor(t, "delivered receipts for Bob's background messages", func(e client.Event) bool {
		return e.Event == client.EventDelivered && e.RefMsgID == "b3"
	})

	if os.Getenv("PARLEY_SCREENSHOTS") == "1" {
		ann.send(t, client.Typing())
		tab.WaitFor(t, "the typing indicator", typing)
		browser.Eval[bool](t, tab, `(document.activeElement && document.activeElement.blur(), true)`)
		if err := tab.Screenshot(filepath.Join("..", "docs", "screenshots", "console.png")); err != nil {
			t.Fatal(err)
		}
		ann.send(t, client.NotTyping())
	}

	// Markup from a customer is text, never markup.
	hostile := client.Message("m3", `<img src=x onerror="window.__pwned=1">`)
	literal := client.Message("m4", `<b>x</b>`)
	literal.MsgText = `<script>window.__pwned=2</script><img src=x onerror="window.__pwned=3">`
	ann.send(t, hostile, literal)
	tab.WaitFor(t, "the markup shown as text", transcriptHas(annPanel, `<script>window.__pwned=2</script><img src=x onerror="window.__pwned=3">`))
	if n := browser.Eval[int](t, tab, fmt.Sprintf(`document.querySelectorAll('%s .transcript script, %s .transcript img:not(.file-preview)').length`, annPanel, annPanel)); n != 0 {
		t.Errorf("customer text made %d elements", n)
	}
	if browser.Eval[bool](t, tab, `window.__pwned !== undefined`) {
		t.Fatal("customer markup ran")
	}

	// A reload keeps the login, the chats, the transcripts (once) and the
	// unread count.
	count := func() string {
		return browser.Eval[string](t, tab, fmt.Sprintf(`[...document.querySelectorAll('%s .transcript > *, %s .transcript > *')].length + ':' +
			document.querySelector('#tab-%s .badge').textContent`, annPanel, bobPanel, bob.chatID))
	}
	before := count()
	tab.Do(t, chromedp.Reload())
	tab.WaitFor(t, "the console after the reload", `parleyConsole.online && !document.querySelector('#console-view').hidden`)
	tab.WaitFor(t, "both chats and their transcripts after the reload",
		transcriptHas(annPanel, `<script>window.__pwned=2</script>`)+" && "+transcriptHas(bobPanel, "Hello?")+
			fmt.Sprintf(` && parleyConsole.active === %q`, ann.chatID))
	tab.WaitFor(t, "the same transcripts after the reload", fmt.Sprintf(`(() => { const n = %s; return n === %q })()`,
		fmt.Sprintf(`[...document.querySelectorAll('%s .transcript > *, %s .transcript > *')].length + ':' + document.querySelector('#tab-%s .badge').textContent`,
			annPanel, bobPanel, bob.chatID), before))
	if browser.Eval[bool](t, tab, `window.__pwned !== undefined`) {
		t.Fatal("customer markup ran after the reload")
	}

	// A dropped stream resumes where it stopped: nothing lost, nothing twice.
	browser.Eval[bool](t, tab, `parleyConsole.dropStream(true), true`)
	tab.WaitFor(t, "the stream to drop", `!parleyConsole.online`)
	ann.send(t, client.Message("m5", "Are you still there?"))
	browser.Eval[bool](t, tab, `parleyConsole.resumeStream(), true`)
	tab.WaitFor(t, "the message sent while offline", transcriptHas(annPanel, "Are you still there?"))
	if n := browser.Eval[int](t, tab, fmt.Sprintf(`[...document.querySelectorAll('%s .msg-body')].filter(b => b.textContent === 'Are you still there?').length`, annPanel)); n != 1 {
		t.Errorf("the message is shown %d times", n)
	}

	// Case actions on Bob's chat, then not ready, then transfer him to a queue.
	click(t, tab, "#tab-"+bob.chatID)
	tab.WaitFor(t, "Bob's badge cleared", badge+`.hidden`)
	caseText := browser.Eval[string](t, tab, fmt.Sprintf(`document.querySelector('%s .case-id').textContent`, bobPanel))
	click(t, tab, bobPanel+" .case-new")
	tab.WaitFor(t, "a new case", fmt.Sprintf(`(() => { const t = document.querySelector('%s .case-id').textContent; return t.startsWith('Case ') && t !== %q })()`, bobPanel, caseText))
	bob.waitFor(t, "the case set", func(e client.Event) bool { return e.Event == client.EventCaseSet && e.CaseID != "" })
	click(t, tab, bobPanel+" .case-close")
	tab.WaitFor(t, "the case closed", fmt.Sprintf(`document.querySelector('%s .case-id').textContent.includes('closed')`, bobPanel))

	browser.Eval[bool](t, tab, `(() => { const s = document.querySelector('#state-reason'); s.value = 'Lunch'; return true })()`)
	click(t, tab, "#state-toggle")
	tab.WaitFor(t, "not ready for lunch", `document.querySelector('#state-text').textContent === 'Not ready · Lunch'`)

	click(t, tab, bobPanel+" .act-transfer")
	tab.WaitFor(t, "the transfer dialog", `document.querySelector('#transfer-dialog').open`)
	click(t, tab, `#transfer-form input[value=queue]`)
	tab.WaitFor(t, "the queue field", `!document.querySelector('#transfer-queue-row').hidden && document.querySelector('#transfer-queue').value === 'demo-chat'`)
	click(t, tab, "#transfer-submit")
	tab.WaitFor(t, "the transfer done", fmt.Sprintf(`!document.querySelector('#transfer-dialog').open && !document.querySelector('%s .closed-bar').hidden`, bobPanel))
	bob.waitFor(t, "the agent leaving", func(e client.Event) bool { return e.Event == client.EventPartyLeft })
	bob.waitFor(t, "the chat queued again", func(e client.Event) bool {
		return e.Event == client.EventStatus && e.State == "queued"
	})
	click(t, tab, bobPanel+" .closed-close")
	tab.WaitFor(t, "Bob's tab closed", fmt.Sprintf(`!document.querySelector('#tab-%s')`, bob.chatID))

	// End Ann's chat, wrap it up, close it.
	tab.WaitFor(t, "Ann's chat in front", fmt.Sprintf(`parleyConsole.active === %q`, ann.chatID))
	click(t, tab, annPanel+" .act-end")
	click(t, tab, annPanel+" .act-end") // confirm
	ann.waitFor(t, "the end of the chat", func(e client.Event) bool { return e.Event == client.EventEnded })
	tab.WaitFor(t, "the wrap-up form", fmt.Sprintf(`!document.querySelector('%s .wrapup').hidden && document.querySelector('%s .composer').hidden`, annPanel, annPanel))
	browser.Eval[bool](t, tab, fmt.Sprintf(`(() => { const f = document.querySelector('%s .wrapup');
		f.querySelector('.wrapup-code').value = 'follow_up'; f.querySelector('.wrapup-notes').value = 'Call the carrier'; return true })()`, annPanel))
	click(t, tab, annPanel+" .wrapup-save")
	tab.WaitFor(t, "Ann's tab closed", fmt.Sprintf(`!document.querySelector('#tab-%s') && !document.querySelector('#no-chat').hidden`, ann.chatID))
	if got := wrapUpCode(t, base, ann.chatID); got != "follow_up" {
		t.Errorf("wrap-up code stored = %q", got)
	}

	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// ---------------------------------------------------------------- helpers

// customer is one customer's app, polling its chat and keeping every event
// it was given.
type customer struct {
	*client.Client
	chatID string
	seen   []client.Event
}

func newCustomer(t *testing.T, base, clientID string, params map[string]any) *customer {
	t.Helper()
	c, err := client.New(base, client.WithTenant(demoTenant), client.WithAppID(demoApp), client.WithClientID(clientID))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.RequestChat(ctx, client.ChatRequest{PhoneNumber: "+49 151 2345678", Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	return &customer{Client: c, chatID: info.ChatID}
}

func (c *customer) send(t *testing.T, evs ...client.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.SendEvents(ctx, c.chatID, evs...); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls until an event given to the customer matches.
func (c *customer) waitFor(t *testing.T, what string, match func(client.Event) bool) client.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, e := range c.seen {
			if match(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("customer %s: waiting for %s; got %s", c.chatID, what, eventTypes(c.seen))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		evs, err := c.Poll(ctx, c.chatID)
		cancel()
		if err != nil {
			t.Fatalf("customer %s: poll: %v", c.chatID, err)
		}
		c.seen = append(c.seen, evs...)
	}
}

func eventTypes(evs []client.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(string(e.Event))
		b.WriteByte(' ')
	}
	return b.String()
}

func loginConsole(t *testing.T, tab *browser.Tab, base string) {
	t.Helper()
	tab.Do(t, chromedp.Navigate(base+"/agent/"))
	tab.WaitFor(t, "the login form", `!document.querySelector('#login-view').hidden`)
	fillLogin(t, tab, demoTenant, demoAgent, demoPassword)
	tab.WaitFor(t, "the console", `!document.querySelector('#console-view').hidden && parleyConsole.online`)
}

func fillLogin(t *testing.T, tab *browser.Tab, tenant, user, password string) {
	t.Helper()
	browser.Eval[bool](t, tab, fmt.Sprintf(`(() => {
		document.querySelector('#login-tenant').value = %s;
		document.querySelector('#login-username').value = %s;
		document.querySelector('#login-password').value = %s;
		document.querySelector('#login-submit').click();
		return true })()`, jsString(tenant), jsString(user), jsString(password)))
}

// click clicks the first element matching a CSS selector.
func click(t *testing.T, tab *browser.Tab, selector string) {
	t.Helper()
	ok := browser.Eval[bool](t, tab, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.click(); return true })()`, jsString(selector)))
	if !ok {
		t.Fatalf("click: nothing matches %s", selector)
	}
}

// pressEnter presses Enter in the focused element as a keyboard does, with
// no extra character event.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// transcriptHas is a JS condition: the panel's transcript contains text.
func transcriptHas(panel, text string) string {
	return fmt.Sprintf(`(() => { const l = document.querySelector(%s); return !!l && l.textContent.includes(%s) })()`,
		jsString(panel+" .transcript"), jsString(text))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 72))
	for y := range 72 {
		for x := range 120 {
			img.Set(x, y, color.RGBA{R: uint8(59 + x), G: uint8(91 + y), B: 219, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wrapUpCode reads the demo agent's wrap-up of a chat through the agent API.
func wrapUpCode(t *testing.T, base, chatID string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"tenant": demoTenant, "username": demoAgent, "password": demoPassword})
	res, err := http.Post(base+"/agent/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	err = json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/agent/api/v1/chats/"+chatID, nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var chat struct {
		WrapUps []struct {
			Code string `json:"code"`
		} `json:"wrapups"`
	}
	if err := json.NewDecoder(res.Body).Decode(&chat); err != nil {
		t.Fatal(err)
	}
	if len(chat.WrapUps) == 0 {
		return ""
	}
	return chat.WrapUps[0].Code
}
