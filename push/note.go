package push

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
)

// Category is the APNs category of every Parley notification (§6).
const Category = "NEW_CHAT_MESSAGE"

// maxBody bounds the text of a notification: APNs and FCM refuse payloads
// over 4 KiB, and a lock screen shows a few lines anyway.
const maxBody = 1000

// NeedsAttention reports whether ev, once stored, is one the customer's
// device is pushed about: a message or file from an agent or the system,
// or a timeout notice. The customer's own events never are.
func NeedsAttention(ev *chat.Event) bool {
	if ev.Own() {
		return false
	}
	switch ev.Type {
	case chat.TypeMessage, chat.TypeFile, chat.TypeTimeoutWarning, chat.TypeInactivityTimeout:
		return true
	}
	return false
}

// Localization keys of APNs notifications, by event type. Apps put them in
// their Localizable.strings (docs/push.md); the SDKs read only chatID.
var locKeys = map[chat.Type][2]string{
	chat.TypeMessage:           {"PARLEY_MESSAGE_TITLE", "PARLEY_MESSAGE_SUBTITLE"},
	chat.TypeFile:              {"PARLEY_FILE_TITLE", "PARLEY_FILE_SUBTITLE"},
	chat.TypeTimeoutWarning:    {"PARLEY_TIMEOUT_WARNING_TITLE", "PARLEY_TIMEOUT_WARNING_SUBTITLE"},
	chat.TypeInactivityTimeout: {"PARLEY_INACTIVITY_TIMEOUT_TITLE", "PARLEY_INACTIVITY_TIMEOUT_SUBTITLE"},
}

// note is one notification, whatever the service that carries it.
type note struct {
	chatID string
	kind   chat.Type
	sender string // display name of who sent the event
	body   string // its text, shortened
}

// noteOf describes ev for a notification; sender is the display name of
// the party that sent it.
func noteOf(ev *chat.Event, sender string) note {
	n := note{chatID: ev.ChatID, kind: ev.Type, sender: sender}
	switch ev.Type {
	case chat.TypeMessage:
		n.body = ev.MsgText
		if n.body == "" {
			n.body = ev.Msg
		}
	case chat.TypeFile:
		n.body = ev.FileName
	default:
		n.body = ev.Msg
	}
	n.body = shorten(n.body, maxBody)
	return n
}

// shorten cuts s to at most max bytes on a character boundary, marking the
// cut with an ellipsis.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// apnsPayload is the body of an APNs request (§6).
func (n *note) apnsPayload() []byte {
	keys := locKeys[n.kind]
	type alert struct {
		TitleLocKey    string   `json:"title-loc-key"`
		SubtitleLocKey string   `json:"subtitle-loc-key"`
		LocArgs        []string `json:"loc-args"`
		Body           string   `json:"body"`
	}
	type aps struct {
		Alert    alert  `json:"alert"`
		Sound    string `json:"sound"`
		Category string `json:"category"`
	}
	b, _ := json.Marshal(struct {
		APS    aps    `json:"aps"`
		ChatID string `json:"chatID"`
	}{
		APS: aps{
			Alert:    alert{TitleLocKey: keys[0], SubtitleLocKey: keys[1], LocArgs: []string{n.sender}, Body: n.body},
			Sound:    "default",
			Category: Category,
		},
		ChatID: n.chatID,
	})
	return b
}

// fcmMessage is the body of an FCM HTTP v1 send request (§6): the chat id
// as data, which the SDKs read, and a notification the system shows. A
// token of an iOS app gets the APNs category and sound, one of an Android
// app high priority.
func (n *note) fcmMessage(token, kind string) []byte {
	type notification struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	msg := map[string]any{
		"token":        token,
		"data":         map[string]string{"chatID": n.chatID},
		"notification": notification{Title: n.sender, Body: n.body},
	}
	switch kind {
	case chat.PushIOSFirebase:
		msg["apns"] = map[string]any{
			"headers": map[string]string{"apns-push-type": "alert", "apns-priority": "10"},
			"payload": map[string]any{"aps": map[string]string{"sound": "default", "category": Category}},
		}
	case chat.PushAndroidFirebase:
		msg["android"] = map[string]string{"priority": "HIGH"}
	}
	b, _ := json.Marshal(map[string]any{"message": msg})
	return b
}
