package config_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
	"sigs.k8s.io/yaml"
)

// FuzzParse reads a configuration file. A file either is refused with an
// error or reads as a configuration that, written out again (as `parley
// config apply` and the admin API's dry runs compare it), reads the same.
// Seeds are in testdata/fuzz/FuzzParse: the example of docs/, the README's
// keys one by one, and files that must be refused.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse(%q) failed (%v) but returned a configuration", data, err)
			}
			return
		}
		want, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("Parse(%q): the configuration does not encode: %v", data, err)
		}
		written, err := yaml.JSONToYAML(want)
		if err != nil {
			t.Fatalf("Parse(%q): %s does not convert to YAML: %v", data, want, err)
		}
		again, err := config.Parse(written)
		if err != nil {
			t.Fatalf("Parse(%q) = %s, but written out as\n%s\nit is refused: %v", data, want, written, err)
		}
		if got, _ := json.Marshal(again); !bytes.Equal(got, want) {
			t.Fatalf("Parse(%q) = %s, but written out as\n%s\nit reads as %s", data, want, written, got)
		}
		// Opening hours are evaluated at every availability check.
		for _, tn := range cfg.Tenants {
			for _, e := range tn.Entries {
				e.Hours.Open(time.Date(2026, time.March, 2, 9, 30, 0, 0, time.UTC))
			}
		}
	})
}
