package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
)

func TestTURNBlocks(t *testing.T) {
	t.Run("an external relay and the embedded server are read", func(t *testing.T) {
		f, err := config.Parse([]byte(`
tenants:
  - host: a
    entries:
      - app_id: external
        turn:
          urls: ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349?transport=tcp"]
          secret: s3cret
          ttl: 2h
      - app_id: embedded
        turn: {embedded: true}
`))
		if err != nil {
			t.Fatal(err)
		}
		ext, emb := f.Tenants[0].Entries[0].TURN, f.Tenants[0].Entries[1].TURN
		if ext == nil || len(ext.URLs) != 2 || ext.Secret != "s3cret" || ext.Lifetime() != 2*time.Hour {
			t.Errorf("external turn = %+v", ext)
		}
		if emb == nil || !emb.Embedded || emb.Lifetime() != chat.DefaultTURNTTL {
			t.Errorf("embedded turn = %+v", emb)
		}
	})
	for _, tc := range []struct{ name, turn, want string }{
		{"urls without a secret", `{urls: ["turn:t.example.com"]}`, "secret missing"},
		{"a secret without urls", `{secret: s}`, "urls missing"},
		{"an empty block", `{}`, "urls missing"},
		{"embedded with urls", `{embedded: true, urls: ["turn:t.example.com"]}`, "embedded excludes"},
		{"embedded with a secret", `{embedded: true, secret: s}`, "embedded excludes"},
		{"a stun URL", `{urls: ["stun:t.example.com"], secret: s}`, "not a turn: or turns: URL"},
		{"a URL without a scheme", `{urls: ["t.example.com:3478"], secret: s}`, "not a turn: or turns: URL"},
		{"a ttl under a minute", `{urls: ["turn:t.example.com"], secret: s, ttl: 30s}`, "ttl"},
		{"a negative ttl", `{urls: ["turn:t.example.com"], secret: s, ttl: -1h}`, "ttl"},
		{"a misspelt key", `{urls: ["turn:t.example.com"], shared_secret: s}`, "unknown field"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := config.Parse([]byte(`tenants: [{host: a, entries: [{app_id: x, turn: ` + tc.turn + `}]}]`))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
