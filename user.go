package switchboard

import (
	"context"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// User is a person with an extension. The v3 API calls the extension `presence_id`.
type User struct {
	ID               int64
	AccountID        int64
	Extension        string
	FirstName        string
	LastName         string
	Email            string
	CallerIDName     string // shown as `callerID`; defaults to "First Last"
	TimeZone         string // IANA name, e.g. America/New_York
	VoicemailEnabled bool
	ForwardEnabled   bool
	ForwardNumber    string // E.164; "" means none (null in the API)
	RingTimeSeconds  int    // how long the user's phones ring before no-answer; default 30
	// MaxOutboundCalls caps the user's concurrent outbound trunk calls; 0 = no limit of
	// the user's own (the account's still applies).
	MaxOutboundCalls int
	// MaxOutMinutes caps the user's outbound trunk minutes in any hour; 0 = no
	// limit of their own.
	MaxOutMinutes int
	// DoNotDisturb: the user takes no calls. A direct call goes to their forward number
	// when forwarding is on, else is refused busy; queues and ring groups skip them.
	DoNotDisturb bool
	// CallWaitingOff: a user already on a call gets no second one (refused busy, skipped
	// by queues and ring groups). The zero value is call waiting on, the default.
	CallWaitingOff bool
	// Recording is the policy of the user's calls (recording.go); "" = the account's.
	Recording string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DisplayName is the caller ID name the user shows, falling back to the full name.
func (u *User) DisplayName() string {
	if u.CallerIDName != "" {
		return u.CallerIDName
	}
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

var extensionRE = regexp.MustCompile(`^[0-9]{2,8}$`)

// ValidExtension reports whether s is a dialable extension: 2 to 8 digits.
func ValidExtension(s string) bool { return extensionRE.MatchString(s) }

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidE164 reports whether s has the E.164 shape (+, country code, up to 15 digits).
// Numbers typed by users go through phone.Normalize first; this is the check on what is stored.
func ValidE164(s string) bool { return e164RE.MatchString(s) }

// Validate checks the user's fields.
func (u *User) Validate() error {
	v := ValidationErrors{}
	if !ValidRecordingPolicy(u.Recording, true) {
		v.Add("recording", RecordingPolicyProblem)
	}
	if !ValidExtension(u.Extension) {
		v.Add("presence_id", "must be an extension of 2 to 8 digits")
	}
	if len(u.FirstName) > 100 {
		v.Add("first_name", "must be at most 100 characters")
	}
	if len(u.LastName) > 100 {
		v.Add("last_name", "must be at most 100 characters")
	}
	if u.Email != "" {
		if _, err := mail.ParseAddress(u.Email); err != nil {
			v.Add("email", "must be an email address")
		}
	}
	if u.TimeZone != "" {
		if _, err := time.LoadLocation(u.TimeZone); err != nil {
			v.Add("time_zone", "must be an IANA time zone such as America/New_York")
		}
	}
	if u.ForwardNumber != "" && !ValidE164(u.ForwardNumber) {
		v.Add("forward_number", "must be an E.164 number such as +15551234567")
	}
	if u.ForwardEnabled && u.ForwardNumber == "" {
		v.Add("forward_number", "is required when forward_enabled is true")
	}
	if u.RingTimeSeconds < 0 || u.RingTimeSeconds > 600 {
		v.Add("ring_time", "must be between 0 and 600 seconds")
	}
	if u.MaxOutboundCalls < 0 || u.MaxOutboundCalls > MaxOutboundLimit {
		v.Add("max_outbound_calls", "must be between 0 (no limit) and "+strconv.Itoa(MaxOutboundLimit))
	}
	if u.MaxOutMinutes < 0 || u.MaxOutMinutes > MaxOutboundLimit {
		v.Add("max_outbound_minutes_per_hour", "must be between 0 (no limit) and "+strconv.Itoa(MaxOutboundLimit))
	}
	return v.Err()
}

// UserChange is a create or a PATCH of a user as the API received it: a nil field is "not
// given" (left as it is on PATCH, defaulted on create). ForwardNumber is as typed; it is
// stored E.164.
type UserChange struct {
	Extension        *string
	CallerIDName     *string
	FirstName        *string
	LastName         *string
	Email            *string
	TimeZone         *string
	VoicemailEnabled *bool
	ForwardEnabled   *bool
	ForwardNumber    *string
	RingTimeSeconds  *int
	MaxOutboundCalls *int
	// MaxOutMinutes: see User.
	MaxOutMinutes *int
	DoNotDisturb  *bool
	// CallWaiting is the API's call_waiting (true = on); the user stores its negation.
	CallWaiting *bool
	Recording   *string // "" = the account's policy
}

// UserService provisions users with their defaults and checks. provision.Service implements it.
type UserService interface {
	CreateUser(ctx context.Context, accountID int64, c UserChange) (*User, error)
	UpdateUser(ctx context.Context, accountID, id int64, c UserChange) (*User, error)
	// DeleteUser deletes the user with its devices, keys and memberships.
	DeleteUser(ctx context.Context, accountID, id int64) error
}
