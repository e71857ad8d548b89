package api

import (
	"context"
	"sync"
	"time"
)

// RequestCounter counts requests in fixed windows shared by several nodes
// (redislimit.Limiter). Count returns the requests of client counted so far in the window
// of length window that holds now, this one included, and when that window ends.
type RequestCounter interface {
	Count(ctx context.Context, client string, window time.Duration, now time.Time) (count int, windowEnd time.Time, err error)
}

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
	// shared, when set, counts across nodes; when it fails the limiter counts in process,
	// so a Redis outage loosens the limit to one per node instead of failing requests.
	shared       RequestCounter
	sharedFailed func(error)

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

// check counts one request of client at now, across nodes when a shared counter is set.
func (l *rateLimiter) check(ctx context.Context, client string, now time.Time) rateDecision {
	if l.shared == nil {
		return l.allow(client, now)
	}
	n, end, err := l.shared.Count(ctx, client, l.window, now)
	if err != nil {
		if l.sharedFailed != nil {
			l.sharedFailed(err)
		}
		return l.allow(client, now)
	}
	if n > l.limit {
		return rateDecision{limit: l.limit, remaining: 0, retryAfter: end.Sub(now)}
	}
	return rateDecision{allowed: true, limit: l.limit, remaining: l.limit - n}
}

// sharedLimitFailed counts each failure of the shared counter and logs at most one a
// minute, so an outage of Redis is visible without flooding the log.
func (s *Server) sharedLimitFailed() func(error) {
	var mu sync.Mutex
	var lastLog time.Time
	return func(err error) {
		s.metrics.sharedLimitKO.Inc()
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); now.Sub(lastLog) >= time.Minute {
			lastLog = now
			s.logger.Warn("shared rate limit counter failed; counting in this process until it answers", "error", err)
		}
	}
}
