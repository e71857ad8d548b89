package switchboard

import (
	"context"
	"regexp"
	"strconv"
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

	// Toll-fraud guards on calls that leave through a trunk (enforced in pbx/tollfraud.go).
	// MaxOutboundCalls caps the account's concurrent outbound trunk calls; 0 = no limit.
	MaxOutboundCalls int
	// MaxOutMinutes (max_outbound_minutes_per_hour) caps the minutes of outbound trunk calls
	// in any hour: a new call is refused once the last 60 minutes hold that many; 0 = no limit.
	MaxOutMinutes int
	// CountryCode is the account's own country calling code ("1", "44" …); "" means "1".
	// Calls to numbers of another country go out only when AllowedCountries names its
	// code, or holds "*" (any country).
	CountryCode      string
	AllowedCountries []string
	// Language is the account's default language (a tag such as "en" or "de"): system
	// prompts play in it, and a number's "" language means it. "" means DefaultLanguage.
	Language string

	// Call recording (recording.go). RecordingDefault is the policy of calls whose user,
	// queue and number say "" (RecordNone when ""). RecordingRetentionDays deletes
	// recordings that many days after they ended (0 = kept). RecordingConsentPromptID is
	// the prompt played as the consent announcement when a recording starts (0 = none; a
	// number's own prompt comes first). TranscriptionEnabled queues a transcription of every
	// recording; RedactionEnabled masks card numbers, IDs and emails in transcripts.
	RecordingDefault         string
	RecordingRetentionDays   int
	RecordingConsentPromptID int64
	TranscriptionEnabled     bool
	RedactionEnabled         bool
}

// RecordingPolicy is the account's default recording policy, RecordNone when unset.
func (a *Account) RecordingPolicy() string {
	if a.RecordingDefault == "" {
		return RecordNone
	}
	return a.RecordingDefault
}

// SpokenLanguage is the account's language, DefaultLanguage when none is set.
func (a *Account) SpokenLanguage() string {
	if a.Language == "" {
		return DefaultLanguage
	}
	return a.Language
}

// DefaultCountryCode is an account's country calling code when it has none set.
const DefaultCountryCode = "1"

// HomeCountry is the account's country calling code.
func (a *Account) HomeCountry() string {
	if a.CountryCode == "" {
		return DefaultCountryCode
	}
	return a.CountryCode
}

// AllowsCountry reports whether calls to numbers with the calling code cc may go out.
func (a *Account) AllowsCountry(cc string) bool {
	if cc == a.HomeCountry() {
		return true
	}
	for _, c := range a.AllowedCountries {
		if c == "*" || c == cc {
			return true
		}
	}
	return false
}

var callingCodeRE = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

// ValidCallingCode reports whether s has the shape of a country calling code (1 to 3
// digits, no leading zero).
func ValidCallingCode(s string) bool { return callingCodeRE.MatchString(s) }

// MaxOutboundLimit bounds the concurrent-call limits (of accounts and users).
const MaxOutboundLimit = 100000

// Validate checks the account's fields.
func (a *Account) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(a.Name) == "" {
		v.Add("name", "is required")
	}
	if a.SIPDomain != "" && !ValidSIPDomain(a.SIPDomain) {
		v.Add("sip_domain", "must be a lowercase host name with at least two labels, such as acme.pbx.example (not an IP address)")
	}
	if a.MaxOutboundCalls < 0 || a.MaxOutboundCalls > MaxOutboundLimit {
		v.Add("max_outbound_calls", "must be between 0 (no limit) and "+strconv.Itoa(MaxOutboundLimit))
	}
	if a.MaxOutMinutes < 0 || a.MaxOutMinutes > MaxOutboundLimit {
		v.Add("max_outbound_minutes_per_hour", "must be between 0 (no limit) and "+strconv.Itoa(MaxOutboundLimit))
	}
	if a.CountryCode != "" && !ValidCallingCode(a.CountryCode) {
		v.Add("country_code", "must be a country calling code such as 1 or 44")
	}
	for _, c := range a.AllowedCountries {
		if c != "*" && !ValidCallingCode(c) {
			v.Add("allowed_countries", "must hold country calling codes such as 44, or \"*\" for any")
			break
		}
	}
	if a.Language != "" && !ValidLanguage(a.Language) {
		v.Add("language", languageProblem)
	}
	if !ValidRecordingPolicy(a.RecordingDefault, true) {
		v.Add("recording_default", recordingPolicyProblem)
	}
	if a.RecordingRetentionDays < 0 || a.RecordingRetentionDays > MaxRecordingRetentionDays {
		v.Add("recording_retention_days", "must be between 0 (keep) and "+strconv.Itoa(MaxRecordingRetentionDays))
	}
	if a.RecordingConsentPromptID < 0 {
		v.Add("recording_consent_prompt_id", "must be a prompt id, or 0 for none")
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
	PublicEndpoints  *bool
	SIPDomain        *string // "" removes the domain; stored lowercase
	MaxOutboundCalls *int
	// MaxOutMinutes: see Account.
	MaxOutMinutes    *int
	CountryCode      *string
	AllowedCountries *[]string // replaces the list
	Language         *string   // "" = DefaultLanguage
	// Recording settings: see Account.
	RecordingDefault         *string
	RecordingRetentionDays   *int
	RecordingConsentPromptID *int64
	TranscriptionEnabled     *bool
	RedactionEnabled         *bool
}

// AccountService changes an account's settings. provision.Service implements it.
type AccountService interface {
	UpdateAccount(ctx context.Context, id int64, c AccountChange) (*Account, error)
}
