// Package memory is the in-process chat.Bus of a single Parley node.
package memory

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/chat"
)

// Bus delivers wake-ups to watchers in this process. Publish never blocks:
// each watcher has a one-slot channel, and a wake-up that finds the slot full
// is coalesced with the one already waiting.
type Bus struct {
	mu       sync.RWMutex
	watchers map[string]map[*watcher]struct{}
}

var _ chat.Bus = (*Bus)(nil)

// watcher is told of publishes by its channel, or by fn when it has one.
type watcher struct {
	ch chan struct{}
	fn func()
}

// New returns an empty bus.
func New() *Bus { return &Bus{watchers: make(map[string]map[*watcher]struct{})} }

// Publish wakes every watcher of topic.
func (b *Bus) Publish(_ context.Context, topic string) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for w := range b.watchers[topic] {
		if w.fn != nil {
			w.fn()
			continue
		}
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

// Watch starts watching topic.
func (b *Bus) Watch(topic string) (<-chan struct{}, func()) {
	w := &watcher{ch: make(chan struct{}, 1)}
	return w.ch, b.add(topic, w)
}

// WatchFunc calls fn after each Publish on topic until stop is called. It
// needs no goroutine of the watcher's, which is what lets a node hold tens
// of thousands of parked long polls: fn runs in the publisher's goroutine,
// under the bus's lock, so it must return at once and not call the bus.
func (b *Bus) WatchFunc(topic string, fn func()) (stop func()) {
	return b.add(topic, &watcher{fn: fn})
}

func (b *Bus) add(topic string, w *watcher) func() {
	b.mu.Lock()
	set := b.watchers[topic]
	if set == nil {
		set = make(map[*watcher]struct{})
		b.watchers[topic] = set
	}
	set[w] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unwatch(topic, w) }) }
}

func (b *Bus) unwatch(topic string, w *watcher) {
	b.mu.Lock()
	defer b.mu.Unlock()
	set := b.watchers[topic]
	delete(set, w)
	if len(set) == 0 {
		delete(b.watchers, topic)
	}
}
