package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzUnpack reads a backup archive (the tar stream, gzipped here) into a
// staging directory, as a restore does with a file an operator was given.
// Whatever the archive holds, nothing is written outside the directory, and
// what is written is the store and upload files under names they may have,
// as plain files; an archive that unpacks has a manifest of this format
// and a store. Seeds are in testdata/fuzz/FuzzUnpack.
func FuzzUnpack(f *testing.F) {
	f.Fuzz(func(t *testing.T, tarStream []byte) {
		if largeEntry(tarStream) {
			return // what is tested is names and types; gigabytes of zeros only take time
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tarStream)
		zw.Close()
		parent := t.TempDir()
		dir := filepath.Join(parent, "stage")
		if err := os.Mkdir(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		m, err := unpack(t.Context(), &gz, dir)
		if outside, _ := os.ReadDir(parent); len(outside) != 1 {
			t.Fatalf("unpack wrote beside its directory: %v", outside)
		}
		haveDB := false
		walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == dir {
				return err
			}
			rel := filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator)))
			switch {
			case d.IsDir() && (rel == FilesDir || strings.HasPrefix(rel, FilesDir+"/") && validFileName(strings.TrimPrefix(rel, FilesDir+"/"))):
			case d.Type().IsRegular() && rel == DBFile:
				haveDB = true
			case d.Type().IsRegular() && strings.HasPrefix(rel, FilesDir+"/") && validFileName(strings.TrimPrefix(rel, FilesDir+"/")):
			default:
				t.Fatalf("unpack wrote %q (%v)", rel, d.Type())
			}
			return nil
		})
		if walkErr != nil {
			t.Fatal(walkErr)
		}
		if err == nil && (m.Format != Format || !haveDB) {
			t.Fatalf("unpack accepted an archive with format %d and store %v", m.Format, haveDB)
		}
	})
}

// largeEntry reports whether a tar stream has an entry of more than a
// megabyte, which a sparse entry can be with next to no data: unpacked,
// its holes are written as zeros.
func largeEntry(tarStream []byte) bool {
	tr := tar.NewReader(bytes.NewReader(tarStream))
	for {
		hdr, err := tr.Next()
		if err != nil {
			return false
		}
		if hdr.Size > 1<<20 {
			return true
		}
	}
}
