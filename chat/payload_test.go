package chat

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzPayloadAppendJSON checks that AppendJSON writes what encoding/json
// reads back as the same payload and as it reads json.Marshal's.
func FuzzPayloadAppendJSON(f *testing.F) {
	f.Add("Hello, <b>you</b> & \"me\"\n\b\f\x01\u2028 \xff", "hi", 0, 0, "", "", []byte(nil))
	f.Add("", "", 42, -3, "OFFER_CALL", "v=0\r\n", []byte(nil))
	f.Add("m", "", 0, 0, "", "", []byte(`{"rating":5,"x":"<>&"}`))
	f.Add("", "", 0, 0, "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, msg, text string, ewt, timeout int, sigType, sdp string, form []byte) {
		p := Payload{Msg: msg, MsgText: text, RefMsgID: text, State: msg, EWT: ewt, FirstName: msg, LastName: text,
			DisplayName: msg, PartyType: text, PhotoID: msg, AgentID: text, FileID: msg, FileName: text, FileType: msg,
			Latitude: text, Longitude: msg, URL: text, CaseID: msg, Destination: text, Channel: msg, FormName: text,
			FormRequest: msg, FormTimeout: timeout, Signal: Signal{Type: sigType, SDP: sdp}}
		if json.Valid(form) {
			p.FormData = form
		}
		got, err := p.AppendJSON([]byte("prefix"))
		want, wantErr := json.Marshal(&p)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("AppendJSON error %v, encoding/json's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if string(got[:6]) != "prefix" {
			t.Fatalf("AppendJSON changed what was in buf: %q", got)
		}
		var fromGot, fromWant Payload
		if err := json.Unmarshal(got[6:], &fromGot); err != nil {
			t.Fatalf("AppendJSON wrote %q: %v", got[6:], err)
		}
		if err := json.Unmarshal(want, &fromWant); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromGot, fromWant) {
			t.Fatalf("AppendJSON wrote %q, read back as %+v; encoding/json wrote %q, read back as %+v", got[6:], fromGot, want, fromWant)
		}
	})
}

func BenchmarkPayloadJSON(b *testing.B) {
	p := Payload{Msg: "Hello, I have a question about my order; could you please check where it is?",
		MsgText: "Hello, I have a question about my order; could you please check where it is?"}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = p.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(&p)
		}
	})
}
