package chat_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/chat"
)

func TestStorableJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"keeps order, numbers and markup, drops whitespace", `{ "b": [1, 2.50, -0], "a": "<&>" }`, `{"b":[1,2.50,-0],"a":"<&>"}`},
		{"keeps duplicate keys", `{"a":1,"a":2}`, `{"a":1,"a":2}`},
		{"writes an unpaired surrogate as U+FFFD", `{"s":"\ud800x"}`, "{\"s\":\"\uFFFDx\"}"},
		{"writes a pair as the character", `["\ud83d\ude00"]`, `["😀"]`},
		{"writes invalid UTF-8 as U+FFFD", "{\"\xff\":1}", "{\"\uFFFD\":1}"},
		{"keeps zeros written any way", `[0e999,-0.0E-9]`, `[0e999,-0.0E-9]`},
		{"keeps the largest float64", `[1.7976931348623157e308,5e-324]`, `[1.7976931348623157e308,5e-324]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chat.StorableJSON([]byte(tc.in))
			if err != nil || string(got) != tc.want {
				t.Errorf("StorableJSON(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, in := range []string{`[1e400]`, `{"n":-1e309}`, `[1e-400]`, "[0." + strings.Repeat("0", 99) + "1]", `{} {}`, `{"a":`, ``} {
		if got, err := chat.StorableJSON([]byte(in)); err == nil {
			t.Errorf("StorableJSON(%.40s) = %s, want an error", in, got)
		}
	}
}
