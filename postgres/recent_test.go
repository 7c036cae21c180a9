package postgres

import (
	"testing"
	"time"
)

func TestRecentRows(t *testing.T) {
	var c recent[string, int]
	if _, ok := c.get("a"); ok {
		t.Fatal("an empty cache answered")
	}
	before := time.Now()
	c.put("a", 1, before)
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Fatalf("get = %d, %v; want 1, true", v, ok)
	}
	// This node changes the row: a read that began before the change
	// must not bring the old row back.
	c.drop("a")
	if _, ok := c.get("a"); ok {
		t.Fatal("a dropped row answered")
	}
	c.put("a", 1, before)
	if _, ok := c.get("a"); ok {
		t.Fatal("a read begun before the change was cached")
	}
	c.put("a", 2, time.Now())
	if v, ok := c.get("a"); !ok || v != 2 {
		t.Fatalf("after a read begun after the change: %d, %v; want 2, true", v, ok)
	}
	// A row read longer ago than recentFor is read again by one reader;
	// the others get it as it was meanwhile.
	c.put("old", 3, time.Now().Add(-recentFor))
	if _, ok := c.get("old"); ok {
		t.Fatal("a row older than recentFor answered its first reader")
	}
	if v, ok := c.get("old"); !ok || v != 3 {
		t.Fatalf("while it is read again: %d, %v; want 3, true", v, ok)
	}
	c.put("old", 4, time.Now())
	if v, ok := c.get("old"); !ok || v != 4 {
		t.Fatalf("read again: %d, %v; want 4, true", v, ok)
	}
	// Past recentStale nobody gets it.
	c.put("older", 5, time.Now().Add(-recentStale))
	for range 2 {
		if _, ok := c.get("older"); ok {
			t.Fatal("a row older than recentStale answered")
		}
	}
}
