package switchboard

import (
	"net/mail"
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
	CreatedAt       time.Time
}

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
	CreatedAt        time.Time
	UpdatedAt        time.Time
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
	return v.Err()
}

// SIPRealm is the digest realm of every device credential. Device passwords are stored only
// as HA1 hashes, which bind the realm, so it must never change.
const SIPRealm = "switchboard"

// Device is one SIP credential of a user (a desk phone, a softphone). A user may have several.
type Device struct {
	ID          int64
	AccountID   int64
	UserID      int64
	Name        string
	SIPUsername string // globally unique
	// The password is kept only as the digest HA1 values (RFC 7616) for MD5 and SHA-256:
	// enough to check a REGISTER, useless to log in elsewhere with another realm.
	HA1MD5    string
	HA1SHA256 string
	CreatedAt time.Time
}

var sipUserRE = regexp.MustCompile(`^[A-Za-z0-9._-]{3,64}$`)

// Validate checks the device's fields.
func (d *Device) Validate() error {
	v := ValidationErrors{}
	if d.UserID == 0 {
		v.Add("user_id", "is required")
	}
	if !sipUserRE.MatchString(d.SIPUsername) {
		v.Add("sip_username", "must be 3 to 64 letters, digits, dots, dashes or underscores")
	}
	if d.HA1MD5 == "" || d.HA1SHA256 == "" {
		v.Add("sip_password", "is required")
	}
	if len(d.Name) > 100 {
		v.Add("name", "must be at most 100 characters")
	}
	return v.Err()
}

// QueueStrategy says in which order a queue offers a call to its members (Asterisk's names).
type QueueStrategy string

const (
	StrategyRingAll     QueueStrategy = "ringall"
	StrategyLeastRecent QueueStrategy = "leastrecent"
	StrategyFewestCalls QueueStrategy = "fewestcalls"
	StrategyRandom      QueueStrategy = "random"
	StrategyRRMemory    QueueStrategy = "rrmemory"
	StrategyLinear      QueueStrategy = "linear"
	StrategyWRandom     QueueStrategy = "wrandom"
)

// QueueStrategies lists every strategy a queue accepts.
var QueueStrategies = []QueueStrategy{StrategyRingAll, StrategyLeastRecent, StrategyFewestCalls,
	StrategyRandom, StrategyRRMemory, StrategyLinear, StrategyWRandom}

// Queue is a call queue with Asterisk queues.conf settings (same names, same meaning).
type Queue struct {
	ID             int64
	AccountID      int64
	QueueName      string // the friendly name, e.g. "Sales Queue"
	Extension      string
	Strategy       QueueStrategy
	MusicOnHold    string
	Timeout        int    // seconds one member rings
	Retry          int    // seconds to pause before the next round
	WrapUpTime     int    // seconds a member gets no queue call after one
	MaxLen         int    // 0 = unlimited
	JoinEmpty      string // yes, no, strict, loose
	LeaveWhenEmpty string // yes, no, strict, loose
	RingInUse      string // yes, no
	MaxWait        int    // seconds a caller may wait before the timeout exit; 0 = no limit
	ServiceLevel   int    // seconds within which an answer counts for the service level; default 20
	Overflow       Target // where callers go when the queue is full or times out
	CreatedAt      time.Time
}

// Name is the queue's identifier as the v3 API shows it: its id as a string.
func (q *Queue) Name() string { return strconv.FormatInt(q.ID, 10) }

// QueueMember is a user who answers a queue's calls.
type QueueMember struct {
	QueueID int64
	UserID  int64
	Penalty int
	Paused  bool
}

var yesNoEmpty = map[string]bool{"yes": true, "no": true, "strict": true, "loose": true}

// Validate checks the queue's fields.
func (q *Queue) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(q.QueueName) == "" || len(q.QueueName) > 100 {
		v.Add("queue_name", "is required, at most 100 characters")
	}
	if !ValidExtension(q.Extension) {
		v.Add("extension", "must be an extension of 2 to 8 digits")
	}
	known := false
	for _, s := range QueueStrategies {
		known = known || s == q.Strategy
	}
	if !known {
		v.Add("strategy", "must be one of ringall, leastrecent, fewestcalls, random, rrmemory, linear, wrandom")
	}
	for field, n := range map[string]int{"timeout": q.Timeout, "retry": q.Retry, "wrapuptime": q.WrapUpTime,
		"maxlen": q.MaxLen, "max_wait": q.MaxWait, "service_level": q.ServiceLevel} {
		if n < 0 || n > 86400 {
			v.Add(field, "must be between 0 and 86400")
		}
	}
	if !yesNoEmpty[q.JoinEmpty] {
		v.Add("joinempty", "must be yes, no, strict or loose")
	}
	if !yesNoEmpty[q.LeaveWhenEmpty] {
		v.Add("leavewhenempty", "must be yes, no, strict or loose")
	}
	if q.RingInUse != "yes" && q.RingInUse != "no" {
		v.Add("ringinuse", "must be yes or no")
	}
	if err := q.Overflow.Validate(); err != "" {
		v.Add("overflow", err)
	}
	return v.Err()
}

// ApplyDefaults fills unset settings with Asterisk's defaults.
func (q *Queue) ApplyDefaults() {
	if q.Strategy == "" {
		q.Strategy = StrategyRingAll
	}
	if q.MusicOnHold == "" {
		q.MusicOnHold = "default"
	}
	if q.JoinEmpty == "" {
		q.JoinEmpty = "yes"
	}
	if q.LeaveWhenEmpty == "" {
		q.LeaveWhenEmpty = "no"
	}
	if q.RingInUse == "" {
		q.RingInUse = "no"
	}
	if q.ServiceLevel == 0 {
		q.ServiceLevel = 20
	}
}

// RingGroupStrategy says whether a ring group rings its members together or one by one.
type RingGroupStrategy string

const (
	RingSimultaneous RingGroupStrategy = "simultaneous"
	RingSequential   RingGroupStrategy = "sequential"
)

// RingGroup rings a set of users; when nobody answers the call goes to Fallback.
type RingGroup struct {
	ID        int64
	AccountID int64
	Name      string
	Extension string
	Strategy  RingGroupStrategy
	RingTime  int // seconds the group (simultaneous) or each member (sequential, by default) rings
	Members   []RingGroupMember
	Fallback  Target
	CreatedAt time.Time
}

// RingGroupMember is one user of a ring group; RingTime 0 means the group's ring time.
type RingGroupMember struct {
	UserID   int64
	RingTime int
}

// Validate checks the ring group's fields.
func (g *RingGroup) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(g.Name) == "" || len(g.Name) > 100 {
		v.Add("name", "is required, at most 100 characters")
	}
	if !ValidExtension(g.Extension) {
		v.Add("extension", "must be an extension of 2 to 8 digits")
	}
	if g.Strategy != RingSimultaneous && g.Strategy != RingSequential {
		v.Add("strategy", "must be simultaneous or sequential")
	}
	if g.RingTime < 1 || g.RingTime > 600 {
		v.Add("ring_time", "must be between 1 and 600 seconds")
	}
	seen := map[int64]bool{}
	for _, m := range g.Members {
		if m.RingTime < 0 || m.RingTime > 600 {
			v.Add("members", "ring_time must be between 0 and 600 seconds")
		}
		if seen[m.UserID] {
			v.Add("members", "a user may be a member only once")
		}
		seen[m.UserID] = true
	}
	if err := g.Fallback.Validate(); err != "" {
		v.Add("fallback", err)
	}
	return v.Err()
}

// TargetType names what a call is sent to.
type TargetType string

const (
	TargetNone      TargetType = ""
	TargetUser      TargetType = "user"
	TargetQueue     TargetType = "queue"
	TargetRingGroup TargetType = "ringgroup"
	TargetExternal  TargetType = "external"
	TargetHangup    TargetType = "hangup"
)

// Target is where a call goes: a user, queue or ring group of the account (ID), or an
// external number (Number, E.164).
type Target struct {
	Type   TargetType
	ID     int64
	Number string
}

// Validate returns "" when the target is well formed, else the problem. Whether ID exists in
// the account is the store's check.
func (t Target) Validate() string {
	switch t.Type {
	case TargetNone, TargetHangup:
		return ""
	case TargetUser, TargetQueue, TargetRingGroup:
		if t.ID <= 0 {
			return "id is required for type " + string(t.Type)
		}
		return ""
	case TargetExternal:
		if !ValidE164(t.Number) {
			return "number must be E.164 for type external"
		}
		return ""
	}
	return "type must be one of user, queue, ringgroup, external, hangup"
}

// Number is a phone number (DID) of the account.
type Number struct {
	ID                int64
	AccountID         int64
	Number            string // E.164
	FriendlyName      string
	SMSEnabled        bool
	MMSEnabled        bool
	OwnerUserID       int64 // 0 = none
	SMSAssignedUserID int64 // 0 = none
	Status            string
	AIAgentID         string
	Target            Target // where inbound calls to this number go
	CreatedAt         time.Time
}

// NumberStatuses are the statuses a number may have.
var NumberStatuses = map[string]bool{"active": true, "inactive": true, "porting": true, "suspended": true}

// Validate checks the number's fields.
func (n *Number) Validate() error {
	v := ValidationErrors{}
	if !ValidE164(n.Number) {
		v.Add("number", "must be an E.164 number such as +15551234567")
	}
	if len(n.FriendlyName) > 100 {
		v.Add("friendly_name", "must be at most 100 characters")
	}
	if n.MMSEnabled && !n.SMSEnabled {
		v.Add("mms_enabled", "requires sms_enabled")
	}
	if !NumberStatuses[n.Status] {
		v.Add("status", "must be one of active, inactive, porting, suspended")
	}
	if err := n.Target.Validate(); err != "" {
		v.Add("target", err)
	}
	return v.Err()
}

// NumberFilter narrows ListNumbers; zero fields match everything.
type NumberFilter struct {
	Number            string
	OwnerUserID       int64
	Status            string
	SMSAssignedUserID int64
	AIAgentID         string
	// AssignedToUserID matches numbers the user owns or is SMS-assigned to (the /user/numbers view).
	AssignedToUserID int64
}

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

// APIKeyKind is the kind of an API key: a user key sees one user's data, a developer key the
// whole account's.
type APIKeyKind string

const (
	KeyUser      APIKeyKind = "user"
	KeyDeveloper APIKeyKind = "developer"
)

// APIKey is an API credential. The key itself is shown once at creation; only its SHA-256
// hash is stored.
type APIKey struct {
	ID         int64
	AccountID  int64
	Kind       APIKeyKind
	UserID     int64 // the user of a user key; 0 for developer keys
	Name       string
	Prefix     string   // the first characters of the key, to tell keys apart in lists
	Hash       string   // hex SHA-256 of the key
	AllowedIPs []string // CIDRs or addresses; empty = any. A request from elsewhere gets 401
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the key is valid
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }
