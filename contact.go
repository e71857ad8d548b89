package switchboard

import (
	"context"
	"net/mail"
	"time"
)

// Contact is an entry of the account's address book.
type Contact struct {
	ID        int64
	AccountID int64
	Phone     string // E.164
	FirstName string
	LastName  string
	Email     string
	Company   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the contact's fields.
func (c *Contact) Validate() error {
	v := ValidationErrors{}
	if !ValidE164(c.Phone) {
		v.Add("phone", "must be an E.164 number such as +15551234567")
	}
	if c.Email != "" {
		if _, err := mail.ParseAddress(c.Email); err != nil {
			v.Add("email", "must be an email address")
		}
	}
	for field, s := range map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "company": c.Company} {
		if len(s) > 100 {
			v.Add(field, "must be at most 100 characters")
		}
	}
	return v.Err()
}

// ContactChange is a create or a PATCH of a contact as the API received it: a nil field is
// "not given". Phone is as typed; it is stored E.164.
type ContactChange struct {
	Phone     *string
	FirstName *string
	LastName  *string
	Email     *string
	Company   *string
}

// ContactService keeps the address book; every change stores its contact event.
// provision.Service implements it.
type ContactService interface {
	CreateContact(ctx context.Context, accountID int64, c ContactChange) (*Contact, error)
	UpdateContact(ctx context.Context, accountID, id int64, c ContactChange) (*Contact, error)
	DeleteContact(ctx context.Context, accountID, id int64) error
}
