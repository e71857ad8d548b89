package api_test

import (
	"strconv"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
)

// With the read cache on, a change made through this server shows on the next request, and a
// change made behind its back (another process) shows once the TTL has passed.
func TestReadCacheFreshness(t *testing.T) {
	e := newSQLiteEnv(t, func(c *api.Config) { c.CacheTTL = time.Second })
	base := e.a.base(e.srv)
	users := func() int {
		r := e.request("GET", base+"/availability", e.a.devKey, nil)
		if r.status != 200 {
			t.Fatalf("availability: %d %s", r.status, r.raw)
		}
		return len(r.results())
	}
	before := users()

	// Through the API: seen at once.
	r := e.request("POST", base+"/users", e.a.devKey, map[string]any{"presence_id": "1077", "first_name": "New"})
	if r.status != 201 && r.status != 200 {
		t.Fatalf("create user: %d %s", r.status, r.raw)
	}
	if got := users(); got != before+1 {
		t.Fatalf("after a create through the API: %d users, want %d", got, before+1)
	}

	// Behind the server's back (as the admin command or another node would): seen after the TTL.
	if err := e.store.CreateUser(t.Context(), &switchboard.User{AccountID: e.a.account.ID, Extension: "1078"}); err != nil {
		t.Fatal(err)
	}
	if got := users(); got != before+1 {
		t.Fatalf("within the TTL the cached list should still be served: %d users", got)
	}
	e.clock.Advance(1100 * time.Millisecond)
	if got := users(); got != before+2 {
		t.Fatalf("after the TTL: %d users, want %d", got, before+2)
	}

	// A key revoked through the API stops working on the very next request, although it was
	// cached a moment before (and the clock has not moved, so the entry is still fresh).
	if r := e.request("GET", base+"/user/profile", e.a.userKey, nil); r.status != 200 {
		t.Fatalf("john's key before the revocation: %d %s", r.status, r.raw)
	}
	r = e.request("DELETE", base+"/api_keys/"+strconv.FormatInt(e.a.userKeyID, 10), e.a.devKey, nil)
	if r.status != 200 && r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := e.request("GET", base+"/user/profile", e.a.userKey, nil); r.status != 403 {
		t.Fatalf("revoked key answered %d, want 403", r.status)
	}
	// A key revoked behind the server's back stops working once the TTL has passed.
	if r := e.request("GET", base+"/user/profile", e.a.janeKey, nil); r.status != 200 {
		t.Fatalf("jane's key: %d %s", r.status, r.raw)
	}
	keys, _ := e.store.ListAPIKeys(t.Context(), e.a.account.ID)
	for _, k := range keys {
		if k.UserID == e.a.jane.ID {
			if err := e.store.RevokeAPIKey(t.Context(), e.a.account.ID, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.clock.Advance(1100 * time.Millisecond)
	if r := e.request("GET", base+"/user/profile", e.a.janeKey, nil); r.status != 403 {
		t.Fatalf("key revoked in the store answered %d after the TTL, want 403", r.status)
	}
}
