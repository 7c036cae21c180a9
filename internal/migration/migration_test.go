package migration_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parley-chat/parley/internal/migration"
)

func TestMigrationsLoadInNumericOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_ten.sql": {Data: []byte("ten")},
		"m/0002_two.sql": {Data: []byte("two")},
		"m/README":       {Data: []byte("not a migration")},
	}
	ms, err := migration.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "0002_two.sql" || ms[1].SQL != "ten" || migration.Latest(ms) != 10 {
		t.Fatalf("Load = %+v", ms)
	}
}

func TestBadMigrationSetsAreRefused(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"a name without a number": {"m/init.sql": {}},
		"two with one number":     {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"none at all":             {},
	} {
		if _, err := migration.Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load succeeded", name)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: empty error", name)
		}
	}
}
