package events

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Canonical Data field names. Every event keeps its kind's fields in switchboard.Event.Data
// under these snake_case names; the webhook formats rename them for the wire. Producers (the
// call engine, queues, SMS, the API) fill exactly these names; a field that does not apply
// is left out (not set to a zero value), and renderers send the provider's null or "" for it.
//
// The call's uniqueid and crm_id are not Data fields: they are Event.CallID and Event.CRMID.
//
// Values may be Go values (string, int, int64, float64, bool, []string, time.Time) when the
// event is fresh, or their JSON-decoded forms (float64, []any, RFC 3339 strings) after the
// store has read it back; the accessors below (String, Number, Int, Bool, Strings, Time)
// accept both.
//
// Call events — call.inbound.{started,ringing,answered,ended},
// call.outbound.{started,answered,ended}:
//
//	direction          string  "inbound" or "outbound" (DirectionInbound/Outbound)
//	from               string  caller id number, E.164; "" or absent when withheld
//	                           (formats then send their "anonymous" form)
//	caller_name        string  caller id name (CNAM), when known
//	to                 string  the number dialled, E.164: for inbound calls the number of
//	                           the account the caller dialled (dnis), for outbound calls the
//	                           destination the user dialled (an extension for internal calls)
//	number             string  the account's number involved, E.164: inbound, the number
//	                           reached; outbound, the caller id presented
//	user_id            int     the user who rings / answered / dialled (absent: none)
//	extension          string  that user's extension
//	user_name          string  that user's display name
//	queue_id           int     the queue that offered the call (ringing/answered), if any
//	queue_name         string  its friendly name
//	ring_group_id      int     the ring group that offered the call, if any
//	ring_group_name    string  its name
//	answered_by_user_id int    (outbound answered, ended) the account's user who answered
//	                           an outbound call to an extension, queue or ring group (the
//	                           callee; user_id stays the caller); absent for calls that
//	                           leave through a trunk or that nobody answered
//	answered           bool    (ended) whether anyone answered
//	duration           int     (ended) seconds from start to end
//	answered_duration  int     (ended) seconds from answer to end; 0 when not answered
//	hangup_cause       string  (ended) why it ended: "normal", "busy", "no_answer",
//	                           "failed", "cancelled"
//	call_started_at    time    when the call arrived on / left the PBX
//	recording_url      string  (ended) the recording, when there is one
//	transcript         string  (ended) the transcript text, when there is one
//
// ivr.option: direction, from, caller_name, to, number, ivr_id (int), ivr_name, option
// (string: "0"-"9", "*" or "#").
//
// recording.available: direction, from, to, number, user_id, extension, user_name,
// duration, recording_url, recording_id (string "rec_…"; int in older examples), and
// call_id (string), size (int: bytes of the WAV), queue_id (int, when a queue's call),
// started_at, ended_at (time). recording_url is signed and expires (7 days by default).
//
// recording.failed: recording_id (string), call_id (string), reason (string: why the
// recording could not be stored).
//
// transcription.finished: success (bool), transcription (string: AWS Call Analytics-style
// JSON, absent on failure), error (string, on failure), provider, model, total_tokens (int).
//
// voicemail.left: from, caller_name, to, number, user_id, extension, user_name (the
// mailbox's user), duration, recording_url, voicemail_id (int), call_started_at.
//
// voicemail.read / voicemail.deleted (a message listened to, marked read, or removed; no
// call): voicemail_id (int), voicemail_box_id (int), user_id and extension (the box's
// user, absent for a shared box), new_messages and old_messages (int: the box after the
// change, as the message waiting lamp shows it).
//
// flow.webhook: component_name, from, caller_name, to, number, call_started_at.
//
// Queue events — queue.entered, queue.member.{ringing,answered,ended}, queue.left,
// queue.no_answer, queue.timeout, queue.abandoned: queue_id (int), queue_name,
// queue_call_id (string: this caller's stay in the queue), from, caller_name, to, number;
// member events also user_id, extension, user_name, and (member.ended) duration; queue.left
// duration (seconds in the queue, may be fractional) and reason ("answered", "timeout",
// "abandoned", "no_answer"); no_answer/timeout/abandoned wait_time (int seconds).
//
// queue.callback.requested (the call of the caller who pressed the queue's callback key):
// queue_id, queue_name, queue_call_id (the stay the callback keeps), from, caller_name, to,
// number, callback_number (string: what will be dialled back, an E.164 number or the
// caller's extension), position (int: the caller's place among the waiting callers, 1 =
// next), wait_time (int seconds waited so far).
//
// queue.callback.placed (the callback call, once an agent answered and the caller is being
// dialled): the queue and caller fields above, callback_number, attempt (int, 1 = the first
// dial), original_call_id (string: the uniqueid of the call that asked), user_id, extension,
// user_name (the agent).
//
// queue.callback.failed: the queue and caller fields, callback_number, original_call_id,
// attempt (dials made), reason ("no_answer": unanswered after every retry, "unreachable":
// the number or user cannot be dialled, "queue_deleted").
//
// queue.call.summary / ringgroup.call.summary: queue_id + queue_name or ring_group_id +
// ring_group_name, from, caller_name, to, number, answered, user_id, extension, user_name
// (who answered, if anyone), wait_time, duration, answered_duration, call_started_at.
//
// SMS events: message_id (string), from (E.164), to ([]string of E.164; sms.received has
// one), body, user_id (sms.sent: who sent it), status (sms.delivered: "delivered").
//
// limit.tripped (an outbound call through a trunk refused by a toll-fraud guard):
// limit (string: "account_concurrent_calls", "user_concurrent_calls",
// "account_minutes_per_hour", "user_minutes_per_hour", "destination_country"), max (int:
// the limit, calls or minutes), country_code
// (string: the destination's, for destination_country), to (the number dialled), user_id,
// extension, user_name (who dialled or was forwarded, when a user), direction.
//
// Contact events (as switchboard.ContactEvent builds them): contact_id (int), phone,
// first_name, last_name, email, company, updated_fields ([]string, contact.updated).
//
// Campaign events: campaign_id (int), campaign_name, status ("started", "paused",
// "finished").
//
// presence.changed: user_id, extension, status ("online" or "offline").
//
// call.transferred: the call's fields (direction, from, caller_name, to, number,
// call_started_at) and
//
//	user_id, extension, user_name  who transferred it (absent: through the API)
//	transfer_type       string  "blind" or "attended"
//	transfer_to         string  what it was transferred to: the extension, queue or ring
//	                            group extension or number dialled (blind), or the
//	                            extension of the party it was joined with (attended)
//	transfer_to_user_id int     the account's user who took the call over, when one did
//
// call.parked: the call's fields and park_slot (string, "701"), user_id, extension,
// user_name (who parked it).
//
// call.retrieved: the call's fields and park_slot, returned (bool: the park timed out and
// the call went back to the parker), user_id, extension, user_name (who took it: the
// retriever, or the parker it returned to), parked_by_user_id (int).
// call.picked_up (a ringing call taken by another user dialling *8, see docs/calls.md): the
// call fields (direction, from, caller_name, to, number, call_started_at); user_id,
// extension, user_name are the user who picked the call up; pickup ("directed": *8 and an
// extension, "group": *8 alone, a call ringing a fellow ring group member);
// ringing_user_id, ringing_extension, ringing_user_name: the user whose phones were
// ringing with the call (whose call it was).
//
// conference.joined / conference.left: the party's call fields (direction, from = the
// party's number or extension, caller_name, to = what was dialled, call_started_at; user_id,
// extension, user_name when the party is a user of the account) and
//
//	conference_id         int     the room
//	conference_name       string
//	conference_extension  string  the room number
//	participant_id        int     the party in the room (the API's participant_id)
//	participant_count     int     parties in the room after the join or leave
const (
	FieldConferenceID        = "conference_id"
	FieldConferenceName      = "conference_name"
	FieldConferenceExtension = "conference_extension"
	FieldParticipantID       = "participant_id"
	FieldParticipantCount    = "participant_count"
)

const (
	FieldDirection        = "direction"
	FieldFrom             = "from"
	FieldCallerName       = "caller_name"
	FieldTo               = "to"
	FieldNumber           = "number"
	FieldUserID           = "user_id"
	FieldExtension        = "extension"
	FieldUserName         = "user_name"
	FieldAnsweredByUserID = "answered_by_user_id"
	FieldTransferType     = "transfer_type"
	FieldTransferTo       = "transfer_to"
	FieldTransferToUserID = "transfer_to_user_id"
	FieldParkSlot         = "park_slot"
	FieldReturned         = "returned"
	FieldParkedByUserID   = "parked_by_user_id"
	FieldQueueID          = "queue_id"
	FieldQueueName        = "queue_name"
	FieldQueueCallID      = "queue_call_id"
	FieldRingGroupID      = "ring_group_id"
	FieldRingGroupName    = "ring_group_name"
	FieldAnswered         = "answered"
	FieldDuration         = "duration"
	FieldAnsweredDuration = "answered_duration"
	FieldHangupCause      = "hangup_cause"
	FieldCallStartedAt    = "call_started_at"
	FieldRecordingURL     = "recording_url"
	FieldRecordingID      = "recording_id"
	// recording.available / recording.failed (recording.go).
	FieldCallID        = "call_id"
	FieldSize          = "size"
	FieldStartedAt     = "started_at"
	FieldEndedAt       = "ended_at"
	FieldTranscript    = "transcript"
	FieldIVRID         = "ivr_id"
	FieldIVRName       = "ivr_name"
	FieldOption        = "option"
	FieldSuccess       = "success"
	FieldTranscription = "transcription"
	FieldError         = "error"
	FieldProvider      = "provider"
	FieldModel         = "model"
	FieldTotalTokens   = "total_tokens"
	FieldVoicemailID   = "voicemail_id"
	// voicemail.read / voicemail.deleted: the box and the lamp's counts after the change.
	FieldVoicemailBoxID   = "voicemail_box_id"
	FieldNewMessages      = "new_messages"
	FieldOldMessages      = "old_messages"
	FieldComponentName    = "component_name"
	FieldReason           = "reason"
	FieldWaitTime         = "wait_time"
	FieldMessageID        = "message_id"
	FieldBody             = "body"
	FieldStatus           = "status"
	FieldContactID        = "contact_id"
	FieldPhone            = "phone"
	FieldFirstName        = "first_name"
	FieldLastName         = "last_name"
	FieldEmail            = "email"
	FieldCompany          = "company"
	FieldUpdatedFields    = "updated_fields"
	FieldLimit            = "limit"
	FieldMax              = "max"
	FieldCountryCode      = "country_code"
	FieldCampaignID       = "campaign_id"
	FieldCampaignName     = "campaign_name"
	FieldPickup           = "pickup"
	FieldRingingUserID    = "ringing_user_id"
	FieldRingingExtension = "ringing_extension"
	FieldRingingUserName  = "ringing_user_name"
	FieldCallbackNumber   = "callback_number"
	FieldPosition         = "position"
	FieldAttempt          = "attempt"
	FieldOriginalCallID   = "original_call_id"
)

// Values of the pickup field of call.picked_up.
const (
	PickupDirected = "directed"
	PickupGroup    = "group"
)

// Values of the direction field.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// String returns data[key] as a string: strings as they are, numbers in decimal, booleans
// as true/false; "" when absent or null.
func String(data map[string]any, key string) string {
	switch v := data[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case json.Number:
		return v.String()
	}
	if n, ok := Number(data, key); ok {
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return strconv.FormatInt(int64(n), 10)
		}
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return ""
}

// Number returns data[key] as a float64 when it is a number (or a numeric string).
func Number(data map[string]any, key string) (float64, bool) {
	switch v := data[key].(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// Int returns data[key] as an int64 when it is a whole number.
func Int(data map[string]any, key string) (int64, bool) {
	switch v := data[key].(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case int32:
		return int64(v), true
	}
	f, ok := Number(data, key)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// Bool returns data[key] when it is a boolean, and whether it was.
func Bool(data map[string]any, key string) (value, ok bool) {
	b, ok := data[key].(bool)
	return b, ok
}

// Strings returns data[key] as a list of strings (a single string becomes a list of one).
func Strings(data map[string]any, key string) []string {
	switch v := data[key].(type) {
	case []string:
		return v
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Time returns data[key] as a time: a time.Time, or an RFC 3339 string.
func Time(data map[string]any, key string) (time.Time, bool) {
	switch v := data[key].(type) {
	case time.Time:
		return v, !v.IsZero()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}
