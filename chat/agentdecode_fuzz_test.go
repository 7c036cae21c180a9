package chat_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// agentTypes are the event types an agent may send.
var agentTypes = map[chat.Type]bool{
	chat.TypeMessage: true, chat.TypeDelivered: true, chat.TypeRead: true,
	chat.TypeTyping: true, chat.TypeNotTyping: true, chat.TypeFile: true,
	chat.TypeLocation: true, chat.TypeSignaling: true, chat.TypeFormShow: true,
}

// FuzzDecodeAgentEvents decodes an agent's send on an entry with calls and
// forms on or off. What it accepts must be what §4.2 lets a customer be
// given: agent types only, signaling and forms only where the entry has
// them, and every field a string when encoded (Android crashes on anything
// else). Seeds are in testdata/fuzz/FuzzDecodeAgentEvents.
func FuzzDecodeAgentEvents(f *testing.F) {
	const chatID, partyID = "Yx3k2V9m0Q1w8e7r6t5y4u", "agent-party-1"
	f.Fuzz(func(t *testing.T, body []byte, calls, forms bool) {
		entry := chat.Entry{AppID: "web", Calls: calls, Forms: forms}
		evs, err := chat.DecodeAgentEvents(body, &entry)
		if err != nil {
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != chat.CodeInvalid {
				t.Fatalf("DecodeAgentEvents(%q): error %v, want a *chat.Error with code %s", body, err, chat.CodeInvalid)
			}
			if evs != nil {
				t.Fatalf("DecodeAgentEvents(%q) failed but returned %d events", body, len(evs))
			}
			return
		}
		for i := range evs {
			ev := &evs[i]
			switch {
			case !agentTypes[ev.Type]:
				t.Fatalf("DecodeAgentEvents(%q): events[%d] has type %q, which agents may not send", body, i, ev.Type)
			case ev.Type == chat.TypeSignaling && !calls, ev.Type == chat.TypeFormShow && !forms:
				t.Fatalf("DecodeAgentEvents(%q): events[%d] (%s) accepted on an entry without it", body, i, ev.Type)
			case ev.Type == chat.TypeFormShow && (ev.FormName == "" || ev.FormRequest == "" || ev.Channel == "" || ev.FormTimeout < 0):
				t.Fatalf("DecodeAgentEvents(%q): events[%d] is a form without name, request id or channel: %+v", body, i, ev.Payload)
			}
			if problem := missingField(ev); problem != "" {
				t.Fatalf("DecodeAgentEvents(%q): events[%d] (%s) accepted with %s", body, i, ev.Type, problem)
			}
			ev.ChatID, ev.PartyID, ev.Seq, ev.Time = chatID, partyID, int64(i+1), time.Unix(1732500000, 0)
			if problem := wireProblem(ev.AppendJSON(nil)); problem != "" {
				t.Fatalf("DecodeAgentEvents(%q): events[%d] goes to customers as %s: %s", body, i, ev.AppendJSON(nil), problem)
			}
		}
	})
}

// wireProblem says what in an encoded event breaks the value types of
// §4.2, or returns "": every field a string but seq (a number), data of
// signaling (an object of strings) and url of a location (may be null).
func wireProblem(wire []byte) string {
	var obj map[string]any
	if err := json.Unmarshal(wire, &obj); err != nil {
		return "not a JSON object: " + err.Error()
	}
	for k, v := range obj {
		switch {
		case k == "seq":
			if _, ok := v.(float64); !ok {
				return "seq is not a number"
			}
		case k == "data" && obj["event"] == string(chat.TypeSignaling):
			data, ok := v.(map[string]any)
			if !ok {
				return "data is not an object"
			}
			for dk, dv := range data {
				if _, ok := dv.(string); !ok {
					return "data." + dk + " is not a string"
				}
			}
		case k == "url" && obj["event"] == string(chat.TypeLocation) && v == nil:
		default:
			if _, ok := v.(string); !ok {
				return k + " is not a string"
			}
		}
	}
	return ""
}
