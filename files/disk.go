// Package files keeps the bytes of uploaded files. Disk is the embedded
// default: one directory, opened as an os.Root so that no id can name a path
// outside it.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/parley-chat/parley/chat"
)

// Disk is a chat.Blobs in a local directory.
type Disk struct {
	root *os.Root
}

var _ chat.Blobs = (*Disk)(nil)

// OpenDisk opens (creating if needed) the directory dir.
func OpenDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create files dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open files dir: %w", err)
	}
	return &Disk{root: root}, nil
}

// Close releases the directory.
func (d *Disk) Close() error { return d.root.Close() }

// name shards files over 256 subdirectories by the first two characters of
// their id, so that no directory grows to millions of entries.
func name(id string) (dir, file string, err error) {
	if len(id) < 3 {
		return "", "", chat.ErrNotFound
	}
	return id[:2], id[:2] + "/" + id, nil
}

// Put writes at most limit bytes of r under id. The bytes go to a temporary
// file that is renamed into place once complete and synced, so a reader never
// sees half a file and a crash leaves no partial upload behind.
func (d *Disk) Put(_ context.Context, id string, r io.Reader, limit int64) (int64, error) {
	dir, file, err := name(id)
	if err != nil {
		return 0, err
	}
	if err := d.root.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return 0, fmt.Errorf("create shard: %w", err)
	}
	tmp := file + ".part"
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("create file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = chat.ErrTooLarge
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, file)
	}
	if err != nil {
		d.root.Remove(tmp)
		return 0, err
	}
	return n, nil
}

// Open opens the file id for reading.
func (d *Disk) Open(_ context.Context, id string) (io.ReadSeekCloser, error) {
	_, file, err := name(id)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chat.ErrNotFound
	}
	return f, err
}

// Delete removes the file id; a missing file is not an error.
func (d *Disk) Delete(_ context.Context, id string) error {
	_, file, err := name(id)
	if err != nil {
		return nil
	}
	if err := d.root.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
