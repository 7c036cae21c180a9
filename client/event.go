package client

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// EventType names an event exactly as it travels in the "event" field.
type EventType string

// Event types of §4. The client sends the types of §4.1 and is given those
// of §4.2; a few (message, receipts, typing, file, location, signaling)
// travel both ways.
const (
	EventStatus            EventType = "chat_session_status"
	EventPartyJoined       EventType = "chat_session_party_joined"
	EventPartyLeft         EventType = "chat_session_party_left"
	EventMessage           EventType = "chat_session_message"
	EventDelivered         EventType = "chat_session_message_delivered"
	EventRead              EventType = "chat_session_message_read"
	EventTyping            EventType = "chat_session_typing"
	EventNotTyping         EventType = "chat_session_not_typing"
	EventLocation          EventType = "chat_session_location"
	EventFile              EventType = "chat_session_file"
	EventCaseSet           EventType = "chat_session_case_set"
	EventTimeoutWarning    EventType = "chat_session_timeout_warning"
	EventInactivityTimeout EventType = "chat_session_inactivity_timeout"
	EventSignaling         EventType = "chat_session_signaling"
	EventFormShow          EventType = "chat_session_form_show"
	EventFormData          EventType = "chat_session_form_data"
	EventDisconnect        EventType = "chat_session_disconnect"
	EventEnd               EventType = "chat_session_end"
	EventEnded             EventType = "chat_session_ended"
)

// Event is any event of §4.1 or §4.2 in one flat shape, as both SDKs model
// it. Every field is omitted when empty so that events the client sends stay
// minimal; an event decoded from the server keeps its exact bytes in Raw, so
// a test can check what was on the wire (a "" against a missing key, a null).
//
// Values are kept in their wire types: timestamp, ewt, latitude, longitude
// and form_timeout are strings, and decoding fails with ErrBadResponse when
// the server sends them otherwise.
type Event struct {
	Event EventType `json:"event"`
	// Seq is Parley's per-chat position of a server event (§5).
	Seq int64 `json:"seq,omitempty"`

	MsgID     string `json:"msg_id,omitempty"`
	PartyID   string `json:"party_id,omitempty"`
	Msg       string `json:"msg,omitempty"`
	MsgText   string `json:"msg_text,omitempty"`
	RefMsgID  string `json:"ref_msg_id,omitempty"`
	State     string `json:"state,omitempty"`
	EWT       string `json:"ewt,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`

	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	// PartyType is the "type" of a party_joined event: scenario,
	// external or internal.
	PartyType string `json:"type,omitempty"`

	FileID   string `json:"file_id,omitempty"`
	FileName string `json:"file_name,omitempty"`
	FileType string `json:"file_type,omitempty"`

	Latitude  string `json:"latitude,omitempty"`
	Longitude string `json:"longitude,omitempty"`
	// URL is a pointer because the server may send it as null.
	URL *string `json:"url,omitempty"`

	CaseID string `json:"case_id,omitempty"`

	// Data is the object of a signaling event (see SignalData) or the
	// answers of a form_data event (see FormValues), kept raw because the
	// two differ in shape.
	Data               json.RawMessage `json:"data,omitempty"`
	DestinationPartyID string          `json:"destination_party_id,omitempty"`

	Channel       string `json:"channel,omitempty"`
	FormName      string `json:"form_name,omitempty"`
	FormRequestID string `json:"form_request_id,omitempty"`
	FormTimeout   string `json:"form_timeout,omitempty"`

	// Raw is the event as decoded; it is never sent.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes an event and keeps a copy of its bytes in Raw.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event // the same fields without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*e = Event(p)
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// SignalData is the data object of a chat_session_signaling event: one step
// of setting up a WebRTC call. All values are strings on the wire.
type SignalData struct {
	Type          string `json:"type,omitempty"`
	SDP           string `json:"sdp,omitempty"`
	Candidate     string `json:"candidate,omitempty"`
	SDPMid        string `json:"sdpMid,omitempty"`
	SDPMLineIndex string `json:"sdpMLineIndex,omitempty"`
	OfferVideo    string `json:"offerVideo,omitempty"`
	ReasonCode    string `json:"reason_code,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// SignalData decodes the data of a signaling event.
func (e Event) SignalData() (SignalData, error) {
	var d SignalData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return SignalData{}, fmt.Errorf("decode signaling data: %w", err)
	}
	return d, nil
}

// FormValues decodes the data of a form_data event.
func (e Event) FormValues() (map[string]any, error) {
	var v map[string]any
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return nil, fmt.Errorf("decode form data: %w", err)
	}
	return v, nil
}

// Time is the event's timestamp, whole Unix seconds on the wire.
func (e Event) Time() (time.Time, error) {
	s, err := strconv.ParseInt(e.Timestamp, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("event timestamp %q: %w", e.Timestamp, err)
	}
	return time.Unix(s, 0), nil
}

// LastSeq is the highest seq among events, or 0: what to pass to PollAfter
// to be given everything after them again.
func LastSeq(events []Event) int64 {
	var last int64
	for _, e := range events {
		last = max(last, e.Seq)
	}
	return last
}
