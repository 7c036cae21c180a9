package natsbus_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/natsbus/natstest"
)

// open connects a bus to the test server under prefix; it is closed when
// the test ends.
func open(t *testing.T, url, prefix string) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Open(url, natsbus.Options{Prefix: prefix, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	return b
}

func TestBusContract(t *testing.T) {
	url := natstest.URL(t)
	prefix := natstest.Prefix() // every bus of the run is a node of one network
	bustest.Run(t, func(t *testing.T) chat.Bus { return open(t, url, prefix) })
}

func TestAWatcherIsWokenByAPublishOfAnotherNodeAsSoonAsWatchReturns(t *testing.T) {
	// Watch waits until the server has the subscription: a reader that
	// watches, then finds nothing new in the store, cannot miss the
	// wake-up of a write committed after its look. No retries here.
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	for i := range 20 {
		topic := chat.ChatTopic("chat-" + string(rune('a'+i)))
		ch, stop := b.Watch(topic)
		if err := a.Publish(t.Context(), topic); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("watcher %d not woken by the other node's first publish", i)
		}
		stop()
	}
}

func TestTopicsThatAreNotSubjectsStillReachTheirWatchers(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	for _, topic := range []string{"chat.with space", "agent.*", "chat.>", "", ".", "chat..x", "trailing."} {
		t.Run(topic, func(t *testing.T) {
			ch, stop := b.Watch(topic)
			defer stop()
			other, stopOther := b.Watch("chat.plain")
			defer stopOther()
			if err := a.Publish(t.Context(), topic); err != nil {
				t.Fatalf("Publish(%q): %v", topic, err)
			}
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatalf("watcher of %q not woken", topic)
			}
			select {
			case <-other:
				t.Fatalf("a publish on %q woke a watcher of chat.plain", topic)
			case <-time.After(20 * time.Millisecond):
			}
		})
	}
}

func TestAPublishJustBeforeCloseIsDelivered(t *testing.T) {
	url, prefix := natstest.URL(t), natstest.Prefix()
	watching := open(t, url, prefix)
	ch, stop := watching.Watch("chat.last")
	defer stop()
	leaving, err := natsbus.Open(url, natsbus.Options{Prefix: prefix, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	if err := leaving.Publish(t.Context(), "chat.last"); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := leaving.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the publish made just before Close was lost")
	}
	if err := leaving.Publish(context.Background(), "chat.last"); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Errorf("Publish after Close: error = %v, want %v", err, nats.ErrConnectionClosed)
	}
	if err := leaving.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpeningAnUnreachableServerFails(t *testing.T) {
	// Port 1 on loopback: nothing listens there.
	_, err := natsbus.Open("nats://127.0.0.1:1", natsbus.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}

func BenchmarkPublish(b *testing.B) {
	url, prefix := natstest.URL(b), natstest.Prefix()
	bus, err := natsbus.Open(url, natsbus.Options{Prefix: prefix, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatalf("open bus: %v", err)
	}
	defer bus.Close()
	_, stop := bus.Watch("chat.bench")
	defer stop()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := bus.Publish(ctx, "chat.bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAFuncWatcherIsCalledForEveryNodesPublishUntilStopped(t *testing.T) {
	// Parked long polls watch with a function, not a goroutine each.
	url, prefix := natstest.URL(t), natstest.Prefix()
	a, b := open(t, url, prefix), open(t, url, prefix)
	topic := chat.ChatTopic("parked")
	calls := make(chan struct{}, 16)
	stop := b.WatchFunc(topic, func() { calls <- struct{}{} })
	for _, from := range []*natsbus.Bus{a, b} {
		if err := from.Publish(t.Context(), topic); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatal("function watcher not called after a publish")
		}
	}
	stop()
	stop() // twice is harmless
	if err := a.Publish(t.Context(), topic); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := a.Publish(t.Context(), chat.ChatTopic("other")); err != nil { // the server has handled the first
		t.Fatalf("Publish: %v", err)
	}
	select {
	case <-calls:
		t.Fatal("function watcher called after stop")
	case <-time.After(200 * time.Millisecond):
	}
}
