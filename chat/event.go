package chat

import (
	"encoding/json"
	"time"
)

// Type names an event of a chat's log, exactly as it travels on the wire.
type Type string

// Event types of the spec (§4). Client-only types are stored for the agent
// side but never sent to a customer (§4.3).
const (
	TypeStatus            Type = "chat_session_status"
	TypePartyJoined       Type = "chat_session_party_joined"
	TypePartyLeft         Type = "chat_session_party_left"
	TypeMessage           Type = "chat_session_message"
	TypeDelivered         Type = "chat_session_message_delivered"
	TypeRead              Type = "chat_session_message_read"
	TypeTyping            Type = "chat_session_typing"
	TypeNotTyping         Type = "chat_session_not_typing"
	TypeLocation          Type = "chat_session_location"
	TypeFile              Type = "chat_session_file"
	TypeCaseSet           Type = "chat_session_case_set"
	TypeTimeoutWarning    Type = "chat_session_timeout_warning"
	TypeInactivityTimeout Type = "chat_session_inactivity_timeout"
	TypeSignaling         Type = "chat_session_signaling"
	TypeFormShow          Type = "chat_session_form_show"
	TypeFormData          Type = "chat_session_form_data"
	TypeDisconnect        Type = "chat_session_disconnect"
	TypeEnd               Type = "chat_session_end"
	TypeEnded             Type = "chat_session_ended"
)

// customerVisible lists the types of §4.2: the only ones a customer's client
// may ever be given, because the Android SDK crashes on any other.
var customerVisible = map[Type]bool{
	TypeStatus: true, TypePartyJoined: true, TypePartyLeft: true, TypeMessage: true,
	TypeDelivered: true, TypeRead: true, TypeTyping: true, TypeNotTyping: true,
	TypeLocation: true, TypeFile: true, TypeCaseSet: true, TypeTimeoutWarning: true,
	TypeInactivityTimeout: true, TypeSignaling: true, TypeFormShow: true, TypeEnded: true,
}

// CustomerVisible reports whether events of type t may be sent to a customer.
func (t Type) CustomerVisible() bool { return customerVisible[t] }

// Deduplicated reports whether events of type t are made idempotent by their
// msg_id (§5): the kinds a client may resend after a lost answer.
func (t Type) Deduplicated() bool {
	switch t {
	case TypeMessage, TypeFile, TypeLocation, TypeSignaling:
		return true
	}
	return false
}

// Chat session states as the wire names them (chat_session_status.state).
const (
	StateQueued     = "queued"
	StateConnecting = "connecting"
	StateConnected  = "connected"
	StateIVR        = "ivr"
	StateFailed     = "failed"
	StateCompleted  = "completed"
)

// Party types of chat_session_party_joined.
const (
	PartyScenario = "scenario"
	PartyExternal = "external"
	PartyInternal = "internal"
)

// Event is one entry of a chat's log. Common fields are columns of the store;
// Payload holds what only some types carry. Seq is assigned by the store when
// the event is appended and is the order every reader sees.
type Event struct {
	ChatID  string
	Seq     int64
	Type    Type
	PartyID string // the chat id for the customer's own events
	MsgID   string // verbatim from the sender; "" when the type has none
	Time    time.Time
	Payload
}

// Payload holds the type-specific fields of an event. It is stored as JSON, so
// its field names are a storage format: rename with a migration only.
type Payload struct {
	Msg         string `json:"msg,omitempty"`
	MsgText     string `json:"msg_text,omitempty"`
	RefMsgID    string `json:"ref_msg_id,omitempty"`
	State       string `json:"state,omitempty"`
	EWT         int    `json:"ewt,omitempty"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	PartyType   string `json:"party_type,omitempty"`
	PhotoID     string `json:"photo_id,omitempty"` // file id of a joining party's picture
	AgentID     string `json:"agent_id,omitempty"` // the agent behind an internal party
	FileID      string `json:"file_id,omitempty"`
	FileName    string `json:"file_name,omitempty"`
	FileType    string `json:"file_type,omitempty"`
	Latitude    string `json:"latitude,omitempty"`
	Longitude   string `json:"longitude,omitempty"`
	URL         string `json:"url,omitempty"`
	CaseID      string `json:"case_id,omitempty"`
	Destination string `json:"destination_party_id,omitempty"`
	Signal      Signal `json:"signal,omitzero"`
	Channel     string `json:"channel,omitempty"`
	FormName    string `json:"form_name,omitempty"`
	FormRequest string `json:"form_request_id,omitempty"`
	FormTimeout int    `json:"form_timeout,omitempty"`
	// FormData is the customer's answer to a form, kept verbatim.
	FormData json.RawMessage `json:"form_data,omitempty"`
}

// Signal is the data of a chat_session_signaling event: one step of setting
// up a WebRTC call between the customer and an agent.
type Signal struct {
	Type          string `json:"type,omitempty"`
	SDP           string `json:"sdp,omitempty"`
	Candidate     string `json:"candidate,omitempty"`
	SDPMid        string `json:"sdpMid,omitempty"`
	SDPMLineIndex string `json:"sdpMLineIndex,omitempty"`
	OfferVideo    string `json:"offerVideo,omitempty"`
	ReasonCode    string `json:"reason_code,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Signaling types a client may see (§4.2); Android 2.1.0 crashes on others.
var signalTypes = map[string]bool{
	"REQUEST_CALL": true, "OFFER_CALL": true, "ANSWER_CALL": true,
	"ICE_CANDIDATE": true, "END_CALL": true, "CALL_REJECTED": true,
}

// DedupKey is what makes e idempotent (§5): its sender's party and its
// msg_id, or "" when e is always stored. Keys are per sender because ids are
// only unique per sender: the web script numbers its messages "1", "3"…, and
// an agent's id must never swallow a customer's message. Android sends the
// string "null" when it has no id; treating it as one would drop every
// message after the first.
func (e *Event) DedupKey() string {
	if !e.Type.Deduplicated() || e.MsgID == "" || e.MsgID == "null" {
		return ""
	}
	return e.PartyID + "\x00" + e.MsgID
}

// Own reports whether the customer of the chat sent e.
func (e *Event) Own() bool { return e.PartyID == e.ChatID }
