package switchboard

import (
	"context"
	"regexp"
	"time"
)

// SIPRealm is the digest realm of the devices of accounts without a SIP domain (a device's
// realm is its account's SIP domain when its password was set). Device passwords are stored
// only as HA1 hashes, which bind the realm, so it must never change.
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
	// RequireSecure: the device must use SIP over TLS with SRTP media. Its REGISTER or INVITE
	// over UDP or TCP is refused (403), its calls without SRTP are refused (488), and calls
	// to it go only to its TLS registrations, with SRTP.
	RequireSecure bool
	// DigestAlgorithm is the digest the device must authenticate with: DigestMD5 (or "",
	// the default) is challenged as the server is configured (MD5 alone unless
	// --sip-digest says otherwise); DigestSHA256 is challenged with SHA-256 alone and an
	// MD5 answer is refused (403), for phones that do SHA-256, so that no MD5 response
	// (cheap to crack offline) of their password ever goes over the wire.
	DigestAlgorithm string
	// Realm is the digest realm the HA1s are for: the account's SIP domain when the
	// password was set, else "" (SIPRealm). See DigestRealm.
	Realm     string
	CreatedAt time.Time
}

// Digest algorithms a device may require (Device.DigestAlgorithm).
const (
	DigestMD5    = "md5"
	DigestSHA256 = "sha-256"
)

// RequiresSHA256 reports whether the device may authenticate only with SHA-256.
func (d *Device) RequiresSHA256() bool { return d.DigestAlgorithm == DigestSHA256 }

// Digest is the device's DigestAlgorithm, DigestMD5 when unset.
func (d *Device) Digest() string {
	if d.DigestAlgorithm == "" {
		return DigestMD5
	}
	return d.DigestAlgorithm
}

// DigestRealm is the realm the device's password hashes are for.
func (d *Device) DigestRealm() string {
	if d.Realm == "" {
		return SIPRealm
	}
	return d.Realm
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
	if d.DigestAlgorithm != "" && d.DigestAlgorithm != DigestMD5 && d.DigestAlgorithm != DigestSHA256 {
		v.Add("digest_algorithm", `must be "md5" or "sha-256"`)
	}
	return v.Err()
}

// DeviceChange is a create or a PATCH of a device as the API received it: a nil field is
// "not given" (left as it is on PATCH, generated on create where a device needs one).
type DeviceChange struct {
	Name        *string
	SIPUsername *string
	SIPPassword *string // the plaintext; only its digest hashes are stored
	// RequireSecure: TLS and SRTP only (see Device.RequireSecure).
	RequireSecure *bool
	// DigestAlgorithm: DigestMD5 or DigestSHA256 (see Device.DigestAlgorithm).
	DigestAlgorithm *string
}

// DeviceService provisions SIP devices. The methods that set a password return it: it is
// shown once and stored only as digest hashes. provision.Service implements it.
type DeviceService interface {
	CreateDevice(ctx context.Context, accountID, userID int64, c DeviceChange) (d *Device, password string, err error)
	UpdateDevice(ctx context.Context, accountID, id int64, c DeviceChange) (*Device, error)
	ResetDevicePassword(ctx context.Context, accountID, id int64) (d *Device, password string, err error)
	DeleteDevice(ctx context.Context, accountID, id int64) error
}
