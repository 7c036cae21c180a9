package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
)

func TestSendEventsSendsOneBodyWithEveryEvent(t *testing.T) {
	tests := []struct {
		name   string
		events []client.Event
		want   string
	}{
		{"several events go in order in one body",
			[]client.Event{client.Message("m1", "hi"), client.Read("a1"), client.Typing()},
			`{"events":[{"event":"chat_session_message","msg_id":"m1","msg":"hi"},` +
				`{"event":"chat_session_message_read","ref_msg_id":"a1"},{"event":"chat_session_typing"}]}`},
		{"no events send an empty list, never null",
			nil,
			`{"events":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: "{}"})
			if err := c.SendEvents(t.Context(), "c1", tt.events...); err != nil {
				t.Fatalf("SendEvents: %v", err)
			}
			got := s.only(t)
			if string(got.Body) != tt.want {
				t.Errorf("body = %s\nwant   %s", got.Body, tt.want)
			}
			if ct := got.Header.Get("Content-Type"); ct != jsonType {
				t.Errorf("Content-Type = %q, want %q", ct, jsonType)
			}
		})
	}
}

func TestSendEventsRefusedWholeReportsTheCode(t *testing.T) {
	c, _ := stubClient(t, answer{Status: 400, Body: `{"error_code":"5003","error_message":"event 2: msg missing"}`})
	err := c.SendEvents(t.Context(), "c1", client.Typing(), client.Message("m1", ""))
	e, ok := client.AsAPIError(err)
	if !ok {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if e.Status != 400 || e.Code != client.CodeInvalid || e.Message != "event 2: msg missing" {
		t.Errorf("APIError = %+v", e)
	}
	if !strings.Contains(err.Error(), "send events") {
		t.Errorf("err %q does not name the operation", err)
	}
}

// serverEvents is a poll answer holding every event type of §4.2.
const serverEvents = `{"events":[
{"event":"chat_session_status","seq":1,"state":"queued","ewt":"60","timestamp":"1732500000"},
{"event":"chat_session_party_joined","seq":2,"party_id":"a1","first_name":"Ann","last_name":"Lee","display_name":"Ann L.","type":"internal","timestamp":"1732500001"},
{"event":"chat_session_message","seq":3,"msg_id":"x1","party_id":"a1","msg":"<p>Hi</p>","msg_text":"Hi","timestamp":"1732500002"},
{"event":"chat_session_message_read","seq":4,"ref_msg_id":"m1","party_id":"a1","timestamp":"1732500003"},
{"event":"chat_session_location","seq":5,"msg_id":"x2","party_id":"a1","url":null,"latitude":"52.37","longitude":"4.89","timestamp":"1732500004"},
{"event":"chat_session_location","seq":6,"msg_id":"x3","party_id":"a1","url":"https://maps.example.com/?q=1","latitude":"1","longitude":"2","timestamp":"1732500004"},
{"event":"chat_session_file","seq":7,"msg_id":"x4","party_id":"a1","file_id":"f1","file_name":"a.pdf","file_type":"attachment","timestamp":"1732500005"},
{"event":"chat_session_case_set","seq":8,"case_id":"","timestamp":"1732500006"},
{"event":"chat_session_signaling","seq":9,"msg_id":"x5","party_id":"a1","destination_party_id":"c1","data":{"type":"ICE_CANDIDATE","sdp":"","candidate":"candidate:1","sdpMid":"0","sdpMLineIndex":"0","offerVideo":"false","reason_code":"","reason":""},"timestamp":"1732500007"},
{"event":"chat_session_form_show","seq":10,"channel":"web","form_name":"survey","form_request_id":"r1","form_timeout":"300","timestamp":"1732500008"},
{"event":"chat_session_party_left","seq":11,"party_id":"a1","timestamp":"1732500009"},
{"event":"chat_session_ended","seq":12}
]}`

func TestPollDecodesEveryServerEvent(t *testing.T) {
	c, _ := stubClient(t, answer{Body: serverEvents})
	got, err := c.Poll(t.Context(), "c1")
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	mapURL := "https://maps.example.com/?q=1"
	want := []client.Event{
		{Event: client.EventStatus, Seq: 1, State: "queued", EWT: "60", Timestamp: "1732500000"},
		{Event: client.EventPartyJoined, Seq: 2, PartyID: "a1", FirstName: "Ann", LastName: "Lee", DisplayName: "Ann L.", PartyType: "internal", Timestamp: "1732500001"},
		{Event: client.EventMessage, Seq: 3, MsgID: "x1", PartyID: "a1", Msg: "<p>Hi</p>", MsgText: "Hi", Timestamp: "1732500002"},
		{Event: client.EventRead, Seq: 4, RefMsgID: "m1", PartyID: "a1", Timestamp: "1732500003"},
		{Event: client.EventLocation, Seq: 5, MsgID: "x2", PartyID: "a1", Latitude: "52.37", Longitude: "4.89", Timestamp: "1732500004"},
		{Event: client.EventLocation, Seq: 6, MsgID: "x3", PartyID: "a1", URL: &mapURL, Latitude: "1", Longitude: "2", Timestamp: "1732500004"},
		{Event: client.EventFile, Seq: 7, MsgID: "x4", PartyID: "a1", FileID: "f1", FileName: "a.pdf", FileType: "attachment", Timestamp: "1732500005"},
		{Event: client.EventCaseSet, Seq: 8, Timestamp: "1732500006"},
		{Event: client.EventSignaling, Seq: 9, MsgID: "x5", PartyID: "a1", DestinationPartyID: "c1",
			Data:      []byte(`{"type":"ICE_CANDIDATE","sdp":"","candidate":"candidate:1","sdpMid":"0","sdpMLineIndex":"0","offerVideo":"false","reason_code":"","reason":""}`),
			Timestamp: "1732500007"},
		{Event: client.EventFormShow, Seq: 10, Channel: "web", FormName: "survey", FormRequestID: "r1", FormTimeout: "300", Timestamp: "1732500008"},
		{Event: client.EventPartyLeft, Seq: 11, PartyID: "a1", Timestamp: "1732500009"},
		{Event: client.EventEnded, Seq: 12},
	}
	assertEvents(t, got, want)
	if last := client.LastSeq(got); last != 12 {
		t.Errorf("LastSeq = %d, want 12", last)
	}
}

func TestDecodedEventsKeepTheirWireBytes(t *testing.T) {
	c, _ := stubClient(t, answer{Body: serverEvents})
	got, err := c.Poll(t.Context(), "c1")
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	tests := []struct {
		name  string
		index int
		want  string
	}{
		{"a null url stays visible", 4, `"url":null`},
		{"an empty case id stays visible", 7, `"case_id":""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw := string(got[tt.index].Raw); !strings.Contains(raw, tt.want) {
				t.Errorf("Raw = %s, want it to contain %s", raw, tt.want)
			}
		})
	}
}

func TestEventAccessorsDecodeNestedValues(t *testing.T) {
	c, _ := stubClient(t, answer{Body: serverEvents})
	events, err := c.Poll(t.Context(), "c1")
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	sig, err := events[8].SignalData()
	if err != nil {
		t.Fatalf("SignalData: %v", err)
	}
	if want := (client.SignalData{Type: "ICE_CANDIDATE", Candidate: "candidate:1", SDPMid: "0", SDPMLineIndex: "0", OfferVideo: "false"}); sig != want {
		t.Errorf("SignalData = %+v, want %+v", sig, want)
	}
	when, err := events[0].Time()
	if err != nil {
		t.Fatalf("Time: %v", err)
	}
	if !when.Equal(time.Unix(1732500000, 0)) {
		t.Errorf("Time = %v, want Unix 1732500000", when)
	}
	if _, err := events[11].Time(); err == nil {
		t.Error("Time of an event without timestamp succeeded, want an error")
	}
	form, err := client.FormData("r1", "survey", map[string]string{"q1": "yes"}).FormValues()
	if err != nil {
		t.Fatalf("FormValues: %v", err)
	}
	if form["q1"] != "yes" || len(form) != 1 {
		t.Errorf("FormValues = %v, want map[q1:yes]", form)
	}
}

func TestPollAfterAsksForEverythingAfterASeq(t *testing.T) {
	tests := []struct {
		name  string
		after int64
		want  string
	}{
		{"after zero replays everything", 0, "0"},
		{"after a seq names it", 1234567890123, "1234567890123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: `{"events":[]}`})
			got, err := c.PollAfter(t.Context(), "c1", tt.after)
			if err != nil {
				t.Fatalf("PollAfter: %v", err)
			}
			if len(got) != 0 {
				t.Errorf("events = %v, want none", got)
			}
			if a := s.only(t).Query.Get("after"); a != tt.want {
				t.Errorf("after = %q, want %q", a, tt.want)
			}
		})
	}
}

func TestPollOfAnEndedChatIsNotFound(t *testing.T) {
	c, _ := stubClient(t, answer{Status: 404, Body: `{"error_code":"5005","error_message":"chat ended"}`})
	_, err := c.Poll(t.Context(), "c1")
	if !client.IsNotFound(err) {
		t.Errorf("err = %v, want a 404", err)
	}
}

func TestHistoryDecodesTheClientsOwnEventsToo(t *testing.T) {
	c, _ := stubClient(t, answer{Body: `{"events":[
		{"event":"chat_session_message","seq":1,"msg_id":"m1","party_id":"c1","msg":"hi","msg_text":"hi","timestamp":"1"},
		{"event":"chat_session_message","seq":2,"msg_id":"x1","party_id":"a1","msg":"hello","msg_text":"hello","timestamp":"2"}]}`})
	got, err := c.History(t.Context(), "c1")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	want := []client.Event{
		{Event: client.EventMessage, Seq: 1, MsgID: "m1", PartyID: "c1", Msg: "hi", MsgText: "hi", Timestamp: "1"},
		{Event: client.EventMessage, Seq: 2, MsgID: "x1", PartyID: "a1", Msg: "hello", MsgText: "hello", Timestamp: "2"},
	}
	assertEvents(t, got, want)
}

func TestCaseHistoryDecodesEverySession(t *testing.T) {
	body := `{"sessions":[
		{"chat_id":"old","created_time":"1732400000","events":[{"event":"chat_session_ended"}]},
		{"chat_id":"c1","created_time":"1732500000","events":[]}]}`
	tests := []struct {
		name string
		call func(*testing.T, *client.Client) ([]client.CaseSession, error)
	}{
		{"case history of a chat", func(t *testing.T, c *client.Client) ([]client.CaseSession, error) {
			return c.CaseHistory(t.Context(), "c1")
		}},
		{"case history of the live chat", func(t *testing.T, c *client.Client) ([]client.CaseSession, error) {
			return c.LiveCaseHistory(t.Context())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" lists its sessions oldest first", func(t *testing.T) {
			c, _ := stubClient(t, answer{Body: body})
			got, err := tt.call(t, c)
			if err != nil {
				t.Fatalf("case history: %v", err)
			}
			if len(got) != 2 {
				t.Fatalf("got %d sessions, want 2", len(got))
			}
			if got[0].ChatID != "old" || got[0].CreatedTime != "1732400000" || len(got[0].Events) != 1 ||
				got[0].Events[0].Event != client.EventEnded {
				t.Errorf("session 0 = %+v", got[0])
			}
			if got[1].ChatID != "c1" || got[1].CreatedTime != "1732500000" || len(got[1].Events) != 0 {
				t.Errorf("session 1 = %+v", got[1])
			}
		})
	}
}

func TestEventsOfTheWrongTypeBreakTheContract(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"a numeric latitude", `{"events":[{"event":"chat_session_location","latitude":52.1,"longitude":"4"}]}`},
		{"a numeric timestamp", `{"events":[{"event":"chat_session_typing","party_id":"a1","timestamp":1732500000}]}`},
		{"a numeric ewt", `{"events":[{"event":"chat_session_status","state":"queued","ewt":60,"timestamp":"1"}]}`},
		{"a string seq", `{"events":[{"event":"chat_session_ended","seq":"1"}]}`},
		{"events that are not a list", `{"events":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a bad response", func(t *testing.T) {
			c, _ := stubClient(t, answer{Body: tt.body})
			if _, err := c.Poll(t.Context(), "c1"); !errors.Is(err, client.ErrBadResponse) {
				t.Errorf("err = %v, want ErrBadResponse", err)
			}
		})
	}
}
