package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) userRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/users", summary: "List users (by extension, paged)", message: "List of users", result: []userJSON{},
			query: keyPageQuery, serve: listPagedBy(&s.store, switchboard.Store.PageUsers, keyAfter, userCursor, toUserJSON)},
		{method: "POST", path: "/users", summary: "Create a user", message: "User created", status: http.StatusCreated,
			request: createBody(userRequestJSON{}), result: userJSON{},
			serve: createHandler[userRequestJSON](&s.provision, ProvisioningService.CreateUser, toUserJSON)},
		{method: "GET", path: "/users/{user_id}", summary: "Get a user", message: "User details", result: userJSON{},
			serve: getByID(&s.store, "user_id", switchboard.Store.GetUser, toUserJSON)},
		{method: "PATCH", path: "/users/{user_id}", summary: "Change a user (only the fields given)", message: "User updated",
			request: patchBody(userRequestJSON{}), result: userJSON{},
			serve: updateHandler[userRequestJSON](&s.provision, "user_id", ProvisioningService.UpdateUser, toUserJSON)},
		{method: "DELETE", path: "/users/{user_id}", summary: "Delete a user, with its devices, keys and memberships",
			message: "User deleted", result: deletedJSON{},
			serve: deleteByID(&s.provision, "user_id", ProvisioningService.DeleteUser)},
	}
}

// userCursor names the user a page of users ends on: the list is by extension, then id.
func userCursor(u *switchboard.User) string { return keyCursor(u.Extension, u.ID) }

type userJSON struct {
	PK               int64   `json:"pk" doc:"User ID"`
	PresenceID       string  `json:"presence_id" doc:"Extension number"`
	CallerID         string  `json:"callerID" doc:"Display name for calls (defaults to first and last name)"`
	FirstName        string  `json:"first_name" doc:"First name"`
	LastName         string  `json:"last_name" doc:"Last name"`
	Email            string  `json:"email" doc:"Email address"`
	TimeZone         string  `json:"time_zone" doc:"IANA time zone, e.g. America/New_York"`
	VoicemailEnabled bool    `json:"voicemail_enabled" doc:"Whether voicemail is enabled"`
	ForwardEnabled   bool    `json:"forward_enabled" doc:"Whether call forwarding is enabled"`
	ForwardNumber    *string `json:"forward_number" doc:"E.164 number calls are forwarded to; null when none"`
	RingTime         int     `json:"ring_time" doc:"Seconds the user's phones ring before no-answer"`
	MaxOutboundCalls int     `json:"max_outbound_calls" doc:"Concurrent outbound calls through trunks the user may have; 0 = no limit of their own"`
	MaxOutMinutes    int     `json:"max_outbound_minutes_per_hour" doc:"Outbound trunk minutes the user may use in any hour; 0 = no limit of their own"`
	DoNotDisturb     bool    `json:"do_not_disturb" doc:"Do not disturb: direct calls go to the forward number if forwarding is on, else get busy; queues and ring groups skip the user"`
	CallWaiting      bool    `json:"call_waiting" doc:"Whether a user already on a call is offered a second one; off = busy, as for do not disturb"`
	Recording        string  `json:"recording" doc:"Recording policy of the user's calls: none, inbound, outbound or all; \"\" = the account's recording_default"`
	CreatedAt        string  `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt        string  `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toUserJSON(u *switchboard.User) userJSON {
	return userJSON{PK: u.ID, PresenceID: u.Extension, CallerID: u.DisplayName(), FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, TimeZone: u.TimeZone, VoicemailEnabled: u.VoicemailEnabled,
		ForwardEnabled: u.ForwardEnabled, ForwardNumber: nullableString(u.ForwardNumber), RingTime: u.RingTimeSeconds,
		MaxOutboundCalls: u.MaxOutboundCalls, MaxOutMinutes: u.MaxOutMinutes, DoNotDisturb: u.DoNotDisturb, CallWaiting: !u.CallWaitingOff, CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt),
		Recording: u.Recording}
}

// userRequestJSON is the body of POST and PATCH users: a field left out is "not given".
type userRequestJSON struct {
	PresenceID       *string `json:"presence_id" doc:"Extension, 2 to 8 digits" create:"required"`
	CallerID         *string `json:"callerID" doc:"Display name for calls" default:"first and last name"`
	FirstName        *string `json:"first_name" doc:"First name"`
	LastName         *string `json:"last_name" doc:"Last name"`
	Email            *string `json:"email" doc:"Email address"`
	TimeZone         *string `json:"time_zone" doc:"IANA time zone"`
	VoicemailEnabled *bool   `json:"voicemail_enabled" doc:"Whether voicemail is enabled" default:"true" create:"nullable"`
	ForwardEnabled   *bool   `json:"forward_enabled" doc:"Whether calls are forwarded to forward_number"`
	ForwardNumber    *string `json:"forward_number" doc:"Forwarding number, any form a phone number is written in; stored E.164; \"\" = none (clears it)"`
	RingTime         *int    `json:"ring_time" doc:"Seconds the phones ring, 0 to 600" default:"30" create:"nullable"`
	MaxOutboundCalls *int    `json:"max_outbound_calls" doc:"Concurrent outbound trunk calls, 0 (no limit of their own) to 100000" default:"0"`
	MaxOutMinutes    *int    `json:"max_outbound_minutes_per_hour" doc:"Outbound trunk minutes in any hour, 0 (no limit of their own) to 100000" default:"0"`
	DoNotDisturb     *bool   `json:"do_not_disturb" doc:"Do not disturb (phones: *78 on, *79 off)" default:"false"`
	CallWaiting      *bool   `json:"call_waiting" doc:"Offer a second call while the user is on one (phones: *70 on, *71 off)" default:"true"`
	Recording        *string `json:"recording" doc:"Recording policy of the user's calls: none, inbound, outbound or all; \"\" = the account's recording_default" default:""`
}

func (b userRequestJSON) change() switchboard.UserChange {
	return switchboard.UserChange{Extension: b.PresenceID, CallerIDName: b.CallerID, FirstName: b.FirstName,
		LastName: b.LastName, Email: b.Email, TimeZone: b.TimeZone, VoicemailEnabled: b.VoicemailEnabled,
		ForwardEnabled: b.ForwardEnabled, ForwardNumber: b.ForwardNumber, RingTimeSeconds: b.RingTime,
		MaxOutboundCalls: b.MaxOutboundCalls, MaxOutMinutes: b.MaxOutMinutes, DoNotDisturb: b.DoNotDisturb,
		CallWaiting: b.CallWaiting, Recording: b.Recording}
}
