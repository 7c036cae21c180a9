package files_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/parley-chat/parley/blobtest"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/files"
)

func openDisk(t *testing.T) *files.Disk {
	t.Helper()
	d, err := files.OpenDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestDiskContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) chat.Blobs { return openDisk(t) })
}

func TestDiskRoundTrip(t *testing.T) {
	d := openDisk(t)
	ctx := context.Background()
	id := chat.NewID()
	n, err := d.Put(ctx, id, strings.NewReader("hello"), 10)
	if err != nil || n != 5 {
		t.Fatalf("put = %d, %v", n, err)
	}
	f, err := d.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	if err := d.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, id); !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
}

func TestDiskRefusesOversizeAndKeepsNothing(t *testing.T) {
	d := openDisk(t)
	ctx := context.Background()
	id := chat.NewID()
	if _, err := d.Put(ctx, id, strings.NewReader("0123456789x"), 10); !errors.Is(err, chat.ErrTooLarge) {
		t.Fatalf("put over limit: %v", err)
	}
	if _, err := d.Open(ctx, id); !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("oversize file kept: %v", err)
	}
}

func TestDiskIDsCannotEscapeTheDirectory(t *testing.T) {
	d := openDisk(t)
	ctx := context.Background()
	for _, id := range []string{"../../etc/passwd", "..", "/etc/passwd", "ab/../../x"} {
		if _, err := d.Open(ctx, id); err == nil {
			t.Errorf("open %q succeeded", id)
		}
		if _, err := d.Put(ctx, id, strings.NewReader("x"), 10); err == nil {
			t.Errorf("put %q succeeded", id)
		}
	}
}
