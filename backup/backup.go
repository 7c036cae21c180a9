// Package backup copies the data directory of a node with the embedded
// store into one .tar.gz file and back: the SQLite store as a consistent
// snapshot taken while the node runs, and the uploaded files.
//
// An archive holds, in order, parley-backup.json (what it is), parley.db
// and files/…; nothing else is read from one. The store is copied first
// and the files after, so that every file the copied store names is in the
// archive (files are written before the store names them, and never
// changed after).
//
// A PostgreSQL store is backed up with PostgreSQL's own tools
// (docs/operations.md); this package refuses a data directory without a
// parley.db.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley/sqlite"
)

// Names in a data directory and in an archive.
const (
	DBFile       = "parley.db"
	FilesDir     = "files"
	ManifestFile = "parley-backup.json"
	// demoPending marks a data directory whose demo is not seeded yet
	// (server.demoPending); a restored store is never seeded again.
	demoPending = ".demo-pending"
)

// Format is the archive format this package writes and reads.
const Format = 1

// Manifest describes an archive.
type Manifest struct {
	Format  int       `json:"format"`
	Version string    `json:"parley_version"` // of the binary that made it
	Created time.Time `json:"created"`
	Schema  int       `json:"schema_version"` // of the copied store
	Files   int       `json:"files"`          // uploaded files in the archive
	Bytes   int64     `json:"file_bytes"`     // their size
}

// Create writes a backup of the data directory dir to w. tmp is a
// directory for the store's snapshot while the archive is written (on the
// same disk as the output is best; never the node's data disk when space
// there is short). version names the binary making it.
func Create(ctx context.Context, dir, tmp, version string, w io.Writer) (Manifest, error) {
	db := filepath.Join(dir, DBFile)
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("backup: %s has no %s: nothing to back up (a PostgreSQL store is backed up with pg_dump)", dir, DBFile)
	}
	snapDir, err := os.MkdirTemp(tmp, "parley-backup-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(snapDir)
	snap := filepath.Join(snapDir, DBFile)
	m := Manifest{Format: Format, Version: version, Created: time.Now().UTC().Truncate(time.Second)}
	if m.Schema, err = sqlite.Snapshot(ctx, db, snap); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	files, err := listFiles(filepath.Join(dir, FilesDir))
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	for _, f := range files {
		m.Files++
		m.Bytes += f.size
	}

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	manifest, _ := json.MarshalIndent(m, "", "  ")
	if err := writeEntry(tw, ManifestFile, m.Created, int64(len(manifest)), strings.NewReader(string(manifest))); err != nil {
		return Manifest{}, err
	}
	if err := addFile(tw, DBFile, snap); err != nil {
		return Manifest{}, err
	}
	root, err := os.OpenRoot(filepath.Join(dir, FilesDir))
	if err != nil && len(files) > 0 {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if root != nil {
		defer root.Close()
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		if err := addRootFile(tw, root, f.name); err != nil {
			return Manifest{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// fileInfo is an uploaded file: its slash-separated name under files/.
type fileInfo struct {
	name string
	size int64
}

// listFiles lists the complete uploads under dir: regular files, not the
// .part files of uploads under way.
func listFiles(dir string) ([]fileInfo, error) {
	var out []fileInfo
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no files directory yet, or a shard removed meanwhile
		}
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ".part") {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, fileInfo{name: filepath.ToSlash(rel), size: info.Size()})
		return nil
	})
	return out, err
}

func addFile(tw *tar.Writer, name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return writeEntry(tw, name, st.ModTime(), st.Size(), f)
}

// addRootFile adds files/<name>; a file deleted since it was listed is
// left out.
func addRootFile(tw *tar.Writer, root *os.Root, name string) error {
	f, err := root.Open(filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return writeEntry(tw, FilesDir+"/"+name, st.ModTime(), st.Size(), f)
}

func writeEntry(tw *tar.Writer, name string, mod time.Time, size int64, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o640, Size: size, ModTime: mod, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	// The size was taken when the file was opened: uploads never change
	// once in place, and the store's snapshot is ours alone.
	if _, err := io.CopyN(tw, r, size); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

// ErrNotEmpty is the error of a restore into a data directory that has a
// store already.
var ErrNotEmpty = errors.New("the data directory has a store already")

// Restore unpacks the archive r into the data directory dir, which must
// have no store (nor a node running on it). With force, a store and files
// already there are replaced. The archive is unpacked beside them first
// and checked, so that a broken archive changes nothing.
func Restore(ctx context.Context, r io.Reader, dir string, force bool) (Manifest, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	db := filepath.Join(dir, DBFile)
	if _, err := os.Stat(db); err == nil && !force {
		return Manifest{}, fmt.Errorf("restore: %s: %w (stop the node, and give --force to replace it)", db, ErrNotEmpty)
	}
	stage, err := os.MkdirTemp(dir, ".restore-")
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	m, err := unpack(ctx, r, stage)
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	if _, err := sqlite.Check(ctx, filepath.Join(stage, DBFile)); err != nil {
		return Manifest{}, fmt.Errorf("restore: the archive's store: %w", err)
	}
	// Replace what is there: the store with its WAL files, the files, and
	// the first start's marker, which would seed the demo into the store.
	for _, name := range []string{DBFile + "-wal", DBFile + "-shm", DBFile, demoPending} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, FilesDir)); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(stage, FilesDir), 0o750); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	// The files first: a store in place without them would look restored.
	if err := os.Rename(filepath.Join(stage, FilesDir), filepath.Join(dir, FilesDir)); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(filepath.Join(stage, DBFile), db); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	return m, syncDir(dir)
}

// unpack reads the archive into dir: the manifest, the store and the
// files, each checked to be a plain file under a name it may have.
func unpack(ctx context.Context, r io.Reader, dir string) (Manifest, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return Manifest{}, fmt.Errorf("not a backup (gzip): %w", err)
	}
	defer gz.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Manifest{}, err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	var m Manifest
	var haveManifest, haveDB bool
	for {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("not a backup (tar): %w", err)
		}
		name := hdr.Name
		switch {
		case hdr.Typeflag == tar.TypeDir:
			continue
		case hdr.Typeflag != tar.TypeReg:
			return Manifest{}, fmt.Errorf("archive entry %q is not a plain file", name)
		case name == ManifestFile:
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
				return Manifest{}, fmt.Errorf("archive manifest: %w", err)
			}
			if m.Format != Format {
				return Manifest{}, fmt.Errorf("archive format %d, this binary reads %d", m.Format, Format)
			}
			haveManifest = true
			continue
		case !haveManifest:
			return Manifest{}, fmt.Errorf("not a Parley backup: %s does not come first", ManifestFile)
		case name == DBFile:
			haveDB = true
		case strings.HasPrefix(name, FilesDir+"/") && validFileName(strings.TrimPrefix(name, FilesDir+"/")):
			if err := root.MkdirAll(path.Dir(name), 0o750); err != nil {
				return Manifest{}, err
			}
		default:
			return Manifest{}, fmt.Errorf("archive entry %q is not part of a backup", name)
		}
		if err := writeRootFile(root, name, tr); err != nil {
			return Manifest{}, err
		}
	}
	if !haveManifest || !haveDB {
		return Manifest{}, fmt.Errorf("not a Parley backup: no %s or no %s", ManifestFile, DBFile)
	}
	return m, nil
}

// validFileName accepts the names uploads have under files/: a clean
// relative path of plain components.
func validFileName(name string) bool {
	if name == "" || path.Clean(name) != name || path.IsAbs(name) {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

func writeRootFile(root *os.Root, name string, r io.Reader) error {
	f, err := root.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", name, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unpack %s: %w", name, err)
	}
	return nil
}

// syncDir makes the renames into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("restore: sync %s: %w", dir, err)
	}
	return nil
}
