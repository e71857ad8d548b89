package provision

import (
	"context"
	"crypto/rand"

	"switchboard"
)

const sipPasswordProblem = "must be 8 to 128 characters"

func validSIPPassword(p string) bool { return len(p) >= 8 && len(p) <= 128 }

// newSIPUsername generates a username unlikely to be taken: "sb" and 12 random characters.
func newSIPUsername() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "sb" + string(b)
}

// CreateDevice stores a new device of the account's user; a SIP username or password c
// does not give is generated. It returns the password, to be shown once.
func (s *Service) CreateDevice(ctx context.Context, accountID, userID int64, c switchboard.DeviceChange) (*switchboard.Device, string, error) {
	if _, err := s.store.GetUser(ctx, accountID, userID); err != nil {
		return nil, "", err
	}
	realm, err := s.deviceRealm(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	d := &switchboard.Device{AccountID: accountID, UserID: userID}
	password, err := applyDevice(d, c, realm)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, "", err
	}
	return d, password, nil
}

// UpdateDevice changes the fields c gives. A new SIP username needs a new password: the
// stored hashes bind the username.
func (s *Service) UpdateDevice(ctx context.Context, accountID, id int64, c switchboard.DeviceChange) (*switchboard.Device, error) {
	realm, err := s.deviceRealm(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateDeviceFunc(ctx, accountID, id, func(d *switchboard.Device) error {
		_, err := applyDevice(d, c, realm)
		return err
	})
}

// deviceRealm is the digest realm a device's password is hashed for: its account's SIP
// domain, or "" (switchboard.SIPRealm) when the account has none.
func (s *Service) deviceRealm(ctx context.Context, accountID int64) (string, error) {
	a, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return "", err
	}
	return a.SIPDomain, nil
}

// ResetDevicePassword gives the device a new generated password and returns it.
func (s *Service) ResetDevicePassword(ctx context.Context, accountID, id int64) (*switchboard.Device, string, error) {
	password := switchboard.NewSIPPassword()
	realm, err := s.deviceRealm(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	d, err := s.store.UpdateDeviceFunc(ctx, accountID, id, func(d *switchboard.Device) error {
		d.Realm = realm
		d.SetSIPPassword(password)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return d, password, nil
}

// DeleteDevice deletes the account's device.
func (s *Service) DeleteDevice(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteDevice(ctx, accountID, id)
}

// applyDevice applies c to d and returns the password it set, if any. A new device (ID 0)
// gets a generated username and password where c gives none (or an empty one).
// A password set is hashed for realm (the account's SIP domain, "" for none).
func applyDevice(d *switchboard.Device, c switchboard.DeviceChange, realm string) (password string, err error) {
	v := switchboard.ValidationErrors{}
	creating := d.ID == 0
	set(&d.Name, c.Name)
	set(&d.RequireSecure, c.RequireSecure)
	set(&d.DigestAlgorithm, c.DigestAlgorithm)
	if c.SIPUsername != nil && *c.SIPUsername != d.SIPUsername {
		d.SIPUsername = *c.SIPUsername
		if !creating && c.SIPPassword == nil {
			v.Add("sip_password", "is required when sip_username changes: the stored password hashes include the username")
		}
	}
	if creating && d.SIPUsername == "" {
		d.SIPUsername = newSIPUsername()
	}
	switch {
	case c.SIPPassword != nil && (*c.SIPPassword != "" || !creating):
		password = *c.SIPPassword
		if !validSIPPassword(password) {
			v.Add("sip_password", sipPasswordProblem)
		}
	case creating:
		password = switchboard.NewSIPPassword()
	}
	if creating || c.SIPPassword != nil {
		d.Realm = realm
		d.SetSIPPassword(password)
	}
	return password, validate(v, d)
}
