// Package redislimit counts API requests in Redis, so that several switchboard nodes behind
// one load balancer share one rate limit per API key and per client IP (ARCHITECTURE.md,
// scale-out). The windows are the same fixed one-minute windows the in-process limiter
// keeps, aligned to the clock so every node agrees where a window starts.
package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// countScript increments a window's counter and sets its expiry with the first request,
// atomically, so a counter never outlives its window.
var countScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Limiter is a fixed-window request counter in Redis.
type Limiter struct {
	client *redis.Client
	prefix string
}

// Open connects to the Redis server at url (redis://[user:password@]host:port/db) and checks
// that it answers. prefix separates the keys of one deployment from others in the server.
func Open(ctx context.Context, url, prefix string) (*Limiter, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redislimit: %q is not a redis:// URL: %w", url, err)
	}
	opts.ReadTimeout, opts.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redislimit: Redis at %s does not answer: %w", opts.Addr, err)
	}
	return &Limiter{client: c, prefix: prefix}, nil
}

// Count counts one request of client in the window of length window that holds now, and
// returns the requests counted in that window so far (this one included) and when the
// window ends.
func (l *Limiter) Count(ctx context.Context, client string, window time.Duration, now time.Time) (int, time.Time, error) {
	start := now.Truncate(window)
	end := start.Add(window)
	key := l.prefix + client + ":" + strconv.FormatInt(start.UnixMilli(), 10)
	n, err := countScript.Run(ctx, l.client, []string{key}, window.Milliseconds()).Int()
	if err != nil {
		return 0, end, fmt.Errorf("redislimit: counting %s: %w", client, err)
	}
	return n, end, nil
}

// Close closes the connection pool.
func (l *Limiter) Close() error { return l.client.Close() }
