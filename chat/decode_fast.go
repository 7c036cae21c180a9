package chat

import (
	"github.com/parley-chat/parley/internal/jsonscan"
)

// decodeFast reads the Send Events bodies SDKs send most (messages,
// receipts, typing: events of string fields) without encoding/json, whose
// reflection was the larger part of decoding them. It takes only what it
// reads exactly as encoding/json would, and says !ok for anything else: a
// key it does not know or spelled otherwise (encoding/json matches keys
// without regard to case), a field of another type (coordinates, data), a
// string with an escape it does not decode (surrogates), bad JSON. The
// caller then decodes the body with encoding/json, as before;
// FuzzDecodeOnePass checks that both ways give the same events or the
// same error.
func decodeFast(body []byte) (evs []Event, ok bool, err error) {
	d := jsonscan.New(body)
	d.Space()
	if !d.Lit(`{`) || !d.Space() || !d.Lit(`"events"`) || !d.Space() || !d.Lit(`:`) || !d.Space() || !d.Lit(`[`) {
		return nil, false, nil
	}
	var cs []clientEvent
	d.Space()
	if !d.Lit(`]`) {
		for {
			d.Space()
			c, ok := fastEvent(d)
			if !ok {
				return nil, false, nil
			}
			cs = append(cs, c)
			d.Space()
			if d.Lit(`]`) {
				break
			}
			if !d.Lit(`,`) {
				return nil, false, nil
			}
		}
	}
	d.Space()
	if !d.Lit(`}`) {
		return nil, false, nil
	}
	d.Space()
	if !d.Done() {
		return nil, false, nil
	}
	evs = make([]Event, 0, len(cs))
	for i := range cs {
		ev, err := cs[i].event()
		if err != nil {
			return nil, true, Errorf(CodeInvalid, "events[%d]: %v", i, err)
		}
		evs = append(evs, ev)
	}
	return evs, true, nil
}

// event reads one element of the events array: an object of known keys,
// or null (an event without a type, as encoding/json leaves it).
func fastEvent(d *jsonscan.Scanner) (clientEvent, bool) {
	var c clientEvent
	if d.Lit(`null`) {
		return c, true
	}
	if !d.Lit(`{`) {
		return c, false
	}
	d.Space()
	if d.Lit(`}`) {
		return c, true
	}
	// The values, allocated once per event for the fields to point at.
	vals := new([11]string)
	for {
		d.Space()
		key, ok := d.Key()
		if !ok {
			return c, false
		}
		d.Space()
		if !d.Lit(`:`) {
			return c, false
		}
		d.Space()
		field, slot := c.field(key)
		switch {
		case field != nil:
			if d.Lit(`null`) {
				*field = nil
				break
			}
			s, ok := d.Str()
			if !ok {
				return c, false
			}
			vals[slot] = s
			*field = &vals[slot]
		case key == "timestamp" || key == "party_id":
			// Sent by the SDKs, read by no field: skipped, if plain.
			if !d.Scalar() {
				return c, false
			}
		default:
			return c, false
		}
		d.Space()
		if d.Lit(`}`) {
			return c, true
		}
		if !d.Lit(`,`) {
			return c, false
		}
	}
}

// field returns the string field of c that key names exactly, and a slot
// of the event's values for it.
func (c *clientEvent) field(key string) (**string, int) {
	switch key {
	case "event":
		return &c.Event, 0
	case "msg_id":
		return &c.MsgID, 1
	case "msg":
		return &c.Msg, 2
	case "msg_text":
		return &c.MsgText, 3
	case "ref_msg_id":
		return &c.RefMsgID, 4
	case "file_id":
		return &c.FileID, 5
	case "file_name":
		return &c.FileName, 6
	case "file_type":
		return &c.FileType, 7
	case "url":
		return &c.URL, 8
	case "destination_party_id":
		return &c.Destination, 9
	case "form_name":
		return &c.FormName, 10
	}
	return nil, 0
}
