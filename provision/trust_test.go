package provision_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// refusal checks err is an *Error with code naming field, and that its message does not
// name the other account.
func refusal(t *testing.T, err error, code, field string) string {
	t.Helper()
	var e *switchboard.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v; want %s", err, code)
	}
	problem, ok := e.Details[field]
	if !ok {
		t.Fatalf("error %s names %v; want %q", code, e.Details, field)
	}
	return problem
}

func trunk(host string, addrs ...string) switchboard.TrunkChange {
	c := switchboard.TrunkChange{Name: ptr("Carrier"), Host: ptr(host)}
	if addrs != nil {
		c.InboundAddresses = &addrs
	}
	return c
}

func TestTrunkAddressesAreTrustedByOneAccountOnly(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateTrunk(f.ctx, f.a, trunk("carrier-a.example", "192.0.2.10", "198.51.100.0/24")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     switchboard.TrunkChange
		field string
	}{
		{"same host", trunk("192.0.2.10"), "host"},
		{"address inside A's prefix", trunk("carrier.example", "198.51.100.7"), "inbound_addresses"},
		{"prefix around A's host", trunk("carrier.example", "192.0.2.0/24"), "inbound_addresses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateTrunk(f.ctx, f.b, tc.c)
			problem := refusal(t, err, switchboard.ECONFLICT, tc.field)
			if !strings.Contains(problem, "another account") || strings.Contains(problem, "Account") {
				t.Errorf("problem %q; want it to say another account trusts it, without naming it", problem)
			}
		})
	}
	// B's own trunk elsewhere is fine, and moving it onto A's addresses is refused.
	b, err := f.svc.CreateTrunk(f.ctx, f.b, trunk("203.0.113.5"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateTrunk(f.ctx, f.b, b.ID, switchboard.TrunkChange{Host: ptr("192.0.2.10")})
	refusal(t, err, switchboard.ECONFLICT, "host")
	if got, _ := f.st.GetTrunk(f.ctx, f.b, b.ID); got.Host != "203.0.113.5" {
		t.Errorf("refused update stored host %q", got.Host)
	}
	// A may rename its trunk and keep its addresses.
	ts, _ := f.st.ListTrunks(f.ctx, f.a)
	if _, err := f.svc.UpdateTrunk(f.ctx, f.a, ts[0].ID, switchboard.TrunkChange{Name: ptr("Renamed")}); err != nil {
		t.Errorf("renaming A's trunk: %v", err)
	}
	if all, _ := f.st.ListAllTrunks(f.ctx); len(all) != 2 {
		t.Errorf("%d trunks stored; want A's and B's one each", len(all))
	}
}

func TestWideOrPhoneAddressesNeedTheOperator(t *testing.T) {
	f := newFixture(t)
	dev, _, err := f.svc.CreateDevice(f.ctx, f.a, f.ann.ID, switchboard.DeviceChange{SIPUsername: ptr("ann"), SIPPassword: ptr("ann-pw-12345")})
	if err != nil {
		t.Fatal(err)
	}
	// A trunk stored before a phone registered from its address stays changeable.
	early, err := f.svc.CreateTrunk(f.ctx, f.b, trunk("192.0.2.60"))
	must(t, err)
	must(t, f.st.ReplaceUserRegistrations(f.ctx, f.a, f.ann.ID, []switchboard.Registration{{AccountID: f.a, UserID: f.ann.ID,
		DeviceID: dev.ID, Contact: "sip:ann@192.0.2.50:5060", Expires: time.Now().Add(time.Hour), CallID: "c", CSeq: 1,
		Source: "192.0.2.50:5060", Transport: "UDP"}, {AccountID: f.a, UserID: f.ann.ID,
		DeviceID: dev.ID, Contact: "sip:ann@192.0.2.60:5060", Expires: time.Now().Add(time.Hour), CallID: "c", CSeq: 1,
		Source: "192.0.2.60:5060", Transport: "UDP"}}))
	if _, err := f.svc.UpdateTrunk(f.ctx, f.b, early.ID, switchboard.TrunkChange{Name: ptr("Renamed"), Host: ptr("192.0.2.60")}); err != nil {
		t.Errorf("renaming a trunk whose address a phone now uses: %v", err)
	}

	for _, tc := range []struct {
		name, grant string
		c           switchboard.TrunkChange
		field, says string
	}{
		{"everything", "0.0.0.0/0", trunk("carrier.example", "0.0.0.0/0"), "inbound_addresses", "wider than /24"},
		{"a /16", "10.0.0.0/8", trunk("carrier.example", "10.1.0.0/16"), "inbound_addresses", "wider than /24"},
		{"an IPv6 /32", "2001:db8::/32", trunk("carrier.example", "2001:db8::/32"), "inbound_addresses", "wider than /24"},
		{"a phone's address as host", "192.0.2.50/32", trunk("192.0.2.50"), "host", "registered phone"},
		{"a /24 with a phone in it", "192.0.2.0/24", trunk("carrier.example", "192.0.2.0/24"), "inbound_addresses", "registered phone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateTrunk(f.ctx, f.b, tc.c)
			problem := refusal(t, err, switchboard.EAUTHINVALID, tc.field)
			if !strings.Contains(problem, tc.says) || !strings.Contains(problem, "operator must allow") {
				t.Errorf("problem %q; want %q and that the operator must allow it", problem, tc.says)
			}
			// With the operator's grant, the same trunk is stored; withdrawn, nothing else may.
			g, err := f.svc.GrantTrust(f.ctx, f.b, netip.MustParsePrefix(tc.grant))
			must(t, err)
			tr, err := f.svc.CreateTrunk(f.ctx, f.b, tc.c)
			if err != nil {
				t.Fatalf("with the grant: %v", err)
			}
			must(t, f.svc.DeleteTrunk(f.ctx, f.b, tr.ID))
			must(t, f.svc.RevokeTrust(f.ctx, f.b, g.Prefix))
		})
	}
	// Narrow and phone-free: the tenant needs nobody.
	if _, err := f.svc.CreateTrunk(f.ctx, f.b, trunk("carrier.example", "198.51.100.0/24", "2001:db8:1::/48")); err != nil {
		t.Errorf("a /24 and a /48 no phone uses: %v", err)
	}
}

func TestOperatorGrantsDoNotOverlapAcrossAccounts(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateTrunk(f.ctx, f.a, trunk("192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.GrantTrust(f.ctx, f.b, netip.MustParsePrefix("0.0.0.0/0"))
	refusal(t, err, switchboard.ECONFLICT, "prefix")
	_, err = f.svc.GrantTrust(f.ctx, f.b, netip.MustParsePrefix("10.0.0.0/8"))
	must(t, err)
	// A can neither be granted B's prefix nor trust an address inside it.
	_, err = f.svc.GrantTrust(f.ctx, f.a, netip.MustParsePrefix("10.9.0.0/16"))
	refusal(t, err, switchboard.ECONFLICT, "prefix")
	_, err = f.svc.CreateTrunk(f.ctx, f.a, trunk("10.9.9.9"))
	refusal(t, err, switchboard.ECONFLICT, "host")
	if g, _ := f.st.ListTrustGrants(f.ctx, 0); len(g) != 1 {
		t.Errorf("grants stored: %+v; want only B's", g)
	}
}

// A device's password is hashed for its account's realm: the SIP domain when there is one.
func TestDevicePasswordIsForTheAccountsRealm(t *testing.T) {
	f := newFixture(t)
	d, _, err := f.svc.CreateDevice(f.ctx, f.a, f.ann.ID, switchboard.DeviceChange{SIPUsername: ptr("ann-desk"), SIPPassword: ptr("ann-pw-12345")})
	must(t, err)
	if d.DigestRealm() != switchboard.SIPRealm {
		t.Errorf("realm without a domain = %q", d.DigestRealm())
	}
	_, err = f.svc.UpdateAccount(f.ctx, f.a, switchboard.AccountChange{SIPDomain: ptr("acme.example")})
	must(t, err)
	for name, set := range map[string]func() (*switchboard.Device, error){
		"new password": func() (*switchboard.Device, error) {
			return f.svc.UpdateDevice(f.ctx, f.a, d.ID, switchboard.DeviceChange{SIPPassword: ptr("ann-pw-67890")})
		},
		"reset": func() (*switchboard.Device, error) {
			d, _, err := f.svc.ResetDevicePassword(f.ctx, f.a, d.ID)
			return d, err
		},
		"new device": func() (*switchboard.Device, error) {
			d, _, err := f.svc.CreateDevice(f.ctx, f.a, f.ann.ID, switchboard.DeviceChange{})
			return d, err
		},
	} {
		got, err := set()
		must(t, err)
		stored, err := f.st.GetDevice(f.ctx, f.a, got.ID)
		must(t, err)
		if stored.DigestRealm() != "acme.example" {
			t.Errorf("%s: stored realm %q; want the account's domain", name, stored.DigestRealm())
		}
	}
}

// Two accounts asking for the same address at the same moment: one gets it, the other 409.
func TestConcurrentTrustOfOneAddressGoesToOneAccount(t *testing.T) {
	f := newFixture(t)
	const addresses = 20
	type result struct {
		addr int
		err  error
	}
	results := make(chan result, 2*addresses)
	var wg sync.WaitGroup
	for i := range addresses {
		for _, acct := range []int64{f.a, f.b} {
			wg.Go(func() {
				_, err := f.svc.CreateTrunk(f.ctx, acct, trunk(fmt.Sprintf("198.51.100.%d", i+1)))
				results <- result{i, err}
			})
		}
	}
	wg.Wait()
	close(results)
	won := map[int]int{}
	for r := range results {
		switch code := switchboard.ErrorCode(r.err); code {
		case "":
			won[r.addr]++
		case switchboard.ECONFLICT:
		default:
			t.Errorf("address %d: %v", r.addr, r.err)
		}
	}
	for i := range addresses {
		if won[i] != 1 {
			t.Errorf("198.51.100.%d trusted by %d accounts; want 1", i+1, won[i])
		}
	}
}
