package pbx

import (
	"testing"
	"time"
)

// Quantiles come from bucket upper bounds: within 2% above the true value, never above the
// largest delay seen.
func TestDelayHistogramQuantiles(t *testing.T) {
	var h delayHistogram
	if s := h.summary(); s != (DelaySummary{}) {
		t.Fatalf("empty summary = %+v", s)
	}
	for i := 1; i <= 1000; i++ { // 1 ms … 1000 ms
		h.observe(time.Duration(i) * time.Millisecond)
	}
	s := h.summary()
	within := func(name string, got, want time.Duration) {
		t.Helper()
		if got < want || float64(got) > 1.02*float64(want) {
			t.Errorf("%s = %v; want %v (up to 2%% above)", name, got, want)
		}
	}
	if s.Count != 1000 || s.Max != time.Second {
		t.Errorf("count %d max %v; want 1000 and 1s", s.Count, s.Max)
	}
	within("p50", s.P50, 500*time.Millisecond)
	within("p99", s.P99, 990*time.Millisecond)

	var one delayHistogram
	one.observe(3 * time.Millisecond)
	if s := one.summary(); s.P50 != 3*time.Millisecond || s.P99 != 3*time.Millisecond {
		t.Errorf("one 3 ms delay: %+v; want p50 = p99 = 3ms (capped at max)", s)
	}
}
