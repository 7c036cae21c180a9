package agentapi

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chat"
)

// FuzzParseCursors reads the ?cursors= of a stream reconnection. What it
// accepts are chat ids (never empty, free of the separators) with a
// sequence each, which written again read the same. Seeds are in
// testdata/fuzz/FuzzParseCursors.
func FuzzParseCursors(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		cursors, err := parseCursors(v)
		if err != nil {
			if chat.ErrorCode(err) != chat.CodeInvalid || cursors != nil {
				t.Fatalf("parseCursors(%q) = %v, %v; want nothing and an invalid-request error", v, cursors, err)
			}
			return
		}
		pairs := make([]string, 0, len(cursors))
		for _, id := range slices.Sorted(maps.Keys(cursors)) {
			if id == "" || strings.ContainsAny(id, ",:") || cursors[id] < 0 {
				t.Fatalf("parseCursors(%q): cursor %q:%d", v, id, cursors[id])
			}
			pairs = append(pairs, id+":"+strconv.FormatInt(cursors[id], 10))
		}
		again, err := parseCursors(strings.Join(pairs, ","))
		if err != nil || !maps.Equal(again, cursors) {
			t.Fatalf("parseCursors(%q) = %v, but %q reads as %v, %v", v, cursors, strings.Join(pairs, ","), again, err)
		}
	})
}
