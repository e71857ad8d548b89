package storetest

import (
	"fmt"
	"sync"
	"testing"

	"switchboard"
)

// setDomain sets (or with "" removes) the account's SIP domain.
func (f *fixture) setDomain(accountID int64, domain string) error {
	_, err := f.db.UpdateAccountFunc(f.ctx, accountID, func(a *switchboard.Account) error {
		a.SIPDomain = domain
		return nil
	})
	return err
}

// testSIPDomains covers per-account SIP domains: unique across accounts; SIP usernames
// unique inside an account always, and across accounts unless both have a domain; the
// lookups by (account, username) and by username alone (unambiguous only).
func testSIPDomains(t *testing.T, f *fixture) {
	if some, err := f.db.HasSIPDomains(f.ctx); err != nil || some {
		t.Fatalf("HasSIPDomains before any = %v, %v", some, err)
	}
	f.device(t, f.a.ID, f.ua.ID, "1001")
	// Neither account has a domain: usernames are unique across accounts, as ever.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.b.ID, f.ub.ID, "1001")), switchboard.ECONFLICT, "sip_username")

	mustOK(t, f.setDomain(f.a.ID, "acme.example"))
	wantField(t, f.setDomain(f.b.ID, "acme.example"), switchboard.ECONFLICT, "sip_domain")
	wantField(t, f.setDomain(f.b.ID, "Not A Domain"), switchboard.EBADREQUEST, "sip_domain")
	// Only A has one: B (no domain) still may not take A's username.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.b.ID, f.ub.ID, "1001")), switchboard.ECONFLICT, "sip_username")
	mustOK(t, f.setDomain(f.b.ID, "beta.example"))
	bDev := f.device(t, f.b.ID, f.ub.ID, "1001")
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.b.ID, f.ub.ID, "1001")), switchboard.ECONFLICT, "sip_username")

	// A device's realm round-trips; "" is switchboard.SIPRealm.
	realmDev := newDevice(f.b.ID, f.ub.ID, "b-realm")
	realmDev.Realm = "beta.example"
	mustOK(t, f.db.CreateDevice(f.ctx, realmDev))
	if got, err := f.db.GetDevice(f.ctx, f.b.ID, realmDev.ID); err != nil || got.DigestRealm() != "beta.example" {
		t.Fatalf("device realm read back = %q, %v", got.DigestRealm(), err)
	}
	if got, err := f.db.GetAccountDeviceBySIPUsername(f.ctx, f.b.ID, "1001"); err != nil || got.Realm != "" || got.DigestRealm() != switchboard.SIPRealm {
		t.Fatalf("default realm read back = %+v, %v", got, err)
	}
	a, err := f.db.GetAccountBySIPDomain(f.ctx, "beta.example")
	mustOK(t, err)
	if a.ID != f.b.ID || a.SIPDomain != "beta.example" {
		t.Fatalf("account of beta.example = %+v", a)
	}
	wantCode(t, errOf(f.db.GetAccountBySIPDomain(f.ctx, "gamma.example")), switchboard.ENOTFOUND)
	d, err := f.db.GetAccountDeviceBySIPUsername(f.ctx, f.b.ID, "1001")
	mustOK(t, err)
	if d.ID != bDev.ID {
		t.Fatalf("B's 1001 = device %d; want %d", d.ID, bDev.ID)
	}
	// By username alone, 1001 is now ambiguous: found nowhere.
	wantCode(t, errOf(f.db.GetDeviceBySIPUsername(f.ctx, "1001")), switchboard.ENOTFOUND)
	// Neither may drop its domain while they share a username.
	wantField(t, f.setDomain(f.a.ID, ""), switchboard.ECONFLICT, "sip_domain")
	if a, _ := f.db.GetAccount(f.ctx, f.a.ID); a.SIPDomain != "acme.example" {
		t.Fatalf("refused removal stored domain %q", a.SIPDomain)
	}
	// A third account without a domain: its usernames are unique across all accounts.
	c := &switchboard.Account{Name: "Account C"}
	mustOK(t, f.db.CreateAccount(f.ctx, c))
	uc := f.user(t, c.ID, "100")
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(c.ID, uc.ID, "1001")), switchboard.ECONFLICT, "sip_username")
	cDev := f.device(t, c.ID, uc.ID, "c-phone")
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.a.ID, f.ua.ID, "c-phone")), switchboard.ECONFLICT, "sip_username")
	d, err = f.db.GetDeviceBySIPUsername(f.ctx, "c-phone")
	mustOK(t, err)
	if d.ID != cDev.ID {
		t.Fatalf("c-phone by username = device %d; want %d", d.ID, cDev.ID)
	}
}

func errOf[T any](_ T, err error) error { return err }

// testSIPUsernameRace: two accounts without a domain creating one username at once — one
// gets it, the other CONFLICT, on both dialects.
func testSIPUsernameRace(t *testing.T, f *fixture) {
	const names = 10
	errs := make([][2]error, names)
	var wg sync.WaitGroup
	for i := range names {
		for j, acct := range []*switchboard.Account{f.a, f.b} {
			user := f.ua
			if j == 1 {
				user = f.ub
			}
			wg.Go(func() {
				errs[i][j] = f.db.CreateDevice(f.ctx, newDevice(acct.ID, user.ID, fmt.Sprintf("race-%d", i)))
			})
		}
	}
	wg.Wait()
	for i, pair := range errs {
		won := 0
		for _, err := range pair {
			switch switchboard.ErrorCode(err) {
			case "":
				won++
			case switchboard.ECONFLICT:
			default:
				t.Errorf("race-%d: %v", i, err)
			}
		}
		if won != 1 {
			t.Errorf("race-%d created in %d accounts; want 1", i, won)
		}
	}
}
