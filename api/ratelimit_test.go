package api

import (
	"strconv"
	"testing"
	"time"
)

func TestRateLimiterWindow(t *testing.T) {
	start := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	l := newRateLimiter(3, time.Minute, 100)
	for i := 0; i < 3; i++ {
		if d := l.allow("a", start.Add(time.Duration(i)*time.Second)); !d.allowed || d.remaining != 2-i {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := l.allow("a", start.Add(10*time.Second))
	if d.allowed || d.remaining != 0 || d.retryAfter != 50*time.Second {
		t.Fatalf("4th request: %+v, want refused with 50s to wait", d)
	}
	if d := l.allow("b", start.Add(10*time.Second)); !d.allowed {
		t.Fatal("another client shares the first one's budget")
	}
	if d := l.allow("a", start.Add(time.Minute)); !d.allowed || d.remaining != 2 {
		t.Fatalf("after the window: %+v", d)
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	start := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	l := newRateLimiter(10, time.Minute, 50)
	for i := 0; i < 1000; i++ {
		l.allow("ip:"+strconv.Itoa(i), start)
	}
	if n := len(l.clients); n > 50 {
		t.Fatalf("%d clients tracked, want at most 50", n)
	}
	// Windows that have ended are swept.
	l.allow("late", start.Add(2*time.Minute))
	if n := len(l.clients); n != 1 {
		t.Fatalf("%d clients tracked after every window ended, want 1", n)
	}
}
