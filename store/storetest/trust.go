package storetest

import (
	"net/netip"
	"testing"

	"switchboard"
)

// testTrustGrants covers the operator's grants: stored masked, listed per account or for
// all, a repeat is a conflict, an unknown account not found, and a withdrawal touches only
// the named account's grant.
func testTrustGrants(t *testing.T, f *fixture) {
	wide := netip.MustParsePrefix("10.1.2.3/8")
	g := &switchboard.TrustGrant{AccountID: f.a.ID, Prefix: wide}
	mustOK(t, f.db.CreateTrustGrant(f.ctx, g))
	if g.Prefix.String() != "10.0.0.0/8" || g.CreatedAt.IsZero() {
		t.Fatalf("created grant = %+v; want the masked prefix and a creation time", g)
	}
	mustOK(t, f.db.CreateTrustGrant(f.ctx, &switchboard.TrustGrant{AccountID: f.b.ID, Prefix: netip.MustParsePrefix("2001:db8::/32")}))
	wantField(t, f.db.CreateTrustGrant(f.ctx, &switchboard.TrustGrant{AccountID: f.a.ID, Prefix: wide}), switchboard.ECONFLICT, "prefix")
	wantCode(t, f.db.CreateTrustGrant(f.ctx, &switchboard.TrustGrant{AccountID: 999999, Prefix: wide}), switchboard.ENOTFOUND)

	mine, err := f.db.ListTrustGrants(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(mine) != 1 || mine[0].Prefix.String() != "10.0.0.0/8" || mine[0].AccountID != f.a.ID {
		t.Fatalf("A's grants = %+v; want 10.0.0.0/8 only", mine)
	}
	all, err := f.db.ListTrustGrants(f.ctx, 0)
	mustOK(t, err)
	if len(all) != 2 {
		t.Fatalf("all grants = %+v; want A's and B's", all)
	}
	// B cannot withdraw A's grant; A can.
	wantCode(t, f.db.DeleteTrustGrant(f.ctx, f.b.ID, wide), switchboard.ENOTFOUND)
	mustOK(t, f.db.DeleteTrustGrant(f.ctx, f.a.ID, wide))
	mine, err = f.db.ListTrustGrants(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(mine) != 0 {
		t.Fatalf("A's grants after the withdrawal = %+v", mine)
	}
}
