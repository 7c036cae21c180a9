package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/config"
)

// TestBackupAndRestore backs up a running server's data directory while a
// customer keeps writing, restores it into a new directory and starts a
// server there: the chats' histories, their state and the uploaded files
// are as they were, and the restored store is not seeded again.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	// carol writes as fast as she can: past the per-client rate limit.
	srv := startServer(t, "--client-rate", "0")
	ctx := testContext(t)

	// alice: a live chat with an agent, a message each way and a file.
	alice := srv.demoClient(t, "backup-alice")
	aliceChat, err := alice.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	picture := pngImage(t)
	upload, err := alice.UploadFile(ctx, "receipt.png", bytes.NewReader(picture))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.SendEvents(ctx, aliceChat.ChatID,
		client.Message("m-1", "my order is late"),
		client.File("f-1", upload.FileID, "receipt.png", "image"),
	); err != nil {
		t.Fatal(err)
	}
	agent := newAgentClient(t, srv)
	if _, err := agent.Login(ctx, config.DemoTenant, config.DemoAgent, config.DemoPassword); err != nil {
		t.Fatal(err)
	}
	view, err := agent.SetState(ctx, "ready", "")
	if err != nil || !view.Offered(aliceChat.ChatID) {
		t.Fatalf("the demo agent was not offered alice's chat: %+v, %v", view, err)
	}
	if _, err := agent.Accept(ctx, aliceChat.ChatID); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.SetState(ctx, "not_ready", "backup test"); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Send(ctx, aliceChat.ChatID, client.Message("a-1", "let me check")); err != nil {
		t.Fatal(err)
	}

	// bob: a chat that ended.
	bob := srv.demoClient(t, "backup-bob")
	bobChat, err := bob.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.SendEvents(ctx, bobChat.ChatID, client.Message("m-1", "never mind"), client.End()); err != nil {
		t.Fatal(err)
	}
	aliceBefore := history(ctx, t, alice, aliceChat.ChatID)
	bobBefore := history(ctx, t, bob, bobChat.ChatID)

	// carol writes all through the backup.
	carol := srv.demoClient(t, "backup-carol")
	carolChat, err := carol.RequestChat(ctx, client.ChatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	writing, stopWriting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sent atomic.Int64
	wg.Go(func() {
		for writing.Err() == nil {
			n := sent.Load()
			if err := carol.SendEvents(ctx, carolChat.ChatID, client.Message(fmt.Sprint("c-", n), "still here")); err != nil {
				t.Errorf("carol's message %d during the backup: %v", n, err)
				return
			}
			sent.Add(1)
		}
	})
	// The backup starts once carol is under way.
	if err := waitFor(waitTimeout, func() (bool, error) { return sent.Load() >= 3, nil }); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "parley-backup.tar.gz")
	backedUp := runParley(t, "backup", "--data", srv.Data, "--out", archive)
	stopWriting()
	wg.Wait()
	if backedUp.code != 0 || !strings.Contains(backedUp.stderr, "backed up") || !strings.Contains(backedUp.stderr, "1 files") {
		t.Fatalf("parley backup exited %d, said:\n%s", backedUp.code, backedUp.stderr)
	}
	carolOriginal := history(ctx, t, carol, carolChat.ChatID)

	restoredDir := filepath.Join(t.TempDir(), "restored")
	restored := runParley(t, "restore", "--data", restoredDir, "--in", archive)
	if restored.code != 0 || !strings.Contains(restored.stderr, "restored") {
		t.Fatalf("parley restore exited %d, said:\n%s", restored.code, restored.stderr)
	}
	again := runParley(t, "restore", "--data", restoredDir, "--in", archive)
	if again.code != 1 || !strings.Contains(again.stderr, "--force") {
		t.Errorf("a second restore into the same directory exited %d, said:\n%s\nwant 1, naming --force", again.code, again.stderr)
	}

	second := startServer(t, "--data", restoredDir)
	if strings.Contains(second.log(), "seeded the demo") {
		t.Errorf("the restored directory was seeded with the demo again:\n%s", second.log())
	}
	alice2 := second.demoClient(t, "backup-alice")
	if got := history(ctx, t, alice2, aliceChat.ChatID); !reflect.DeepEqual(got, aliceBefore) {
		t.Errorf("alice's restored history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(aliceBefore, "\n"))
	}
	if got := history(ctx, t, second.demoClient(t, "backup-bob"), bobChat.ChatID); !reflect.DeepEqual(got, bobBefore) {
		t.Errorf("bob's restored history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(bobBefore, "\n"))
	}
	if active, err := alice2.ActiveChat(ctx); err != nil || active.ChatID != aliceChat.ChatID || active.State != "connected" {
		t.Errorf("alice's active chat after the restore = %+v, %v; want %s connected", active, err, aliceChat.ChatID)
	}
	file, err := alice2.DownloadFile(ctx, upload.FileID)
	if err != nil || !bytes.Equal(file.Data, picture) {
		t.Errorf("the restored file = %d bytes, %v; want the %d bytes uploaded", len(file.Data), err, len(picture))
	}
	// carol's chat is as it was at one moment of the backup: what the
	// original holds, up to some point.
	carolRestored := history(ctx, t, second.demoClient(t, "backup-carol"), carolChat.ChatID)
	if len(carolRestored) < 4 || len(carolRestored) > len(carolOriginal) ||
		!reflect.DeepEqual(carolRestored, carolOriginal[:len(carolRestored)]) {
		t.Errorf("carol's restored history (%d events) is not a prefix of the original's (%d events) holding the messages before the backup",
			len(carolRestored), len(carolOriginal))
	}
	t.Logf("carol sent %d messages during the backup; the restored chat has %d of the original's %d events",
		sent.Load(), len(carolRestored), len(carolOriginal))

	// The restored server is a working server.
	if err := alice2.SendEvents(ctx, aliceChat.ChatID, client.Message("m-2", "thanks")); err != nil {
		t.Errorf("sending in the restored chat: %v", err)
	}
}

// history returns the wire form of a chat's history.
func history(ctx context.Context, t *testing.T, c *client.Client, chatID string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	evs, err := c.History(ctx, chatID)
	if err != nil {
		t.Fatalf("History(%s): %v", chatID, err)
	}
	return rawEvents(evs)
}

// TestBackupCommandLine checks the flags of backup and restore.
func TestBackupCommandLine(t *testing.T) {
	t.Parallel()
	notABackup := filepath.Join(t.TempDir(), "notes.txt")
	writeFile(t, notABackup, "shopping list")
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"backup needs --out", []string{"backup", "--data", t.TempDir()}, "--out"},
		{"backup of a directory without a store points to pg_dump", []string{"backup", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "b.tar.gz")}, "pg_dump"},
		{"restore needs --in", []string{"restore", "--data", t.TempDir()}, "--in"},
		{"restore of something else fails", []string{"restore", "--data", t.TempDir(), "--in", notABackup}, "not a backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := runParley(t, tc.args...)
			if got.code != 1 || !strings.Contains(got.stderr, tc.says) {
				t.Errorf("parley %s exited %d, said:\n%s\nwant 1 and %q", strings.Join(tc.args, " "), got.code, got.stderr, tc.says)
			}
		})
	}
}
