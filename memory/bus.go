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

type watcher struct{ ch chan struct{} }

// New returns an empty bus.
func New() *Bus { return &Bus{watchers: make(map[string]map[*watcher]struct{})} }

// Publish wakes every watcher of topic.
func (b *Bus) Publish(_ context.Context, topic string) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for w := range b.watchers[topic] {
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
	b.mu.Lock()
	set := b.watchers[topic]
	if set == nil {
		set = make(map[*watcher]struct{})
		b.watchers[topic] = set
	}
	set[w] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return w.ch, func() { once.Do(func() { b.unwatch(topic, w) }) }
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
