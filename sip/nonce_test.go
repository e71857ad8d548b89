package sip

import (
	"testing"
	"time"

	"switchboard/internal/tstest"
)

// When the nonce-count tracker is full of live nonces (a sustained registration rate above
// its capacity per nonce lifetime), registrations must go on: phones are made to take a
// fresh nonce (stale), and forgetting the old counts must not let an old nonce be replayed.
func TestFullNonceTrackerStalesOldNoncesWithoutOpeningReplays(t *testing.T) {
	clk := tstest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	n := newNonceIssuer(5*time.Minute, clk.Now, []string{algMD5})
	n.maxTracked = 3
	use := func(nonce string, nc uint64, request uint64) nonceUse {
		t.Helper()
		if err := n.check(nonce); err != nil {
			return nonceStale // what authenticate answers for a nonce check refuses
		}
		return n.useCount(nonce, nc, request)
	}
	var old []string
	for i := range 3 {
		nonce := n.issue()
		if got := use(nonce, 1, uint64(i)); got != nonceFresh {
			t.Fatalf("nonce %d: %v; want fresh", i, got)
		}
		old = append(old, nonce)
		clk.Advance(time.Millisecond)
	}
	if got := use(old[0], 1, 99); got != nonceReplay {
		t.Fatalf("a used count again: %v; want a replay", got)
	}

	// The tracker is full: the next phone is told its nonce is stale, not refused.
	if got := use(n.issue(), 1, 10); got != nonceStale {
		t.Fatalf("a new nonce with the tracker full: %v; want stale", got)
	}
	clk.Advance(time.Millisecond)
	// Every nonce issued before is stale now: their forgotten counts cannot be replayed.
	for i, nonce := range old {
		if got := use(nonce, 1, 99); got != nonceStale {
			t.Errorf("old nonce %d replayed after the tracker was emptied: %v; want stale", i, got)
		}
	}
	// A fresh nonce works, and its counts are tracked again.
	fresh := n.issue()
	if got := use(fresh, 1, 20); got != nonceFresh {
		t.Fatalf("a fresh nonce: %v; want fresh", got)
	}
	if got := use(fresh, 1, 21); got != nonceReplay {
		t.Fatalf("the fresh nonce's count again: %v; want a replay", got)
	}
}
