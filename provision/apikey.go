package provision

import (
	"context"
	"net/netip"
	"strings"

	"switchboard"
)

// MaxAllowedIPs bounds a key's allowlist.
const MaxAllowedIPs = 100

// CreateAPIKey issues a key: a user key for a user of the account, or a developer key.
func (s *Service) CreateAPIKey(ctx context.Context, accountID int64, c switchboard.APIKeyChange) (*switchboard.APIKey, string, error) {
	v := switchboard.ValidationErrors{}
	switch c.Kind {
	case switchboard.KeyUser:
		if c.UserID <= 0 {
			v.Add("user_id", "is required for a user key")
		} else if err := s.checkUserRef(ctx, v, accountID, "user_id", c.UserID); err != nil {
			return nil, "", err
		}
	case switchboard.KeyDeveloper:
		if c.UserID != 0 {
			v.Add("user_id", "must be absent for a developer key")
		}
	default:
		v.Add("kind", "must be user or developer")
	}
	if len(c.Name) > 100 {
		v.Add("name", "must be at most 100 characters")
	}
	allowed := allowedIPs(v, c.AllowedIPs)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	plaintext, k := switchboard.NewAPIKey(c.Kind)
	k.AccountID, k.UserID, k.Name, k.AllowedIPs = accountID, c.UserID, c.Name, allowed
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, plaintext, nil
}

// allowedIPs returns the allowlist in canonical form: masked prefixes, unmapped addresses.
func allowedIPs(v switchboard.ValidationErrors, typed []string) []string {
	if len(typed) > MaxAllowedIPs {
		v.Add("allowed_ips", "must list at most 100 entries")
	}
	allowed := make([]string, 0, len(typed))
	for _, a := range typed {
		a = strings.TrimSpace(a)
		if p, err := netip.ParsePrefix(a); err == nil {
			allowed = append(allowed, p.Masked().String())
		} else if addr, err := netip.ParseAddr(a); err == nil {
			allowed = append(allowed, addr.Unmap().String())
		} else {
			v.Add("allowed_ips", "each entry must be an IP address or CIDR, e.g. 203.0.113.7 or 203.0.113.0/24")
		}
	}
	return allowed
}

// RevokeAPIKey revokes the key: it stops working at once.
func (s *Service) RevokeAPIKey(ctx context.Context, accountID, id int64) error {
	return s.store.RevokeAPIKey(ctx, accountID, id)
}
