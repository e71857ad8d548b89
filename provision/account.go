package provision

import (
	"context"
	"strings"

	"switchboard"
)

// UpdateAccount changes the account's settings.
func (s *Service) UpdateAccount(ctx context.Context, id int64, c switchboard.AccountChange) (*switchboard.Account, error) {
	if err := s.checkRecordingChange(ctx, id, c); err != nil {
		return nil, err
	}
	return s.store.UpdateAccountFunc(ctx, id, func(a *switchboard.Account) error {
		set(&a.PublicEndpoints, c.PublicEndpoints)
		if c.SIPDomain != nil {
			// DNS names are case-insensitive; SIP hosts are compared in lowercase.
			a.SIPDomain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(*c.SIPDomain), "."))
		}
		set(&a.MaxOutboundCalls, c.MaxOutboundCalls)
		set(&a.MaxOutMinutes, c.MaxOutMinutes)
		set(&a.CountryCode, c.CountryCode)
		set(&a.Language, c.Language)
		if c.AllowedCountries != nil {
			a.AllowedCountries = normalizeCountries(*c.AllowedCountries)
		}
		changeRecordingSettings(a, c)
		return nil
	})
}

// normalizeCountries trims the calling codes, drops a leading "+" and duplicates, and keeps
// the order given; Account.Validate checks what is left.
func normalizeCountries(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.TrimPrefix(strings.TrimSpace(c), "+")
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
