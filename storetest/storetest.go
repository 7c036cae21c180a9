// Package storetest is the contract every chat.Store implementation passes:
// the rules written in the doc comments of chat.Store, checked the same way
// against sqlite now and postgres later. A store's own tests call Run.
//
// It imports only the standard library and the chat package, never a store,
// so that no store can shape the contract to itself.
package storetest

import (
	"testing"

	"github.com/parley-chat/parley/chat"
)

// Run runs the contract suite against stores made by open; each subtest gets
// a fresh, empty store. open registers the store's Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) chat.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"config", configTests},
		{"sessions", sessionTests},
		{"append", appendTests},
		{"idempotency", idempotencyTests},
		{"events", eventsTests},
		{"concurrency", concurrencyTests},
		{"cursor and push", cursorTests},
		{"files", fileTests},
		{"cases", caseTests},
		{"agents", agentTests},
		{"agent states", agentStateTests},
		{"ping", pingTests},
		{"push outbox", pushTests},
		{"privacy", privacyTests},
		{"admin", adminTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

// test is one rule of the contract, named as a sentence.
type test struct {
	name string
	run  func(t *testing.T, st chat.Store)
}
