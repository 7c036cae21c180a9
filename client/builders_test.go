package client_test

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/client"
)

func TestBuildersMakeMinimalClientEvents(t *testing.T) {
	tests := []struct {
		name  string
		event client.Event
		want  string
	}{
		{"a message carries its id and text", client.Message("m1", "hi <b>there</b>"),
			`{"event":"chat_session_message","msg_id":"m1","msg":"hi \u003cb\u003ethere\u003c/b\u003e"}`},
		{"a delivery receipt names the message", client.Delivered("a1"),
			`{"event":"chat_session_message_delivered","ref_msg_id":"a1"}`},
		{"a read receipt names the message", client.Read("a1"),
			`{"event":"chat_session_message_read","ref_msg_id":"a1"}`},
		{"typing is the type alone", client.Typing(),
			`{"event":"chat_session_typing"}`},
		{"not typing is the type alone", client.NotTyping(),
			`{"event":"chat_session_not_typing"}`},
		{"a file names the upload", client.File("m2", "f1", "a.png", "image"),
			`{"event":"chat_session_file","msg_id":"m2","file_id":"f1","file_name":"a.png","file_type":"image"}`},
		{"a location sends coordinates as strings", client.Location("m3", "52.37", "4.89"),
			`{"event":"chat_session_location","msg_id":"m3","latitude":"52.37","longitude":"4.89"}`},
		{"signaling nests its data", client.Signaling("m4", "p1", client.SignalData{Type: "OFFER_CALL", SDP: "v=0", OfferVideo: "true"}),
			`{"event":"chat_session_signaling","msg_id":"m4","data":{"type":"OFFER_CALL","sdp":"v=0","offerVideo":"true"},"destination_party_id":"p1"}`},
		{"form data nests the answers", client.FormData("r1", "survey", map[string]string{"q1": "yes"}),
			`{"event":"chat_session_form_data","data":{"q1":"yes"},"form_name":"survey","form_request_id":"r1"}`},
		{"form data without answers sends an empty object", client.FormData("r1", "survey", nil),
			`{"event":"chat_session_form_data","data":{},"form_name":"survey","form_request_id":"r1"}`},
		{"disconnect is the type alone", client.Disconnect(),
			`{"event":"chat_session_disconnect"}`},
		{"end is the type alone", client.End(),
			`{"event":"chat_session_end"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.event)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("event = %s\nwant    %s", got, tt.want)
			}
		})
	}
}

func TestDecodedEventsDoNotSendTheirRawCopy(t *testing.T) {
	var e client.Event
	if err := json.Unmarshal([]byte(`{"event":"chat_session_typing","party_id":"p1","timestamp":"1"}`), &e); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if want := `{"event":"chat_session_typing","party_id":"p1","timestamp":"1"}`; string(got) != want {
		t.Errorf("re-encoded = %s, want %s", got, want)
	}
}
