package provision

import (
	"context"
	"slices"

	"switchboard"
)

// maxTrunkPassword bounds a trunk's digest password.
const maxTrunkPassword = 256

// CreateTrunk stores a new trunk with its password sealed and tells the engine, which
// recognises calls by the trunks' addresses.
func (s *Service) CreateTrunk(ctx context.Context, accountID int64, c switchboard.TrunkChange) (*switchboard.Trunk, error) {
	t := &switchboard.Trunk{AccountID: accountID}
	if err := s.applyTrunk(t, c); err != nil {
		return nil, err
	}
	s.trustMu.Lock()
	defer s.trustMu.Unlock()
	if err := s.checkTrunkTrust(ctx, nil, t); err != nil {
		return nil, err
	}
	return s.trunkChanged(t, s.store.CreateTrunk(ctx, t))
}

// UpdateTrunk changes what c gives; no (or an empty) password keeps the stored one. New
// addresses are checked for trust (see checkTrunkTrust) before anything is written.
func (s *Service) UpdateTrunk(ctx context.Context, accountID, id int64, c switchboard.TrunkChange) (*switchboard.Trunk, error) {
	before, err := s.store.GetTrunk(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	s.trustMu.Lock()
	defer s.trustMu.Unlock()
	if c.Host != nil || c.InboundAddresses != nil {
		after := *before
		if err := s.applyTrunk(&after, c); err != nil {
			return nil, err
		}
		if err := s.checkTrunkTrust(ctx, before, &after); err != nil {
			return nil, err
		}
	}
	return s.trunkChanged(s.store.UpdateTrunkFunc(ctx, accountID, id, func(t *switchboard.Trunk) error {
		if !slices.Equal(t.TrunkSources(), before.TrunkSources()) {
			// Changed since the check: the caller retries with what is stored now.
			return switchboard.Errorf(switchboard.ECONFLICT, "The trunk's addresses changed meanwhile: read it again and retry")
		}
		return s.applyTrunk(t, c)
	}))
}

// DeleteTrunk removes the account's trunk.
func (s *Service) DeleteTrunk(ctx context.Context, accountID, id int64) error {
	_, err := s.trunkChanged(nil, s.store.DeleteTrunk(ctx, accountID, id))
	return err
}

// GetTrunk returns the account's trunk.
func (s *Service) GetTrunk(ctx context.Context, accountID, id int64) (*switchboard.Trunk, error) {
	return s.store.GetTrunk(ctx, accountID, id)
}

// PageTrunks returns one page of the account's trunks by id, and whether more follow.
func (s *Service) PageTrunks(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Trunk, bool, error) {
	return s.store.PageTrunks(ctx, accountID, p)
}

// ListTrunks returns the account's trunks.
func (s *Service) ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error) {
	return s.store.ListTrunks(ctx, accountID)
}

// trunkChanged tells the engine, if there is one, that a write of t succeeded (err nil).
func (s *Service) trunkChanged(t *switchboard.Trunk, err error) (*switchboard.Trunk, error) {
	if err != nil {
		return nil, err
	}
	if s.engine != nil {
		s.engine.InvalidateTrunks()
	}
	return t, nil
}

// applyTrunk applies c to t, validates it and seals a new password. The password is sealed
// only once the rest is valid, so that a bad request hears of its fields first.
func (s *Service) applyTrunk(t *switchboard.Trunk, c switchboard.TrunkChange) error {
	v := switchboard.ValidationErrors{}
	set(&t.Name, c.Name)
	set(&t.Host, c.Host)
	set(&t.Port, c.Port)
	set(&t.Transport, c.Transport)
	set(&t.Username, c.Username)
	set(&t.InboundAddresses, c.InboundAddresses)
	if c.CallerIDNumber != nil {
		t.CallerIDNumber = normalizePhone(v, "caller_id_number", *c.CallerIDNumber)
	}
	set(&t.AllowUserCallerID, c.AllowUserCallerID)
	t.ApplyDefaults()
	newPassword := c.Password != nil && *c.Password != ""
	if newPassword {
		t.SealedPassword = []byte{0} // stands in for the sealed value while validating
	}
	if err := validate(v, t); err != nil {
		return err
	}
	if newPassword {
		sealed, err := s.seal(*c.Password)
		if err != nil {
			return err
		}
		t.SealedPassword = sealed
	}
	return nil
}

func (s *Service) seal(password string) ([]byte, error) {
	if len(password) > maxTrunkPassword {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "password", "must be at most 256 characters")
	}
	if s.sealer == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Trunk passwords cannot be stored: no secret key is configured")
	}
	return s.sealer.Seal(password), nil
}
