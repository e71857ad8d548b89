package api_test

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"switchboard/api"
	"switchboard/redislimit/redistest"
)

// Two nodes behind one load balancer share a key's budget through Redis: requests to
// either count against it, and the one over the limit gets 429 from whichever node it hits.
func TestSharedRateLimitAcrossNodes(t *testing.T) {
	limiter := redistest.Open(t)
	shared := func(c *api.Config) { c.KeyRequestsPerMinute, c.SharedRateLimits = 5, limiter }
	e := newSQLiteEnv(t, shared)
	cfg := api.Config{Store: e.store, Live: e.live, Now: e.clock.Now}
	shared(&cfg)
	node2 := httptest.NewServer(api.New(cfg))
	t.Cleanup(node2.Close)

	nodes := []string{e.a.base(e.srv), e.a.base(node2)}
	for i := 1; i <= 5; i++ {
		r := e.request("GET", nodes[i%2]+"/queues", e.a.devKey, nil)
		expectOK(t, r, 200, "List of queues")
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(5-i) {
			t.Fatalf("request %d (node %d): remaining %q, want %d counted across both nodes", i, i%2+1, got, 5-i)
		}
	}
	e.clock.Advance(20 * time.Second)
	for n, base := range nodes {
		r := e.request("GET", base+"/queues", e.a.devKey, nil)
		expectError(t, r, 429, "RATE_LIMITED")
		if r.header.Get("Retry-After") != "40" || r.header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("node %d: 429 with retry-after %q remaining %q, want 40 and 0", n+1,
				r.header.Get("Retry-After"), r.header.Get("X-RateLimit-Remaining"))
		}
	}
	e.clock.Advance(40 * time.Second)
	expectOK(t, e.request("GET", nodes[1]+"/queues", e.a.devKey, nil), 200, "List of queues")
}

// When Redis fails, each node limits on its own instead of failing the request.
func TestSharedRateLimitFallsBackToTheProcess(t *testing.T) {
	limiter := redistest.Open(t)
	limiter.Close() // every Count now fails
	e := newSQLiteEnv(t, func(c *api.Config) { c.KeyRequestsPerMinute, c.SharedRateLimits = 3, limiter })
	url := e.a.base(e.srv) + "/queues"
	for i := 1; i <= 3; i++ {
		r := e.request("GET", url, e.a.devKey, nil)
		expectOK(t, r, 200, "List of queues")
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(3-i) {
			t.Fatalf("request %d: remaining %q, want %d from the in-process count", i, got, 3-i)
		}
	}
	expectError(t, e.request("GET", url, e.a.devKey, nil), 429, "RATE_LIMITED")
}
