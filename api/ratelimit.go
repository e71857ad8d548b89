package api

import (
	"sync"
	"time"
)

// rateLimiter is a fixed-window limiter: each client may make limit requests in a window
// that opens with its first request and lasts window; the next window opens with the first
// request after that. A fixed window is exact for "N requests per minute" as the seed states
// it, and its counters make X-RateLimit-Remaining and Retry-After plain to compute.
//
// Memory is bounded: windows that have ended are swept at most once per window, and when
// maxEntries clients are tracked at once an arbitrary one is forgotten to make room (it
// simply gets a fresh window — lenient, never wrongly strict).
type rateLimiter struct {
	limit      int
	window     time.Duration
	maxEntries int

	mu        sync.Mutex
	clients   map[string]*rateWindow
	lastSweep time.Time
}

type rateWindow struct {
	start time.Time
	count int
}

// maxLimiterEntries bounds each limiter's map.
const maxLimiterEntries = 100_000

func newRateLimiter(limit int, window time.Duration, maxEntries int) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, maxEntries: maxEntries, clients: map[string]*rateWindow{}}
}

// rateDecision is the outcome of one request against a limit.
type rateDecision struct {
	allowed    bool
	limit      int
	remaining  int
	retryAfter time.Duration // until the window ends; meaningful when !allowed
}

// allow counts one request of client at now.
func (l *rateLimiter) allow(client string, now time.Time) rateDecision {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.window {
		for k, w := range l.clients {
			if now.Sub(w.start) >= l.window {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	w := l.clients[client]
	if w == nil || now.Sub(w.start) >= l.window || now.Before(w.start) {
		if w == nil && len(l.clients) >= l.maxEntries {
			for k := range l.clients {
				delete(l.clients, k)
				break
			}
		}
		w = &rateWindow{start: now}
		l.clients[client] = w
	}
	if w.count >= l.limit {
		return rateDecision{limit: l.limit, remaining: 0, retryAfter: w.start.Add(l.window).Sub(now)}
	}
	w.count++
	return rateDecision{allowed: true, limit: l.limit, remaining: l.limit - w.count}
}
