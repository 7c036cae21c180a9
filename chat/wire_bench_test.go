package chat_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// A poll's answer is a batch of events in their wire form. AppendEvents
// writes it by hand into a reused buffer; encoding/json is the comparison:
// the same bytes from a struct of the same fields. Run with
//
//	go test -run='^$' -bench=Encode -benchmem ./chat/

// batch returns n events as a busy chat's poll gives them: messages with
// receipts and typing between.
func batch(n int) []chat.Event {
	at := time.Unix(1732500000, 0)
	evs := make([]chat.Event, n)
	for i := range evs {
		ev := chat.Event{ChatID: "k3JqvT0cQ2mZc7yXb1L9Aw", Seq: int64(i + 1), PartyID: "p-8fK2mQ", Time: at}
		switch i % 3 {
		case 0:
			ev.Type, ev.MsgID = chat.TypeMessage, "a-"+strconv.Itoa(i)
			ev.Msg = "Hello, I have checked your order: it left our warehouse this morning & should arrive <tomorrow>."
			ev.MsgText = ev.Msg
		case 1:
			ev.Type, ev.RefMsgID = chat.TypeRead, "m-"+strconv.Itoa(i)
		default:
			ev.Type = chat.TypeTyping
		}
		evs[i] = ev
	}
	return evs
}

// wireEvent is what encoding/json needs to write the same objects.
type wireEvent struct {
	Event     string `json:"event"`
	MsgID     string `json:"msg_id,omitempty"`
	PartyID   string `json:"party_id"`
	Msg       string `json:"msg,omitempty"`
	MsgText   string `json:"msg_text,omitempty"`
	RefMsgID  string `json:"ref_msg_id,omitempty"`
	Timestamp string `json:"timestamp"`
	Seq       int64  `json:"seq"`
}

func BenchmarkEncodeAppendEvents(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		evs := batch(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = chat.AppendEvents(buf[:0], evs)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkEncodeAppendEventsFresh(b *testing.B) {
	// As the poll handler calls it: a new buffer per answer.
	for _, n := range []int{1, 10, 100} {
		evs := batch(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = chat.AppendEvents(nil, evs)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkEncodeEncodingJSON(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		evs := batch(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				body := struct {
					Events []wireEvent `json:"events"`
				}{Events: make([]wireEvent, len(evs))}
				for i := range evs {
					ev := &evs[i]
					body.Events[i] = wireEvent{Event: string(ev.Type), MsgID: ev.MsgID, PartyID: ev.PartyID, Msg: ev.Msg, MsgText: ev.MsgText,
						RefMsgID: ev.RefMsgID, Timestamp: strconv.FormatInt(ev.Time.Unix(), 10), Seq: ev.Seq}
				}
				var err error
				if out, err = json.Marshal(body); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(out)))
		})
	}
}
