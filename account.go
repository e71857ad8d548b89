package switchboard

import (
	"context"
	"strings"
	"time"
)

// Account is one tenant: a company with its own users, numbers and keys.
type Account struct {
	ID   int64
	Name string
	// PublicEndpoints enables the no-key endpoints of the v3 API (user availability
	// online/offline only, queue basic information, queue availability) for this account.
	PublicEndpoints bool
	CreatedAt       time.Time
}

// Validate checks the account's fields.
func (a *Account) Validate() error {
	if strings.TrimSpace(a.Name) == "" {
		return FieldError(EBADREQUEST, "name", "is required")
	}
	return nil
}

// AccountChange is a PATCH of an account's settings as the API received it: a nil field is
// "not given" and left as it is.
type AccountChange struct {
	PublicEndpoints *bool
}

// AccountService changes an account's settings. provision.Service implements it.
type AccountService interface {
	UpdateAccount(ctx context.Context, id int64, c AccountChange) (*Account, error)
}
