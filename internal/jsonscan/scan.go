// Package jsonscan reads, byte by byte, the plain JSON that Parley's hot
// paths decode most (objects of known keys with string values) exactly as
// encoding/json would read it, and says so when it meets anything else: a
// string with an escape it does not decode (UTF-16 surrogates) or invalid
// UTF-8, which encoding/json replaces, a key with an escape. The callers
// then decode the input with encoding/json; fuzz targets beside each
// caller check that both ways agree (chat.FuzzDecodeOnePass,
// client.FuzzEventsFast).
package jsonscan

import "unicode/utf8"

// Scanner reads JSON from b, at i.
type Scanner struct {
	b []byte
	i int
}

// New returns a Scanner of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Done reports whether the whole input has been read.
func (d *Scanner) Done() bool { return d.i == len(d.b) }

// Pos is the offset of the next byte to read.
func (d *Scanner) Pos() int { return d.i }

// Space skips JSON whitespace; it always reports true, to chain.
func (d *Scanner) Space() bool {
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

// Lit takes s if the input goes on with it.
func (d *Scanner) Lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// Key reads an object key without escapes.
func (d *Scanner) Key() (string, bool) {
	if !d.Lit(`"`) {
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

// Str reads a string value as encoding/json decodes it, but for the
// escapes of UTF-16 surrogates and invalid UTF-8 (replaced by U+FFFD
// there), which it leaves to encoding/json.
func (d *Scanner) Str() (string, bool) {
	if !d.Lit(`"`) {
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
func (d *Scanner) escaped(start int) (string, bool) {
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

// Scalar skips a value that is a string, a number, true, false or null.
func (d *Scanner) Scalar() bool {
	switch {
	case d.i < len(d.b) && d.b[d.i] == '"':
		_, ok := d.Str()
		return ok
	case d.Lit(`true`), d.Lit(`false`), d.Lit(`null`):
		return true
	}
	return d.number()
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *Scanner) number() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	d.Lit(`-`)
	switch {
	case d.Lit(`0`):
	case d.i < len(d.b) && '1' <= d.b[d.i] && d.b[d.i] <= '9':
		digits()
	default:
		return false
	}
	if d.Lit(`.`) && digits() == 0 {
		return false
	}
	if d.Lit(`e`) || d.Lit(`E`) {
		if !d.Lit(`+`) {
			d.Lit(`-`)
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// Int reads an integer as encoding/json decodes one into an int64: a
// number without fraction or exponent that fits. Anything else, which
// encoding/json refuses for an int64, is left to it.
func (d *Scanner) Int() (int64, bool) {
	start := d.i
	d.Lit(`-`)
	digits := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 18 || (n > 1 && d.b[digits] == '0') {
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	var v int64
	for _, c := range d.b[digits:d.i] {
		v = v*10 + int64(c-'0')
	}
	if digits > start {
		v = -v
	}
	return v, true
}
