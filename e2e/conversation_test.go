package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
)

// TestCustomerConversation walks a customer through a whole chat on the
// demo tenant: what the app asks at start-up, requesting a chat, sending a
// message and a picture, being woken by the end of the chat and reading the
// history afterwards.
func TestCustomerConversation(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testContext(t)
	alice := srv.demoClient(t, "5d0c1e7a-alice")

	t.Log("the app's start-up calls describe the demo entry")
	version, err := alice.Version(ctx)
	if err != nil || !strings.HasPrefix(version, "parley ") {
		t.Errorf("Version = %q, %v; want parley <version>", version, err)
	}
	avail, err := alice.Availability(ctx)
	if err != nil || !avail.Available() {
		t.Errorf("Availability = %+v, %v; want available", avail, err)
	}
	params, err := alice.Parameters(ctx)
	wantParams := []client.Parameter{{Name: "first_name", Type: "FIRST_NAME"}, {Name: "last_name", Type: "LAST_NAME"}, {Name: "email", Type: "EMAIL"}}
	if err != nil || !reflect.DeepEqual(params, wantParams) {
		t.Errorf("Parameters = %+v, %v; want %+v", params, err, wantParams)
	}
	conf, err := alice.Configuration(ctx)
	if err != nil {
		t.Fatalf("Configuration: %v", err)
	}
	assertSameJSON(t, "configuration widgets", widgetsOf(t, conf.Raw), config.Demo().Tenants[0].Entries[0].Widgets)

	t.Log("requesting a chat starts a queued one; asking again gives it back")
	info, err := alice.RequestChat(ctx, client.ChatRequest{Parameters: map[string]any{
		"first_name":    "Alice",
		"user_platform": map[string]any{"os": "Android", "sdk": 34},
	}})
	if err != nil {
		t.Fatalf("RequestChat: %v", err)
	}
	if !info.IsNewChat || info.State != "queued" || info.ChatID == "" {
		t.Errorf("RequestChat = %+v, want a new queued chat", info)
	}
	if _, err := strconv.Atoi(info.EWT); err != nil {
		t.Errorf("RequestChat ewt = %q, want whole seconds", info.EWT)
	}
	chatID := info.ChatID
	again, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil || again.ChatID != chatID || again.IsNewChat {
		t.Errorf("second RequestChat = %+v, %v; want chat %s with is_new_chat false", again, err, chatID)
	}
	active, err := alice.ActiveChat(ctx)
	if err != nil || active.ChatID != chatID || active.IsNewChat {
		t.Errorf("ActiveChat = %+v, %v; want chat %s", active, err, chatID)
	}

	t.Log("another client gets a chat of its own and cannot see alice's")
	bob := srv.demoClient(t, "a81f33b2-bob")
	bobs, err := bob.RequestChat(ctx, client.ChatRequest{})
	if err != nil || !bobs.IsNewChat || bobs.ChatID == chatID {
		t.Errorf("bob's RequestChat = %+v, %v; want a new chat other than %s", bobs, err, chatID)
	}
	if _, err := bob.History(ctx, chatID); !client.HasCode(err, client.CodeChatNotFound) {
		t.Errorf("bob reading alice's history: err = %v, want 404/5005", err)
	}

	t.Log("the first poll is given the chat's opening events at once")
	opening, err := alice.Poll(ctx, chatID)
	if err != nil {
		t.Fatalf("first Poll: %v", err)
	}
	if got := eventTypes(opening); !reflect.DeepEqual(got, []client.EventType{client.EventStatus, client.EventCaseSet}) {
		t.Errorf("first Poll gave %v, want status and case_set (the demo links chats to cases)", got)
	}
	if len(opening) > 0 && (opening[0].State != "queued" || opening[0].EWT == "") {
		t.Errorf("opening status = %s, want state queued with an ewt", opening[0].Raw)
	}
	for _, ev := range opening {
		if _, err := ev.Time(); err != nil {
			t.Errorf("event %s: %v", ev.Raw, err)
		}
	}

	t.Log("a message and a picture go into the history as alice's own")
	if err := alice.SendEvents(ctx, chatID, client.Message("m-1", "Hello, my parcel is late")); err != nil {
		t.Fatalf("send message: %v", err)
	}
	picture := pngImage(t)
	upload, err := alice.UploadFile(ctx, "parcel.png", bytes.NewReader(picture))
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	if upload.FileID == "" || upload.FileName != "parcel.png" {
		t.Errorf("UploadFile = %+v, want an id and the name parcel.png", upload)
	}
	if err := alice.SendEvents(ctx, chatID, client.File("f-1", upload.FileID, "parcel.png", "image")); err != nil {
		t.Fatalf("send file event: %v", err)
	}
	file, err := alice.DownloadFile(ctx, upload.FileID)
	if err != nil {
		t.Fatalf("DownloadFile: %v", err)
	}
	if !bytes.Equal(file.Data, picture) || file.ContentType != "image/png" {
		t.Errorf("DownloadFile = %d bytes of %q, want the %d bytes uploaded as image/png", len(file.Data), file.ContentType, len(picture))
	}
	if _, err := alice.DownloadFile(ctx, "no-such-file"); !client.IsNotFound(err) {
		t.Errorf("DownloadFile of an unknown id: err = %v, want 404", err)
	}
	history, err := alice.History(ctx, chatID)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	msg, ok := findEvent(history, client.EventMessage, "m-1")
	if !ok || msg.PartyID != chatID || msg.Msg != "Hello, my parcel is late" {
		t.Errorf("history message m-1 = %s (found %v), want alice's text with party_id = chat id", msg.Raw, ok)
	}
	pic, ok := findEvent(history, client.EventFile, "f-1")
	if !ok || pic.PartyID != chatID || pic.FileID != upload.FileID || pic.FileName != "parcel.png" || pic.FileType != "image" {
		t.Errorf("history file f-1 = %s (found %v), want the uploaded picture as an image", pic.Raw, ok)
	}

	t.Log("a waiting poll is woken when the chat ends, without alice's own events")
	waiting := startWaitingPoll(ctx, t, alice, chatID)
	sent := time.Now()
	if err := alice.SendEvents(ctx, chatID, client.End()); err != nil {
		t.Fatalf("send chat_session_end: %v", err)
	}
	woken := <-waiting
	if woken.err != nil {
		t.Fatalf("waiting Poll: %v", woken.err)
	}
	if took := time.Since(sent); took > pollTimeout/2 {
		t.Errorf("waiting Poll answered %v after the chat ended, want well within the %v poll timeout", took, pollTimeout)
	}
	if got, want := eventTypes(woken.events), []client.EventType{client.EventStatus, client.EventEnded}; !reflect.DeepEqual(got, want) {
		t.Fatalf("waiting Poll gave %v, want %v", got, want)
	}
	if woken.events[0].State != "completed" {
		t.Errorf("closing status = %s, want state completed", woken.events[0].Raw)
	}

	t.Log("an ended chat answers 404 to polls and sends, but its history stays readable")
	if _, err := alice.Poll(ctx, chatID); !client.HasCode(err, client.CodeChatNotFound) || !client.IsNotFound(err) {
		t.Errorf("Poll after the end: err = %v, want 404/5005", err)
	}
	if err := alice.SendEvents(ctx, chatID, client.Message("m-2", "anyone?")); !client.IsNotFound(err) {
		t.Errorf("SendEvents after the end: err = %v, want 404", err)
	}
	if _, err := alice.ActiveChat(ctx); !client.IsNotFound(err) {
		t.Errorf("ActiveChat after the end: err = %v, want 404", err)
	}
	final, err := alice.History(ctx, chatID)
	if err != nil {
		t.Fatalf("History after the end: %v", err)
	}
	if _, ok := findEvent(final, client.EventMessage, "m-1"); !ok {
		t.Errorf("history after the end lost message m-1: %v", eventTypes(final))
	}
	if _, ok := findEvent(final, client.EventFile, "f-1"); !ok {
		t.Errorf("history after the end lost file f-1: %v", eventTypes(final))
	}
	if n := len(final); n == 0 || final[n-1].Event != client.EventEnded {
		t.Errorf("history after the end = %v, want chat_session_ended last", eventTypes(final))
	}

	t.Log("a new request starts a new chat linked to the same case")
	next, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil || !next.IsNewChat || next.ChatID == chatID {
		t.Fatalf("RequestChat after the end = %+v, %v; want a new chat", next, err)
	}
	sessions, err := alice.CaseHistory(ctx, next.ChatID)
	if err != nil {
		t.Fatalf("CaseHistory: %v", err)
	}
	if len(sessions) != 2 || sessions[0].ChatID != chatID || sessions[1].ChatID != next.ChatID {
		t.Errorf("CaseHistory lists %d sessions %+v, want the ended chat then the new one", len(sessions), sessions)
	}
}

// pollResult is what one Poll call returned.
type pollResult struct {
	events []client.Event
	raw    json.RawMessage
	err    error
}

// startWaitingPoll returns the answer of a poll of chatID that the server is
// holding by the time it returns, with no events waiting for the client.
//
// The test cannot see into the server, so it sends two polls at once: the
// server answers the older of them with no events as soon as the newer one
// arrives (§5). Once one poll has come back that way, the other is being
// held.
func startWaitingPoll(ctx context.Context, t *testing.T, c *client.Client, chatID string) <-chan pollResult {
	t.Helper()
	results := make(chan pollResult, 2)
	start := time.Now()
	for range 2 {
		go func() {
			var raw json.RawMessage
			err := c.Call(ctx, "GET", "chats/"+chatID+"/events", nil, nil, &raw)
			var body struct {
				Events []client.Event `json:"events"`
			}
			if err == nil {
				err = json.Unmarshal(raw, &body)
			}
			results <- pollResult{events: body.Events, raw: raw, err: err}
		}()
	}
	first := <-results
	if first.err != nil || string(first.raw) != `{"events":[]}` {
		t.Fatalf("superseded poll answered %s, %v; want {\"events\":[]}", first.raw, first.err)
	}
	if took := time.Since(start); took > pollTimeout/2 {
		// It may have timed out rather than been superseded, and then
		// the other poll may not be held yet.
		t.Fatalf("superseded poll took %v, want well within the %v poll timeout", took, pollTimeout)
	}
	return results
}

// widgetsOf returns the widgets array of a configuration answer.
func widgetsOf(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("configuration %s: %v", raw, err)
	}
	return body["widgets"]
}

// assertSameJSON fails unless got and want hold the same JSON value,
// whatever the key order and spacing.
func assertSameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want %q is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s\nwant %s", what, got, want)
	}
}

// eventTypes lists the types of events, in order.
func eventTypes(evs []client.Event) []client.EventType {
	types := make([]client.EventType, len(evs))
	for i, ev := range evs {
		types[i] = ev.Event
	}
	return types
}

// findEvent returns the event of the type with the msg_id.
func findEvent(evs []client.Event, typ client.EventType, msgID string) (client.Event, bool) {
	for _, ev := range evs {
		if ev.Event == typ && ev.MsgID == msgID {
			return ev, true
		}
	}
	return client.Event{}, false
}

// pngImage returns a small picture encoded as PNG.
func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.RGBA{R: uint8(x * 32), G: uint8(y * 32), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}
