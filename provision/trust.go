package provision

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"switchboard"
)

// A trunk's addresses are trusted: calls from them to the account's numbers are not
// challenged. So an address may be trusted by one account only (409, naming the field and
// never the other account), and a tenant may trust on its own only narrow prefixes that no
// registered phone uses; a wider prefix or a phone's address needs the operator's grant
// (403), made with `switchboard admin trust-cidr`.

// trustField is the API name of the field a trunk's sources come from.
func trustField(t *switchboard.Trunk) string {
	if len(t.InboundAddresses) > 0 {
		return "inbound_addresses"
	}
	return "host"
}

// newSources are the prefixes after trusts that before (nil on create) did not: only
// those are checked, so that renaming a trunk never fails on addresses already stored.
func newSources(before, after *switchboard.Trunk) []netip.Prefix {
	var old []netip.Prefix
	if before != nil {
		old = before.TrunkSources()
	}
	var out []netip.Prefix
	for _, p := range after.TrunkSources() {
		if !slices.Contains(old, p) {
			out = append(out, p)
		}
	}
	return out
}

// checkTrunkTrust refuses a trunk whose new addresses another account trusts, or that need
// an operator's grant the account does not hold.
func (s *Service) checkTrunkTrust(ctx context.Context, before, after *switchboard.Trunk) error {
	added := newSources(before, after)
	if len(added) == 0 {
		return nil
	}
	field := trustField(after)
	grants, err := s.store.ListTrustGrants(ctx, after.AccountID)
	if err != nil {
		return err
	}
	granted := func(p netip.Prefix) bool {
		return slices.ContainsFunc(grants, func(g switchboard.TrustGrant) bool { return g.Covers(p) })
	}
	var phones []netip.Addr
	for _, p := range added {
		if granted(p) {
			continue
		}
		if switchboard.WideTrust(p) {
			return switchboard.FieldError(switchboard.EAUTHINVALID, field,
				p.String()+" is wider than /24 (IPv4) or /48 (IPv6): the operator must allow it (switchboard admin trust-cidr)")
		}
		if phones == nil {
			if phones, err = s.registeredAddresses(ctx); err != nil {
				return err
			}
		}
		if slices.ContainsFunc(phones, p.Contains) {
			return switchboard.FieldError(switchboard.EAUTHINVALID, field,
				p.String()+" includes an address a registered phone uses: the operator must allow it (switchboard admin trust-cidr)")
		}
	}
	// Checked after the operator's part, so that a tenant hears nothing of other accounts'
	// addresses for a prefix it could not trust anyway.
	return s.checkNotTrustedElsewhere(ctx, after.AccountID, field, added)
}

// checkNotTrustedElsewhere refuses prefixes that overlap what another account's trunks or
// grants trust. The message names the field, never the other account.
func (s *Service) checkNotTrustedElsewhere(ctx context.Context, accountID int64, field string, prefixes []netip.Prefix) error {
	trunks, err := s.store.ListAllTrunks(ctx)
	if err != nil {
		return err
	}
	grants, err := s.store.ListTrustGrants(ctx, 0)
	if err != nil {
		return err
	}
	var theirs []netip.Prefix
	for _, t := range trunks {
		if t.AccountID != accountID {
			theirs = append(theirs, t.TrunkSources()...)
		}
	}
	for _, g := range grants {
		if g.AccountID != accountID {
			theirs = append(theirs, g.Prefix)
		}
	}
	for _, p := range prefixes {
		if slices.ContainsFunc(theirs, p.Overlaps) {
			return switchboard.FieldError(switchboard.ECONFLICT, field,
				p.String()+" overlaps addresses another account trusts: an address can be trusted by one account only")
		}
	}
	return nil
}

// registeredAddresses are the source addresses of every live registration.
func (s *Service) registeredAddresses(ctx context.Context) ([]netip.Addr, error) {
	regs, err := s.store.ListRegistrations(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := []netip.Addr{}
	for _, r := range regs {
		if !r.Expires.After(now) {
			continue
		}
		if ap, err := netip.ParseAddrPort(r.Source); err == nil {
			out = append(out, ap.Addr().Unmap())
		}
	}
	return out, nil
}

// GrantTrust is the operator's permission for the account's trunks to trust prefix (see
// switchboard.TrustGrant). It is refused (409) when the prefix overlaps what another
// account's trunks or grants trust. Not reachable through the API: `switchboard admin`.
func (s *Service) GrantTrust(ctx context.Context, accountID int64, prefix netip.Prefix) (*switchboard.TrustGrant, error) {
	if _, err := s.store.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	prefix = prefix.Masked()
	s.trustMu.Lock()
	defer s.trustMu.Unlock()
	if err := s.checkNotTrustedElsewhere(ctx, accountID, "prefix", []netip.Prefix{prefix}); err != nil {
		return nil, err
	}
	g := &switchboard.TrustGrant{AccountID: accountID, Prefix: prefix}
	if err := s.store.CreateTrustGrant(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// RevokeTrust withdraws a grant. Trunks already stored keep their addresses; a later change
// of their addresses needs the grant again.
func (s *Service) RevokeTrust(ctx context.Context, accountID int64, prefix netip.Prefix) error {
	return s.store.DeleteTrustGrant(ctx, accountID, prefix)
}
