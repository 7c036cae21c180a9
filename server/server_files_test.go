package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// picture returns n bytes that sniff as a PNG, random past the signature.
func picture(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	copy(b, "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	return b
}

func TestTwoNodesWithSharedFilesServeEachOthersUploads(t *testing.T) {
	dsn := pgtest.Schema(t)
	natsURL := natstest.URL(t)
	bucket := natstest.Bucket(t, natsURL)
	nodes := startNodes(t, 2, dsn, natsURL, func(o *Options) { o.Files = "nats?bucket=" + bucket })
	a, b := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	agentOn := func(nd node) *client.Agent {
		t.Helper()
		ag, err := client.NewAgent(nd.url)
		if err != nil {
			t.Fatalf("agent client: %v", err)
		}
		if _, err := ag.Login(ctx, config.DemoTenant, config.DemoAgent, config.DemoPassword); err != nil {
			t.Fatalf("agent login: %v", err)
		}
		return ag
	}

	var customerFile string
	t.Run("a customer's upload through one node downloads through the other", func(t *testing.T) {
		data := picture(700 << 10) // spooled to disk on the way out
		info, err := customer(t, a, "files-ann").UploadFile(ctx, "photo.png", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("upload through A: %v", err)
		}
		customerFile = info.FileID
		d, err := customer(t, b, "files-ann").DownloadFile(ctx, info.FileID)
		if err != nil || !bytes.Equal(d.Data, data) {
			t.Fatalf("download through B = %d bytes, %v; want the %d bytes uploaded through A", len(d.Data), err, len(data))
		}
		d, err = agentOn(b).DownloadFile(ctx, info.FileID)
		if err != nil || !bytes.Equal(d.Data, data) {
			t.Errorf("an agent's download through B = %d bytes, %v; want the %d bytes uploaded", len(d.Data), err, len(data))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/clientweb/file/"+info.FileID, nil)
		req.Header.Set("Range", "bytes=1000-1999")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("ranged download through B: %v", err)
		}
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[1000:2000]) {
			t.Errorf("ranged download through B = %d with %d bytes; want 206 with bytes 1000-1999", resp.StatusCode, len(part))
		}
	})

	t.Run("an agent's upload through one node downloads through the other", func(t *testing.T) {
		data := picture(40 << 10) // held in memory on the way out
		info, err := agentOn(a).UploadFile(ctx, "offer.png", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("agent upload through A: %v", err)
		}
		d, err := agentOn(b).DownloadFile(ctx, info.FileID)
		if err != nil || !bytes.Equal(d.Data, data) {
			t.Errorf("agent download through B = %d bytes, %v; want the %d bytes uploaded through A", len(d.Data), err, len(data))
		}
	})

	t.Run("a file deleted through one node is gone through the other", func(t *testing.T) {
		if customerFile == "" {
			t.Skip("no file from the first subtest")
		}
		if err := a.srv.blobs.Delete(ctx, customerFile); err != nil {
			t.Fatalf("delete through A: %v", err)
		}
		_, err := customer(t, b, "files-ann").DownloadFile(ctx, customerFile)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
			t.Errorf("download through B after the delete: %v; want a 404", err)
		}
	})
}

func TestSharedFilesNeedANATSServer(t *testing.T) {
	for _, tc := range []struct {
		files, bus, want string
	}{
		{"nats", "", "no bus"},
		{"nats?bucket=x", "", "no bus"},
		{"s3://bucket", "", "want nats"},
		{"nats://127.0.0.1:4222?bucket=bad.name", "", "bucket"},
		{"nats://user:secret@127.0.0.1:1", "", "connect"},
	} {
		srv, err := New(t.Context(), Options{
			Data: t.TempDir(), Files: tc.files, Bus: tc.bus,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err == nil {
			srv.close()
			t.Errorf("New(files %q, bus %q) succeeded", tc.files, tc.bus)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("New(files %q, bus %q): %q; want it to say %q and show no password", tc.files, tc.bus, err, tc.want)
		}
	}
}
