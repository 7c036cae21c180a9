// Package natstest gives tests the machine's NATS server and a subject
// prefix (or a JetStream bucket) of their own, so that tests sharing the
// server do not wake each other or see each other's files.
//
// The server is named by PARLEY_TEST_NATS (default DefaultURL). When it
// cannot be reached the test is skipped, unless the environment variable CI
// is set: there a missing service is a failure, not a reason to pass.
package natstest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultURL is the NATS server of a developer machine.
const DefaultURL = "nats://127.0.0.1:4222"

var (
	reachOnce sync.Once
	reachErr  error
)

// URL returns the test server's URL, skipping (or, with CI set, failing)
// the test unless the server answers. The server is tried once per test
// binary.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("PARLEY_TEST_NATS")
	if url == "" {
		url = DefaultURL
	}
	reachOnce.Do(func() {
		nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
		if err == nil {
			err = nc.FlushTimeout(5 * time.Second)
			nc.Close()
		}
		reachErr = err
	})
	if reachErr == nil {
		return url
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("NATS unreachable at %s (PARLEY_TEST_NATS), and CI is set: %v", url, reachErr)
	}
	t.Skipf("NATS unreachable at %s: start nats-server or set PARLEY_TEST_NATS to run this test (%v)", url, reachErr)
	return ""
}

// Prefix returns a subject prefix no other test uses.
func Prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "parleytest_" + hex.EncodeToString(b[:])
}

// Bucket returns the name of a JetStream object store bucket no other test
// uses, on the server at url (from URL), and deletes the bucket when the
// test ends. It skips (or, with CI set, fails) the test unless the server
// has JetStream.
func Bucket(t testing.TB, url string) string {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connect to NATS: %v", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err == nil {
		_, err = js.AccountInfo()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("JetStream unavailable at %s, and CI is set: %v", url, err)
		}
		t.Skipf("JetStream unavailable at %s: start nats-server with -js to run this test (%v)", url, err)
	}
	name := Prefix()
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
		if err != nil {
			t.Errorf("delete bucket %s: %v", name, err)
			return
		}
		defer nc.Close()
		js, err := nc.JetStream()
		if err == nil {
			err = js.DeleteObjectStore(name)
		}
		if err != nil && !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("delete bucket %s: %v", name, err)
		}
	})
	return name
}
