package provision

import (
	"context"

	"switchboard"
)

// CreateNumber stores a new number of the account, active unless c says otherwise.
func (s *Service) CreateNumber(ctx context.Context, accountID int64, c switchboard.NumberChange) (*switchboard.Number, error) {
	if err := s.checkNumberConsentPrompt(ctx, accountID, c); err != nil {
		return nil, err
	}
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
	if err := s.checkNumberUsers(ctx, v, n); err != nil {
		return nil, err
	}
	return created(ctx, v, n, s.store.CreateNumber)
}

// UpdateNumber changes what c gives; the number itself stays.
func (s *Service) UpdateNumber(ctx context.Context, accountID, id int64, c switchboard.NumberChange) (*switchboard.Number, error) {
	if err := s.checkNumberConsentPrompt(ctx, accountID, c); err != nil {
		return nil, err
	}
	return s.store.UpdateNumberFunc(ctx, accountID, id, func(n *switchboard.Number) error {
		v := applyNumber(n, c)
		if err := s.checkNumberUsers(ctx, v, n); err != nil {
			return err
		}
		return validate(v, n)
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
	set(&n.Language, c.Language)
	set(&n.Recording, c.Recording)
	set(&n.RecordingConsentPromptID, c.RecordingConsentPromptID)
	if c.Target != nil {
		n.Target = normalizeTarget(v, "target", *c.Target)
	}
	switch {
	case c.CallFlowID == nil:
	case c.Target != nil:
		v.Add("callflow_id", "cannot be given with target: a number routes to one of them")
	case *c.CallFlowID > 0:
		n.Target = switchboard.Target{Type: switchboard.TargetCallFlow, ID: *c.CallFlowID}
	case *c.CallFlowID == 0:
		if n.Target.Type == switchboard.TargetCallFlow {
			n.Target = switchboard.Target{}
		}
	default:
		v.Add("callflow_id", "must be a call flow ID, or 0 to clear it")
	}
	return v
}

// checkNumberUsers records a problem, under the API's field names, for an owner or
// SMS-assigned user who is not a user of the number's account.
func (s *Service) checkNumberUsers(ctx context.Context, v switchboard.ValidationErrors, n *switchboard.Number) error {
	if err := s.checkUserRef(ctx, v, n.AccountID, "owner_id", n.OwnerUserID); err != nil {
		return err
	}
	return s.checkUserRef(ctx, v, n.AccountID, "sms_assigned_user_id", n.SMSAssignedUserID)
}

// DeleteNumber deletes the account's number.
func (s *Service) DeleteNumber(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteNumber(ctx, accountID, id)
}
