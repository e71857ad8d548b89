package pbx

import (
	"math"
	"sync"
	"time"
)

// The answer-to-bridge delay is the time Switchboard adds between an agent's 200 OK
// arriving and the caller being bridged to that agent (the media relay up) for calls routed
// to queues and ring groups: ACKing the agent, stopping the caller's music, and for ring
// groups storing the answer with its events (a queue stores its answer right after the
// bridge). Benchmarks read it (bench/queues); it is wall-clock time,
// not the engine's injectable clock.

// delayBuckets are logarithmic, each 2% wider than the one before, from 1 µs up: quantiles
// read from them are within 2% of the true value.
const (
	delayBucketGrowth = 1.02
	delayBuckets      = 1000 // up to about 6 minutes
)

// delayHistogram counts durations in logarithmic buckets.
type delayHistogram struct {
	mu     sync.Mutex
	counts [delayBuckets]uint64
	n      uint64
	max    time.Duration
}

func delayBucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(delayBuckets-1, int(math.Ceil(math.Log(us)/math.Log(delayBucketGrowth))))
}

func (h *delayHistogram) observe(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[delayBucket(d)]++
	h.n++
	h.max = max(h.max, d)
}

// DelaySummary summarises observed delays; quantiles are bucket upper bounds (at most 2%
// above the true value, never above Max).
type DelaySummary struct {
	Count         uint64
	P50, P99, Max time.Duration
}

func (h *delayHistogram) summary() DelaySummary {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := DelaySummary{Count: h.n, Max: h.max}
	if h.n == 0 {
		return s
	}
	quantile := func(q float64) time.Duration {
		rank := uint64(math.Ceil(q * float64(h.n)))
		var seen uint64
		for i, c := range h.counts {
			seen += c
			if seen >= rank {
				upper := time.Duration(math.Pow(delayBucketGrowth, float64(i)) * float64(time.Microsecond))
				return min(upper, h.max)
			}
		}
		return h.max
	}
	s.P50, s.P99 = quantile(0.50), quantile(0.99)
	return s
}

// AnswerToBridge summarises the answer-to-bridge delays of the queue and ring group calls
// bridged since the engine started.
func (e *Engine) AnswerToBridge() DelaySummary { return e.answerDelay.summary() }
