package provision

import (
	"context"

	"switchboard"
)

// CreateContact stores a new contact (and its contact.created event); the phone is required.
func (s *Service) CreateContact(ctx context.Context, accountID int64, c switchboard.ContactChange) (*switchboard.Contact, error) {
	ct := &switchboard.Contact{AccountID: accountID}
	v := switchboard.ValidationErrors{}
	if c.Phone == nil || *c.Phone == "" {
		v.Add("phone", "is required")
	}
	applyContact(v, ct, c)
	return created(ctx, v, ct, s.store.CreateContact)
}

// UpdateContact changes what c gives; its contact.updated event names the fields whose
// values changed.
func (s *Service) UpdateContact(ctx context.Context, accountID, id int64, c switchboard.ContactChange) (*switchboard.Contact, error) {
	return s.store.UpdateContactFunc(ctx, accountID, id, func(ct *switchboard.Contact) error {
		v := switchboard.ValidationErrors{}
		applyContact(v, ct, c)
		return validate(v, ct)
	})
}

func applyContact(v switchboard.ValidationErrors, ct *switchboard.Contact, c switchboard.ContactChange) {
	if c.Phone != nil {
		ct.Phone = normalizePhone(v, "phone", *c.Phone)
	}
	set(&ct.FirstName, c.FirstName)
	set(&ct.LastName, c.LastName)
	set(&ct.Email, c.Email)
	set(&ct.Company, c.Company)
}

// DeleteContact deletes the contact (and stores its contact.deleted event).
func (s *Service) DeleteContact(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteContact(ctx, accountID, id)
}
