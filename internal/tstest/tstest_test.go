package tstest

import (
	"testing"
	"time"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := NewClock(time.Time{})
	if !c.Now().Equal(Epoch) {
		t.Fatalf("new clock at %v, want %v", c.Now(), Epoch)
	}
	c.Advance(time.Minute)
	if got := c.Now().Sub(Epoch); got != time.Minute {
		t.Fatalf("advanced by %v, want 1m", got)
	}
}

func TestFreePortsAreDistinctAndOutsideTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for _, p := range FreePorts(t, "127.0.0.1", 50) {
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if p < portRangeLow || p >= portRangeHigh {
			t.Fatalf("port %d outside %d–%d", p, portRangeLow, portRangeHigh)
		}
	}
}

func TestCheckGoroutinesCatchesALeak(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	leakWait = 100 * time.Millisecond
	defer func() { leakWait = DefaultWait }()
	ft := &fakeT{TB: t}
	func() {
		CheckGoroutines(ft)
		// Several: a goroutine of an earlier test that ends meanwhile must not hide them.
		for range 5 {
			go func() { <-stop }()
		}
	}()
	// Run the cleanup by hand with a short wait: the goroutine is still blocked.
	for _, f := range ft.cleanups {
		f()
	}
	if !ft.failed {
		t.Fatal("a goroutine left running was not reported")
	}
}

type fakeT struct {
	testing.TB
	cleanups []func()
	failed   bool
}

func (f *fakeT) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(format string, args ...any) { f.failed = true }
func (f *fakeT) Helper()                           {}
