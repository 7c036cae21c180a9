package chat

import "testing"

func TestNormalizeTenantGivesAKeyThatNormalizesToItself(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"demo.parley.local", "demo.parley.local"},
		{"  HTTPS://Demo.Parley.Local/ ", "demo.parley.local"},
		{"http://demo.parley.local//", "demo.parley.local"},
		{"00000A /", "00000a"},
		{"http://https://demo.parley.local", "demo.parley.local"},
		{"https:// demo.parley.local / /", "demo.parley.local"},
		{"", ""},
		{" / ", ""},
	} {
		got := NormalizeTenant(tc.in)
		if got != tc.want {
			t.Errorf("NormalizeTenant(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := NormalizeTenant(got); again != got {
			t.Errorf("NormalizeTenant(%q) = %q, normalized again %q", tc.in, got, again)
		}
	}
}
