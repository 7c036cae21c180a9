package postgres

import "testing"

// TestCursorMovesInFlightAreStillRead: between taking the moves to write
// and their commit, a read must still see them, or a poll would be given
// events it was given already.
func TestCursorMovesInFlightAreStillRead(t *testing.T) {
	var b cursorBuffer
	b.seen("chat-1")
	if !b.later("chat-1", 5) {
		t.Fatal("a move of a chat read lately was not deferred")
	}
	if b.later("chat-x", 1) {
		t.Fatal("a move of a chat never read was deferred: an unknown chat would not be told")
	}
	b.take()
	if got, ok := b.get("chat-1"); !ok || got != 5 {
		t.Fatalf("in flight: get = %d, %v; want 5, true", got, ok)
	}
	b.later("chat-1", 7)
	b.written(false) // the write failed: the moves wait for the next flush
	if got, _ := b.get("chat-1"); got != 7 {
		t.Fatalf("after a failed write: get = %d, want the newer 7", got)
	}
	if m := b.take(); m["chat-1"] != 7 {
		t.Fatalf("the next flush takes %v, want chat-1 at 7", m)
	}
	b.written(true)
	if got, ok := b.get("chat-1"); ok {
		t.Fatalf("after the write: get = %d, %v; want nothing buffered", got, ok)
	}
}
