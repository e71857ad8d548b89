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
	keys  map[string]cachedKey // by key hash
	users map[int64]cachedUsers
}

type cachedKey struct {
	key     *switchboard.APIKey
	expires time.Time
}

type cachedUsers struct {
	users   []*switchboard.User
	expires time.Time
}

// maxCachedKeys bounds the key map; past it the map is simply cleared (a refill costs one
// lookup per key).
const maxCachedKeys = 100_000

func newReadCache(ttl time.Duration, now func() time.Time) *readCache {
	return &readCache{ttl: ttl, now: now, keys: map[string]cachedKey{}, users: map[int64]cachedUsers{}}
}

// apiKey returns the stored key with the hash, from the cache when fresh.
func (c *readCache) apiKey(ctx context.Context, st switchboard.Store, hash string) (*switchboard.APIKey, error) {
	if c.ttl <= 0 {
		return st.GetAPIKeyByHash(ctx, hash)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.keys[hash]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := st.GetAPIKeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[hash] = cachedKey{key: k, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return k, nil
}

// listUsers returns the account's users, from the cache when fresh. Callers must not
// modify what it returns.
func (c *readCache) listUsers(ctx context.Context, st switchboard.Store, accountID int64) ([]*switchboard.User, error) {
	if c.ttl <= 0 {
		return st.ListUsers(ctx, accountID)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.users[accountID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.users, nil
	}
	users, err := st.ListUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.users[accountID] = cachedUsers{users: users, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return users, nil
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
		if e.key.AccountID == accountID {
			delete(c.keys, h)
		}
	}
}
