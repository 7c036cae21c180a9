package natsbus_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/natsbus/natstest"
)

// echo handles topic on b, answering each request with its data prefixed
// by name, and counts what it handled.
func echo(t *testing.T, b *natsbus.Bus, topic, name string, handled *atomic.Int64) func() {
	t.Helper()
	stop, err := b.Handle(topic, func(data []byte, respond func([]byte) error) {
		handled.Add(1)
		if err := respond(append([]byte(name+":"), data...)); err != nil {
			t.Errorf("respond: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	t.Cleanup(stop)
	return stop
}

func TestARequestIsAnsweredByTheHandlerOfAnotherNode(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	var handled atomic.Int64
	echo(t, b, "routing.call", "b", &handled)
	got, err := a.Request(t.Context(), "routing.call", []byte("hello"))
	if err != nil || string(got) != "b:hello" {
		t.Fatalf("Request = %q, %v; want b's answer", got, err)
	}
}

func TestARequestNoNodeHandlesFailsAtOnce(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	start := time.Now()
	_, err := a.Request(t.Context(), "routing.call", nil)
	if !errors.Is(err, natsbus.ErrNoHandler) {
		t.Fatalf("Request without a handler: error = %v, want ErrNoHandler", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Request without a handler took %v, want an answer at once", took)
	}

	var handled atomic.Int64
	stop := echo(t, b, "routing.call", "b", &handled)
	if _, err := a.Request(t.Context(), "routing.call", nil); err != nil {
		t.Fatalf("Request while handled: %v", err)
	}
	stop()
	if _, err := a.Request(t.Context(), "routing.call", nil); !errors.Is(err, natsbus.ErrNoHandler) {
		t.Fatalf("Request after stop: error = %v, want ErrNoHandler", err)
	}
}

func TestEachRequestGoesToOneHandlerWhenSeveralNodesHandleTheTopic(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b, c := open(t, url, prefix), open(t, url, prefix), open(t, url, prefix)
	var byB, byC atomic.Int64
	echo(t, b, "routing.call", "b", &byB)
	echo(t, c, "routing.call", "c", &byC)
	const n = 50
	for i := range n {
		if _, err := a.Request(t.Context(), "routing.call", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatalf("Request %d: %v", i, err)
		}
	}
	if got := byB.Load() + byC.Load(); got != n {
		t.Errorf("%d requests handled %d times in all, want once each", n, got)
	}
}

func TestPostsReachOneHandlerInOrderWithoutAnAnswer(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	stop, err := b.Handle("routing.note", func(data []byte, respond func([]byte) error) {
		if err := respond([]byte("ignored")); err != nil {
			t.Errorf("respond to a post: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(data))
		if len(got) == 100 {
			close(done)
		}
	})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	defer stop()
	for i := range 100 {
		if err := a.Post("routing.note", fmt.Appendf(nil, "%03d", i)); err != nil {
			t.Fatalf("Post: %v", err)
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the posts did not all arrive")
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range got {
		if want := fmt.Sprintf("%03d", i); s != want {
			t.Fatalf("post %d arrived as %q: out of order", i, s)
		}
	}
}
