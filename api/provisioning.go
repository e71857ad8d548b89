package api

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"switchboard"
	"switchboard/phone"
)

// provisioningRoutes registers the provisioning API: developer keys manage the account's
// users, devices, queues, ring groups, numbers, contacts, keys and settings.
func (s *Server) provisioningRoutes() {
	type def struct {
		method, path, tag, summary, message string
		status                              int
		request, result                     any
		h                                   apiHandler
	}
	defs := []def{
		{"GET", "/users", "Users", "List users", "List of users", 0, nil, []userJSON{}, listAll(s, "List of users", switchboard.Store.ListUsers, toUserJSON)},
		{"POST", "/users", "Users", "Create a user", "User created", http.StatusCreated, userCreateJSON{}, userJSON{}, s.createUser},
		{"GET", "/users/{user_id}", "Users", "Get a user", "User details", 0, nil, userJSON{}, getByID(s, "user_id", "User details", switchboard.Store.GetUser, toUserJSON)},
		{"PATCH", "/users/{user_id}", "Users", "Change a user (only the fields given)", "User updated", 0, userPatchJSON{}, userJSON{}, s.patchUser},
		{"DELETE", "/users/{user_id}", "Users", "Delete a user, with its devices, keys and memberships", "User deleted", 0, nil, deletedJSON{}, deleteByID(s, "user_id", "User deleted", s.deleteUser)},

		{"GET", "/users/{user_id}/devices", "Devices", "List a user's devices", "List of devices", 0, nil, []deviceJSON{}, s.listDevices},
		{"POST", "/users/{user_id}/devices", "Devices", "Create a device (its SIP password is shown once, in this response)", "Device created", http.StatusCreated, deviceCreateJSON{}, deviceSecretJSON{}, s.createDevice},
		{"GET", "/devices/{device_id}", "Devices", "Get a device (never its password)", "Device details", 0, nil, deviceJSON{}, getByID(s, "device_id", "Device details", switchboard.Store.GetDevice, toDeviceJSON)},
		{"PATCH", "/devices/{device_id}", "Devices", "Change a device (only the fields given)", "Device updated", 0, devicePatchJSON{}, deviceJSON{}, s.patchDevice},
		{"DELETE", "/devices/{device_id}", "Devices", "Delete a device", "Device deleted", 0, nil, deletedJSON{}, deleteByID(s, "device_id", "Device deleted", switchboard.Store.DeleteDevice)},
		{"POST", "/devices/{device_id}/password", "Devices", "Reset a device's SIP password (the new one is shown once, in this response)", "Device password reset", 0, nil, deviceSecretJSON{}, s.resetDevicePassword},

		{"POST", "/queues", "Queues", "Create a queue", "Queue created", http.StatusCreated, queueCreateJSON{}, queueJSON{}, s.createQueue},
		{"PATCH", "/queues/{queue_id}", "Queues", "Change a queue (only the fields given)", "Queue updated", 0, queuePatchJSON{}, queueJSON{}, s.patchQueue},
		{"DELETE", "/queues/{queue_id}", "Queues", "Delete a queue", "Queue deleted", 0, nil, deletedJSON{}, s.deleteQueue},
		{"GET", "/queues/{queue_id}/members", "Queues", "List a queue's members", "List of queue members", 0, nil, []memberJSON{}, s.listMembers},
		{"POST", "/queues/{queue_id}/members", "Queues", "Add a member to a queue (or update it)", "Queue member added", http.StatusCreated, memberCreateJSON{}, memberJSON{}, s.addMember},
		{"PATCH", "/queues/{queue_id}/members/{user_id}", "Queues", "Change a member: penalty, pause or unpause", "Queue member updated", 0, memberPatchJSON{}, memberJSON{}, s.patchMember},
		{"DELETE", "/queues/{queue_id}/members/{user_id}", "Queues", "Remove a member from a queue", "Queue member removed", 0, nil, deletedJSON{}, s.removeMember},

		{"GET", "/ring_groups", "Ring groups", "List ring groups", "List of ring groups", 0, nil, []ringGroupJSON{}, listAll(s, "List of ring groups", switchboard.Store.ListRingGroups, toRingGroupJSON)},
		{"POST", "/ring_groups", "Ring groups", "Create a ring group", "Ring group created", http.StatusCreated, ringGroupCreateJSON{}, ringGroupJSON{}, s.createRingGroup},
		{"GET", "/ring_groups/{ring_group_id}", "Ring groups", "Get a ring group", "Ring group details", 0, nil, ringGroupJSON{}, getByID(s, "ring_group_id", "Ring group details", switchboard.Store.GetRingGroup, toRingGroupJSON)},
		{"PATCH", "/ring_groups/{ring_group_id}", "Ring groups", "Change a ring group (only the fields given; members replaces the list)", "Ring group updated", 0, ringGroupPatchJSON{}, ringGroupJSON{}, s.patchRingGroup},
		{"DELETE", "/ring_groups/{ring_group_id}", "Ring groups", "Delete a ring group", "Ring group deleted", 0, nil, deletedJSON{}, deleteByID(s, "ring_group_id", "Ring group deleted", switchboard.Store.DeleteRingGroup)},

		{"POST", "/numbers", "Numbers", "Add a number", "Number created", http.StatusCreated, numberCreateJSON{}, numberJSON{}, s.createNumber},
		{"GET", "/numbers/{number_id}", "Numbers", "Get a number", "Number details", 0, nil, numberJSON{}, getByID(s, "number_id", "Number details", switchboard.Store.GetNumber, toNumberJSON)},
		{"PATCH", "/numbers/{number_id}", "Numbers", "Change a number (only the fields given)", "Number updated", 0, numberPatchJSON{}, numberJSON{}, s.patchNumber},
		{"DELETE", "/numbers/{number_id}", "Numbers", "Delete a number", "Number deleted", 0, nil, deletedJSON{}, deleteByID(s, "number_id", "Number deleted", switchboard.Store.DeleteNumber)},

		{"GET", "/contacts", "Contacts", "List contacts", "List of contacts", 0, nil, []contactJSON{}, listAll(s, "List of contacts", switchboard.Store.ListContacts, toContactJSON)},
		{"POST", "/contacts", "Contacts", "Create a contact (sends contact.created)", "Contact created", http.StatusCreated, contactCreateJSON{}, contactJSON{}, s.createContact},
		{"GET", "/contacts/{contact_id}", "Contacts", "Get a contact", "Contact details", 0, nil, contactJSON{}, getByID(s, "contact_id", "Contact details", switchboard.Store.GetContact, toContactJSON)},
		{"PATCH", "/contacts/{contact_id}", "Contacts", "Change a contact (only the fields given; sends contact.updated)", "Contact updated", 0, contactPatchJSON{}, contactJSON{}, s.patchContact},
		{"DELETE", "/contacts/{contact_id}", "Contacts", "Delete a contact (sends contact.deleted)", "Contact deleted", 0, nil, deletedJSON{}, deleteByID(s, "contact_id", "Contact deleted", switchboard.Store.DeleteContact)},

		{"GET", "/api_keys", "API keys", "List API keys (prefixes only, never the keys)", "List of API keys", 0, nil, []apiKeyJSON{}, listAll(s, "List of API keys", switchboard.Store.ListAPIKeys, toAPIKeyJSON)},
		{"POST", "/api_keys", "API keys", "Create an API key (the key is shown once, in result.key)", "API key created", http.StatusCreated, apiKeyCreateJSON{}, apiKeyCreatedJSON{}, s.createAPIKey},
		{"DELETE", "/api_keys/{key_id}", "API keys", "Revoke an API key (it stops working at once)", "API key revoked", 0, nil, deletedJSON{}, s.revokeAPIKey},

		{"GET", "/settings", "Settings", "Account settings", "Account settings", 0, nil, settingsJSON{}, s.getSettings},
		{"PATCH", "/settings", "Settings", "Change account settings", "Account settings updated", 0, settingsPatchJSON{}, settingsJSON{}, s.patchSettings},
	}
	for _, d := range defs {
		s.handleAPI(route{Method: d.method, Path: d.path, Access: accessDeveloper, Tag: d.tag, Summary: d.summary,
			Message: d.message, Status: d.status, Request: d.request, Result: d.result}, d.h)
	}
}

// validate merges the API-level problems found so far with the domain's Validate, so that a
// client hears of every bad field at once.
func validate(v switchboard.ValidationErrors, x interface{ Validate() error }) error {
	if err := x.Validate(); err != nil {
		var e *switchboard.Error
		if !errors.As(err, &e) {
			return err
		}
		for field, problem := range e.Details {
			v.Add(field, problem)
		}
		if len(e.Details) == 0 {
			return err
		}
	}
	return v.Err()
}

// normalizePhone turns a typed number into E.164, recording a problem for field when it is
// not a phone number. The raw value is returned then, for the domain check to see.
func normalizePhone(v switchboard.ValidationErrors, field, raw string) string {
	if raw == "" {
		return ""
	}
	n, ok := phone.Normalize(raw)
	if !ok {
		v.Add(field, "is not a valid phone number")
		return raw
	}
	return n
}

// toTarget reads a target from JSON.
func toTarget(v switchboard.ValidationErrors, field string, t *targetJSON) switchboard.Target {
	if t == nil {
		return switchboard.Target{}
	}
	out := switchboard.Target{Type: switchboard.TargetType(t.Type)}
	if t.ID != nil {
		out.ID = *t.ID
	}
	if t.Number != nil {
		n, ok := phone.Normalize(*t.Number)
		if !ok {
			v.Add(field, "number is not a valid phone number")
			return out
		}
		out.Number = n
	}
	return out
}

func (s *Server) writeDeleted(w http.ResponseWriter, message string, id int64) {
	s.writeResult(w, http.StatusOK, message, deletedJSON{PK: id, Deleted: true})
}

// getByID is the handler of GET …/{param}: the account's row with that id, rendered. An id
// of another account is NOT_FOUND, as the store answers it.
func getByID[T, J any](s *Server, param, message string, get func(switchboard.Store, context.Context, int64, int64) (T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, param)
		if err != nil {
			return err
		}
		x, err := get(s.store, r.Context(), c.accountID, id)
		if err != nil {
			return err
		}
		s.writeResult(w, http.StatusOK, message, render(x))
		return nil
	}
}

// listAll is the handler of GET on a collection: every row of the account, rendered.
func listAll[T, J any](s *Server, message string, list func(switchboard.Store, context.Context, int64) ([]T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		rows, err := list(s.store, r.Context(), c.accountID)
		if err != nil {
			return err
		}
		out := make([]J, 0, len(rows))
		for _, x := range rows {
			out = append(out, render(x))
		}
		s.writeResult(w, http.StatusOK, message, out)
		return nil
	}
}

// deleteByID is the handler of DELETE …/{param}.
func deleteByID(s *Server, param, message string, del func(switchboard.Store, context.Context, int64, int64) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, param)
		if err != nil {
			return err
		}
		if err := del(s.store, r.Context(), c.accountID, id); err != nil {
			return err
		}
		s.writeDeleted(w, message, id)
		return nil
	}
}

// --- users ---

// deleteUser deletes the user (with its devices, keys and queue memberships) and tells the
// call engine to read the account's queue members again, so queue calls stop offering the
// user at once rather than when the engine's member cache expires.
func (s *Server) deleteUser(st switchboard.Store, ctx context.Context, accountID, id int64) error {
	if err := st.DeleteUser(ctx, accountID, id); err != nil {
		return err
	}
	queues, err := st.ListQueues(ctx, accountID)
	if err != nil {
		// The user is gone; the engine's cache still expires within about a second.
		s.logger.Warn("listing queues after deleting a user failed", "account_id", accountID, "error", err)
		return nil
	}
	for _, q := range queues {
		s.queueMembersChanged(q.ID)
	}
	return nil
}

// defaultRingTime is how long a new user's phones ring.
const defaultRingTime = 30

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body userCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	u := &switchboard.User{AccountID: c.accountID, Extension: body.PresenceID, FirstName: body.FirstName,
		LastName: body.LastName, Email: body.Email, CallerIDName: body.CallerID, TimeZone: body.TimeZone,
		VoicemailEnabled: true, ForwardEnabled: body.ForwardEnabled, RingTimeSeconds: defaultRingTime,
		ForwardNumber: normalizePhone(v, "forward_number", body.ForwardNumber)}
	if body.VoicemailEnabled != nil {
		u.VoicemailEnabled = *body.VoicemailEnabled
	}
	if body.RingTime != nil {
		u.RingTimeSeconds = *body.RingTime
	}
	if err := validate(v, u); err != nil {
		return err
	}
	if err := s.store.CreateUser(r.Context(), u); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "User created", toUserJSON(u))
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var body userPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	u, err := s.store.GetUser(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	setString(&u.Extension, body.PresenceID)
	setString(&u.CallerIDName, body.CallerID)
	setString(&u.FirstName, body.FirstName)
	setString(&u.LastName, body.LastName)
	setString(&u.Email, body.Email)
	setString(&u.TimeZone, body.TimeZone)
	setBool(&u.VoicemailEnabled, body.VoicemailEnabled)
	setBool(&u.ForwardEnabled, body.ForwardEnabled)
	if body.ForwardNumber != nil {
		u.ForwardNumber = normalizePhone(v, "forward_number", *body.ForwardNumber)
	}
	setInt(&u.RingTimeSeconds, body.RingTime)
	if err := validate(v, u); err != nil {
		return err
	}
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "User updated", toUserJSON(u))
	return nil
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

// --- devices ---

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, c *caller) error {
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	// The user must be of the account: an empty list would not tell a wrong id apart.
	if _, err := s.store.GetUser(r.Context(), c.accountID, userID); err != nil {
		return err
	}
	devices, err := s.store.ListDevices(r.Context(), c.accountID, userID)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, 0, len(devices))
	for _, d := range devices {
		out = append(out, toDeviceJSON(d))
	}
	s.writeResult(w, http.StatusOK, "List of devices", out)
	return nil
}

func validSIPPassword(p string) bool { return len(p) >= 8 && len(p) <= 128 }

const sipPasswordProblem = "must be 8 to 128 characters"

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

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request, c *caller) error {
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var body deviceCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if _, err := s.store.GetUser(r.Context(), c.accountID, userID); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	d := &switchboard.Device{AccountID: c.accountID, UserID: userID, Name: body.Name, SIPUsername: body.SIPUsername}
	if d.SIPUsername == "" {
		d.SIPUsername = newSIPUsername()
	}
	password := body.SIPPassword
	if password == "" {
		password = switchboard.NewSIPPassword()
	} else if !validSIPPassword(password) {
		v.Add("sip_password", sipPasswordProblem)
	}
	d.SetSIPPassword(password)
	if err := validate(v, d); err != nil {
		return err
	}
	if err := s.store.CreateDevice(r.Context(), d); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Device created", deviceSecretJSON{deviceJSON: toDeviceJSON(d), SIPPassword: password})
	return nil
}

func (s *Server) patchDevice(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "device_id")
	if err != nil {
		return err
	}
	var body devicePatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	d, err := s.store.GetDevice(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	setString(&d.Name, body.Name)
	if body.SIPUsername != nil && *body.SIPUsername != d.SIPUsername {
		d.SIPUsername = *body.SIPUsername
		if body.SIPPassword == nil {
			v.Add("sip_password", "is required when sip_username changes: the stored password hashes include the username")
		}
	}
	if body.SIPPassword != nil {
		if !validSIPPassword(*body.SIPPassword) {
			v.Add("sip_password", sipPasswordProblem)
		}
		d.SetSIPPassword(*body.SIPPassword)
	}
	if err := validate(v, d); err != nil {
		return err
	}
	if err := s.store.UpdateDevice(r.Context(), d); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Device updated", toDeviceJSON(d))
	return nil
}

func (s *Server) resetDevicePassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "device_id")
	if err != nil {
		return err
	}
	d, err := s.store.GetDevice(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	password := switchboard.NewSIPPassword()
	d.SetSIPPassword(password)
	if err := s.store.UpdateDevice(r.Context(), d); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Device password reset", deviceSecretJSON{deviceJSON: toDeviceJSON(d), SIPPassword: password})
	return nil
}

// --- queues ---

// Queue defaults the seed's examples show (Asterisk's are 15 and 5).
const (
	defaultQueueTimeout = 15
	defaultQueueRetry   = 5
)

func (s *Server) createQueue(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body queueCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	q := &switchboard.Queue{AccountID: c.accountID, QueueName: body.QueueName, Extension: body.Extension,
		Strategy: switchboard.QueueStrategy(body.Strategy), MusicOnHold: body.MusicOnHold, Timeout: defaultQueueTimeout,
		Retry: defaultQueueRetry, WrapUpTime: body.WrapUpTime, MaxLen: body.MaxLen, JoinEmpty: body.JoinEmpty,
		LeaveWhenEmpty: body.LeaveWhenEmpty, RingInUse: body.RingInUse, MaxWait: body.MaxWait, ServiceLevel: body.ServiceLevel,
		Overflow: toTarget(v, "overflow", body.Overflow)}
	setInt(&q.Timeout, body.Timeout)
	setInt(&q.Retry, body.Retry)
	q.ApplyDefaults()
	if err := validate(v, q); err != nil {
		return err
	}
	if err := s.store.CreateQueue(r.Context(), q); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Queue created", toQueueJSON(q))
	return nil
}

func (s *Server) patchQueue(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	var body queuePatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	q, err := s.store.GetQueue(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	setString(&q.QueueName, body.QueueName)
	setString(&q.Extension, body.Extension)
	if body.Strategy != nil {
		q.Strategy = switchboard.QueueStrategy(*body.Strategy)
	}
	setString(&q.MusicOnHold, body.MusicOnHold)
	setInt(&q.Timeout, body.Timeout)
	setInt(&q.Retry, body.Retry)
	setInt(&q.WrapUpTime, body.WrapUpTime)
	setInt(&q.MaxLen, body.MaxLen)
	setString(&q.JoinEmpty, body.JoinEmpty)
	setString(&q.LeaveWhenEmpty, body.LeaveWhenEmpty)
	setString(&q.RingInUse, body.RingInUse)
	setInt(&q.MaxWait, body.MaxWait)
	setInt(&q.ServiceLevel, body.ServiceLevel)
	if body.Overflow != nil {
		q.Overflow = toTarget(v, "overflow", body.Overflow)
	}
	if err := validate(v, q); err != nil {
		return err
	}
	if err := s.checkRoutingLoop(r.Context(), c.accountID, switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}, q.Overflow, "overflow"); err != nil {
		return err
	}
	if err := s.store.UpdateQueue(r.Context(), q); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Queue updated", toQueueJSON(q))
	return nil
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteQueue(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.queueMembersChanged(id)
	s.writeDeleted(w, "Queue deleted", id)
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	members, err := s.queueMembers(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "List of queue members", members)
	return nil
}

// maxPenalty bounds a member's penalty (the store's limit).
const maxPenalty = 1000

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	queueID, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	var body memberCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if _, err := s.store.GetQueue(r.Context(), c.accountID, queueID); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	if body.UserID <= 0 {
		v.Add("user_id", "is required: the user to add")
	}
	if body.Penalty < 0 || body.Penalty > maxPenalty {
		v.Add("penalty", "must be between 0 and 1000")
	}
	if err := v.Err(); err != nil {
		return err
	}
	m := switchboard.QueueMember{QueueID: queueID, UserID: body.UserID, Penalty: body.Penalty, Paused: body.Paused}
	return s.saveMember(w, r, c, m, http.StatusCreated, "Queue member added")
}

func (s *Server) saveMember(w http.ResponseWriter, r *http.Request, c *caller, m switchboard.QueueMember, status int, message string) error {
	if err := s.store.SetQueueMember(r.Context(), c.accountID, m); err != nil {
		return err
	}
	s.queueMembersChanged(m.QueueID)
	u, err := s.store.GetUser(r.Context(), c.accountID, m.UserID)
	if err != nil {
		return err
	}
	s.writeResult(w, status, message, toMemberJSON(u, m))
	return nil
}

// findMember returns the member userID of the queue, or NOT_FOUND.
func (s *Server) findMember(r *http.Request, accountID, queueID, userID int64) (switchboard.QueueMember, error) {
	members, err := s.store.ListQueueMembers(r.Context(), accountID, queueID)
	if err != nil {
		return switchboard.QueueMember{}, err
	}
	for _, m := range members {
		if m.UserID == userID {
			return m, nil
		}
	}
	return switchboard.QueueMember{}, switchboard.Errorf(switchboard.ENOTFOUND, "User %d is not a member of queue %d", userID, queueID)
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	queueID, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	var body memberPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	m, err := s.findMember(r, c.accountID, queueID, userID)
	if err != nil {
		return err
	}
	setInt(&m.Penalty, body.Penalty)
	setBool(&m.Paused, body.Paused)
	if m.Penalty < 0 || m.Penalty > maxPenalty {
		return badRequest("penalty", "must be between 0 and 1000")
	}
	return s.saveMember(w, r, c, m, http.StatusOK, "Queue member updated")
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	queueID, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if _, err := s.findMember(r, c.accountID, queueID, userID); err != nil {
		return err
	}
	if err := s.store.RemoveQueueMember(r.Context(), c.accountID, queueID, userID); err != nil {
		return err
	}
	s.queueMembersChanged(queueID)
	s.writeDeleted(w, "Queue member removed", userID)
	return nil
}

// --- ring groups ---

const defaultRingGroupTime = 20

func toRingGroupMembers(members []ringGroupMemberJSON) []switchboard.RingGroupMember {
	out := make([]switchboard.RingGroupMember, 0, len(members))
	for _, m := range members {
		out = append(out, switchboard.RingGroupMember{UserID: m.UserID, RingTime: m.RingTime})
	}
	return out
}

func checkRingGroupMembers(v switchboard.ValidationErrors, members []ringGroupMemberJSON) {
	for _, m := range members {
		if m.UserID <= 0 {
			v.Add("members", "each member needs a user_id")
		}
	}
}

func (s *Server) createRingGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body ringGroupCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	g := &switchboard.RingGroup{AccountID: c.accountID, Name: body.Name, Extension: body.Extension,
		Strategy: switchboard.RingGroupStrategy(body.Strategy), RingTime: defaultRingGroupTime,
		Members: toRingGroupMembers(body.Members), Fallback: toTarget(v, "fallback", body.Fallback)}
	if g.Strategy == "" {
		g.Strategy = switchboard.RingSimultaneous
	}
	setInt(&g.RingTime, body.RingTime)
	checkRingGroupMembers(v, body.Members)
	if err := validate(v, g); err != nil {
		return err
	}
	if err := s.store.CreateRingGroup(r.Context(), g); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Ring group created", toRingGroupJSON(g))
	return nil
}

func (s *Server) patchRingGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "ring_group_id")
	if err != nil {
		return err
	}
	var body ringGroupPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	g, err := s.store.GetRingGroup(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	setString(&g.Name, body.Name)
	setString(&g.Extension, body.Extension)
	if body.Strategy != nil {
		g.Strategy = switchboard.RingGroupStrategy(*body.Strategy)
	}
	setInt(&g.RingTime, body.RingTime)
	if body.Members != nil {
		checkRingGroupMembers(v, *body.Members)
		g.Members = toRingGroupMembers(*body.Members)
	}
	if body.Fallback != nil {
		g.Fallback = toTarget(v, "fallback", body.Fallback)
	}
	if err := validate(v, g); err != nil {
		return err
	}
	if err := s.checkRoutingLoop(r.Context(), c.accountID, switchboard.Target{Type: switchboard.TargetRingGroup, ID: g.ID}, g.Fallback, "fallback"); err != nil {
		return err
	}
	if err := s.store.UpdateRingGroup(r.Context(), g); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Ring group updated", toRingGroupJSON(g))
	return nil
}

// --- numbers ---

// checkNumberUsers checks that the owner and SMS-assigned user are of the account, under the
// API's field names.
func (s *Server) checkNumberUsers(r *http.Request, v switchboard.ValidationErrors, accountID int64, n *switchboard.Number) error {
	for field, id := range map[string]int64{"owner_id": n.OwnerUserID, "sms_assigned_user_id": n.SMSAssignedUserID} {
		if id == 0 {
			continue
		}
		if id < 0 {
			v.Add(field, "must be a user ID")
			continue
		}
		if _, err := s.store.GetUser(r.Context(), accountID, id); switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			v.Add(field, "is not a user of this account")
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) createNumber(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body numberCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	n := &switchboard.Number{AccountID: c.accountID, FriendlyName: body.FriendlyName, SMSEnabled: body.SMSEnabled,
		MMSEnabled: body.MMSEnabled, OwnerUserID: body.OwnerID, SMSAssignedUserID: body.SMSAssignedUserID,
		Status: body.Status, AIAgentID: body.AIAgentID, Target: toTarget(v, "target", body.Target)}
	if body.Number == "" {
		v.Add("number", "is required")
	}
	n.Number = normalizePhone(v, "number", body.Number)
	if n.Status == "" {
		n.Status = "active"
	}
	if err := s.checkNumberUsers(r, v, c.accountID, n); err != nil {
		return err
	}
	if err := validate(v, n); err != nil {
		return err
	}
	if err := s.store.CreateNumber(r.Context(), n); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Number created", toNumberJSON(n))
	return nil
}

func (s *Server) patchNumber(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "number_id")
	if err != nil {
		return err
	}
	var body numberPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	n, err := s.store.GetNumber(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	setString(&n.FriendlyName, body.FriendlyName)
	setBool(&n.SMSEnabled, body.SMSEnabled)
	setBool(&n.MMSEnabled, body.MMSEnabled)
	if body.OwnerID != nil {
		n.OwnerUserID = *body.OwnerID
	}
	if body.SMSAssignedUserID != nil {
		n.SMSAssignedUserID = *body.SMSAssignedUserID
	}
	setString(&n.Status, body.Status)
	setString(&n.AIAgentID, body.AIAgentID)
	if body.Target != nil {
		n.Target = toTarget(v, "target", body.Target)
	}
	if err := s.checkNumberUsers(r, v, c.accountID, n); err != nil {
		return err
	}
	if err := validate(v, n); err != nil {
		return err
	}
	if err := s.store.UpdateNumber(r.Context(), n); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Number updated", toNumberJSON(n))
	return nil
}

// --- contacts ---

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body contactCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	if body.Phone == "" {
		v.Add("phone", "is required")
	}
	ct := &switchboard.Contact{AccountID: c.accountID, Phone: normalizePhone(v, "phone", body.Phone),
		FirstName: body.FirstName, LastName: body.LastName, Email: body.Email, Company: body.Company}
	if err := validate(v, ct); err != nil {
		return err
	}
	if err := s.store.CreateContact(r.Context(), ct); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Contact created", toContactJSON(ct))
	return nil
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "contact_id")
	if err != nil {
		return err
	}
	var body contactPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	ct, err := s.store.GetContact(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	var changed []string
	change := func(field string, dst *string, value *string) {
		if value != nil && *value != *dst {
			*dst = *value
			changed = append(changed, field)
		}
	}
	if body.Phone != nil {
		p := normalizePhone(v, "phone", *body.Phone)
		change("phone", &ct.Phone, &p)
	}
	change("first_name", &ct.FirstName, body.FirstName)
	change("last_name", &ct.LastName, body.LastName)
	change("email", &ct.Email, body.Email)
	change("company", &ct.Company, body.Company)
	if err := validate(v, ct); err != nil {
		return err
	}
	if err := s.store.UpdateContact(r.Context(), ct, changed); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Contact updated", toContactJSON(ct))
	return nil
}

// --- API keys ---

// maxAllowedIPs bounds a key's allowlist.
const maxAllowedIPs = 100

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body apiKeyCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	kind := switchboard.APIKeyKind(body.Kind)
	switch kind {
	case switchboard.KeyUser:
		if body.UserID <= 0 {
			v.Add("user_id", "is required for a user key")
		} else if _, err := s.store.GetUser(r.Context(), c.accountID, body.UserID); switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			v.Add("user_id", "is not a user of this account")
		} else if err != nil {
			return err
		}
	case switchboard.KeyDeveloper:
		if body.UserID != 0 {
			v.Add("user_id", "must be absent for a developer key")
		}
	default:
		v.Add("kind", "must be user or developer")
	}
	if len(body.Name) > 100 {
		v.Add("name", "must be at most 100 characters")
	}
	if len(body.AllowedIPs) > maxAllowedIPs {
		v.Add("allowed_ips", "must list at most 100 entries")
	}
	allowed := make([]string, 0, len(body.AllowedIPs))
	for _, a := range body.AllowedIPs {
		a = strings.TrimSpace(a)
		if p, err := netip.ParsePrefix(a); err == nil {
			allowed = append(allowed, p.Masked().String())
		} else if addr, err := netip.ParseAddr(a); err == nil {
			allowed = append(allowed, addr.Unmap().String())
		} else {
			v.Add("allowed_ips", "each entry must be an IP address or CIDR, e.g. 203.0.113.7 or 203.0.113.0/24")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	plaintext, k := switchboard.NewAPIKey(kind)
	k.AccountID, k.UserID, k.Name, k.AllowedIPs = c.accountID, body.UserID, body.Name, allowed
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "API key created", apiKeyCreatedJSON{apiKeyJSON: toAPIKeyJSON(k), Key: plaintext})
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "key_id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeDeleted(w, "API key revoked", id)
	return nil
}

// --- settings ---

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	a, err := s.store.GetAccount(r.Context(), c.accountID)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Account settings", settingsJSON{AccountID: a.ID, Name: a.Name, PublicEndpoints: a.PublicEndpoints})
	return nil
}

func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body settingsPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	a, err := s.store.GetAccount(r.Context(), c.accountID)
	if err != nil {
		return err
	}
	setBool(&a.PublicEndpoints, body.PublicEndpoints)
	if err := s.store.UpdateAccount(r.Context(), a); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Account settings updated", settingsJSON{AccountID: a.ID, Name: a.Name, PublicEndpoints: a.PublicEndpoints})
	return nil
}
