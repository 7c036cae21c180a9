package client

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// FuzzEventsFast checks that what the fast path reads of an events answer
// or a stream message is what encoding/json reads, and that it reads
// nothing encoding/json would refuse. Seeds are answers as the server
// writes them (chat.AppendEvents) and hand-made edge cases.
func FuzzEventsFast(f *testing.F) {
	at := time.Unix(1732500000, 0)
	url := "https://maps.example/?q=1"
	served := [][]chat.Event{
		{{ChatID: "c1", Seq: 1, Type: chat.TypeStatus, Time: at, Payload: chat.Payload{State: chat.StateQueued, EWT: 12}}},
		{{ChatID: "c1", Seq: 2, Type: chat.TypePartyJoined, PartyID: "a1", Time: at, Payload: chat.Payload{FirstName: "Ann", LastName: "Lee", DisplayName: "Ann L.", PartyType: "internal"}},
			{ChatID: "c1", Seq: 3, Type: chat.TypeMessage, PartyID: "a1", MsgID: "m-1", Time: at, Payload: chat.Payload{Msg: "Hi <b>there</b> \"quoted\" é 😀\n", MsgText: "Hi there"}}},
		{{ChatID: "c1", Seq: 4, Type: chat.TypeLocation, PartyID: "a1", Time: at, Payload: chat.Payload{Latitude: "52.5", Longitude: "13.4", URL: url}}},
		{{ChatID: "c1", Seq: 5, Type: chat.TypeSignaling, PartyID: "a1", Time: at, Payload: chat.Payload{Signal: chat.Signal{Type: "offer", SDP: "v=0"}}}},
		{{ChatID: "c1", Seq: 6, Type: chat.TypeEnded, Time: at}},
	}
	for _, evs := range served {
		body := chat.AppendEvents(nil, evs)
		f.Add(body)
		f.Add([]byte(`{"type":"events","chat_id":"c1","events":` + string(chat.AppendEventArray(nil, evs)) + `}`))
	}
	for _, s := range []string{
		`{"events":[]}`, `{"events":null}`, `{}`, ` { "events" : [ { } ] } `,
		`{"events":[{"event":"chat_session_message","msg":"a","msg":null,"seq":1,"seq":null}]}`,
		`{"events":[{"event":"chat_session_location","url":"u","url":null}]}`,
		`{"events":[{"MSG":"case"}]}`, `{"events":[{"seq":1.5}]}`, `{"events":[{"seq":"1"}]}`,
		`{"events":[{"seq":-0}]}`, `{"events":[{"seq":01}]}`, `{"events":[{"seq":99999999999999999999}]}`,
		`{"events":[{"ewt":5}]}`, `{"events":[null]}`, `{"events":[{"msg":"\ud83d\ude00"}]}`,
		`{"events":[],"events":[{"msg":"second"}]}`, `{"events":[{}]} x`, `{"events":[{},]}`,
		`{"type":"routing","routing":{"state":"ready"}}`, `{"type":"events","chat_id":"c","events":null}`,
		`{"type":"events","chat_id":"c"}`, `{"type":"events","type":"routing"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast eventList
		if fast.decodeFast(body) {
			var slow eventList
			if err := json.Unmarshal(body, &slow); err != nil {
				t.Fatalf("fast read %q, encoding/json refuses it: %v", body, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
			}
		}
		var m StreamMessage
		if m.decodeFast(body) {
			var slow StreamMessage
			if err := json.Unmarshal(body, &slow); err != nil {
				t.Fatalf("fast read the stream message %q, encoding/json refuses it: %v", body, err)
			}
			slow.Raw = body
			if !reflect.DeepEqual(m, slow) {
				t.Fatalf("stream message %q: fast %+v, encoding/json %+v", body, m, slow)
			}
		}
	})
}

// TestEventsFastReadsTheServersAnswers: the answers the server writes take
// the fast path (the fuzz target only checks what it takes).
func TestEventsFastReadsTheServersAnswers(t *testing.T) {
	evs := []chat.Event{
		{ChatID: "c1", Seq: 7, Type: chat.TypeMessage, PartyID: "a1", MsgID: "m-7", Time: time.Unix(1732500000, 0), Payload: chat.Payload{Msg: "Hello", MsgText: "Hello"}},
		{ChatID: "c1", Seq: 8, Type: chat.TypeTyping, PartyID: "a1", Time: time.Unix(1732500001, 0)},
	}
	var l eventList
	if !l.decodeFast(chat.AppendEvents(nil, evs)) || len(l.Events) != 2 || l.Events[0].Msg != "Hello" || l.Events[1].Seq != 8 {
		t.Fatalf("a poll answer: %+v", l)
	}
	var m StreamMessage
	if !m.decodeFast([]byte(`{"type":"events","chat_id":"c1","events":`+string(chat.AppendEventArray(nil, evs))+`}`)) || m.ChatID != "c1" || len(m.Events) != 2 {
		t.Fatalf("a stream message: %+v", m)
	}
}
