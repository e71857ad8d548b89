package api

import (
	"context"
	"time"

	"switchboard"
	"switchboard/internal/ttlcache"
)

// readCache keeps, for a short TTL, the two reads every hot request makes: the API key
// behind X-API-Key and the account's user list (availability). Any write request this
// process serves for an account drops that account's entries at once (and Config.Forget
// passes the news on), so a key revoked or a user changed through this server is seen on the
// very next request; a change made by another process (the admin command, another node on
// PostgreSQL) is seen within the TTL. A zero TTL turns caching off.
type readCache struct {
	keys   *ttlcache.Map[string, *switchboard.APIKey] // by key hash
	users  *ttlcache.Map[int64, []*switchboard.User]  // by account
	forget func(accountID int64)
}

func newReadCache(ttl time.Duration, now func() time.Time, forget func(accountID int64)) *readCache {
	if forget == nil {
		forget = func(int64) {}
	}
	return &readCache{keys: ttlcache.New[string, *switchboard.APIKey](ttl, now),
		users: ttlcache.New[int64, []*switchboard.User](ttl, now), forget: forget}
}

// apiKey returns the stored key with the hash, from the cache when fresh.
func (c *readCache) apiKey(ctx context.Context, st switchboard.Store, hash string) (*switchboard.APIKey, error) {
	return c.keys.Get(hash, func() (*switchboard.APIKey, error) { return st.GetAPIKeyByHash(ctx, hash) })
}

// listUsers returns the account's users, from the cache when fresh. Callers must not
// modify what it returns.
func (c *readCache) listUsers(ctx context.Context, st switchboard.Store, accountID int64) ([]*switchboard.User, error) {
	return c.users.Get(accountID, func() ([]*switchboard.User, error) { return st.ListUsers(ctx, accountID) })
}

// dropAccount forgets everything cached for the account, here and where Config.Forget says.
func (c *readCache) dropAccount(accountID int64) {
	c.users.DeleteFunc(func(id int64, _ []*switchboard.User) bool { return id == accountID })
	c.keys.DeleteFunc(func(_ string, k *switchboard.APIKey) bool { return k.AccountID == accountID })
	c.forget(accountID)
}
