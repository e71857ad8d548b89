package api

import (
	"time"

	"switchboard"
)

// The JSON shapes of the API. Field names follow the v3 API (pk, presence_id, callerID …);
// `doc` tags become the field descriptions of the OpenAPI document.

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

func nullableTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// --- users ---

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
	CreatedAt        string  `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt        string  `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toUserJSON(u *switchboard.User) userJSON {
	return userJSON{PK: u.ID, PresenceID: u.Extension, CallerID: u.DisplayName(), FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, TimeZone: u.TimeZone, VoicemailEnabled: u.VoicemailEnabled,
		ForwardEnabled: u.ForwardEnabled, ForwardNumber: nullableString(u.ForwardNumber), RingTime: u.RingTimeSeconds,
		CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt)}
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

// userCreateJSON is the body of POST users; userPatchJSON of PATCH users/{user_id}.
type userCreateJSON struct {
	PresenceID       string `json:"presence_id" doc:"Extension, 2 to 8 digits" required:"true"`
	CallerID         string `json:"callerID" doc:"Display name for calls; default first and last name"`
	FirstName        string `json:"first_name" doc:"First name"`
	LastName         string `json:"last_name" doc:"Last name"`
	Email            string `json:"email" doc:"Email address"`
	TimeZone         string `json:"time_zone" doc:"IANA time zone"`
	VoicemailEnabled *bool  `json:"voicemail_enabled" doc:"Default true"`
	ForwardEnabled   bool   `json:"forward_enabled" doc:"Forward calls to forward_number"`
	ForwardNumber    string `json:"forward_number" doc:"Forwarding number, any form a phone number is written in; stored E.164"`
	RingTime         *int   `json:"ring_time" doc:"Seconds the phones ring, 0 to 600; default 30"`
}

type userPatchJSON struct {
	PresenceID       *string `json:"presence_id" doc:"Extension, 2 to 8 digits"`
	CallerID         *string `json:"callerID" doc:"Display name for calls"`
	FirstName        *string `json:"first_name" doc:"First name"`
	LastName         *string `json:"last_name" doc:"Last name"`
	Email            *string `json:"email" doc:"Email address"`
	TimeZone         *string `json:"time_zone" doc:"IANA time zone"`
	VoicemailEnabled *bool   `json:"voicemail_enabled" doc:"Whether voicemail is enabled"`
	ForwardEnabled   *bool   `json:"forward_enabled" doc:"Whether call forwarding is enabled"`
	ForwardNumber    *string `json:"forward_number" doc:"Forwarding number; \"\" clears it"`
	RingTime         *int    `json:"ring_time" doc:"Seconds the phones ring, 0 to 600"`
}

// --- devices ---

type deviceJSON struct {
	PK          int64  `json:"pk" doc:"Device ID"`
	UserID      int64  `json:"user_id" doc:"The user the device belongs to"`
	Name        string `json:"name" doc:"A label, e.g. Desk phone"`
	SIPUsername string `json:"sip_username" doc:"SIP username (unique on the server)"`
	SIPRealm    string `json:"sip_realm" doc:"SIP digest realm to configure on the phone"`
	CreatedAt   string `json:"created_at" doc:"RFC 3339 time of creation"`
}

// deviceSecretJSON is a device with its SIP password, shown only when it is set.
type deviceSecretJSON struct {
	deviceJSON
	SIPPassword string `json:"sip_password" doc:"The SIP password; shown only in this response, stored only as digest hashes"`
}

func toDeviceJSON(d *switchboard.Device) deviceJSON {
	return deviceJSON{PK: d.ID, UserID: d.UserID, Name: d.Name, SIPUsername: d.SIPUsername, SIPRealm: switchboard.SIPRealm,
		CreatedAt: formatTime(d.CreatedAt)}
}

type deviceCreateJSON struct {
	Name        string `json:"name" doc:"A label, at most 100 characters"`
	SIPUsername string `json:"sip_username" doc:"3 to 64 letters, digits, dots, dashes, underscores; generated when absent"`
	SIPPassword string `json:"sip_password" doc:"8 to 128 characters; generated when absent"`
}

type devicePatchJSON struct {
	Name        *string `json:"name" doc:"A label"`
	SIPUsername *string `json:"sip_username" doc:"New SIP username; needs sip_password too, since the stored hashes bind the username"`
	SIPPassword *string `json:"sip_password" doc:"New SIP password, 8 to 128 characters"`
}

// --- queues ---

type queueJSON struct {
	PK             int64      `json:"pk" doc:"Queue ID"`
	Name           string     `json:"name" doc:"Queue identifier: the ID as a string (e.g. \"100134\")"`
	QueueName      string     `json:"queue_name" doc:"User-friendly queue name"`
	Extension      string     `json:"extension" doc:"Queue extension number"`
	Strategy       string     `json:"strategy" doc:"Ring strategy: ringall, leastrecent, fewestcalls, random, rrmemory, linear, wrandom"`
	MusicOnHold    string     `json:"musiconhold" doc:"Music on hold class"`
	Timeout        int        `json:"timeout" doc:"Ring timeout in seconds"`
	Retry          int        `json:"retry" doc:"Retry interval in seconds"`
	WrapUpTime     int        `json:"wrapuptime" doc:"Wrap-up time in seconds"`
	MaxLen         int        `json:"maxlen" doc:"Maximum queue length (0 = unlimited)"`
	JoinEmpty      string     `json:"joinempty" doc:"Allow joining empty queue: yes, no, strict, loose"`
	LeaveWhenEmpty string     `json:"leavewhenempty" doc:"Leave when queue becomes empty: yes, no, strict, loose"`
	RingInUse      string     `json:"ringinuse" doc:"Ring members already on calls: yes, no"`
	MaxWait        int        `json:"max_wait" doc:"Seconds a caller may wait before the overflow; 0 = no limit"`
	ServiceLevel   int        `json:"service_level" doc:"Seconds within which an answer counts for the service level"`
	Overflow       targetJSON `json:"overflow" doc:"Where callers go when the queue is full or they wait too long"`
}

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

func toQueueJSON(q *switchboard.Queue) queueJSON {
	return queueJSON{PK: q.ID, Name: q.Name(), QueueName: q.QueueName, Extension: q.Extension, Strategy: string(q.Strategy),
		MusicOnHold: q.MusicOnHold, Timeout: q.Timeout, Retry: q.Retry, WrapUpTime: q.WrapUpTime, MaxLen: q.MaxLen,
		JoinEmpty: q.JoinEmpty, LeaveWhenEmpty: q.LeaveWhenEmpty, RingInUse: q.RingInUse, MaxWait: q.MaxWait,
		ServiceLevel: q.ServiceLevel, Overflow: toTargetJSON(q.Overflow)}
}

type memberJSON struct {
	PK         int64  `json:"pk" doc:"User ID of the member"`
	PresenceID string `json:"presence_id" doc:"Member's extension"`
	FirstName  string `json:"first_name" doc:"Member's first name"`
	LastName   string `json:"last_name" doc:"Member's last name"`
	Penalty    int    `json:"penalty" doc:"Penalty: members with lower penalties are offered calls first"`
	Paused     bool   `json:"paused" doc:"A paused member gets no queue calls"`
}

type queueCreateJSON struct {
	QueueName      string      `json:"queue_name" doc:"Friendly name" required:"true"`
	Extension      string      `json:"extension" doc:"Extension, 2 to 8 digits" required:"true"`
	Strategy       string      `json:"strategy" doc:"Ring strategy; default ringall"`
	MusicOnHold    string      `json:"musiconhold" doc:"Music on hold class; default default"`
	Timeout        *int        `json:"timeout" doc:"Ring timeout in seconds; default 15"`
	Retry          *int        `json:"retry" doc:"Retry interval in seconds; default 5"`
	WrapUpTime     int         `json:"wrapuptime" doc:"Wrap-up time in seconds"`
	MaxLen         int         `json:"maxlen" doc:"Maximum queue length (0 = unlimited)"`
	JoinEmpty      string      `json:"joinempty" doc:"yes, no, strict, loose; default yes"`
	LeaveWhenEmpty string      `json:"leavewhenempty" doc:"yes, no, strict, loose; default no"`
	RingInUse      string      `json:"ringinuse" doc:"yes or no; default no"`
	MaxWait        int         `json:"max_wait" doc:"Seconds before overflow; 0 = no limit"`
	ServiceLevel   int         `json:"service_level" doc:"Service level seconds; default 20"`
	Overflow       *targetJSON `json:"overflow" doc:"Overflow target; default hang up"`
}

type queuePatchJSON struct {
	QueueName      *string     `json:"queue_name" doc:"Friendly name"`
	Extension      *string     `json:"extension" doc:"Extension, 2 to 8 digits"`
	Strategy       *string     `json:"strategy" doc:"Ring strategy"`
	MusicOnHold    *string     `json:"musiconhold" doc:"Music on hold class"`
	Timeout        *int        `json:"timeout" doc:"Ring timeout in seconds"`
	Retry          *int        `json:"retry" doc:"Retry interval in seconds"`
	WrapUpTime     *int        `json:"wrapuptime" doc:"Wrap-up time in seconds"`
	MaxLen         *int        `json:"maxlen" doc:"Maximum queue length"`
	JoinEmpty      *string     `json:"joinempty" doc:"yes, no, strict, loose"`
	LeaveWhenEmpty *string     `json:"leavewhenempty" doc:"yes, no, strict, loose"`
	RingInUse      *string     `json:"ringinuse" doc:"yes or no"`
	MaxWait        *int        `json:"max_wait" doc:"Seconds before overflow"`
	ServiceLevel   *int        `json:"service_level" doc:"Service level seconds"`
	Overflow       *targetJSON `json:"overflow" doc:"Overflow target"`
}

type memberCreateJSON struct {
	UserID  int64 `json:"user_id" doc:"The user to add" required:"true"`
	Penalty int   `json:"penalty" doc:"0 to 1000; default 0"`
	Paused  bool  `json:"paused" doc:"Start paused"`
}

type memberPatchJSON struct {
	Penalty *int  `json:"penalty" doc:"0 to 1000"`
	Paused  *bool `json:"paused" doc:"Pause (true) or unpause (false) the member"`
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
	CallersWaiting       int     `json:"callers_waiting" doc:"Callers waiting for an agent"`
	LongestWaitSeconds   int     `json:"longest_wait_seconds" doc:"How long the longest-waiting caller has waited"`
	Offered              int     `json:"offered" doc:"Callers who entered the queue today (UTC)"`
	Answered             int     `json:"answered" doc:"Of them, answered by an agent"`
	Abandoned            int     `json:"abandoned" doc:"Of them, hung up while waiting"`
	ServiceLevel         float64 `json:"service_level" doc:"Percent answered within the threshold, of answered + abandoned after it (100 when none)"`
	ServiceLevelSeconds  int     `json:"service_level_seconds" doc:"The queue's service level threshold"`
	AverageSpeedOfAnswer float64 `json:"average_speed_of_answer" doc:"Mean seconds from entering to answer, today"`
	AverageHandleTime    float64 `json:"average_handle_time" doc:"Mean talk seconds of today's answered calls that ended"`
}

// --- targets ---

type targetJSON struct {
	Type   string  `json:"type" doc:"user, queue, ringgroup, external, hangup; \"\" = none"`
	ID     *int64  `json:"id" doc:"The user, queue or ring group ID (types user, queue, ringgroup)"`
	Number *string `json:"number" doc:"The number to call (type external), any form; stored E.164"`
}

func toTargetJSON(t switchboard.Target) targetJSON {
	return targetJSON{Type: string(t.Type), ID: nullableID(t.ID), Number: nullableString(t.Number)}
}

// --- ring groups ---

type ringGroupJSON struct {
	PK        int64                 `json:"pk" doc:"Ring group ID"`
	Name      string                `json:"name" doc:"Name"`
	Extension string                `json:"extension" doc:"Extension number"`
	Strategy  string                `json:"strategy" doc:"simultaneous or sequential"`
	RingTime  int                   `json:"ring_time" doc:"Seconds the group (or each member, sequentially) rings"`
	Members   []ringGroupMemberJSON `json:"members" doc:"Members, in ring order"`
	Fallback  targetJSON            `json:"fallback" doc:"Where the call goes when nobody answers"`
	CreatedAt string                `json:"created_at" doc:"RFC 3339 time of creation"`
}

type ringGroupMemberJSON struct {
	UserID   int64 `json:"user_id" doc:"Member user ID" required:"true"`
	RingTime int   `json:"ring_time" doc:"Seconds this member rings; 0 = the group's"`
}

func toRingGroupJSON(g *switchboard.RingGroup) ringGroupJSON {
	members := make([]ringGroupMemberJSON, 0, len(g.Members))
	for _, m := range g.Members {
		members = append(members, ringGroupMemberJSON{UserID: m.UserID, RingTime: m.RingTime})
	}
	return ringGroupJSON{PK: g.ID, Name: g.Name, Extension: g.Extension, Strategy: string(g.Strategy), RingTime: g.RingTime,
		Members: members, Fallback: toTargetJSON(g.Fallback), CreatedAt: formatTime(g.CreatedAt)}
}

type ringGroupCreateJSON struct {
	Name      string                `json:"name" doc:"Name" required:"true"`
	Extension string                `json:"extension" doc:"Extension, 2 to 8 digits" required:"true"`
	Strategy  string                `json:"strategy" doc:"simultaneous (default) or sequential"`
	RingTime  *int                  `json:"ring_time" doc:"1 to 600 seconds; default 20"`
	Members   []ringGroupMemberJSON `json:"members" doc:"Members, in ring order"`
	Fallback  *targetJSON           `json:"fallback" doc:"Where the call goes when nobody answers; default hang up"`
}

type ringGroupPatchJSON struct {
	Name      *string                `json:"name" doc:"Name"`
	Extension *string                `json:"extension" doc:"Extension, 2 to 8 digits"`
	Strategy  *string                `json:"strategy" doc:"simultaneous or sequential"`
	RingTime  *int                   `json:"ring_time" doc:"1 to 600 seconds"`
	Members   *[]ringGroupMemberJSON `json:"members" doc:"Replaces the member list"`
	Fallback  *targetJSON            `json:"fallback" doc:"Fallback target"`
}

// --- numbers ---

type numberJSON struct {
	PK                int64      `json:"pk" doc:"Number ID"`
	Number            string     `json:"number" doc:"Phone number in E.164 format"`
	FriendlyName      string     `json:"friendly_name" doc:"User-friendly display name"`
	SMSEnabled        bool       `json:"sms_enabled" doc:"Whether SMS is enabled for this number"`
	MMSEnabled        bool       `json:"mms_enabled" doc:"Whether MMS is enabled for this number"`
	OwnerID           *int64     `json:"owner_id" doc:"The user who owns the number; null when none"`
	SMSAssignedUserID *int64     `json:"sms_assigned_user_id" doc:"The user who handles its SMS; null when none"`
	Status            string     `json:"status" doc:"active, inactive, porting, suspended"`
	AIAgentID         *string    `json:"ai_agent_id" doc:"The AI agent assigned; null when none"`
	Target            targetJSON `json:"target" doc:"Where inbound calls go"`
	CreatedAt         string     `json:"created_at" doc:"RFC 3339 time of creation"`
}

func toNumberJSON(n *switchboard.Number) numberJSON {
	return numberJSON{PK: n.ID, Number: n.Number, FriendlyName: n.FriendlyName, SMSEnabled: n.SMSEnabled,
		MMSEnabled: n.MMSEnabled, OwnerID: nullableID(n.OwnerUserID), SMSAssignedUserID: nullableID(n.SMSAssignedUserID),
		Status: n.Status, AIAgentID: nullableString(n.AIAgentID), Target: toTargetJSON(n.Target), CreatedAt: formatTime(n.CreatedAt)}
}

type numberCreateJSON struct {
	Number            string      `json:"number" doc:"The number, any form a phone number is written in; stored E.164" required:"true"`
	FriendlyName      string      `json:"friendly_name" doc:"Display name"`
	SMSEnabled        bool        `json:"sms_enabled" doc:"SMS enabled"`
	MMSEnabled        bool        `json:"mms_enabled" doc:"MMS enabled (needs sms_enabled)"`
	OwnerID           int64       `json:"owner_id" doc:"Owner user ID; 0 = none"`
	SMSAssignedUserID int64       `json:"sms_assigned_user_id" doc:"SMS-assigned user ID; 0 = none"`
	Status            string      `json:"status" doc:"active (default), inactive, porting, suspended"`
	AIAgentID         string      `json:"ai_agent_id" doc:"AI agent ID"`
	Target            *targetJSON `json:"target" doc:"Where inbound calls go"`
}

type numberPatchJSON struct {
	FriendlyName      *string     `json:"friendly_name" doc:"Display name"`
	SMSEnabled        *bool       `json:"sms_enabled" doc:"SMS enabled"`
	MMSEnabled        *bool       `json:"mms_enabled" doc:"MMS enabled"`
	OwnerID           *int64      `json:"owner_id" doc:"Owner user ID; 0 clears it"`
	SMSAssignedUserID *int64      `json:"sms_assigned_user_id" doc:"SMS-assigned user ID; 0 clears it"`
	Status            *string     `json:"status" doc:"active, inactive, porting, suspended"`
	AIAgentID         *string     `json:"ai_agent_id" doc:"AI agent ID; \"\" clears it"`
	Target            *targetJSON `json:"target" doc:"Where inbound calls go"`
}

// --- contacts ---

type contactJSON struct {
	PK        int64  `json:"pk" doc:"Contact ID"`
	Phone     string `json:"phone" doc:"E.164 phone number"`
	FirstName string `json:"first_name" doc:"First name"`
	LastName  string `json:"last_name" doc:"Last name"`
	Email     string `json:"email" doc:"Email address"`
	Company   string `json:"company" doc:"Company"`
	CreatedAt string `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt string `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toContactJSON(c *switchboard.Contact) contactJSON {
	return contactJSON{PK: c.ID, Phone: c.Phone, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Company: c.Company, CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt)}
}

type contactCreateJSON struct {
	Phone     string `json:"phone" doc:"Phone number, any form; stored E.164" required:"true"`
	FirstName string `json:"first_name" doc:"First name"`
	LastName  string `json:"last_name" doc:"Last name"`
	Email     string `json:"email" doc:"Email address"`
	Company   string `json:"company" doc:"Company"`
}

type contactPatchJSON struct {
	Phone     *string `json:"phone" doc:"Phone number, any form"`
	FirstName *string `json:"first_name" doc:"First name"`
	LastName  *string `json:"last_name" doc:"Last name"`
	Email     *string `json:"email" doc:"Email address"`
	Company   *string `json:"company" doc:"Company"`
}

// --- API keys ---

type apiKeyJSON struct {
	PK         int64    `json:"pk" doc:"Key ID"`
	Kind       string   `json:"kind" doc:"user or developer"`
	UserID     *int64   `json:"user_id" doc:"The user of a user key; null for developer keys"`
	Name       string   `json:"name" doc:"A label"`
	Prefix     string   `json:"prefix" doc:"The key's first characters, to tell keys apart"`
	AllowedIPs []string `json:"allowed_ips" doc:"Addresses or CIDRs the key may be used from; empty = anywhere"`
	CreatedAt  string   `json:"created_at" doc:"RFC 3339 time of creation"`
	RevokedAt  *string  `json:"revoked_at" doc:"RFC 3339 time of revocation; null while valid"`
}

// apiKeyCreatedJSON is a new key with its plaintext, shown only in the create response.
type apiKeyCreatedJSON struct {
	apiKeyJSON
	Key string `json:"key" doc:"The API key. Shown only in this response: store it now"`
}

func toAPIKeyJSON(k *switchboard.APIKey) apiKeyJSON {
	ips := k.AllowedIPs
	if ips == nil {
		ips = []string{}
	}
	return apiKeyJSON{PK: k.ID, Kind: string(k.Kind), UserID: nullableID(k.UserID), Name: k.Name, Prefix: k.Prefix,
		AllowedIPs: ips, CreatedAt: formatTime(k.CreatedAt), RevokedAt: nullableTime(k.RevokedAt)}
}

type apiKeyCreateJSON struct {
	Kind       string   `json:"kind" doc:"user or developer" required:"true"`
	UserID     int64    `json:"user_id" doc:"The user of a user key"`
	Name       string   `json:"name" doc:"A label, at most 100 characters"`
	AllowedIPs []string `json:"allowed_ips" doc:"Addresses or CIDRs the key may be used from; empty = anywhere"`
}

// --- settings ---

type settingsJSON struct {
	AccountID       int64  `json:"account_id" doc:"Account ID"`
	Name            string `json:"name" doc:"Account name"`
	PublicEndpoints bool   `json:"public_endpoints" doc:"Whether the no-key endpoints (availability online/offline, queue basics, queue availability) answer"`
}

type settingsPatchJSON struct {
	PublicEndpoints *bool `json:"public_endpoints" doc:"Enable or disable the no-key endpoints"`
}

// --- calls and SMS ---

type outboundCallJSON struct {
	From      string `json:"from" doc:"Extension number making the call" required:"true"`
	To        string `json:"to" doc:"Destination phone number" required:"true"`
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
