package sip

import (
	"context"
	"sync"
	"time"

	"switchboard"
)

// maxCachedDevices bounds the credential cache; past it, lookups go to the store uncached.
const maxCachedDevices = 100_000

// deviceCache keeps the devices that digest authentication looked up, for Config.
// DeviceCacheTTL, so that a phone's REGISTER does not read its credentials from the store
// each time (that read was a sixth of a REGISTER's CPU, and its deep stack grew the
// request goroutine's). Only devices found are kept: an unknown username is looked up
// every time, so a scan for usernames cannot fill the cache, and a device just created
// registers at once. A password changed or a device deleted takes up to the TTL to show.
type deviceCache struct {
	ttl time.Duration

	mu      sync.RWMutex
	devices map[deviceCacheKey]cachedDevice
}

// deviceCacheKey is a lookup: by username within an account, or (accountID 0) by the
// username alone as GetDeviceBySIPUsername does.
type deviceCacheKey struct {
	accountID int64
	username  string
}

type cachedDevice struct {
	dev     *switchboard.Device
	expires time.Time
}

// device returns the device with the SIP username, of acct when not nil, from the cache or
// the store.
func (s *Server) device(acct *switchboard.Account, username string) (*switchboard.Device, error) {
	c := &s.devices
	key := deviceCacheKey{username: username}
	if acct != nil {
		key.accountID = acct.ID
	}
	now := s.now()
	if c.ttl > 0 {
		c.mu.RLock()
		e, ok := c.devices[key]
		c.mu.RUnlock()
		if ok && now.Before(e.expires) {
			d := *e.dev // a copy: the caller may keep or change it
			return &d, nil
		}
	}
	// The timeout (a timer) only for a store read: a cached answer needs none.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var dev *switchboard.Device
	var err error
	if acct != nil {
		dev, err = s.cfg.Store.GetAccountDeviceBySIPUsername(ctx, acct.ID, username)
	} else {
		dev, err = s.cfg.Store.GetDeviceBySIPUsername(ctx, username)
	}
	if err != nil || c.ttl <= 0 {
		return dev, err
	}
	cached := *dev
	c.mu.Lock()
	if c.devices == nil {
		c.devices = make(map[deviceCacheKey]cachedDevice)
	}
	if _, ok := c.devices[key]; ok || len(c.devices) < maxCachedDevices {
		c.devices[key] = cachedDevice{dev: &cached, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return dev, nil
}

// prune drops expired entries; the sweeper calls it.
func (c *deviceCache) prune(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.devices {
		if !now.Before(e.expires) {
			delete(c.devices, k)
		}
	}
}
