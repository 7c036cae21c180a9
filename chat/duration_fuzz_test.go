package chat_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// FuzzDuration reads a duration of the configuration and the admin API
// ("90s", "5m" or a number of seconds). What it accepts is the time
// written, and written out again reads the same. Seeds are in
// testdata/fuzz/FuzzDuration.
func FuzzDuration(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		var d chat.Duration
		if err := json.Unmarshal(text, &d); err != nil {
			return
		}
		var secs float64
		if json.Unmarshal(text, &secs) == nil {
			want := secs * float64(time.Second)
			if math.Abs(want) >= math.MaxInt64 {
				t.Fatalf("%s seconds, more than a Duration holds, read as %v", text, time.Duration(d))
			}
			if diff := math.Abs(float64(d) - want); diff > 1 && diff > math.Abs(want)*1e-9 {
				t.Fatalf("%s seconds read as %v", text, time.Duration(d))
			}
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("%s read as %v, which does not encode: %v", text, time.Duration(d), err)
		}
		var back chat.Duration
		if err := json.Unmarshal(again, &back); err != nil || back != d {
			t.Fatalf("%s read as %v, written as %s, which reads as %v, %v", text, time.Duration(d), again, time.Duration(back), err)
		}
	})
}
