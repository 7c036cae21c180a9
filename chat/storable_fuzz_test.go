package chat_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/chat"
)

// FuzzStorableJSON re-encodes JSON as it is kept for clients. What comes
// out is valid UTF-8 JSON with the value that went in, holds no surrogate
// escape and no number a float64 cannot hold (what PostgreSQL's jsonb
// refuses), and comes out unchanged when re-encoded. Seeds are in
// testdata/fuzz/FuzzStorableJSON.
func FuzzStorableJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := chat.StorableJSON(raw)
		if err != nil {
			if out != nil {
				t.Fatalf("StorableJSON(%q) failed (%v) but returned %q", raw, err, out)
			}
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("StorableJSON(%q) = %q: accepted what is not JSON", raw, out)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("StorableJSON(%q) = %q: not valid UTF-8 JSON", raw, out)
		}
		in, err1 := decodeNumbers(raw)
		back, err2 := decodeNumbers(out)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(in, back) {
			t.Fatalf("StorableJSON(%q) = %q: the value changed (%v, %v)", raw, out, err1, err2)
		}
		if esc := surrogateEscape(out); esc != "" {
			t.Fatalf("StorableJSON(%q) = %q: holds the escape %s", raw, out, esc)
		}
		if n := badNumber(back); n != "" {
			t.Fatalf("StorableJSON(%q) = %q: holds the number %s, which no float64 holds", raw, out, n)
		}
		if again, err := chat.StorableJSON(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("StorableJSON(%q) = %q, which re-encodes as %q, %v", raw, out, again, err)
		}
	})
}

// decodeNumbers decodes a JSON value keeping numbers as written.
func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// surrogateEscape returns the first \uD800-\uDFFF escape of a JSON text.
func surrogateEscape(text []byte) string {
	for i := 0; i < len(text)-1; i++ {
		if text[i] != '\\' {
			continue
		}
		if text[i+1] == 'u' && i+6 <= len(text) {
			if n, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 16); err == nil && n >= 0xd800 && n <= 0xdfff {
				return string(text[i : i+6])
			}
		}
		i++ // the escaped character
	}
	return ""
}

// badNumber returns a number of v that a float64 cannot hold.
func badNumber(v any) string {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || (f == 0 && !isZero(string(v))) {
			return string(v)
		}
	case []any:
		for _, e := range v {
			if n := badNumber(e); n != "" {
				return n
			}
		}
	case map[string]any:
		for _, e := range v {
			if n := badNumber(e); n != "" {
				return n
			}
		}
	}
	return ""
}

// isZero reports whether a JSON number's digits are all zeros.
func isZero(n string) bool {
	for _, c := range n {
		if c == 'e' || c == 'E' {
			return true
		}
		if c >= '1' && c <= '9' {
			return false
		}
	}
	return true
}
