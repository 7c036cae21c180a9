package postgres_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// leadership opens a Leadership of st, closed when the test ends.
func leadership(t *testing.T, st *postgres.Store) *postgres.Leadership {
	t.Helper()
	l, err := st.Leadership(t.Context())
	if err != nil {
		t.Fatalf("Leadership: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func tryAcquire(t *testing.T, l *postgres.Leadership) bool {
	t.Helper()
	ok, err := l.TryAcquire(t.Context())
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}
	return ok
}

func TestOneLeadershipOfASchemaHoldsTheLockAtATime(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := leadership(t, open(t, dsn)), leadership(t, open(t, dsn))
	if a.Scope() != b.Scope() || a.Scope() == "" {
		t.Fatalf("scopes %q and %q: want one, for one schema", a.Scope(), b.Scope())
	}
	if !tryAcquire(t, a) {
		t.Fatal("the first try for a free lock failed")
	}
	if !tryAcquire(t, a) {
		t.Fatal("a second try by the holder failed")
	}
	if tryAcquire(t, b) {
		t.Fatal("two leaderships hold the lock")
	}
	if err := a.Check(t.Context()); err != nil {
		t.Fatalf("Check of the holder: %v", err)
	}
	if err := b.Check(t.Context()); err == nil {
		t.Fatal("Check of the one without the lock succeeded")
	}
	if err := a.Release(t.Context()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if !tryAcquire(t, b) {
		t.Fatal("the lock was not free after its release")
	}
	if tryAcquire(t, a) {
		t.Fatal("the released leadership took the lock back from its holder")
	}
}

func TestLeadershipsOfTwoSchemasDoNotMeet(t *testing.T) {
	a, b := leadership(t, open(t, pgtest.Schema(t))), leadership(t, open(t, pgtest.Schema(t)))
	if a.Scope() == b.Scope() {
		t.Fatalf("two schemas share the scope %q", a.Scope())
	}
	if !tryAcquire(t, a) || !tryAcquire(t, b) {
		t.Fatal("the lock of one schema kept the other's")
	}
}

func TestTheLockIsFreedWhenItsSessionIsKilled(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := leadership(t, open(t, dsn)), leadership(t, open(t, dsn))
	if !tryAcquire(t, a) {
		t.Fatal("the first try for a free lock failed")
	}
	pgtest.KillRoutingLock(t, dsn)
	if err := a.Check(t.Context()); err == nil {
		t.Fatal("Check succeeded after the session was killed")
	}
	// The killed backend releases the lock as it exits, a moment after it
	// told its client.
	deadline := time.Now().Add(5 * time.Second)
	for !tryAcquire(t, b) {
		if time.Now().After(deadline) {
			t.Fatal("the lock of the killed session was not freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The one that lost it connects again, and waits its turn.
	if tryAcquire(t, a) {
		t.Fatal("the leadership that lost the lock took it back")
	}
}
