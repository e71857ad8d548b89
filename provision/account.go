package provision

import (
	"context"
	"strings"

	"switchboard"
)

// UpdateAccount changes the account's settings.
func (s *Service) UpdateAccount(ctx context.Context, id int64, c switchboard.AccountChange) (*switchboard.Account, error) {
	return s.store.UpdateAccountFunc(ctx, id, func(a *switchboard.Account) error {
		set(&a.PublicEndpoints, c.PublicEndpoints)
		if c.SIPDomain != nil {
			// DNS names are case-insensitive; SIP hosts are compared in lowercase.
			a.SIPDomain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(*c.SIPDomain), "."))
		}
		return a.Validate()
	})
}
