package switchboard

import (
	"context"
	"net/netip"
	"time"
)

// Trunks are recognised by source address, so an address a trunk trusts is an address
// whose calls to the account's numbers are not challenged. A tenant's developer key may
// trust narrow prefixes that no other account trusts and no registered phone uses; anything
// more (a prefix wider than MaxTenantPrefixBits4/6, an address a registered phone uses)
// needs an operator's TrustGrant, made with `switchboard admin trust-cidr`.
const (
	MaxTenantPrefixBits4 = 24 // IPv4 prefixes shorter than /24 need a grant
	MaxTenantPrefixBits6 = 48 // IPv6 prefixes shorter than /48 need a grant
)

// TrustGrant is an operator's permission for an account's trunks to trust the addresses
// of Prefix (and any prefix inside it), whatever its width or whoever else uses it.
type TrustGrant struct {
	AccountID int64
	Prefix    netip.Prefix // masked
	CreatedAt time.Time
}

// Covers reports whether the grant allows trusting p.
func (g TrustGrant) Covers(p netip.Prefix) bool {
	return g.Prefix.Bits() <= p.Bits() && g.Prefix.Contains(p.Addr())
}

// WideTrust reports whether trusting p needs an operator's grant by its width alone.
func WideTrust(p netip.Prefix) bool {
	if p.Addr().Is4() {
		return p.Bits() < MaxTenantPrefixBits4
	}
	return p.Bits() < MaxTenantPrefixBits6
}

// TrustStore keeps the operator's trust grants. store.DB implements it.
type TrustStore interface {
	// CreateTrustGrant stores the grant; the account already holding that prefix is
	// ECONFLICT, an unknown account ENOTFOUND.
	CreateTrustGrant(ctx context.Context, g *TrustGrant) error
	// ListTrustGrants returns the account's grants, or every account's for accountID 0,
	// by account and prefix.
	ListTrustGrants(ctx context.Context, accountID int64) ([]TrustGrant, error)
	// DeleteTrustGrant withdraws a grant (trunks already stored keep their addresses).
	DeleteTrustGrant(ctx context.Context, accountID int64, prefix netip.Prefix) error
}
