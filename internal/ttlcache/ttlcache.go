// Package ttlcache keeps values read from the store in memory for a short time, so that the
// hot requests (an API key per request, an SMS sender's number and settings per message) do
// not read the database each time. Whoever writes through this process drops the entries it
// changed at once; a change made elsewhere (the admin command, another node) shows within
// the TTL.
package ttlcache

import (
	"sync"
	"time"
)

// MaxEntries bounds a Map; past it the map is simply cleared (a refill costs one read per
// entry).
const MaxEntries = 100_000

// Map is a read-through cache. A zero or negative TTL turns it off: every Get reads.
type Map[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// New returns a Map; now is the clock (time.Now when nil).
func New[K comparable, V any](ttl time.Duration, now func() time.Time) *Map[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Map[K, V]{ttl: ttl, now: now, m: map[K]entry[V]{}}
}

// Get returns the value of k while it is fresh, else what read returns, kept for the TTL.
// An error is returned and not kept. Callers must not modify what it returns: it is shared.
func (c *Map[K, V]) Get(k K, read func() (V, error)) (V, error) {
	if c.ttl <= 0 {
		return read()
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.value, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) >= MaxEntries {
		clear(c.m)
	}
	c.m[k] = entry[V]{value: v, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}

// DeleteFunc drops the entries for which del returns true.
func (c *Map[K, V]) DeleteFunc(del func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if del(k, e.value) {
			delete(c.m, k)
		}
	}
}
