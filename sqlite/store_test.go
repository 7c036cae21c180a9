package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) chat.Store {
		t.Helper()
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
		return st
	})
}
