package pbx

import (
	"context"

	"switchboard"
)

// Trunk provisioning goes through the engine, which seals the password with the server key
// and sees the change at once (the source addresses it recognises). The API's trunk routes
// use these methods.

// CreateTrunk stores a new trunk with its password sealed.
func (e *Engine) CreateTrunk(ctx context.Context, t *switchboard.Trunk, password string) error {
	if err := e.sealInto(t, &password); err != nil {
		return err
	}
	if err := e.store.CreateTrunk(ctx, t); err != nil {
		return err
	}
	e.InvalidateTrunks()
	return nil
}

// UpdateTrunk replaces the trunk's fields; a nil password keeps the stored one.
func (e *Engine) UpdateTrunk(ctx context.Context, t *switchboard.Trunk, password *string) error {
	t.SealedPassword = nil
	if err := e.sealInto(t, password); err != nil {
		return err
	}
	if err := e.store.UpdateTrunk(ctx, t); err != nil {
		return err
	}
	e.InvalidateTrunks()
	return nil
}

// DeleteTrunk removes the trunk.
func (e *Engine) DeleteTrunk(ctx context.Context, accountID, id int64) error {
	if err := e.store.DeleteTrunk(ctx, accountID, id); err != nil {
		return err
	}
	e.InvalidateTrunks()
	return nil
}

// GetTrunk returns the account's trunk.
func (e *Engine) GetTrunk(ctx context.Context, accountID, id int64) (*switchboard.Trunk, error) {
	return e.store.GetTrunk(ctx, accountID, id)
}

// ListTrunks returns the account's trunks.
func (e *Engine) ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error) {
	return e.store.ListTrunks(ctx, accountID)
}

func (e *Engine) sealInto(t *switchboard.Trunk, password *string) error {
	if password == nil || *password == "" {
		return nil
	}
	if len(*password) > 256 {
		return &switchboard.Error{Code: switchboard.EBADREQUEST, Message: "The password must be at most 256 characters",
			Details: map[string]string{"password": "must be at most 256 characters"}}
	}
	if e.cfg.Sealer == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Trunk passwords cannot be stored: no secret key is configured")
	}
	t.SealedPassword = e.cfg.Sealer.Seal(*password)
	return nil
}
