package provision

import (
	"context"

	"switchboard"
)

// CreateNumber stores a new number of the account, active unless c says otherwise.
func (s *Service) CreateNumber(ctx context.Context, accountID int64, c switchboard.NumberChange) (*switchboard.Number, error) {
	n := &switchboard.Number{AccountID: accountID}
	v := applyNumber(n, c)
	if c.Number == nil || *c.Number == "" {
		v.Add("number", "is required")
	} else {
		n.Number = normalizePhone(v, "number", *c.Number)
	}
	if n.Status == "" {
		n.Status = "active"
	}
	if err := s.checkNumber(ctx, v, n); err != nil {
		return nil, err
	}
	if err := s.store.CreateNumber(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// UpdateNumber changes what c gives; the number itself stays.
func (s *Service) UpdateNumber(ctx context.Context, accountID, id int64, c switchboard.NumberChange) (*switchboard.Number, error) {
	return s.store.UpdateNumberFunc(ctx, accountID, id, func(n *switchboard.Number) error {
		return s.checkNumber(ctx, applyNumber(n, c), n)
	})
}

func applyNumber(n *switchboard.Number, c switchboard.NumberChange) switchboard.ValidationErrors {
	v := switchboard.ValidationErrors{}
	set(&n.FriendlyName, c.FriendlyName)
	set(&n.SMSEnabled, c.SMSEnabled)
	set(&n.MMSEnabled, c.MMSEnabled)
	set(&n.OwnerUserID, c.OwnerUserID)
	set(&n.SMSAssignedUserID, c.SMSAssignedUserID)
	set(&n.Status, c.Status)
	set(&n.AIAgentID, c.AIAgentID)
	if c.Target != nil {
		n.Target = normalizeTarget(v, "target", *c.Target)
	}
	return v
}

// checkNumber validates the number, with its owner and SMS-assigned user checked to be of
// the account under the API's field names.
func (s *Service) checkNumber(ctx context.Context, v switchboard.ValidationErrors, n *switchboard.Number) error {
	if err := s.checkUserRef(ctx, v, n.AccountID, "owner_id", n.OwnerUserID); err != nil {
		return err
	}
	if err := s.checkUserRef(ctx, v, n.AccountID, "sms_assigned_user_id", n.SMSAssignedUserID); err != nil {
		return err
	}
	return validate(v, n)
}

// DeleteNumber deletes the account's number.
func (s *Service) DeleteNumber(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteNumber(ctx, accountID, id)
}
