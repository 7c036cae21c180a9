package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxEventsBody is the default limit of a Send Events body (§4.1).
const MaxEventsBody = 1 << 20

// clientEvent is one event as clients send it (§4.1). Pointers tell a missing
// field from an empty one; flex fields take the several shapes SDKs send.
type clientEvent struct {
	Event       *string          `json:"event"`
	MsgID       *string          `json:"msg_id"`
	Msg         *string          `json:"msg"`
	MsgText     *string          `json:"msg_text"`
	RefMsgID    *string          `json:"ref_msg_id"`
	FileID      *string          `json:"file_id"`
	FileName    *string          `json:"file_name"`
	FileType    *string          `json:"file_type"`
	Latitude    *flexString      `json:"latitude"`
	Longitude   *flexString      `json:"longitude"`
	URL         *string          `json:"url"`
	Destination *string          `json:"destination_party_id"`
	Data        *json.RawMessage `json:"data"`
	FormRequest *flexString      `json:"form_request_id"`
	FormName    *string          `json:"form_name"`
}

// clientSignal is the data of a client's signaling event.
type clientSignal struct {
	Type          *string     `json:"type"`
	SDP           *string     `json:"sdp"`
	Candidate     *string     `json:"candidate"`
	SDPMid        *string     `json:"sdpMid"`
	SDPMLineIndex *flexString `json:"sdpMLineIndex"`
	OfferVideo    *flexString `json:"offerVideo"`
	ReasonCode    *flexString `json:"reason_code"`
	Reason        *string     `json:"reason"`
}

// flexString accepts a JSON string, number or boolean and keeps its text:
// SDKs send coordinates and sdpMLineIndex either way.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		*f = flexString(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errors.New("want a string or a number")
		}
		*f = flexString(n)
	}
	return nil
}

// DecodeClientEvents parses a Send Events body. The body is accepted or
// rejected whole: the first bad event makes a CodeInvalid error naming it.
// Party ids and timestamps sent by the client are ignored; the service stamps
// events with the chat id and the server clock.
//
// The bodies of most events are read without encoding/json (decodeFast).
// The others, if well-formed, are decoded in one pass. A body that fails to decode
// is decoded again event by event, which names the event at fault; so is a
// body with more keys than events, which might name it twice (encoding/json
// would decode the second array into the first one's events, where event
// by event the last one wins). The two ways read every body alike
// (FuzzDecodeOnePass).
func DecodeClientEvents(body []byte) ([]Event, error) {
	if evs, ok, err := decodeFast(body); ok {
		return evs, err
	}
	return decodeOnePass(body)
}

// decodeOnePass is DecodeClientEvents with encoding/json.
func decodeOnePass(body []byte) ([]Event, error) {
	var req struct {
		Events *[]clientEvent `json:"events"`
	}
	if json.Unmarshal(body, &req) != nil || req.Events == nil || topLevelKeys(body) != 1 {
		return decodeEachEvent(body)
	}
	evs := make([]Event, 0, len(*req.Events))
	for i := range *req.Events {
		ev, err := (*req.Events)[i].event()
		if err != nil {
			return nil, Errorf(CodeInvalid, "events[%d]: %v", i, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// topLevelKeys counts the keys of the object that body, valid JSON, holds:
// the colons outside strings and nested values.
func topLevelKeys(body []byte) int {
	depth, keys := 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 1 {
				keys++
			}
		}
	}
	return keys
}

// decodeEachEvent is DecodeClientEvents decoding the events one by one.
func decodeEachEvent(body []byte) ([]Event, error) {
	var req struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, Errorf(CodeInvalid, "invalid JSON body: %s", jsonProblem(err))
	}
	if req.Events == nil {
		return nil, Errorf(CodeInvalid, "events: missing, want an array")
	}
	evs := make([]Event, 0, len(*req.Events))
	for i, raw := range *req.Events {
		ev, err := decodeClientEvent(raw)
		if err != nil {
			return nil, Errorf(CodeInvalid, "events[%d]: %v", i, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func decodeClientEvent(raw json.RawMessage) (Event, error) {
	var c clientEvent
	if err := json.Unmarshal(raw, &c); err != nil {
		return Event{}, errors.New(jsonProblem(err))
	}
	return c.event()
}

// event checks a decoded client event and makes it an Event.
func (c *clientEvent) event() (Event, error) {
	if c.Event == nil {
		return Event{}, errors.New("event: missing")
	}
	ev := Event{Type: Type(*c.Event), MsgID: str(c.MsgID)}
	var err error
	switch ev.Type {
	case TypeMessage:
		err = c.message(&ev)
	case TypeDelivered, TypeRead:
		if ev.RefMsgID = str(c.RefMsgID); ev.RefMsgID == "" {
			err = errors.New("ref_msg_id: missing")
		}
	case TypeTyping, TypeNotTyping:
		// The web script sends the draft as msg; it is a preview for agents.
		ev.Msg = str(c.Msg)
	case TypeFile:
		err = c.file(&ev)
	case TypeLocation:
		err = c.location(&ev)
	case TypeSignaling:
		err = c.signaling(&ev)
	case TypeFormData:
		err = c.formData(&ev)
	case TypeDisconnect, TypeEnd:
	default:
		return Event{}, fmt.Errorf("event: unknown type %q", *c.Event)
	}
	return ev, err
}

func (c *clientEvent) message(ev *Event) error {
	if c.Msg == nil || *c.Msg == "" {
		return errors.New("msg: missing")
	}
	ev.Msg, ev.MsgText = MessageBody(*c.Msg, str(c.MsgText))
	return nil
}

func (c *clientEvent) file(ev *Event) error {
	if ev.FileID = str(c.FileID); ev.FileID == "" {
		return errors.New("file_id: missing")
	}
	ev.FileName = str(c.FileName)
	ev.FileType = NormalizeFileType(str(c.FileType))
	return nil
}

// NormalizeFileType maps a client's file_type (image, attachment or a MIME
// type) to the two values clients are sent.
func NormalizeFileType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if t == "image" || strings.HasPrefix(t, "image/") {
		return "image"
	}
	if t == "" {
		return ""
	}
	return "attachment"
}

func (c *clientEvent) location(ev *Event) error {
	lat, err := coordinate("latitude", c.Latitude, 90)
	if err != nil {
		return err
	}
	lon, err := coordinate("longitude", c.Longitude, 180)
	if err != nil {
		return err
	}
	ev.Latitude, ev.Longitude, ev.URL = lat, lon, str(c.URL)
	return nil
}

func coordinate(name string, v *flexString, limit float64) (string, error) {
	if v == nil || *v == "" {
		return "", fmt.Errorf("%s: missing", name)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(string(*v)), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > limit {
		return "", fmt.Errorf("%s: %q is not a coordinate", name, string(*v))
	}
	return strings.TrimSpace(string(*v)), nil
}

func (c *clientEvent) signaling(ev *Event) error {
	if c.Data == nil {
		return errors.New("data: missing")
	}
	var d clientSignal
	if err := json.Unmarshal(*c.Data, &d); err != nil {
		return fmt.Errorf("data: %s", jsonProblem(err))
	}
	s := Signal{
		Type: str(d.Type), SDP: str(d.SDP), Candidate: str(d.Candidate), SDPMid: str(d.SDPMid),
		SDPMLineIndex: flex(d.SDPMLineIndex), OfferVideo: flex(d.OfferVideo),
		ReasonCode: flex(d.ReasonCode), Reason: str(d.Reason),
	}
	// Android sends ICE candidates without a type.
	if s.Type == "" && s.Candidate != "" {
		s.Type = "ICE_CANDIDATE"
	}
	if !signalTypes[s.Type] {
		return fmt.Errorf("data.type: unknown signaling type %q", s.Type)
	}
	if s.OfferVideo != "" && s.OfferVideo != "true" && s.OfferVideo != "false" {
		return fmt.Errorf("data.offerVideo: want true or false")
	}
	ev.Signal, ev.Destination = s, str(c.Destination)
	return nil
}

func (c *clientEvent) formData(ev *Event) error {
	if c.FormRequest == nil || *c.FormRequest == "" {
		return errors.New("form_request_id: missing")
	}
	ev.FormRequest, ev.FormName = string(*c.FormRequest), str(c.FormName)
	if c.Data == nil {
		return errors.New("data: missing")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(*c.Data, &obj); err != nil || obj == nil {
		return errors.New("data: want an object")
	}
	data, err := StorableJSON(*c.Data)
	if err != nil {
		return fmt.Errorf("data: %v", err)
	}
	ev.FormData = data
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func flex(p *flexString) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// jsonProblem describes a decoding error without echoing Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: wrong type %s", te.Field, te.Value)
		}
		return fmt.Sprintf("wrong type %s, want an object", te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
