package chat

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeOnePass checks that DecodeClientEvents, reading a body without
// encoding/json (decodeFast) or in one pass, reads it as decoding its
// events one by one does: the same events, or the same error.
func FuzzDecodeOnePass(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"event":"chat_session_message","msg_id":"0E1F:2","msg":"hi<br>there","msg_text":"hi\nthere"}]}`,
		`{"events":[{"event":"chat_session_message","msg_id":"null","msg":"hello","party_id":"p"},null,{"event":"chat_session_end"}]}`,
		`{"events":[{"event":"chat_session_typing","msg":"I am wri"},{"event":"chat_session_not_typing"}]}`,
		`{"events":[{"event":"chat_session_signaling","data":{"candidate":"c","sdpMLineIndex":0}}]}`,
		`{"events":[{"event":"chat_session_location","latitude":52.52,"longitude":"13.405"}]}`,
		`{"events":[{"event":"chat_session_form_data","form_request_id":7,"data":{"rating":5}}]}`,
		`{"Events":[{"EVENT":"chat_session_message","Msg":"case-insensitive keys"}],"events":[{"event":"chat_session_end"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"a","msg":"the last one"}]}`,
		`{"events":[{"event":"chat_session_message","msg":5}]}`,
		`{"events":[{"event":"chat_session_message","msg":"ok"},{"event":"chat_session_message","msg":5}]}`,
		`{"events":[{"event":"chat_session_location","latitude":[1]}]}`,
		`{"events":[5,{"event":"chat_session_end"}]}`,
		`{"events":{}}`, `{"events":null}`, `{}`, `[]`, `null`, ``, `{"events":[}`,
		// What decodeFast reads, and what it leaves to encoding/json.
		` { "events" : [ { "event" : "chat_session_message" , "msg_id" : "1" , "msg" : "a" } ] } `,
		`{"events":[{"event":"chat_session_message","msg":"tab\tquote\" slash\/ back\\ nl\n u\u00e9\u20ac nul\u0000"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"emoji \ud83d\ude00 lone \ud800"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"raw é€😀"}]}`,
		"{\"events\":[{\"event\":\"chat_session_message\",\"msg\":\"bad \xff utf-8\"}]}",
		"{\"events\":[{\"event\":\"chat_session_message\",\"msg\":\"control \x01\"}]}",
		`{"events":[{"event":"chat_session_message","msg":"x","timestamp":752000000.5e-3,"party_id":null}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x","timestamp":-0,"party_id":"p"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x","timestamp":01}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x","timestamp":{}}]}`,
		`{"events":[{"event":"chat_session_message","msg":"a","msg":null},{"event":"chat_session_message","msg":null,"msg":"b"}]}`,
		`{"events":[{"event":"chat_session_message","MSG":"other case"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x","extra":1}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x",}]}`,
		`{"events":[{"event":"chat_session_message","msg":"x"},]}`,
		`{"events":[{"event":"chat_session_message_read","ref_msg_id":"r"},{"event":"chat_session_end"},{}]}`,
		`{"events":[]} x`,
		`{"events":[{"event":"chat_session_file","file_id":"f","file_name":"n","file_type":"image/png","url":"u","destination_party_id":"d","form_name":"f"}]}`,
	} {
		f.Add([]byte(s))
	}
	// The seed corpus of FuzzDecodeClientEvents, when there is one.
	if files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeClientEvents", "*")); err == nil {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				if body, ok := corpusBytes(string(b)); ok {
					f.Add(body)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := DecodeClientEvents(body)
		want, wantErr := decodeEachEvent(body)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("DecodeClientEvents(%q): error %v, one by one %v", body, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeClientEvents(%q) = %+v, one by one %+v", body, got, want)
		}
	})
}

// corpusBytes reads the value of a "go test fuzz v1" file of one []byte.
func corpusBytes(file string) ([]byte, bool) {
	_, v, ok := strings.Cut(file, "[]byte(")
	if !ok {
		return nil, false
	}
	s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), ")")))
	return []byte(s), err == nil
}

// BenchmarkDecodeClientEvents decodes the body of the wrk benchmark's Send
// Events: as DecodeClientEvents does (decodeFast), and with encoding/json,
// in one pass and event by event.
func BenchmarkDecodeClientEvents(b *testing.B) {
	body := []byte(`{"events":[{"event":"chat_session_message","msg_id":"wrk-1-42",` +
		`"msg":"Hello, I have a question about my order; could you please check where it is?"}]}`)
	for _, bc := range []struct {
		name   string
		decode func([]byte) ([]Event, error)
	}{{"fast", DecodeClientEvents}, {"one-pass", decodeOnePass}, {"event-by-event", decodeEachEvent}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzAgentDecodeFast checks that DecodeAgentEvents, reading the common
// bodies without encoding/json, gives what decoding with encoding/json
// gives, events or error, on entries with calls and forms on or off. The
// seeds are FuzzDecodeOnePass's bodies and FuzzDecodeAgentEvents' corpus.
func FuzzAgentDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"event":"chat_session_message","msg_id":"a-1","msg":"Hello"}]}`,
		`{"events":[{"event":"chat_session_typing","msg":"I am wri"},{"event":"chat_session_not_typing"}]}`,
		`{"events":[{"event":"chat_session_message_read","ref_msg_id":"r"}]}`,
		`{"events":[{"event":"chat_session_end"}]}`,
		`{"events":[{"event":"chat_session_message","msg":"ok"},{"event":"chat_session_message","msg":5}]}`,
		`{"events":[{"event":"chat_session_signaling","data":{"type":"offer","sdp":"v=0"}}]}`,
		`{"events":[{"event":"chat_session_form_show","form_request_id":"1","form_name":"f","form_timeout":"30"}]}`,
		`{"events":[]}`, `{}`, `null`, ``,
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, true)
	}
	if files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeAgentEvents", "*")); err == nil {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				if body, ok := corpusBytes(string(b)); ok {
					f.Add(body, true, false)
					f.Add(body, false, true)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, calls, forms bool) {
		e := Entry{AppID: "web", Calls: calls, Forms: forms}
		got, gotErr := DecodeAgentEvents(body, &e)
		want, wantErr := decodeAgentSlow(body, &e)
		// A form without a request id is given a random one.
		for _, evs := range [][]Event{got, want} {
			for i := range evs {
				if evs[i].Type == TypeFormShow {
					evs[i].FormRequest = ""
				}
			}
		}
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("DecodeAgentEvents(%q): error %v, with encoding/json %v", body, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeAgentEvents(%q) = %+v, with encoding/json %+v", body, got, want)
		}
	})
}
