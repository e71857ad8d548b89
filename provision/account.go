package provision

import (
	"context"

	"switchboard"
)

// UpdateAccount changes the account's settings.
func (s *Service) UpdateAccount(ctx context.Context, id int64, c switchboard.AccountChange) (*switchboard.Account, error) {
	return s.store.UpdateAccountFunc(ctx, id, func(a *switchboard.Account) error {
		set(&a.PublicEndpoints, c.PublicEndpoints)
		return nil
	})
}
