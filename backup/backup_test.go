package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/backup"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/sqlite"
)

// newDataDir makes a data directory with a store holding one tenant and
// two uploaded files (and an upload under way, which is not backed up).
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, backup.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutTenant(t.Context(), chat.Tenant{Host: "acme.example", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"ab/abcdef":       "first file",
		"Zq/Zq_-9":        "second file",
		"Zq/Zq_-8.part":   "half an upload",
		"xy/xyz-unlisted": "",
	} {
		p := filepath.Join(dir, backup.FilesDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRoundTrip(t *testing.T) {
	ctx := t.Context()
	src := newDataDir(t)
	var archive bytes.Buffer
	m, err := backup.Create(ctx, src, t.TempDir(), "9.9.9", &archive)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	latest, _ := sqlite.LatestSchema()
	if m.Format != backup.Format || m.Version != "9.9.9" || m.Schema != latest || m.Files != 3 || m.Bytes != int64(len("first file")+len("second file")) {
		t.Errorf("manifest = %+v", m)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	got, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), dst, false)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got != m {
		t.Errorf("restored manifest = %+v, want %+v", got, m)
	}
	for name, want := range map[string]string{"ab/abcdef": "first file", "Zq/Zq_-9": "second file", "xy/xyz-unlisted": ""} {
		body, err := os.ReadFile(filepath.Join(dst, backup.FilesDir, filepath.FromSlash(name)))
		if err != nil || string(body) != want {
			t.Errorf("restored %s = %q, %v; want %q", name, body, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, backup.FilesDir, "Zq", "Zq_-8.part")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an upload under way was restored: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dst, backup.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tn, err := st.Tenant(ctx, "acme.example"); err != nil || tn.Name != "Acme" {
		t.Errorf("restored tenant = %+v, %v", tn, err)
	}
	entries, _ := os.ReadDir(dst)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".restore-") {
			t.Errorf("the staging directory %s was left behind", e.Name())
		}
	}
}

func TestRestoreRefusesADirectoryWithAStore(t *testing.T) {
	ctx := t.Context()
	var archive bytes.Buffer
	if _, err := backup.Create(ctx, newDataDir(t), t.TempDir(), "dev", &archive); err != nil {
		t.Fatal(err)
	}
	dst := newDataDir(t)
	os.WriteFile(filepath.Join(dst, backup.FilesDir, "ab", "only-here"), []byte("x"), 0o640)
	if _, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), dst, false); !errors.Is(err, backup.ErrNotEmpty) {
		t.Fatalf("Restore over a store = %v, want ErrNotEmpty", err)
	}
	if _, err := os.Stat(filepath.Join(dst, backup.FilesDir, "ab", "only-here")); err != nil {
		t.Errorf("a refused restore changed the files: %v", err)
	}
	if _, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), dst, true); err != nil {
		t.Fatalf("Restore --force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, backup.FilesDir, "ab", "only-here")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a forced restore kept a file the backup does not have: %v", err)
	}
}

func TestCreateRefusesADirectoryWithoutAStore(t *testing.T) {
	var archive bytes.Buffer
	if _, err := backup.Create(t.Context(), t.TempDir(), t.TempDir(), "dev", &archive); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Create without a store = %v, want an error that points to pg_dump", err)
	}
}

// archive builds a .tar.gz of the given entries.
func archive(t *testing.T, entries ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "data"
			if h.Name == backup.ManifestFile {
				body = `{"format":1}`
			}
			h.Size = int64(len(body))
		}
		h.Mode, h.ModTime = 0o640, time.Now()
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestRestoreRejectsForeignArchives(t *testing.T) {
	manifest := tar.Header{Typeflag: tar.TypeReg, Name: backup.ManifestFile}
	db := tar.Header{Typeflag: tar.TypeReg, Name: backup.DBFile}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"not gzip", []byte("hello")},
		{"no manifest", archive(t, db)},
		{"no store", archive(t, manifest)},
		{"a path out of the directory", archive(t, manifest, db, tar.Header{Typeflag: tar.TypeReg, Name: "files/../../evil"})},
		{"an absolute path", archive(t, manifest, db, tar.Header{Typeflag: tar.TypeReg, Name: "/etc/evil"})},
		{"a symlink", archive(t, manifest, db, tar.Header{Typeflag: tar.TypeSymlink, Name: "files/ab/link", Linkname: "/etc/passwd"})},
		{"a stray file", archive(t, manifest, db, tar.Header{Typeflag: tar.TypeReg, Name: "config.yaml"})},
		{"a store that is not SQLite", archive(t, manifest, db)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := t.TempDir()
			if _, err := backup.Restore(t.Context(), bytes.NewReader(tc.data), dst, false); err == nil {
				t.Fatal("Restore succeeded")
			}
			if entries, _ := os.ReadDir(dst); len(entries) != 0 {
				t.Errorf("a failed restore left %v in the data directory", entries)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "evil")); err == nil {
				t.Error("an entry escaped the data directory")
			}
		})
	}
}
