package clientweb_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/clientweb"
)

// The seeds of these targets are in testdata/fuzz/<target>/: the bodies the
// spec, the SDKs and the web script send, and edge cases.

func FuzzDecodeChatRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := clientweb.DecodeChatRequest(body)
		if err != nil {
			wantCode(t, "DecodeChatRequest", body, err, chat.CodeInvalid)
			if req.PhoneNumber != "" || req.From != "" || req.Parameters != nil {
				t.Fatalf("DecodeChatRequest(%q) failed but returned %+v", body, req)
			}
			return
		}
		var params map[string]json.RawMessage
		if err := json.Unmarshal(req.Parameters, &params); err != nil || params == nil {
			t.Fatalf("DecodeChatRequest(%q): parameters %q are not a JSON object", body, req.Parameters)
		}
		// What was accepted, sent again as a client would, reads the same.
		again, err := json.Marshal(map[string]any{"phone_number": req.PhoneNumber, "from": req.From, "parameters": req.Parameters})
		if err != nil {
			t.Fatalf("DecodeChatRequest(%q): the request does not encode: %v", body, err)
		}
		back, err := clientweb.DecodeChatRequest(again)
		if err != nil || back.PhoneNumber != req.PhoneNumber || back.From != req.From || !sameJSON(back.Parameters, req.Parameters) {
			t.Fatalf("DecodeChatRequest(%q) = %+v, but its encoding %s reads as %+v, %v", body, req, again, back, err)
		}
	})
}

func FuzzDecodeSubscription(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := clientweb.DecodeSubscription(body)
		if err != nil {
			wantCode(t, "DecodeSubscription", body, err, chat.CodeInvalid, chat.CodePushUnsupported)
			return
		}
		switch p.Kind {
		case "":
			if p != (chat.PushToken{}) {
				t.Fatalf("DecodeSubscription(%q) = %+v: a cancellation with a token", body, p)
			}
		case chat.PushAPNs:
			if p.Token == "" || p.Topic == "" {
				t.Fatalf("DecodeSubscription(%q) = %+v: an APNs token needs a token and a bundle id", body, p)
			}
		case chat.PushIOSFirebase, chat.PushAndroidFirebase:
			if p.Token == "" || p.Topic != "" {
				t.Fatalf("DecodeSubscription(%q) = %+v: a Firebase token has a token and no topic", body, p)
			}
		default:
			t.Fatalf("DecodeSubscription(%q) = %+v: unknown kind", body, p)
		}
		// Sent again as the SDK of its kind sends it, it reads the same.
		doc := map[string]string{}
		if p.Kind != "" {
			doc[p.Kind] = p.Token
		}
		if p.Topic != "" {
			doc["ios_app_bundle_id"] = p.Topic
		}
		again, _ := json.Marshal(doc)
		if back, err := clientweb.DecodeSubscription(again); err != nil || back != p {
			t.Fatalf("DecodeSubscription(%q) = %+v, but %s reads as %+v, %v", body, p, again, back, err)
		}
	})
}

// wantCode fails t unless err is a *chat.Error with one of codes.
func wantCode(t *testing.T, what string, input []byte, err error, codes ...chat.Code) {
	t.Helper()
	var ce *chat.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%s(%q): error %v is not a *chat.Error", what, input, err)
	}
	for _, c := range codes {
		if ce.Code == c {
			return
		}
	}
	t.Fatalf("%s(%q): error code %s (%v), want one of %v", what, input, ce.Code, err, codes)
}

// sameJSON reports whether two JSON texts hold the same value (numbers
// compared as written).
func sameJSON(a, b []byte) bool {
	va, erra := decodeTree(a)
	vb, errb := decodeTree(b)
	return erra == nil && errb == nil && reflect.DeepEqual(va, vb)
}

func decodeTree(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
