package api

import "time"

// The JSON shapes of the API. Field names follow the v3 API (pk, presence_id, callerID …);
// `doc` tags become the field descriptions of the OpenAPI document. The shapes of a
// provisioning resource live in its file (users.go, queues.go …); here are the v3 views
// (availability, profile, queue details and statistics), calls and SMS, and the helpers.

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func nullableString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// deref is what p points at, or the zero value when p is nil (not given).
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func nullableTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// --- user views ---

type availabilityJSON struct {
	PK                int64         `json:"pk" doc:"User ID"`
	PresenceID        string        `json:"presence_id" doc:"User's extension number"`
	CallerID          string        `json:"callerID" doc:"User's display name"`
	FirstName         string        `json:"first_name" doc:"User's first name"`
	LastName          string        `json:"last_name" doc:"User's last name"`
	DevicesRegistered bool          `json:"devices_registered" doc:"Online status (true = online, false = offline)"`
	Channels          []channelJSON `json:"channels" doc:"Active calls (with a key only; absent on the public view)"`
}

// publicAvailabilityJSON is availability without a key: online/offline only.
type publicAvailabilityJSON struct {
	PK                int64  `json:"pk" doc:"User ID"`
	PresenceID        string `json:"presence_id" doc:"User's extension number"`
	CallerID          string `json:"callerID" doc:"User's display name"`
	FirstName         string `json:"first_name" doc:"User's first name"`
	LastName          string `json:"last_name" doc:"User's last name"`
	DevicesRegistered bool   `json:"devices_registered" doc:"Online status (true = online, false = offline)"`
}

type channelJSON struct {
	To          string `json:"to" doc:"Called number or extension"`
	From        string `json:"from" doc:"Calling number or extension"`
	CallSeconds int    `json:"call_seconds" doc:"Seconds since the call started"`
	Direction   string `json:"direction" doc:"inbound or outbound"`
}

type profileJSON struct {
	PK               int64   `json:"pk" doc:"User ID"`
	AsteriskUserID   int64   `json:"asterisk_user_id" doc:"The user's id in the telephony core (the same as pk)"`
	PresenceID       string  `json:"presence_id" doc:"User's extension number"`
	CallerID         string  `json:"callerID" doc:"Display name for outbound calls"`
	FirstName        string  `json:"first_name" doc:"User's first name"`
	LastName         string  `json:"last_name" doc:"User's last name"`
	Email            string  `json:"email" doc:"User's email address"`
	VoicemailEnabled bool    `json:"voicemail_enabled" doc:"Whether voicemail is enabled"`
	ForwardEnabled   bool    `json:"forward_enabled" doc:"Whether call forwarding is enabled"`
	ForwardNumber    *string `json:"forward_number" doc:"Number to forward calls to; null when none"`
	TimeZone         string  `json:"time_zone" doc:"IANA time zone"`
}

// --- queue views ---

// queueDetailJSON is a queue with its members (GET queues/{queue_id}).
type queueDetailJSON struct {
	queueJSON
	AssignedUsers []memberJSON `json:"assigned_users" doc:"Queue members"`
}

// publicQueueJSON is a queue's basic information, shown without a key.
type publicQueueJSON struct {
	PK        int64  `json:"pk" doc:"Queue ID"`
	Name      string `json:"name" doc:"Queue identifier (the ID as a string)"`
	QueueName string `json:"queue_name" doc:"User-friendly queue name"`
	Extension string `json:"extension" doc:"Queue extension number"`
	Strategy  string `json:"strategy" doc:"Ring strategy"`
}

type memberJSON struct {
	PK         int64  `json:"pk" doc:"User ID of the member"`
	PresenceID string `json:"presence_id" doc:"Member's extension"`
	FirstName  string `json:"first_name" doc:"Member's first name"`
	LastName   string `json:"last_name" doc:"Member's last name"`
	Penalty    int    `json:"penalty" doc:"Penalty: members with lower penalties are offered calls first"`
	Paused     bool   `json:"paused" doc:"A paused member gets no queue calls"`
}

type queueAvailabilityJSON struct {
	PK              int64  `json:"pk" doc:"Queue ID"`
	Name            string `json:"name" doc:"Queue ID/number"`
	QueueName       string `json:"queue_name" doc:"User-friendly queue name"`
	Extension       string `json:"extension" doc:"Queue extension number"`
	IsReady         bool   `json:"is_ready" doc:"Queue has at least one online agent"`
	AgentsOnline    int    `json:"agents_online" doc:"Total agents logged in"`
	AgentsAvailable int    `json:"agents_available" doc:"Agents online but not on calls"`
	AgentsOnCall    int    `json:"agents_on_call" doc:"Agents currently on calls"`
	ActiveCalls     int    `json:"active_calls" doc:"Active calls in this queue"`
}

// queueStatsJSON is the availability a developer key sees: the seed's fields and, beyond
// the seed, the callers and today's (UTC) figures. Public requests get the seed's only.
type queueStatsJSON struct {
	queueAvailabilityJSON
	CallersWaiting       int     `json:"callers_waiting" doc:"Callers waiting for an agent, pending callbacks included (they keep their place)"`
	CallbacksPending     int     `json:"callbacks_pending" doc:"Of the callers waiting, those who hung up to be called back"`
	LongestWaitSeconds   int     `json:"longest_wait_seconds" doc:"How long the longest-waiting caller has waited"`
	Offered              int     `json:"offered" doc:"Callers who entered the queue today (UTC)"`
	Answered             int     `json:"answered" doc:"Of them, answered by an agent"`
	Abandoned            int     `json:"abandoned" doc:"Of them, hung up while waiting"`
	ServiceLevel         float64 `json:"service_level" doc:"Percent answered within the threshold, of answered + abandoned after it (100 when none)"`
	ServiceLevelSeconds  int     `json:"service_level_seconds" doc:"The queue's service level threshold"`
	AverageSpeedOfAnswer float64 `json:"average_speed_of_answer" doc:"Mean seconds from entering to answer, today"`
	AverageHandleTime    float64 `json:"average_handle_time" doc:"Mean talk seconds of today's answered calls that ended"`
}

// --- calls and SMS ---

type outboundCallJSON struct {
	From      string `json:"from" doc:"Extension number making the call" required:"true"`
	To        string `json:"to" doc:"Destination: a phone number, or an extension of the account (user, queue or ring group)" required:"true"`
	CallerID  string `json:"caller_id" doc:"Optional caller ID to display: one of the account's numbers"`
	Recording bool   `json:"recording" doc:"Enable call recording (default: false)"`
	CRMID     string `json:"crm_id" doc:"Your reference, echoed in the call's webhooks"`
}

type outboundCallResultJSON struct {
	CallID    string `json:"call_id" doc:"The call's ID"`
	Status    string `json:"status" doc:"initiating"`
	From      string `json:"from" doc:"Extension making the call"`
	To        string `json:"to" doc:"Destination, E.164"`
	Timestamp string `json:"timestamp" doc:"RFC 3339 time the call was placed"`
}

type smsSendJSON struct {
	From    string `json:"from" doc:"Your SMS-enabled phone number" required:"true"`
	To      string `json:"to" doc:"Recipient phone number" required:"true"`
	Message string `json:"message" doc:"SMS message content (max 160 chars)" required:"true"`
}

type smsResultJSON struct {
	MessageID string `json:"message_id" doc:"The message's ID"`
	Status    string `json:"status" doc:"Sending status, e.g. queued"`
	From      string `json:"from" doc:"Sending number, E.164"`
	To        string `json:"to" doc:"Recipient, E.164"`
	Timestamp string `json:"timestamp" doc:"RFC 3339 time the message was accepted"`
}

type deletedJSON struct {
	PK      int64 `json:"pk" doc:"ID of what was deleted"`
	Deleted bool  `json:"deleted" doc:"Always true"`
}
