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
	// SIPDomain is the host the account's phones use in their SIP URIs (e.g.
	// acme.pbx.example): it tells the tenant on SIP, so SIP usernames need to be unique
	// only inside the account. "" = none (the phones use the server's address).
	SIPDomain string
	CreatedAt time.Time
}

// Validate checks the account's fields.
func (a *Account) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(a.Name) == "" {
		v.Add("name", "is required")
	}
	if a.SIPDomain != "" && !ValidSIPDomain(a.SIPDomain) {
		v.Add("sip_domain", "must be a lowercase host name with at least two labels, such as acme.pbx.example (not an IP address)")
	}
	return v.Err()
}

// ValidSIPDomain reports whether d is a lowercase DNS host name of two labels or more:
// letters, digits and hyphens, no label starting or ending with a hyphen, at most 253
// characters, and not all digits in its last label (so never an IPv4 address).
func ValidSIPDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// AccountChange is a PATCH of an account's settings as the API received it: a nil field is
// "not given" and left as it is.
type AccountChange struct {
	PublicEndpoints *bool
	SIPDomain       *string // "" removes the domain; stored lowercase
}

// AccountService changes an account's settings. provision.Service implements it.
type AccountService interface {
	UpdateAccount(ctx context.Context, id int64, c AccountChange) (*Account, error)
}
