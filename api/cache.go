package api

import (
	"context"
	"sync"
	"time"

	"switchboard"
)

// readCache keeps, for a short TTL, the two reads every hot request makes: the API key
// behind X-API-Key and the account's user list (availability). Any write request this
// process serves for an account drops that account's entries at once, so a key revoked or
// a user changed through this server is seen on the very next request; a change made by
// another process (the admin command, another node on PostgreSQL) is seen within the TTL.
// A zero TTL turns caching off.
type readCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	keys  map[string]cached[*switchboard.APIKey] // by key hash
	users map[int64]cached[[]*switchboard.User]  // by account
}

// cached is a value read from the store, served until it expires.
type cached[V any] struct {
	value   V
	expires time.Time
}

// maxCachedEntries bounds each map; past it the map is simply cleared (a refill costs one
// read per entry).
const maxCachedEntries = 100_000

func newReadCache(ttl time.Duration, now func() time.Time) *readCache {
	return &readCache{ttl: ttl, now: now, keys: map[string]cached[*switchboard.APIKey]{}, users: map[int64]cached[[]*switchboard.User]{}}
}

// readThrough returns m[k] while it is fresh, else what read returns, kept for the TTL.
func readThrough[K comparable, V any](c *readCache, m map[K]cached[V], k K, read func() (V, error)) (V, error) {
	if c.ttl <= 0 {
		return read()
	}
	now := c.now()
	c.mu.Lock()
	e, ok := m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.value, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(m) >= maxCachedEntries {
		clear(m)
	}
	m[k] = cached[V]{value: v, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}

// apiKey returns the stored key with the hash, from the cache when fresh.
func (c *readCache) apiKey(ctx context.Context, st switchboard.Store, hash string) (*switchboard.APIKey, error) {
	return readThrough(c, c.keys, hash, func() (*switchboard.APIKey, error) { return st.GetAPIKeyByHash(ctx, hash) })
}

// listUsers returns the account's users, from the cache when fresh. Callers must not
// modify what it returns.
func (c *readCache) listUsers(ctx context.Context, st switchboard.Store, accountID int64) ([]*switchboard.User, error) {
	return readThrough(c, c.users, accountID, func() ([]*switchboard.User, error) { return st.ListUsers(ctx, accountID) })
}

// dropAccount forgets everything cached for the account.
func (c *readCache) dropAccount(accountID int64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.users, accountID)
	for h, e := range c.keys {
		if e.value.AccountID == accountID {
			delete(c.keys, h)
		}
	}
}
