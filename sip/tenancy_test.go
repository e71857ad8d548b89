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
	domainDevice(t, e, aUser, "acme.test", "1001", "acme-pw-1")
	bUser = &switchboard.User{AccountID: beta.ID, Extension: "1001", FirstName: "Beta", LastName: "1001", RingTimeSeconds: 30}
	if err := e.db.CreateUser(ctx, bUser); err != nil {
		t.Fatal(err)
	}
	domainDevice(t, e, bUser, "beta.test", "1001", "beta-pw-1")
	return beta, aUser, bUser
}

// domainDevice gives u a device whose password is hashed for the realm of its account's
// domain, as provisioning does.
func domainDevice(t *testing.T, e *testEnv, u *switchboard.User, domain, username, password string) {
	t.Helper()
	d := &switchboard.Device{AccountID: u.AccountID, UserID: u.ID, SIPUsername: username, Realm: domain}
	d.SetSIPPassword(password)
	if err := e.db.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// tenantPhone is a phone of the domain, answering challenges in the domain's realm.
func tenantPhone(t *testing.T, e *testEnv, localIP, domain, user, password string) *phone {
	t.Helper()
	p := dialPhone(t, "udp", e.udp, localIP, user, password)
	p.domain, p.realm = domain, domain
	return p
}

func TestDomainTellsTheTenant(t *testing.T) {
	// SHA-256 offered too: its HA1 binds the realm, which is what this checks.
	e := startServer(t, func(c *Config) { c.Digest = "sha256,md5" })
	beta, aUser, bUser := twoTenants(t, e)

	acme := tenantPhone(t, e, "127.0.0.1", "acme.test", "1001", "acme-pw-1")
	first := acme.do("REGISTER", acme.contactHeader(3600)...)
	for _, c := range challenges(t, first, "WWW-Authenticate") {
		if c.realm != "acme.test" {
			t.Errorf("challenge for acme.test has realm %q; want the domain", c.realm)
		}
	}
	if res := acme.register("MD5", acme.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("acme's 1001 registering at acme.test: %d %s", res.StatusCode, res.Reason)
	}
	b := tenantPhone(t, e, "127.0.0.1", "beta.test", "1001", "beta-pw-1")
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
		p := tenantPhone(t, e, "127.0.0.3", tc.domain, "1001", tc.password)
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
	acme := tenantPhone(t, e, "127.0.0.1", "acme.test", "1001", "acme-pw-1")
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

// A password is hashed for its account's realm: one set before the account had a domain
// does not answer the domain's challenge (the operator sets it again), and an answer in
// another realm than the one challenged fails.
func TestRealmIsTheAccountsDomain(t *testing.T) {
	// SHA-256 offered too: its HA1 binds the realm, which is what this checks.
	e := startServer(t, func(c *Config) { c.Digest = "sha256,md5" })
	u := e.user(t, "1001")
	e.device(t, u, "alice", "alice-pw-1") // hashed for switchboard.SIPRealm
	e.account.SIPDomain = "acme.test"
	if err := e.db.UpdateAccount(context.Background(), e.account); err != nil {
		t.Fatal(err)
	}
	old := tenantPhone(t, e, "127.0.0.1", "acme.test", "alice", "alice-pw-1")
	if res := old.register("MD5", old.contactHeader(3600)...); res.StatusCode != 401 {
		t.Errorf("a password hashed before the domain, at the domain: %d; want 401", res.StatusCode)
	}
	wrongRealm := tenantPhone(t, e, "127.0.0.1", "acme.test", "alice", "alice-pw-1")
	wrongRealm.realm = switchboard.SIPRealm
	if res := wrongRealm.register("MD5", wrongRealm.contactHeader(3600)...); res.StatusCode != 401 {
		t.Errorf("answering acme.test's challenge in realm switchboard: %d; want 401", res.StatusCode)
	}
	bob := e.user(t, "1002")
	domainDevice(t, e, bob, "acme.test", "bob", "bob-pw-1")
	if res := tenantPhone(t, e, "127.0.0.1", "acme.test", "bob", "bob-pw-1").register("SHA-256"); res.StatusCode != 200 {
		t.Errorf("a password hashed for acme.test: %d; want 200", res.StatusCode)
	}
}
