package natsbus

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/natsbus/natstest"
)

func openInternal(t *testing.T) *Bus {
	t.Helper()
	b, err := Open(natstest.URL(t), Options{Prefix: natstest.Prefix(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestWatchersOfOneTopicShareOneSubscriptionUntilTheLastStops(t *testing.T) {
	b := openInternal(t)
	subs := func() int { return b.nc.NumSubscriptions() }
	_, stop1 := b.Watch("chat.a")
	_, stop2 := b.Watch("chat.a")
	_, stop3 := b.Watch("chat.b")
	if n := subs(); n != 2 {
		t.Fatalf("3 watchers of 2 topics: %d subscriptions, want 2", n)
	}
	stop1()
	stop1()
	if n := subs(); n != 2 {
		t.Fatalf("after one of chat.a's watchers stopped (twice): %d subscriptions, want 2", n)
	}
	stop2()
	stop3()
	if n := subs(); n != 0 {
		t.Fatalf("after every watcher stopped: %d subscriptions, want 0", n)
	}
	if n := len(b.topics); n != 0 {
		t.Fatalf("after every watcher stopped: %d topics tracked, want 0", n)
	}
}

func TestConcurrentWatchesAndStopsLeaveNoSubscriptionBehind(t *testing.T) {
	b := openInternal(t)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			for range 20 {
				_, stop := b.Watch([]string{"chat.x", "chat.y", "chat.z"}[i%3])
				stop()
			}
		})
	}
	wg.Wait()
	if n := b.nc.NumSubscriptions(); n != 0 {
		t.Errorf("%d subscriptions left, want 0", n)
	}
	if n := len(b.topics); n != 0 {
		t.Errorf("%d topics left, want 0", n)
	}
}

func TestEveryWatcherIsWokenAfterAReconnect(t *testing.T) {
	// Wake-ups published while the connection was down are lost; the
	// reconnect handler wakes everyone to look again.
	b := openInternal(t)
	a, stopA := b.Watch("chat.a")
	defer stopA()
	c, stopC := b.Watch("agent.c")
	defer stopC()
	b.wakeAll() // what the reconnect handler calls
	for _, ch := range []<-chan struct{}{a, c} {
		select {
		case <-ch:
		case <-time.After(time.Second):
			t.Fatal("a watcher was not woken")
		}
	}
}
