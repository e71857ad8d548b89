package api

import (
	"context"
	"net/http"

	"switchboard"
)

func (s *Server) deviceRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/users/{user_id}/devices", summary: "List a user's devices", message: "List of devices",
			result: []deviceJSON{}, query: pageQuery, serve: s.listDevices},
		{method: "POST", path: "/users/{user_id}/devices", summary: "Create a device (its SIP password is shown once, in this response)",
			message: "Device created", status: http.StatusCreated, request: createBody(deviceRequestJSON{}), result: deviceSecretJSON{}, serve: s.createDevice},
		{method: "GET", path: "/devices/{device_id}", summary: "Get a device (never its password)", message: "Device details",
			result: deviceJSON{}, serve: getByID(&s.store, "device_id", switchboard.Store.GetDevice, toDeviceJSON)},
		{method: "PATCH", path: "/devices/{device_id}", summary: "Change a device (only the fields given)", message: "Device updated",
			request: patchBody(deviceRequestJSON{}), result: deviceJSON{},
			serve: updateHandler[deviceRequestJSON](&s.provision, "device_id", ProvisioningService.UpdateDevice, toDeviceJSON)},
		{method: "DELETE", path: "/devices/{device_id}", summary: "Delete a device", message: "Device deleted", result: deletedJSON{},
			serve: deleteByID(&s.provision, "device_id", ProvisioningService.DeleteDevice)},
		{method: "POST", path: "/devices/{device_id}/password", summary: "Reset a device's SIP password (the new one is shown once, in this response)",
			message: "Device password reset", result: deviceSecretJSON{}, serve: s.resetDevicePassword},
	}
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	userID, err := pathID(r, "user_id")
	if err != nil {
		return nil, err
	}
	// The user must be of the account: an empty list would not tell a wrong id apart.
	if _, err := s.store.GetUser(r.Context(), c.accountID, userID); err != nil {
		return nil, err
	}
	return listPaged(&s.store, func(st switchboard.Store, ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Device, bool, error) {
		return st.PageDevices(ctx, accountID, userID, p)
	}, func(d *switchboard.Device) int64 { return d.ID }, toDeviceJSON)(w, r, c)
}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	userID, err := pathID(r, "user_id")
	if err != nil {
		return nil, err
	}
	var body deviceRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	return withPassword(s.provision.CreateDevice(r.Context(), c.accountID, userID, body.change()))
}

func (s *Server) resetDevicePassword(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "device_id")
	if err != nil {
		return nil, err
	}
	return withPassword(s.provision.ResetDevicePassword(r.Context(), c.accountID, id))
}

// withPassword renders a device whose password was just set: the one time it is shown.
func withPassword(d *switchboard.Device, password string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return deviceSecretJSON{deviceJSON: toDeviceJSON(d), SIPPassword: password}, nil
}

type deviceJSON struct {
	PK          int64  `json:"pk" doc:"Device ID"`
	UserID      int64  `json:"user_id" doc:"The user the device belongs to"`
	Name        string `json:"name" doc:"A label, e.g. Desk phone"`
	SIPUsername string `json:"sip_username" doc:"SIP username (unique on the server)"`
	SIPRealm    string `json:"sip_realm" doc:"SIP digest realm its password is hashed for: the account's SIP domain when it was set, else switchboard"`
	// RequireSecure is the device's security policy.
	RequireSecure bool `json:"require_secure" doc:"The device must use SIP over TLS and SRTP: REGISTER and INVITE over UDP or TCP are refused with 403, calls without SRTP with 488"`
	// DigestAlgorithm is the digest the device must authenticate with.
	DigestAlgorithm string `json:"digest_algorithm" doc:"md5: challenged as the server is configured (MD5 alone by default, which every phone answers); sha-256: challenged with SHA-256 alone, and an MD5 answer is refused with 403"`
	CreatedAt       string `json:"created_at" doc:"RFC 3339 time of creation"`
}

// deviceSecretJSON is a device with its SIP password, shown only when it is set.
type deviceSecretJSON struct {
	deviceJSON
	SIPPassword string `json:"sip_password" doc:"The SIP password; shown only in this response, stored only as digest hashes"`
}

func toDeviceJSON(d *switchboard.Device) deviceJSON {
	return deviceJSON{PK: d.ID, UserID: d.UserID, Name: d.Name, SIPUsername: d.SIPUsername, SIPRealm: d.DigestRealm(),
		RequireSecure: d.RequireSecure, DigestAlgorithm: d.Digest(), CreatedAt: formatTime(d.CreatedAt)}
}

// deviceRequestJSON is the body of POST and PATCH devices: a field left out is "not given".
type deviceRequestJSON struct {
	Name          *string `json:"name" doc:"A label, at most 100 characters"`
	SIPUsername   *string `json:"sip_username" doc:"SIP username, 3 to 64 letters, digits, dots, dashes, underscores; changing it needs sip_password too, since the stored hashes bind the username" default:"generated"`
	SIPPassword   *string `json:"sip_password" doc:"SIP password, 8 to 128 characters" default:"generated"`
	RequireSecure *bool   `json:"require_secure" doc:"TLS and SRTP only: REGISTER and INVITE over UDP or TCP are refused with 403" default:"false"`
	// DigestAlgorithm is sha-256 for a phone that does SHA-256 digests.
	DigestAlgorithm *string `json:"digest_algorithm" doc:"md5 or sha-256: sha-256 challenges the device with SHA-256 alone and refuses an MD5 answer (403); only for phones that do SHA-256 (baresip 1.0 and many desk phones do not)" default:"md5"`
}

func (b deviceRequestJSON) change() switchboard.DeviceChange {
	return switchboard.DeviceChange{Name: b.Name, SIPUsername: b.SIPUsername, SIPPassword: b.SIPPassword,
		RequireSecure: b.RequireSecure, DigestAlgorithm: b.DigestAlgorithm}
}
