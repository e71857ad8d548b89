package sip

import (
	"context"
	"testing"

	"switchboard"
)

// twoTenants gives the env's account the domain acme.test and a second account beta.test;
// each has a user 1001 with a device 1001 whose passwords differ.
func twoTenants(t *testing.T, e *testEnv) (beta *switchboard.Account, aUser, bUser *switchboard.User) {
	t.Helper()
	ctx := context.Background()
	e.account.SIPDomain = "acme.test"
	if err := e.db.UpdateAccount(ctx, e.account); err != nil {
		t.Fatal(err)
	}
	beta = &switchboard.Account{Name: "Beta", SIPDomain: "beta.test"}
	if err := e.db.CreateAccount(ctx, beta); err != nil {
		t.Fatal(err)
	}
	aUser = e.user(t, "1001")
	e.device(t, aUser, "1001", "acme-pw-1")
	bUser = &switchboard.User{AccountID: beta.ID, Extension: "1001", FirstName: "Beta", LastName: "1001", RingTimeSeconds: 30}
	if err := e.db.CreateUser(ctx, bUser); err != nil {
		t.Fatal(err)
	}
	e.device(t, bUser, "1001", "beta-pw-1")
	return beta, aUser, bUser
}

func TestDomainTellsTheTenant(t *testing.T) {
	e := startServer(t)
	beta, aUser, bUser := twoTenants(t, e)

	acme := dialPhone(t, "udp", e.udp, "127.0.0.1", "1001", "acme-pw-1")
	acme.domain = "acme.test"
	if res := acme.register("MD5", acme.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("acme's 1001 registering at acme.test: %d %s", res.StatusCode, res.Reason)
	}
	b := dialPhone(t, "udp", e.udp, "127.0.0.1", "1001", "beta-pw-1")
	b.domain = "beta.test"
	if res := b.register("SHA-256", b.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("beta's 1001 registering at beta.test: %d %s", res.StatusCode, res.Reason)
	}
	if on, _ := e.srv.UserPresence(e.account.ID, aUser.ID); !on {
		t.Error("acme's 1001 is not online")
	}
	if on, _ := e.srv.UserPresence(beta.ID, bUser.ID); !on {
		t.Error("beta's 1001 is not online")
	}
	if cs := e.srv.Contacts(beta.ID, bUser.ID); len(cs) != 1 {
		t.Errorf("beta's 1001 has contacts %+v; want its one phone", cs)
	}

	// Beta's password does not open acme's 1001, nor the other way round.
	for _, tc := range []struct{ domain, password string }{{"acme.test", "beta-pw-1"}, {"beta.test", "acme-pw-1"}} {
		p := dialPhone(t, "udp", e.udp, "127.0.0.3", "1001", tc.password)
		p.domain = tc.domain
		if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 401 {
			t.Errorf("1001 at %s with the other tenant's password: %d; want 401", tc.domain, res.StatusCode)
		}
	}
	// On the bare IP, 1001 is ambiguous: no one's password works.
	bare := dialPhone(t, "udp", e.udp, "127.0.0.3", "1001", "acme-pw-1")
	if res := bare.register("MD5", bare.contactHeader(3600)...); res.StatusCode != 401 {
		t.Errorf("1001 on the bare IP: %d; want 401 (ambiguous between accounts)", res.StatusCode)
	}
	if cs := e.srv.Contacts(e.account.ID, aUser.ID); len(cs) != 1 {
		t.Errorf("acme's 1001 has contacts %+v after the attempts; want its own phone only", cs)
	}
}

// A domain that belongs to no account is answered 404 without a challenge, whatever the
// method, and counts towards the source's ban.
func TestUnknownDomainIsNotFoundAndCountsTowardsABan(t *testing.T) {
	e := startServer(t)
	twoTenants(t, e)
	p := dialPhone(t, "udp", e.udp, "127.0.0.2", "1001", "acme-pw-1")
	p.domain = "gamma.test"
	for i, method := range []string{"REGISTER", "INVITE", "OPTIONS", "MESSAGE", "SUBSCRIBE", "REGISTER", "OPTIONS", "MESSAGE", "SUBSCRIBE", "INVITE"} {
		var extra []string
		if method == "INVITE" || method == "REGISTER" {
			extra = p.contactHeader(3600)[:1]
		}
		res := p.do(method, extra...)
		if res.StatusCode != 404 || len(res.GetHeaders("WWW-Authenticate"))+len(res.GetHeaders("Proxy-Authenticate")) != 0 {
			t.Errorf("%s %d for gamma.test: %d %s; want 404 without a challenge", method, i, res.StatusCode, res.Reason)
		}
	}
	if got := e.counter(t, e.srv.metrics.bans); got != 1 {
		t.Errorf("bans after 10 requests for an unknown domain = %v; want 1", got)
	}
	// The honest phones elsewhere are untouched.
	acme := dialPhone(t, "udp", e.udp, "127.0.0.1", "1001", "acme-pw-1")
	acme.domain = "acme.test"
	if res := acme.register("MD5", acme.contactHeader(3600)...); res.StatusCode != 200 {
		t.Errorf("acme's phone after the scan: %d", res.StatusCode)
	}
	if res := acme.do("OPTIONS"); res.StatusCode != 200 {
		t.Errorf("OPTIONS from acme.test: %d; want 200", res.StatusCode)
	}
}

// With no account having a domain, any host works as it always has: a single-tenant
// deployment's phones may use whatever name they know the server by.
func TestWithoutDomainsAnyHostWorks(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice", "alice-pw-1")
	for _, host := range []string{"", "pbx.example", "LOCALHOST"} {
		p := dialPhone(t, "udp", e.udp, "127.0.0.1", "alice", "alice-pw-1")
		p.domain = host
		if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 200 {
			t.Errorf("REGISTER at %q: %d %s; want 200", host, res.StatusCode, res.Reason)
		}
	}
}
