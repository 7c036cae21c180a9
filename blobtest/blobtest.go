// Package blobtest is the contract every chat.Blobs passes (files on local
// disk, natsfiles in a NATS object store): what the upload and download
// handlers, erasure and retention rely on.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// Run runs the contract against stores made by open, one per subtest.
func Run(t *testing.T, open func(t *testing.T) chat.Blobs) {
	t.Run("a put file reads back byte for byte", func(t *testing.T) {
		b := open(t)
		for _, size := range []int{1, 5, 4 << 10, 300 << 10, 1<<20 + 7} {
			data := randomBytes(t, size)
			id := chat.NewID()
			put(t, b, id, data, int64(size)+100)
			if got := readAll(t, b, id); !bytes.Equal(got, data) {
				t.Errorf("%d bytes: read back %d bytes that differ", size, len(got))
			}
		}
	})
	t.Run("an input of exactly the limit is stored", func(t *testing.T) {
		b := open(t)
		for _, size := range []int{10, 256 << 10} {
			data := randomBytes(t, size)
			id := chat.NewID()
			put(t, b, id, data, int64(size))
			if got := readAll(t, b, id); !bytes.Equal(got, data) {
				t.Errorf("%d bytes at a limit of %[1]d: read back %d bytes that differ", size, len(got))
			}
		}
	})
	t.Run("an input one byte over the limit is refused and nothing is kept", func(t *testing.T) {
		b := open(t)
		// The larger ones span several chunks of an object store.
		for _, size := range []int{10, 256 << 10, 1 << 20} {
			id := chat.NewID()
			n, err := b.Put(t.Context(), id, bytes.NewReader(randomBytes(t, size+1)), int64(size))
			if !errors.Is(err, chat.ErrTooLarge) {
				t.Errorf("put of %d bytes at a limit of %d = %d, %v; want ErrTooLarge", size+1, size, n, err)
			}
			wantNotFound(t, b, id)
		}
	})
	t.Run("an input far over the limit is refused without reading it all", func(t *testing.T) {
		b := open(t)
		id := chat.NewID()
		src := &countingReader{r: io.LimitReader(zeros{}, 1<<30)}
		if _, err := b.Put(t.Context(), id, src, 64<<10); !errors.Is(err, chat.ErrTooLarge) {
			t.Fatalf("put of 1 GiB at a limit of 64 KiB: %v; want ErrTooLarge", err)
		}
		if src.n > 8<<20 {
			t.Errorf("put read %d bytes of an input over a limit of 64 KiB", src.n)
		}
		wantNotFound(t, b, id)
	})
	t.Run("an input that fails while read is not kept", func(t *testing.T) {
		b := open(t)
		id := chat.NewID()
		boom := errors.New("connection reset")
		src := io.MultiReader(bytes.NewReader(randomBytes(t, 200<<10)), failingReader{boom})
		if _, err := b.Put(t.Context(), id, src, 1<<20); err == nil {
			t.Fatal("put of a failing input succeeded")
		}
		wantNotFound(t, b, id)
	})
	t.Run("an empty file is stored and reads back empty", func(t *testing.T) {
		b := open(t)
		id := chat.NewID()
		if n, err := b.Put(t.Context(), id, strings.NewReader(""), 10); err != nil || n != 0 {
			t.Fatalf("put of an empty file = %d, %v", n, err)
		}
		f, err := b.Open(t.Context(), id)
		if err != nil {
			t.Fatalf("open an empty file: %v", err)
		}
		defer f.Close()
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != 0 {
			t.Errorf("seek to the end of an empty file = %d, %v", end, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(f); err != nil || len(got) != 0 {
			t.Errorf("read an empty file = %d bytes, %v", len(got), err)
		}
	})
	t.Run("an open file seeks to any range", func(t *testing.T) {
		b := open(t)
		for _, size := range []int{1000, 700 << 10} {
			data := randomBytes(t, size)
			id := chat.NewID()
			put(t, b, id, data, int64(size))
			f, err := b.Open(t.Context(), id)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(size) {
				t.Errorf("seek to the end = %d, %v; want %d", end, err, size)
			}
			for _, r := range []struct{ whence, off, at int }{
				{io.SeekStart, size / 2, size / 2},
				{io.SeekStart, 0, 0},
				{io.SeekEnd, -10, size - 10},
				{io.SeekCurrent, -100, size - 100}, // the read before ended at the end
			} {
				pos, err := f.Seek(int64(r.off), r.whence)
				if err != nil || pos != int64(r.at) {
					t.Fatalf("seek(%d, %d) = %d, %v; want %d", r.off, r.whence, pos, err, r.at)
				}
				got := make([]byte, min(100, size-r.at))
				if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, data[r.at:r.at+len(got)]) {
					t.Errorf("%d bytes at %d differ (%v)", len(got), r.at, err)
				}
			}
			f.Close()
		}
	})
	t.Run("an open file serves HTTP ranges", func(t *testing.T) {
		b := open(t)
		data := randomBytes(t, 600<<10)
		id := chat.NewID()
		put(t, b, id, data, int64(len(data)))
		for _, r := range []struct {
			header   string
			from, to int // the bytes expected, to exclusive
		}{
			{"bytes=0-99", 0, 100},
			{"bytes=300000-", 300000, len(data)},
			{"bytes=-500", len(data) - 500, len(data)},
		} {
			f, err := b.Open(t.Context(), id)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			req := httptest.NewRequest(http.MethodGet, "/file", nil)
			req.Header.Set("Range", r.header)
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "", time.Time{}, f)
			f.Close()
			if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[r.from:r.to]) {
				t.Errorf("Range %s: %d with %d bytes; want 206 with bytes %d-%d", r.header, rec.Code, rec.Body.Len(), r.from, r.to-1)
			}
		}
	})
	t.Run("a file never stored is not found", func(t *testing.T) {
		b := open(t)
		wantNotFound(t, b, chat.NewID())
		wantNotFound(t, b, "")
	})
	t.Run("a deleted file is not found and deleting is idempotent", func(t *testing.T) {
		b := open(t)
		id, other := chat.NewID(), chat.NewID()
		put(t, b, id, []byte("secret bytes"), 100)
		put(t, b, other, []byte("other bytes"), 100)
		for i := range 2 {
			if err := b.Delete(t.Context(), id); err != nil {
				t.Fatalf("delete #%d: %v", i+1, err)
			}
			wantNotFound(t, b, id)
		}
		if err := b.Delete(t.Context(), chat.NewID()); err != nil {
			t.Errorf("delete of a file never stored: %v", err)
		}
		if err := b.Delete(t.Context(), ""); err != nil {
			t.Errorf("delete of an empty id: %v", err)
		}
		if got := readAll(t, b, other); string(got) != "other bytes" {
			t.Errorf("another file reads %q after a delete", got)
		}
	})
	t.Run("a file being read stays readable when deleted", func(t *testing.T) {
		// A download under way when retention or an erasure removes
		// its file finishes.
		b := open(t)
		for _, size := range []int{100, 700 << 10} {
			data := randomBytes(t, size)
			id := chat.NewID()
			put(t, b, id, data, int64(size))
			f, err := b.Open(t.Context(), id)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if err := b.Delete(t.Context(), id); err != nil {
				t.Fatalf("delete: %v", err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d bytes: read %d bytes after the delete, %v", size, len(got), err)
			}
		}
	})
	t.Run("concurrent puts of different ids keep each its own bytes", func(t *testing.T) {
		b := open(t)
		const n = 8
		ids, data := make([]string, n), make([][]byte, n)
		for i := range n {
			ids[i], data[i] = chat.NewID(), randomBytes(t, 50<<10+i*40<<10)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = b.Put(context.Background(), ids[i], bytes.NewReader(data[i]), 1<<20)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("put %d: %v", i, errs[i])
				continue
			}
			if got := readAll(t, b, ids[i]); !bytes.Equal(got, data[i]) {
				t.Errorf("file %d reads back %d bytes that differ", i, len(got))
			}
		}
	})
	t.Run("ids of every shape chat.NewID makes are stored apart", func(t *testing.T) {
		// Ids are 22 characters of base64url: letters of both cases,
		// digits, - and _, anywhere, the leading ones included.
		b := open(t)
		ids := []string{"-leading-dash-id", "_leading_underscore", "--double", "a-_", "Zz09-_Zz09-_Zz09-_Zz09"}
		for _, id := range ids {
			put(t, b, id, []byte("bytes of "+id), 100)
		}
		for _, id := range ids {
			if got := readAll(t, b, id); string(got) != "bytes of "+id {
				t.Errorf("%q reads %q", id, got)
			}
		}
	})
	t.Run("no id reaches the bytes of another", func(t *testing.T) {
		// An id is opaque: whatever a caller passes, it names its own
		// file or none. A store may refuse an id; it must not put, read
		// or delete another file (or anything outside the store) for it.
		b := open(t)
		const target = "target-file-id"
		put(t, b, target, []byte("target bytes"), 100)
		for _, id := range []string{
			"../" + target, "./" + target, "ta/../" + target, target + "/", "/" + target, "ta/" + target,
			"../../../../etc/passwd", "..", ".", "with space", "ünïcödé-id", "a.b.c", "a*b>c", "tab\tid", "x\x00y",
		} {
			data := []byte("bytes of " + id)
			_, perr := b.Put(t.Context(), id, bytes.NewReader(data), 100)
			f, oerr := b.Open(t.Context(), id)
			switch {
			case perr == nil && oerr != nil:
				t.Errorf("%q: put succeeded, open failed: %v", id, oerr)
			case perr == nil:
				got, err := io.ReadAll(f)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%q: reads %q, %v; want its own bytes", id, got, err)
				}
			case oerr == nil:
				got, _ := io.ReadAll(f)
				t.Errorf("%q: put refused (%v) but open gives %q", id, perr, got)
			}
			if f != nil {
				f.Close()
			}
			_ = b.Delete(t.Context(), id)
			if got := readAll(t, b, target); string(got) != "target bytes" {
				t.Fatalf("after put, open and delete of %q the target reads %q", id, got)
			}
		}
	})
}

// put stores data under id, failing the test unless all of it is stored.
func put(t *testing.T, b chat.Blobs, id string, data []byte, limit int64) {
	t.Helper()
	n, err := b.Put(t.Context(), id, bytes.NewReader(data), limit)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("put %q (%d bytes, limit %d) = %d, %v", id, len(data), limit, n, err)
	}
}

// readAll returns the bytes of id, failing the test if it cannot.
func readAll(t *testing.T, b chat.Blobs, id string) []byte {
	t.Helper()
	f, err := b.Open(t.Context(), id)
	if err != nil {
		t.Fatalf("open %q: %v", id, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %q: %v", id, err)
	}
	return data
}

func wantNotFound(t *testing.T, b chat.Blobs, id string) {
	t.Helper()
	f, err := b.Open(t.Context(), id)
	if err == nil {
		f.Close()
		t.Errorf("open %q succeeded; want ErrNotFound", id)
		return
	}
	if !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("open %q: %v; want ErrNotFound", id, err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
