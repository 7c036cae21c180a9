// Package bustest is the contract every chat.Bus passes (memory, nats).
package bustest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// wait is how long a test waits for a wake-up that must come.
const wait = 5 * time.Second

// Run runs the bus contract against buses made by open. Buses made by two
// calls of open must reach each other, as nodes sharing one broker do.
func Run(t *testing.T, open func(t *testing.T) chat.Bus) {
	t.Run("a publish wakes every watcher of its topic", func(t *testing.T) {
		b := open(t)
		ch1, stop1 := b.Watch("chat.a")
		defer stop1()
		ch2, stop2 := b.Watch("chat.a")
		defer stop2()
		publish(t, b, "chat.a")
		expectWake(t, ch1)
		expectWake(t, ch2)
	})
	t.Run("a publish does not wake watchers of other topics", func(t *testing.T) {
		b := open(t)
		other, stop := b.Watch("chat.b")
		defer stop()
		mine, stopMine := b.Watch("chat.a")
		defer stopMine()
		publish(t, b, "chat.a")
		expectWake(t, mine)
		select {
		case <-other:
			t.Fatal("watcher of chat.b woken by a publish on chat.a")
		default:
		}
	})
	t.Run("a publish reaches a watcher on another bus of the same network", func(t *testing.T) {
		a, b := open(t), open(t)
		ch, stop := b.Watch("chat.x")
		defer stop()
		deadline := time.Now().Add(wait)
		for {
			// Subscriptions propagate asynchronously on networked buses.
			publish(t, a, "chat.x")
			select {
			case <-ch:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("no wake-up across buses")
			}
		}
	})
	t.Run("wake-ups are coalesced while unread and publish never blocks", func(t *testing.T) {
		b := open(t)
		ch, stop := b.Watch("chat.c")
		defer stop()
		for range 100 {
			publish(t, b, "chat.c")
		}
		expectWake(t, ch)
	})
	t.Run("a stopped watcher is not woken and stopping twice is harmless", func(t *testing.T) {
		b := open(t)
		ch, stop := b.Watch("chat.d")
		stop()
		stop()
		publish(t, b, "chat.d")
		select {
		case <-ch:
			t.Fatal("stopped watcher woken")
		case <-time.After(20 * time.Millisecond):
		}
	})
	t.Run("concurrent watchers and publishers are safe", func(t *testing.T) {
		b := open(t)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				topic := fmt.Sprintf("chat.%d", i%4)
				ch, stop := b.Watch(topic)
				defer stop()
				for range 10 {
					publish(t, b, topic)
				}
				expectWake(t, ch)
			}()
		}
		wg.Wait()
	})
}

func publish(t *testing.T, b chat.Bus, topic string) {
	t.Helper()
	if err := b.Publish(context.Background(), topic); err != nil {
		t.Errorf("publish %s: %v", topic, err)
	}
}

func expectWake(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Error("no wake-up")
	}
}
