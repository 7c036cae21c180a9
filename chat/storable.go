package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// StorableJSON re-encodes a JSON value a client sent and Parley keeps as it
// is (Request Chat's parameters, a form's answers, an entry's widgets), so
// that every store holds it and gives back the value that was read:
//
//   - invalid UTF-8 and unpaired surrogate escapes ("\ud800") in strings,
//     which encoding/json reads as U+FFFD and PostgreSQL's jsonb refuses,
//     are written as U+FFFD;
//   - a number stays as written, but one no float64 holds (1e400, 1e-400)
//     is refused: jsonb's numeric overflows on the largest and smallest of
//     them, and clients read numbers as float64s anyway.
//
// Keys keep their order, whitespace goes.
func StorableJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	type level struct {
		object bool
		n      int // keys and values written so far
	}
	var open []level
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			open = open[:len(open)-1]
			out.WriteByte(byte(d))
			continue
		}
		if len(open) == 0 && out.Len() > 0 {
			return nil, errors.New("more than one JSON value")
		}
		if len(open) > 0 {
			top := &open[len(open)-1]
			switch {
			case top.object && top.n%2 == 1:
				out.WriteByte(':')
			case top.n > 0:
				out.WriteByte(',')
			}
			top.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			open = append(open, level{object: v == '{'})
		case string:
			writeString(&out, v)
		case json.Number:
			if !storableNumber(v) {
				return nil, fmt.Errorf("number %.24s is out of range", v)
			}
			out.WriteString(string(v))
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
	}
	if out.Len() == 0 || len(open) > 0 {
		return nil, errors.New("no JSON value")
	}
	return out.Bytes(), nil
}

// writeString writes s as a JSON string, leaving <, > and & as they are.
func writeString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // cannot fail for a string
	out.Truncate(out.Len() - 1)
}

// storableNumber reports whether a float64 holds n (zero included): written
// in at most 100 characters, neither overflowing nor vanishing to zero.
func storableNumber(n json.Number) bool {
	if len(n) > 100 {
		return false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return false
	}
	if f != 0 {
		return true
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(string(n)), "e")
	return strings.Trim(mantissa, "-0.") == ""
}
