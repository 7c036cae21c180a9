package chat

import (
	"unicode/utf8"
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
	d := fastDecoder{b: body}
	d.space()
	if !d.lit(`{`) || !d.space() || !d.lit(`"events"`) || !d.space() || !d.lit(`:`) || !d.space() || !d.lit(`[`) {
		return nil, false, nil
	}
	var cs []clientEvent
	d.space()
	if !d.lit(`]`) {
		for {
			d.space()
			c, ok := d.event()
			if !ok {
				return nil, false, nil
			}
			cs = append(cs, c)
			d.space()
			if d.lit(`]`) {
				break
			}
			if !d.lit(`,`) {
				return nil, false, nil
			}
		}
	}
	d.space()
	if !d.lit(`}`) {
		return nil, false, nil
	}
	d.space()
	if d.i != len(d.b) {
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

type fastDecoder struct {
	b []byte
	i int
}

// space skips JSON whitespace; it always reports true, to chain.
func (d *fastDecoder) space() bool {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return true
		}
	}
	return true
}

// lit takes s if the input goes on with it.
func (d *fastDecoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// event reads one element of the events array: an object of known keys,
// or null (an event without a type, as encoding/json leaves it).
func (d *fastDecoder) event() (clientEvent, bool) {
	var c clientEvent
	if d.lit(`null`) {
		return c, true
	}
	if !d.lit(`{`) {
		return c, false
	}
	d.space()
	if d.lit(`}`) {
		return c, true
	}
	// The values, allocated once per event for the fields to point at.
	vals := new([11]string)
	for {
		d.space()
		key, ok := d.key()
		if !ok {
			return c, false
		}
		d.space()
		if !d.lit(`:`) {
			return c, false
		}
		d.space()
		field, slot := c.field(key)
		switch {
		case field != nil:
			if d.lit(`null`) {
				*field = nil
				break
			}
			s, ok := d.str()
			if !ok {
				return c, false
			}
			vals[slot] = s
			*field = &vals[slot]
		case key == "timestamp" || key == "party_id":
			// Sent by the SDKs, read by no field: skipped, if plain.
			if !d.scalar() {
				return c, false
			}
		default:
			return c, false
		}
		d.space()
		if d.lit(`}`) {
			return c, true
		}
		if !d.lit(`,`) {
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

// key reads an object key without escapes.
func (d *fastDecoder) key() (string, bool) {
	if !d.lit(`"`) {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return string(d.b[start : d.i-1]), true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return "", false
		}
		d.i++
	}
	return "", false
}

// str reads a string value as encoding/json decodes it, but for the
// escapes of UTF-16 surrogates and invalid UTF-8 (replaced by U+FFFD
// there), which it leaves to encoding/json.
func (d *fastDecoder) str() (string, bool) {
	if !d.lit(`"`) {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			raw := d.b[start:d.i]
			d.i++
			if !utf8.Valid(raw) {
				return "", false
			}
			return string(raw), true
		}
		if c == '\\' {
			return d.escaped(start)
		}
		if c < 0x20 {
			return "", false
		}
		d.i++
	}
	return "", false
}

// escaped goes on reading the string that started at start, at its first
// backslash, decoding escapes.
func (d *fastDecoder) escaped(start int) (string, bool) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			return "", false
		}
		switch e := d.b[d.i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(d.b[d.i+2:])
			if !ok || (r >= 0xD800 && r < 0xE000) {
				return "", false // surrogates: left to encoding/json
			}
			out = utf8.AppendRune(out, r)
			d.i += 4
		default:
			return "", false
		}
		d.i += 2
	}
	return "", false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scalar skips a value that is a string, a number, true, false or null.
func (d *fastDecoder) scalar() bool {
	switch {
	case d.i < len(d.b) && d.b[d.i] == '"':
		_, ok := d.str()
		return ok
	case d.lit(`true`), d.lit(`false`), d.lit(`null`):
		return true
	}
	return d.number()
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	d.lit(`-`)
	switch {
	case d.lit(`0`):
	case d.i < len(d.b) && '1' <= d.b[d.i] && d.b[d.i] <= '9':
		digits()
	default:
		return false
	}
	if d.lit(`.`) && digits() == 0 {
		return false
	}
	if d.lit(`e`) || d.lit(`E`) {
		if !d.lit(`+`) {
			d.lit(`-`)
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
