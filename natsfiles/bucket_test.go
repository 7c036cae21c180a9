package natsfiles_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/parley-chat/parley/blobtest"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/natsfiles"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open binds to bucket on the test server; it is closed when the test ends.
func open(t *testing.T, url, bucket string) *natsfiles.Bucket {
	t.Helper()
	b, err := natsfiles.Open(t.Context(), url, natsfiles.Options{Bucket: bucket, TempDir: t.TempDir(), Log: quiet})
	if err != nil {
		t.Fatalf("open bucket: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBucketContract(t *testing.T) {
	url := natstest.URL(t)
	blobtest.Run(t, func(t *testing.T) chat.Blobs { return open(t, url, natstest.Bucket(t, url)) })
}

// stream returns the bucket's stream as the server describes it.
func stream(t *testing.T, url, bucket string) *jetstream.StreamInfo {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(t.Context(), "OBJ_"+bucket)
	if err != nil {
		t.Fatalf("stream of bucket %s: %v", bucket, err)
	}
	return s.CachedInfo()
}

func TestTheBucketIsCreatedOnFileStorageWithoutDirectGets(t *testing.T) {
	url := natstest.URL(t)
	name := natstest.Bucket(t, url)
	open(t, url, name)
	cfg := stream(t, url, name).Config
	if cfg.Storage != jetstream.FileStorage || cfg.Replicas != 1 || cfg.AllowDirect || !cfg.AllowRollup || cfg.Discard != jetstream.DiscardNew {
		t.Errorf("stream config: storage %v, replicas %d, direct %v, rollup %v, discard %v; want file, 1, false, true, new",
			cfg.Storage, cfg.Replicas, cfg.AllowDirect, cfg.AllowRollup, cfg.Discard)
	}
}

func TestNodesOpeningTogetherShareOneBucket(t *testing.T) {
	url := natstest.URL(t)
	name := natstest.Bucket(t, url)
	const n = 4
	buckets := make([]*natsfiles.Bucket, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			buckets[i], errs[i] = natsfiles.Open(context.Background(), url, natsfiles.Options{Bucket: name, Log: quiet})
		})
	}
	wg.Wait()
	for i, b := range buckets {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { b.Close() })
	}
	id := chat.NewID()
	if _, err := buckets[0].Put(t.Context(), id, strings.NewReader("shared"), 100); err != nil {
		t.Fatal(err)
	}
	for i, b := range buckets {
		f, err := b.Open(t.Context(), id)
		if err != nil {
			t.Fatalf("open on node %d: %v", i, err)
		}
		got, _ := io.ReadAll(f)
		f.Close()
		if string(got) != "shared" {
			t.Errorf("node %d reads %q", i, got)
		}
	}
}

func TestNothingOfARefusedOrDeletedFileStaysInTheStream(t *testing.T) {
	// A refused upload leaves no chunk, a deleted file no chunk and no
	// tombstone: the bucket does not grow with what it no longer holds.
	url := natstest.URL(t)
	name := natstest.Bucket(t, url)
	b := open(t, url, name)
	ctx := t.Context()
	over := bytes.Repeat([]byte("x"), 600<<10)
	if _, err := b.Put(ctx, chat.NewID(), bytes.NewReader(over), 500<<10); !errors.Is(err, chat.ErrTooLarge) {
		t.Fatalf("put over the limit: %v", err)
	}
	ids := []string{chat.NewID(), chat.NewID(), "odd id ü/../x"}
	for _, id := range ids {
		if _, err := b.Put(ctx, id, bytes.NewReader(over), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if st := stream(t, url, name).State; st.Msgs == 0 {
		t.Fatal("stream empty after puts")
	}
	for _, id := range ids {
		if err := b.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if st := stream(t, url, name).State; st.Msgs != 0 || st.Bytes != 0 {
		t.Errorf("stream holds %d messages, %d bytes after the deletes; want none", st.Msgs, st.Bytes)
	}
}

func TestAnUploadStopsWhenItsRequestEnds(t *testing.T) {
	url := natstest.URL(t)
	name := natstest.Bucket(t, url)
	b := open(t, url, name)
	ctx, cancel := context.WithCancel(t.Context())
	id := chat.NewID()
	// The input ends the request after its first chunk.
	src := io.MultiReader(bytes.NewReader(make([]byte, 200<<10)), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, nil
	}), bytes.NewReader(make([]byte, 200<<10)))
	if _, err := b.Put(ctx, id, src, 1<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with its context cancelled: %v; want context.Canceled", err)
	}
	if _, err := b.Open(t.Context(), id); !errors.Is(err, chat.ErrNotFound) {
		t.Errorf("open after a cancelled put: %v; want ErrNotFound", err)
	}
	if st := stream(t, url, name).State; st.Msgs != 0 {
		t.Errorf("stream holds %d messages after a cancelled put; want none", st.Msgs)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw, servers string
		want         natsfiles.Options
		err          bool
	}{
		{raw: "nats", servers: "nats"},
		{raw: "nats?bucket=files_2&replicas=3", servers: "nats", want: natsfiles.Options{Bucket: "files_2", Replicas: 3}},
		{raw: "nats://u:p@a:4222,nats://b:4222?bucket=x", servers: "nats://u:p@a:4222,nats://b:4222", want: natsfiles.Options{Bucket: "x"}},
		{raw: "tls://a:4222", servers: "tls://a:4222"},
		{raw: "nats?bucket=no.dots", err: true},
		{raw: "nats?replicas=0", err: true},
		{raw: "nats?replicas=6", err: true},
		{raw: "nats?replica=3", err: true},
		{raw: "nats?bucket=%zz", err: true},
	} {
		servers, o, err := natsfiles.ParseURL(tc.raw)
		if tc.err {
			if err == nil {
				t.Errorf("ParseURL(%q) succeeded; want an error", tc.raw)
			}
			continue
		}
		if err != nil || servers != tc.servers || o.Bucket != tc.want.Bucket || o.Replicas != tc.want.Replicas {
			t.Errorf("ParseURL(%q) = %q, %+v, %v; want %q, %+v", tc.raw, servers, o, err, tc.servers, tc.want)
		}
	}
}

func TestOpenFailsClearlyWithoutAServer(t *testing.T) {
	_, err := natsfiles.Open(t.Context(), "nats://secret:pw@127.0.0.1:1", natsfiles.Options{Log: quiet})
	if err == nil {
		t.Fatal("open without a server succeeded")
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("error %q shows the URL's password", err)
	}
}
