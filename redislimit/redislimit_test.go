package redislimit_test

import (
	"context"
	"testing"
	"time"

	"switchboard/redislimit/redistest"
)

func TestCountsPerClientAndWindow(t *testing.T) {
	l := redistest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		n, end, err := l.Count(ctx, "key:1", time.Minute, start.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if n != i || !end.Equal(start.Add(time.Minute)) {
			t.Fatalf("request %d: count %d, window end %v; want %d and %v", i, n, end, i, start.Add(time.Minute))
		}
	}
	if n, _, err := l.Count(ctx, "key:2", time.Minute, start); err != nil || n != 1 {
		t.Fatalf("another client: count %d, %v; want its own count 1", n, err)
	}
	if n, end, err := l.Count(ctx, "key:1", time.Minute, start.Add(time.Minute)); err != nil || n != 1 || !end.Equal(start.Add(2*time.Minute)) {
		t.Fatalf("next window: count %d, end %v, %v; want a fresh count", n, end, err)
	}
	// Another deployment's keys (another prefix) are apart.
	other := redistest.Open(t)
	if n, _, err := other.Count(ctx, "key:1", time.Minute, start.Add(5*time.Second)); err != nil || n != 1 {
		t.Fatalf("another prefix: count %d, %v; want 1", n, err)
	}
}

func TestCountFailsOnceClosed(t *testing.T) {
	l := redistest.Open(t)
	l.Close()
	if _, _, err := l.Count(context.Background(), "key:1", time.Minute, time.Now()); err == nil {
		t.Fatal("Count on a closed limiter succeeded")
	}
}
