package client

import (
	"github.com/parley-chat/parley/internal/jsonscan"
)

// The answers a client reads most (polls, history, the agent stream's
// events) are read without encoding/json when they are plain: objects of
// the keys below with string values, a number for seq. encoding/json read
// each event twice (to find it, then in Event.UnmarshalJSON), which was
// the larger part of a load generator's CPU. Anything else (data objects,
// another type for a field, a key spelled otherwise, an escape jsonscan
// leaves alone) is decoded with encoding/json as before; FuzzEventsFast
// checks that both ways agree.

// decodeFast reads an {"events":[…]} answer.
func (l *eventList) decodeFast(body []byte) bool {
	d, ok := openObject(body)
	if !ok {
		return false
	}
	var out eventList
	seen := false
	ok = fastObject(d, func(key string) bool {
		if key != "events" {
			return false
		}
		evs, ok := fastEvents(d, body)
		out.Events, seen = evs, true
		return ok
	})
	if !ok || !seen || !end(d) {
		return false
	}
	*l = out
	return true
}

// decodeFast reads a stream message of type "events".
func (m *StreamMessage) decodeFast(data []byte) bool {
	d, ok := openObject(data)
	if !ok {
		return false
	}
	var out StreamMessage
	ok = fastObject(d, func(key string) bool {
		var ok bool
		switch key {
		case "type":
			out.Type, ok = d.Str()
		case "chat_id":
			out.ChatID, ok = d.Str()
		case "events":
			out.Events, ok = fastEvents(d, data)
		}
		return ok
	})
	if !ok || out.Type != StreamEvents || !end(d) {
		return false
	}
	out.Raw = data
	*m = out
	return true
}

// openObject starts reading body, which must be an object.
func openObject(body []byte) (*jsonscan.Scanner, bool) {
	d := jsonscan.New(body)
	d.Space()
	return d, d.Lit(`{`)
}

// fastObject reads the members of an object whose "{" has been read,
// calling member for the value of each key; false if member is, or the
// object is not plain.
func fastObject(d *jsonscan.Scanner, member func(key string) bool) bool {
	d.Space()
	if d.Lit(`}`) {
		return true
	}
	for {
		d.Space()
		key, ok := d.Key()
		if !ok {
			return false
		}
		d.Space()
		if !d.Lit(`:`) {
			return false
		}
		d.Space()
		if !member(key) {
			return false
		}
		d.Space()
		if d.Lit(`}`) {
			return true
		}
		if !d.Lit(`,`) {
			return false
		}
	}
}

// end reports whether only whitespace is left.
func end(d *jsonscan.Scanner) bool {
	d.Space()
	return d.Done()
}

// fastEvents reads an array of events; Raw of each is its bytes in body.
func fastEvents(d *jsonscan.Scanner, body []byte) ([]Event, bool) {
	if !d.Lit(`[`) {
		return nil, false // null, as encoding/json would take it, is left to it
	}
	evs := []Event{}
	d.Space()
	if d.Lit(`]`) {
		return evs, true
	}
	for {
		d.Space()
		start := d.Pos()
		if !d.Lit(`{`) {
			return nil, false
		}
		var ev Event
		if !fastObject(d, func(key string) bool { return ev.field(d, key) }) {
			return nil, false
		}
		ev.Raw = body[start:d.Pos():d.Pos()]
		evs = append(evs, ev)
		d.Space()
		if d.Lit(`]`) {
			return evs, true
		}
		if !d.Lit(`,`) {
			return nil, false
		}
	}
}

// field reads the value of one key of an event. Null leaves a string as it
// was and makes url nil, as encoding/json does. A key Event does not have
// is left to encoding/json, which matches keys regardless of case.
func (e *Event) field(d *jsonscan.Scanner, key string) bool {
	if key == "seq" {
		if d.Lit(`null`) {
			return true
		}
		n, ok := d.Int()
		e.Seq = n
		return ok
	}
	if key == "url" {
		if d.Lit(`null`) {
			e.URL = nil
			return true
		}
		s, ok := d.Str()
		e.URL = &s
		return ok
	}
	if key == "data" {
		return false // raw JSON of any shape: encoding/json keeps it
	}
	p := e.stringField(key)
	if p == nil {
		return false
	}
	if d.Lit(`null`) {
		return true
	}
	s, ok := d.Str()
	*p = s
	return ok
}

// stringField returns the string field that key names exactly, or nil.
func (e *Event) stringField(key string) *string {
	switch key {
	case "event":
		return (*string)(&e.Event)
	case "msg_id":
		return &e.MsgID
	case "party_id":
		return &e.PartyID
	case "msg":
		return &e.Msg
	case "msg_text":
		return &e.MsgText
	case "ref_msg_id":
		return &e.RefMsgID
	case "state":
		return &e.State
	case "ewt":
		return &e.EWT
	case "timestamp":
		return &e.Timestamp
	case "first_name":
		return &e.FirstName
	case "last_name":
		return &e.LastName
	case "display_name":
		return &e.DisplayName
	case "type":
		return &e.PartyType
	case "file_id":
		return &e.FileID
	case "file_name":
		return &e.FileName
	case "file_type":
		return &e.FileType
	case "latitude":
		return &e.Latitude
	case "longitude":
		return &e.Longitude
	case "case_id":
		return &e.CaseID
	case "destination_party_id":
		return &e.DestinationPartyID
	case "channel":
		return &e.Channel
	case "form_name":
		return &e.FormName
	case "form_request_id":
		return &e.FormRequestID
	case "form_timeout":
		return &e.FormTimeout
	}
	return nil
}
