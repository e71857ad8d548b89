package switchboard

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
)

// SetSIPPassword stores the password of d as its digest HA1 hashes (RFC 7616:
// H(username:realm:password)) for MD5 and SHA-256, for d's realm (set Realm first); the
// password itself is not kept.
func (d *Device) SetSIPPassword(password string) {
	a1 := d.SIPUsername + ":" + d.DigestRealm() + ":" + password
	m := md5.Sum([]byte(a1))
	s := sha256.Sum256([]byte(a1))
	d.HA1MD5 = hex.EncodeToString(m[:])
	d.HA1SHA256 = hex.EncodeToString(s[:])
}

// NewSIPPassword returns a random password for a device: 20 characters a phone's keypad
// menus can still take.
func NewSIPPassword() string {
	p, _ := NewAPIKey(KeyUser)
	return p[:20]
}
