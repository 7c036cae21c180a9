package chat_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
)

// clientTypes are the event types of §4.1: all a Send Events body may hold.
var clientTypes = map[chat.Type]bool{
	chat.TypeMessage: true, chat.TypeDelivered: true, chat.TypeRead: true,
	chat.TypeTyping: true, chat.TypeNotTyping: true, chat.TypeFile: true,
	chat.TypeLocation: true, chat.TypeSignaling: true, chat.TypeFormData: true,
	chat.TypeDisconnect: true, chat.TypeEnd: true,
}

// eventSeeds are Send Events bodies as the SDKs send them, quirks
// included; testdata/fuzz/FuzzDecodeClientEvents holds more.
var eventSeeds = []string{
	// iOS: HTML with <br>, the raw text, a uuid:n msg_id, seconds since 2001.
	`{"events":[{"event":"chat_session_message","msg_id":"0E1F:2","msg":"hi<br>there","msg_text":"hi\nthere","timestamp":752000000}]}`,
	// Android: a random party_id and the string "null" as msg_id.
	`{"events":[{"event":"chat_session_message","msg_id":"null","msg":"hello","party_id":"6c9b1f0e-android"}]}`,
	// The web script: the draft in typing, numeric msg_ids.
	`{"events":[{"event":"chat_session_typing","msg":"I am wri"},{"event":"chat_session_not_typing"},{"event":"chat_session_message","msg_id":"3","msg":"x"}]}`,
	`{"events":[{"event":"chat_session_message_delivered","ref_msg_id":"agent-1"},{"event":"chat_session_message_read","ref_msg_id":"agent-1","party_id":"p"}]}`,
	// Android ICE candidates have no data.type and a numeric sdpMLineIndex.
	`{"events":[{"event":"chat_session_signaling","destination_party_id":"a1","msg_id":"s1","data":{"candidate":"candidate:1 1 UDP 1 10.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}]}`,
	`{"events":[{"event":"chat_session_signaling","data":{"type":"OFFER_CALL","sdp":"v=0\r\n","offerVideo":true}}]}`,
	`{"events":[{"event":"chat_session_location","latitude":52.52,"longitude":"13.405","url":"https://maps.example/?q=52.52,13.405","msg_id":"l1"}]}`,
	`{"events":[{"event":"chat_session_file","file_id":"f1","file_name":"IMG.png","file_type":"image/png","msg_id":"m9"}]}`,
	`{"events":[{"event":"chat_session_form_data","form_request_id":7,"form_name":"survey","data":{"rating":5,"ok":true,"tags":["a"]}}]}`,
	`{"events":[{"event":"chat_session_disconnect"},{"event":"chat_session_end"}]}`,
	`{"events":[]}`,
	`{"events":[{"event":"chat_session_selfie"}]}`,
	`{"events":[{"event":"chat_session_message","msg":5}]}`,
	`{"events":null}`,
	`[]`,
	``,
}

func FuzzDecodeClientEvents(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	const chatID = "Yx3k2V9m0Q1w8e7r6t5y4u"
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := chat.DecodeClientEvents(body)
		if err != nil {
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != chat.CodeInvalid {
				t.Fatalf("DecodeClientEvents(%q): error %v, want a *chat.Error with code %s", body, err, chat.CodeInvalid)
			}
			if evs != nil {
				t.Fatalf("DecodeClientEvents(%q) failed but returned %d events", body, len(evs))
			}
			return
		}
		for i := range evs {
			ev := &evs[i]
			if !clientTypes[ev.Type] {
				t.Fatalf("DecodeClientEvents(%q): events[%d] has type %q, not a client event", body, i, ev.Type)
			}
			if problem := missingField(ev); problem != "" {
				t.Fatalf("DecodeClientEvents(%q): events[%d] (%s) accepted with %s", body, i, ev.Type, problem)
			}
			// Stamped as the service stamps them, then encoded.
			ev.ChatID, ev.PartyID, ev.Seq, ev.Time = chatID, chatID, int64(i+1), time.Unix(1732500000, 0)
			wire := ev.AppendJSON(nil)
			if !json.Valid(wire) || !utf8.Valid(wire) {
				t.Fatalf("DecodeClientEvents(%q): events[%d] encodes as invalid JSON: %s", body, i, wire)
			}
			var back map[string]any
			if err := json.Unmarshal(wire, &back); err != nil {
				t.Fatalf("events[%d]: %s does not decode: %v", i, wire, err)
			}
			if back["event"] != string(ev.Type) || back["timestamp"] != "1732500000" || back["seq"] != float64(i+1) {
				t.Fatalf("events[%d]: %s lost its type, timestamp or seq", i, wire)
			}
		}
		if wire := chat.AppendEvents(nil, evs); !json.Valid(wire) {
			t.Fatalf("DecodeClientEvents(%q): the batch encodes as invalid JSON: %s", body, wire)
		}
	})
}

// missingField names what a decoded event lacks of what its type needs
// (§4.1), or returns "".
func missingField(ev *chat.Event) string {
	switch ev.Type {
	case chat.TypeMessage:
		if ev.Msg == "" && ev.MsgText == "" {
			return "no text"
		}
	case chat.TypeDelivered, chat.TypeRead:
		if ev.RefMsgID == "" {
			return "no ref_msg_id"
		}
	case chat.TypeFile:
		if ev.FileID == "" {
			return "no file_id"
		}
		if ev.FileType != "" && ev.FileType != "image" && ev.FileType != "attachment" {
			return "file_type " + ev.FileType
		}
	case chat.TypeLocation:
		if ev.Latitude == "" || ev.Longitude == "" {
			return "no coordinates"
		}
	case chat.TypeSignaling:
		switch ev.Signal.Type {
		case "REQUEST_CALL", "OFFER_CALL", "ANSWER_CALL", "ICE_CANDIDATE", "END_CALL", "CALL_REJECTED":
		default:
			return "signaling type " + ev.Signal.Type
		}
	case chat.TypeFormData:
		if ev.FormRequest == "" || len(ev.FormData) == 0 {
			return "no form request or data"
		}
	}
	return ""
}
