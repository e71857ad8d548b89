package tstest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// DefaultWait is how long WaitFor polls before it fails the test. It is generous on
// purpose: CI shares a 2-core machine with other work, and a condition that holds at all
// holds long before this.
const DefaultWait = 10 * time.Second

// leakWait is how long CheckGoroutines lets goroutines wind down; its own test shortens it.
var leakWait = DefaultWait

// WaitFor polls cond until it is true, failing the test with what after DefaultWait.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForWithin(t, DefaultWait, what, cond)
}

// WaitForWithin is WaitFor with its own limit.
func WaitForWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for delay := time.Millisecond; !cond(); delay = min(2*delay, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v: %s", limit, what)
		}
		time.Sleep(delay)
	}
}

// Never checks that cond stays false for the whole of d, polling it all along (not at a
// single instant), and fails the test with what the first time it is true.
func Never(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("%s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if cond() {
		t.Fatalf("%s", what)
	}
}

// CheckGoroutines records how many goroutines run now and, when the test ends (after the
// cleanups registered later, which stop what the test started), waits for the count to come
// back down. It fails the test with the stacks of the goroutines left over.
//
// Call it first in a test, before starting anything, and not in parallel tests: other
// tests' goroutines would count.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	baseline := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(leakWait)
		for runtime.NumGoroutine() > baseline {
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines still running, %d before the test; leaked:\n%s",
					runtime.NumGoroutine(), baseline, stacks())
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func stacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tstest.CheckGoroutines") || strings.Contains(g, "testing.(*T).Run") ||
			strings.Contains(g, "testing.tRunner.func") || strings.Contains(g, "testing.(*M)") {
			continue
		}
		out = append(out, g)
	}
	return strings.Join(out, "\n\n")
}
