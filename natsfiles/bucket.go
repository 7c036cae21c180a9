// Package natsfiles keeps the bytes of uploaded files in a NATS JetStream
// object store, so that nodes sharing a NATS server share the files: an
// upload through one node downloads through any other. It is the
// chat.Blobs of a scaled-out deployment; package files (local disk) is the
// default.
//
// It imports the chat package and the NATS client only.
package natsfiles

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/parley-chat/parley/chat"
)

// Defaults of Options.
const (
	DefaultBucket = "parley_files"
	// DefaultTimeout bounds one download from the server into the spool
	// (25 MiB takes well under a second on a LAN).
	DefaultTimeout = time.Minute
	// apiTimeout bounds each JetStream API request and each acknowledgement
	// of a published chunk.
	apiTimeout = 10 * time.Second
	// memSpool is the size up to which a download is held in memory rather
	// than in a temporary file.
	memSpool = 512 << 10
)

// Options configure a Bucket.
type Options struct {
	// Bucket is the object store's name (letters, digits, - and _).
	// Default DefaultBucket.
	Bucket string
	// Replicas is how many servers of a JetStream cluster keep each file
	// (1 to 5), applied when the bucket is created; an existing bucket keeps
	// its own. Default 1.
	Replicas int
	// TempDir is where downloads larger than a few hundred KiB are spooled.
	// Default os.TempDir().
	TempDir string
	// Timeout bounds a download from the server. Default DefaultTimeout.
	Timeout time.Duration
	// Name names the connection in the server's monitoring. Default
	// "parley-files".
	Name string
	// Log receives connection events. Default slog.Default().
	Log *slog.Logger
}

// Bucket is a chat.Blobs in a JetStream object store bucket, on a NATS
// connection of its own. It is safe for concurrent use.
type Bucket struct {
	nc      *nats.Conn
	obs     jetstream.ObjectStore
	stream  jetstream.Stream
	name    string
	tempDir string
	timeout time.Duration
}

var _ chat.Blobs = (*Bucket)(nil)

// validBucket is what JetStream accepts as a bucket name.
var validBucket = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ParseURL splits a files URL, "nats://host:4222[,nats://…][?bucket=name&replicas=n]"
// (or tls://, or "nats" alone with the same query for the server of the
// bus), into the servers to connect to and the bucket's options. Errors
// never show the URL: it may hold credentials.
func ParseURL(raw string) (servers string, o Options, err error) {
	servers, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", o, errors.New("natsfiles: unreadable query in the files URL")
	}
	for k := range q {
		if k != "bucket" && k != "replicas" {
			return "", o, fmt.Errorf("natsfiles: unknown files URL parameter %q (want bucket, replicas)", k)
		}
	}
	if b := q.Get("bucket"); b != "" {
		if !validBucket.MatchString(b) {
			return "", o, fmt.Errorf("natsfiles: bucket %q: want letters, digits, - and _ only", b)
		}
		o.Bucket = b
	}
	if r := q.Get("replicas"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 5 {
			return "", o, fmt.Errorf("natsfiles: replicas %q: want 1 to 5", r)
		}
		o.Replicas = n
	}
	return servers, o, nil
}

// Open connects to the NATS server(s) at servers (comma-separated for
// several) and binds to the bucket, creating it if it is missing. It fails
// when no server answers or JetStream is not enabled on it; once
// connected, it reconnects for as long as it takes.
func Open(ctx context.Context, servers string, o Options) (*Bucket, error) {
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if !validBucket.MatchString(o.Bucket) {
		return nil, fmt.Errorf("natsfiles: bucket %q: want letters, digits, - and _ only", o.Bucket)
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	} else if err := os.MkdirAll(o.TempDir, 0o750); err != nil {
		return nil, fmt.Errorf("natsfiles: create spool dir: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Name == "" {
		o.Name = "parley-files"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	log := o.Log.With("bucket", o.Bucket)
	nc, err := nats.Connect(servers,
		nats.Name(o.Name),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				log.Warn("nats files connection lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats files connection back", "server", nc.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natsfiles: connect: %w", err)
	}
	b := &Bucket{nc: nc, name: o.Bucket, tempDir: o.TempDir, timeout: o.Timeout}
	if err := b.bind(ctx, o, log); err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

// bind creates the bucket if it is missing, then binds to it.
//
// The bucket is the stream `nats object add` would create, with one
// difference: no direct gets. A direct get may be answered by any replica,
// including one that has not yet received an upload its leader
// acknowledged, while a file is often read right after its upload, through
// another node. Without direct gets every lookup is answered by the
// leader, which has every acknowledged upload. A bucket of files sees few
// lookups per second: the leader's extra work does not matter.
func (b *Bucket) bind(ctx context.Context, o Options, log *slog.Logger) error {
	js, err := jetstream.New(b.nc, jetstream.WithDefaultTimeout(apiTimeout))
	if err != nil {
		return fmt.Errorf("natsfiles: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	streamName := "OBJ_" + o.Bucket
	b.stream, err = js.Stream(ctx, streamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		b.stream, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        streamName,
			Description: "Parley's uploaded files",
			Subjects:    []string{"$O." + o.Bucket + ".C.>", "$O." + o.Bucket + ".M.>"},
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxBytes:    -1,
			Discard:     jetstream.DiscardNew,
			AllowRollup: true,
			AllowDirect: false,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another node created it meanwhile.
			b.stream, err = js.Stream(ctx, streamName)
		} else if err == nil {
			log.Info("created the files bucket", "replicas", o.Replicas)
		}
	}
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return errors.New("natsfiles: JetStream is not enabled on the NATS server (start it with -js)")
	}
	if err != nil {
		return fmt.Errorf("natsfiles: bucket %s: %w", o.Bucket, err)
	}
	cfg := b.stream.CachedInfo().Config
	if cfg.Replicas != o.Replicas {
		log.Warn("the files bucket keeps its own replica count; change it with `nats stream edit`",
			"replicas", cfg.Replicas, "configured", o.Replicas)
	}
	if cfg.AllowDirect && cfg.Replicas > 1 {
		log.Warn("the files bucket allows direct gets: a file may be missed right after its upload; " +
			"turn them off with `nats stream edit --no-allow-direct`")
	}
	if b.obs, err = js.ObjectStore(ctx, o.Bucket); err != nil {
		return fmt.Errorf("natsfiles: bucket %s: %w", o.Bucket, err)
	}
	return nil
}

// Close closes the connection.
func (b *Bucket) Close() error {
	b.nc.Close()
	return nil
}

// Put stores at most limit bytes of r under id, in chunks of 128 KiB,
// streamed to the server as they are read. The object's name is written
// only after its last chunk, so readers never see half a file, and a read
// that fails (the input over limit, the client gone) removes the chunks
// sent so far.
//
// The library does that cleanup with the context Put is given, so it is
// given one that is never cancelled: a cancelled request must not leave
// its chunks behind. The caller's context still stops the upload, between
// two chunks, through the reader.
func (b *Bucket) Put(ctx context.Context, id string, r io.Reader, limit int64) (int64, error) {
	if id == "" {
		return 0, errors.New("natsfiles: put: empty id")
	}
	keep := context.WithoutCancel(ctx)
	// What is there before, to tell it apart from what a failed put left.
	before, err := b.obs.GetInfo(keep, id, jetstream.GetObjectInfoShowDeleted())
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0, fmt.Errorf("natsfiles: put %s: %w", id, err)
	}
	src := &limitedReader{ctx: ctx, r: r, left: limit}
	info, err := b.obs.Put(keep, jetstream.ObjectMeta{Name: id}, src)
	if err == nil {
		return int64(info.Size), nil
	}
	if src.err != nil {
		// The input failed: nothing was named, and the library removed
		// the chunks.
		return 0, fmt.Errorf("natsfiles: put %s: %w", id, src.err)
	}
	// The server failed, perhaps after the name was written: remove an
	// object that is not the one there before.
	cleanup, cancel := context.WithTimeout(keep, apiTimeout)
	defer cancel()
	if now, ierr := b.obs.GetInfo(cleanup, id); ierr == nil && (before == nil || now.NUID != before.NUID) {
		_ = b.obs.Delete(cleanup, id)
	}
	return 0, fmt.Errorf("natsfiles: put %s: %w", id, err)
}

// limitedReader passes on at most left bytes of r, fails with
// chat.ErrTooLarge past them, and with the context's error once it ends.
type limitedReader struct {
	ctx  context.Context
	r    io.Reader
	left int64
	err  error // why reading failed, if it did
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if err := l.ctx.Err(); err != nil {
		l.err = err
		return 0, err
	}
	// One byte more than allowed tells an input of exactly limit bytes
	// from a longer one.
	if most := l.left + 1; most > 0 && int64(len(p)) > most {
		p = p[:most]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.err = chat.ErrTooLarge
		return 0, l.err
	}
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// Open returns the file id's bytes, fetched whole before it returns.
//
// An object store read is a stream of chunks, not seekable, while the
// HTTP handlers serve ranges (resumed downloads, media players) and so
// need to seek. The file is therefore spooled: into memory when small,
// into an already unlinked temporary file otherwise, so that a few
// concurrent downloads of 25 MiB files do not hold 25 MiB of memory each,
// and a crash leaves nothing behind. Reading to the end also checks the
// object's SHA-256 digest before a byte is served.
func (b *Bucket) Open(ctx context.Context, id string) (io.ReadSeekCloser, error) {
	if id == "" {
		return nil, chat.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	res, err := b.obs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("natsfiles: open %s: %w", id, chat.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("natsfiles: open %s: %w", id, err)
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return nil, fmt.Errorf("natsfiles: open %s: %w", id, err)
	}
	if info.Size <= memSpool {
		buf := bytes.NewBuffer(make([]byte, 0, info.Size+1))
		if _, err := buf.ReadFrom(res); err != nil {
			return nil, fmt.Errorf("natsfiles: read %s: %w", id, err)
		}
		if uint64(buf.Len()) != info.Size {
			return nil, fmt.Errorf("natsfiles: read %s: %d bytes of %d", id, buf.Len(), info.Size)
		}
		return nopCloser{bytes.NewReader(buf.Bytes())}, nil
	}
	return b.spool(id, res, info.Size)
}

// spool copies a download into a temporary file, unlinked at once where
// the system allows it (the open file stays readable), else at Close.
func (b *Bucket) spool(id string, r io.Reader, size uint64) (io.ReadSeekCloser, error) {
	f, err := os.CreateTemp(b.tempDir, "parley-download-*")
	if err != nil {
		return nil, fmt.Errorf("natsfiles: spool %s: %w", id, err)
	}
	sf := &spooled{File: f}
	if os.Remove(f.Name()) == nil {
		sf.removed = true
	}
	n, err := io.Copy(f, r)
	if err == nil && uint64(n) != size {
		err = fmt.Errorf("%d bytes of %d", n, size)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sf.Close()
		return nil, fmt.Errorf("natsfiles: read %s: %w", id, err)
	}
	return sf, nil
}

type spooled struct {
	*os.File
	removed bool
}

func (s *spooled) Close() error {
	err := s.File.Close()
	if !s.removed {
		os.Remove(s.Name())
	}
	return err
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// Delete removes the file id; a missing file is not an error.
//
// The library marks a deleted object with a tombstone that stays in the
// stream forever, one per file: with retention deleting files every day,
// those would add up. The tombstone is purged too, leaving nothing of the
// file in the bucket.
func (b *Bucket) Delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	err := b.obs.Delete(ctx, id)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("natsfiles: delete %s: %w", id, err)
	}
	if err := b.stream.Purge(ctx, jetstream.WithPurgeSubject(b.metaSubject(id))); err != nil {
		return fmt.Errorf("natsfiles: delete %s: %w", id, err)
	}
	return nil
}

// metaSubject is the subject of the object id's name record, as the object
// store lays out a bucket (NATS ADR-20).
func (b *Bucket) metaSubject(id string) string {
	return "$O." + b.name + ".M." + base64.URLEncoding.EncodeToString([]byte(id))
}
