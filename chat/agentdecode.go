package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// agentTypes are the events an agent may send; the contact center's own
// lifecycle events (joins, status, end) are made by the service.
var agentTypes = map[Type]bool{
	TypeMessage: true, TypeDelivered: true, TypeRead: true, TypeTyping: true,
	TypeNotTyping: true, TypeFile: true, TypeLocation: true, TypeSignaling: true,
	TypeFormShow: true,
}

// DecodeAgentEvents parses the events of an agent's send, whole or not at
// all like a customer's. Signaling and forms are refused on entries where a
// customer could not be given them (§4.3).
//
// The common bodies (messages, receipts, typing) are read without
// encoding/json, as a customer's are (decodeFast); anything it does not
// take whole, or takes with an error or a type an agent may not send here,
// is decoded again below, which gives the error. FuzzAgentDecodeFast checks
// that both ways read every body alike.
func DecodeAgentEvents(body []byte, e *Entry) ([]Event, error) {
	if evs, ok, err := decodeFast(body); ok && err == nil && agentMay(evs, e) {
		return evs, nil
	}
	return decodeAgentSlow(body, e)
}

// agentMay reports whether an agent may send all of evs on the entry.
func agentMay(evs []Event, e *Entry) bool {
	for i := range evs {
		t := evs[i].Type
		if !agentTypes[t] || (t == TypeSignaling && !e.Calls) || (t == TypeFormShow && !e.Forms) {
			return false
		}
	}
	return true
}

// decodeAgentSlow is DecodeAgentEvents with encoding/json, event by event.
func decodeAgentSlow(body []byte, e *Entry) ([]Event, error) {
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
		ev, err := decodeAgentEvent(raw, e)
		if err != nil {
			return nil, Errorf(CodeInvalid, "events[%d]: %v", i, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func decodeAgentEvent(raw json.RawMessage, e *Entry) (Event, error) {
	var head struct {
		Event Type `json:"event"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Event{}, errors.New(jsonProblem(err))
	}
	switch {
	case !agentTypes[head.Event]:
		return Event{}, fmt.Errorf("event: %q cannot be sent by an agent", head.Event)
	case head.Event == TypeSignaling && !e.Calls:
		return Event{}, errors.New("calls are not enabled on this entry")
	case head.Event == TypeFormShow && !e.Forms:
		return Event{}, errors.New("forms are not enabled on this entry")
	case head.Event == TypeFormShow:
		return decodeFormShow(raw)
	}
	return decodeClientEvent(raw)
}

func decodeFormShow(raw json.RawMessage) (Event, error) {
	var f struct {
		FormName    string      `json:"form_name"`
		FormRequest string      `json:"form_request_id"`
		FormTimeout *flexString `json:"form_timeout"`
		Channel     string      `json:"channel"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return Event{}, errors.New(jsonProblem(err))
	}
	if f.FormName == "" {
		return Event{}, errors.New("form_name: missing")
	}
	ev := Event{Type: TypeFormShow, Payload: Payload{FormName: f.FormName, FormRequest: f.FormRequest, Channel: f.Channel}}
	if ev.FormRequest == "" {
		ev.FormRequest = strconv.FormatInt(int64(randomUint31()), 10)
	}
	if ev.Channel == "" {
		ev.Channel = "chat"
	}
	if f.FormTimeout != nil {
		n, err := strconv.Atoi(string(*f.FormTimeout))
		if err != nil || n < 0 {
			return Event{}, errors.New("form_timeout: want seconds")
		}
		ev.FormTimeout = n
	}
	return ev, nil
}
