// Package phone turns the phone numbers people type into E.164, the only form Switchboard
// stores and compares.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region assumed for numbers typed without a country code.
const DefaultRegion = "US"

// Normalize returns s in E.164 (+15551234567) when it is a possible phone number: the right
// length for its country. Validity against numbering plans is deliberately not required, so
// that the 555 numbers of the providers' documents (and of tests) are accepted. Numbers without
// a leading + are read as national numbers of DefaultRegion, or as international numbers
// without their + (as Voice Over Cloud writes them) when that is the only valid reading.
func Normalize(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", false
	}
	if n, err := phonenumbers.Parse(s, DefaultRegion); err == nil && phonenumbers.IsPossibleNumber(n) {
		return phonenumbers.Format(n, phonenumbers.E164), true
	}
	if !strings.HasPrefix(s, "+") {
		if n, err := phonenumbers.Parse("+"+s, ""); err == nil && phonenumbers.IsPossibleNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164), true
		}
	}
	return "", false
}
