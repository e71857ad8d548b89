package switchboard

import (
	"context"
	"time"
)

// Canonical event names (shared/EVENTS.md). Webhook formats map them to provider names.
const (
	EventCallInboundStarted    = "call.inbound.started"
	EventCallInboundRinging    = "call.inbound.ringing"
	EventCallInboundAnswered   = "call.inbound.answered"
	EventCallInboundEnded      = "call.inbound.ended"
	EventCallOutboundStarted   = "call.outbound.started"
	EventCallOutboundAnswered  = "call.outbound.answered"
	EventCallOutboundEnded     = "call.outbound.ended"
	EventIVROption             = "ivr.option"
	EventRecordingAvailable    = "recording.available"
	EventTranscriptionFinished = "transcription.finished"
	EventVoicemailLeft         = "voicemail.left"
	EventFlowWebhook           = "flow.webhook"
	EventQueueEntered          = "queue.entered"
	EventQueueMemberRinging    = "queue.member.ringing"
	EventQueueMemberAnswered   = "queue.member.answered"
	EventQueueMemberEnded      = "queue.member.ended"
	EventQueueLeft             = "queue.left"
	EventQueueNoAnswer         = "queue.no_answer"
	EventQueueTimeout          = "queue.timeout"
	EventQueueAbandoned        = "queue.abandoned"
	EventQueueCallSummary      = "queue.call.summary"
	EventRingGroupCallSummary  = "ringgroup.call.summary"
	EventSMSReceived           = "sms.received"
	EventSMSSent               = "sms.sent"
	EventSMSDelivered          = "sms.delivered"
	EventContactCreated        = "contact.created"
	EventContactUpdated        = "contact.updated"
	EventContactDeleted        = "contact.deleted"
	EventCampaignStarted       = "campaign.started"
	EventCampaignPaused        = "campaign.paused"
	EventCampaignFinished      = "campaign.finished"
	EventPresenceChanged       = "presence.changed"
	// EventLimitTripped: an outbound call was refused by a toll-fraud guard.
	EventLimitTripped = "limit.tripped"
	// EventCallTransferred: a call was transferred (blind or attended; who, to whom).
	EventCallTransferred = "call.transferred"
	// EventCallParked / EventCallRetrieved: a call was parked in a slot / taken from it (or
	// returned to the parker when nobody took it).
	EventCallParked    = "call.parked"
	EventCallRetrieved = "call.retrieved"
	// EventCallPickedUp: a ringing call was picked up (*8) by another user, directed or group.
	EventCallPickedUp = "call.picked_up"
	// EventConferenceJoined / EventConferenceLeft: a party joined or left a conference room.
	EventConferenceJoined = "conference.joined"
	EventConferenceLeft   = "conference.left"
	// EventQueueCallbackRequested / Placed / Failed: a waiting caller asked to be called back
	// keeping their place / the callback was dialled (an agent answered) / it was given up.
	EventQueueCallbackRequested = "queue.callback.requested"
	EventQueueCallbackPlaced    = "queue.callback.placed"
	EventQueueCallbackFailed    = "queue.callback.failed"
)

// EventNames lists every canonical event name, in catalog order.
var EventNames = []string{
	EventCallInboundStarted, EventCallInboundRinging, EventCallInboundAnswered, EventCallInboundEnded,
	EventCallOutboundStarted, EventCallOutboundAnswered, EventCallOutboundEnded,
	EventIVROption, EventRecordingAvailable, EventTranscriptionFinished, EventVoicemailLeft, EventFlowWebhook,
	EventQueueEntered, EventQueueMemberRinging, EventQueueMemberAnswered, EventQueueMemberEnded,
	EventQueueLeft, EventQueueNoAnswer, EventQueueTimeout, EventQueueAbandoned,
	EventQueueCallSummary, EventRingGroupCallSummary,
	EventSMSReceived, EventSMSSent, EventSMSDelivered,
	EventContactCreated, EventContactUpdated, EventContactDeleted,
	EventCampaignStarted, EventCampaignPaused, EventCampaignFinished,
	EventPresenceChanged,
	EventLimitTripped,
	EventCallTransferred, EventCallParked, EventCallRetrieved,
	EventCallPickedUp,
	EventConferenceJoined, EventConferenceLeft,
	EventQueueCallbackRequested, EventQueueCallbackPlaced, EventQueueCallbackFailed,
	EventVoicemailRead, EventVoicemailDeleted,
	EventRecordingFailed,
	EventTranscriptionFailedOver,
	EventSMSFailed,
	EventAgentStateChanged,
}

// EventFollower reads one account's events in seq order, each once, as they become final: no
// event with a smaller seq can still be committed after one it returned. (On PostgreSQL a
// transaction can commit after one that took a later seq; reading "seq > the last one seen"
// would pass over its events for ever.) Not safe for concurrent use.
type EventFollower interface {
	// Next returns the next final events, oldest first, at most limit; none while there are
	// none yet.
	Next(ctx context.Context, limit int) ([]*Event, error)
}

// Event is one thing that happened. It is stored in the same transaction as the change that
// caused it, and leaves through the webhook formats. Data holds the kind's fields under
// canonical snake_case names; the formats rename them.
type Event struct {
	Seq        int64  // store-assigned, increasing; the outbox order
	ID         string // unique, stable across retries and resends ("evt_" + 32 hex)
	AccountID  int64
	Name       string
	OccurredAt time.Time
	CallID     string // the call's uniqueid (<epoch>.<sequence>) where there is a call
	CRMID      string // the crm_id given when the call was placed, where there is one
	Data       map[string]any
}

// NewEvent returns an event with a fresh id, happening now.
func NewEvent(accountID int64, name string, data map[string]any) *Event {
	return &Event{ID: NewEventID(), AccountID: accountID, Name: name, OccurredAt: time.Now().UTC(), Data: data}
}

// NewEventID returns a fresh event id ("evt_" + 32 hex, time-ordered: NewOrderedID).
func NewEventID() string { return NewOrderedID("evt_") }

// ContactEvent builds a contact.created/updated/deleted event. updatedFields is used only
// for contact.updated and lists the API names of the fields that changed.
func ContactEvent(name string, c *Contact, updatedFields []string) *Event {
	data := map[string]any{"contact_id": c.ID, "phone": c.Phone}
	switch name {
	case EventContactCreated:
		data["first_name"] = c.FirstName
		data["last_name"] = c.LastName
		data["email"] = c.Email
		data["company"] = c.Company
	case EventContactUpdated:
		if updatedFields == nil {
			updatedFields = []string{}
		}
		data["updated_fields"] = updatedFields
		data["first_name"] = c.FirstName
		data["last_name"] = c.LastName
		data["email"] = c.Email
		data["company"] = c.Company
	}
	return NewEvent(c.AccountID, name, data)
}
