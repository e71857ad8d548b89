package events

import (
	"maps"
	"time"

	"switchboard"
)

// Example values, taken from the providers' documents so that a receiver written against a
// document recognises a test delivery (as the providers' portals send on "test").
const (
	exampleCallID    = "1704067200.12345" // voice360's uniqueid
	exampleCRMID     = "usefulid"         // voiceovercloud's crm_id
	exampleCaller    = "+15551234567"
	exampleCNAM      = "John Doe"
	exampleDID       = "+15559876543"
	exampleUserID    = 67890
	exampleExtension = "280085" // voiceovercloud's extension
	exampleUserName  = "Jane Smith"
	exampleQueueID   = 123
	exampleRecording = "https://example.com/recordings/1704067200.12345.wav"
)

// examples holds each canonical event's Data.
var examples = map[string]map[string]any{
	switchboard.EventCallInboundStarted: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID,
	},
	switchboard.EventCallInboundRinging: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID, FieldUserID: exampleUserID,
		FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue",
	},
	switchboard.EventCallInboundAnswered: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID, FieldUserID: exampleUserID,
		FieldExtension: exampleExtension, FieldUserName: exampleUserName,
	},
	switchboard.EventCallInboundEnded: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID, FieldUserID: exampleUserID,
		FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldAnswered: true, FieldDuration: 120, FieldAnsweredDuration: 77, FieldHangupCause: "normal",
		FieldRecordingURL: exampleRecording,
	},
	switchboard.EventCallOutboundStarted: {
		FieldDirection: DirectionOutbound, FieldFrom: exampleDID, FieldTo: exampleCaller,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName,
	},
	switchboard.EventCallOutboundAnswered: {
		FieldDirection: DirectionOutbound, FieldFrom: exampleDID, FieldTo: exampleCaller,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName,
	},
	switchboard.EventCallOutboundEnded: {
		FieldDirection: DirectionOutbound, FieldFrom: exampleDID, FieldTo: exampleCaller,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName, FieldAnswered: true, FieldDuration: 45,
		FieldAnsweredDuration: 38, FieldHangupCause: "normal",
	},
	switchboard.EventIVROption: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID, FieldIVRID: 7, FieldIVRName: "Main Menu",
		FieldOption: "1",
	},
	switchboard.EventRecordingAvailable: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldTo: exampleDID,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName, FieldDuration: 77, FieldRecordingURL: exampleRecording,
		FieldRecordingID: 4321,
	},
	switchboard.EventTranscriptionFinished: {
		FieldSuccess: true, FieldTranscription: `{"AccountId":"12345","JobName":"call-analytics-1704067200.12345","LanguageCode":"en-US","JobStatus":"COMPLETED","Channel":"VOICE"}`,
		FieldProvider: "together_ai", FieldModel: "openai/whisper-large-v3", FieldTotalTokens: 1842,
	},
	switchboard.EventVoicemailLeft: {
		FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldDuration: 23, FieldRecordingURL: "https://example.com/voicemail/1704067200.12345.wav",
		FieldVoicemailID: 555,
	},
	switchboard.EventFlowWebhook: {
		FieldComponentName: "Queue timeout", FieldFrom: exampleCaller, FieldCallerName: exampleCNAM,
		FieldTo: exampleDID, FieldNumber: exampleDID,
	},
	switchboard.EventQueueEntered: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID,
	},
	switchboard.EventQueueMemberRinging: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
	},
	switchboard.EventQueueMemberAnswered: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
	},
	switchboard.EventQueueMemberEnded: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldDuration: 120,
	},
	switchboard.EventQueueLeft: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldDuration: 16.59, FieldReason: "answered",
	},
	switchboard.EventQueueNoAnswer: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID, FieldWaitTime: 60,
	},
	switchboard.EventQueueTimeout: {
		FieldQueueID: 456, FieldQueueName: "Support Queue", FieldQueueCallID: "457",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID, FieldWaitTime: 300,
	},
	switchboard.EventQueueAbandoned: {
		FieldQueueID: 456, FieldQueueName: "Support Queue", FieldQueueCallID: "458",
		FieldFrom: exampleCaller, FieldTo: exampleDID, FieldNumber: exampleDID, FieldWaitTime: 45,
	},
	switchboard.EventQueueCallSummary: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldFrom: exampleCaller,
		FieldCallerName: exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID, FieldAnswered: true,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldWaitTime: 12, FieldDuration: 132, FieldAnsweredDuration: 120,
	},
	switchboard.EventQueueCallbackRequested: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldCallbackNumber: exampleCaller, FieldPosition: 3, FieldWaitTime: 95,
	},
	switchboard.EventQueueCallbackPlaced: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldCallerName: "Callback: " + exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldCallbackNumber: exampleCaller, FieldAttempt: 1, FieldOriginalCallID: "1704066900.12301",
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
	},
	switchboard.EventQueueCallbackFailed: {
		FieldQueueID: exampleQueueID, FieldQueueName: "Sales Queue", FieldQueueCallID: "456",
		FieldFrom: exampleCaller, FieldCallerName: "Callback: " + exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID,
		FieldCallbackNumber: exampleCaller, FieldAttempt: 2, FieldOriginalCallID: "1704066900.12301",
		FieldReason: "no_answer",
	},
	switchboard.EventRingGroupCallSummary: {
		FieldRingGroupID: 12, FieldRingGroupName: "Support Team", FieldFrom: exampleCaller,
		FieldCallerName: exampleCNAM, FieldTo: exampleDID, FieldNumber: exampleDID, FieldAnswered: true,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldWaitTime: 8, FieldDuration: 128, FieldAnsweredDuration: 120,
	},
	switchboard.EventSMSReceived: {
		FieldMessageID: "msg_abc123", FieldFrom: exampleCaller, FieldTo: []string{exampleDID},
		FieldBody: "Hello, this is a test message",
	},
	switchboard.EventSMSSent: {
		FieldMessageID: "msg_xyz789", FieldFrom: exampleDID, FieldTo: []string{exampleCaller},
		FieldBody: "Hello from Voice360!", FieldUserID: exampleUserID,
	},
	switchboard.EventSMSDelivered: {
		FieldMessageID: "msg_xyz789", FieldFrom: exampleDID, FieldTo: []string{exampleCaller},
		FieldStatus: "delivered",
	},
	switchboard.EventContactCreated: {
		FieldContactID: 98765, FieldPhone: exampleCaller, FieldFirstName: "John", FieldLastName: "Doe",
		FieldEmail: "john@example.com", FieldCompany: "Example Inc",
	},
	switchboard.EventContactUpdated: {
		FieldContactID: 98765, FieldPhone: exampleCaller, FieldFirstName: "John", FieldLastName: "Doe",
		FieldEmail: "john@example.com", FieldCompany: "Example Inc",
		FieldUpdatedFields: []string{"first_name", "email"},
	},
	switchboard.EventContactDeleted: {FieldContactID: 98765, FieldPhone: exampleCaller},
	switchboard.EventCampaignStarted: {
		FieldCampaignID: 42, FieldCampaignName: "Spring renewals", FieldStatus: "started",
	},
	switchboard.EventCampaignPaused: {
		FieldCampaignID: 42, FieldCampaignName: "Spring renewals", FieldStatus: "paused",
	},
	switchboard.EventCampaignFinished: {
		FieldCampaignID: 42, FieldCampaignName: "Spring renewals", FieldStatus: "finished",
	},
	switchboard.EventPresenceChanged: {
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldStatus: "online",
	},
	switchboard.EventLimitTripped: {
		FieldDirection: DirectionOutbound, FieldTo: "+442071234567", FieldLimit: "account_concurrent_calls", FieldMax: 10,
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
	},
	switchboard.EventCallTransferred: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName, FieldTransferType: "blind", FieldTransferTo: "202", FieldTransferToUserID: 43,
	},
	switchboard.EventCallParked: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID,
		FieldNumber: exampleDID, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldUserName: exampleUserName, FieldParkSlot: "701",
	},
	switchboard.EventCallRetrieved: {
		FieldDirection: DirectionInbound, FieldFrom: exampleCaller, FieldCallerName: exampleCNAM, FieldTo: exampleDID,
		FieldNumber: exampleDID, FieldUserID: 43, FieldExtension: "202", FieldUserName: "Bob Jones",
		FieldParkSlot: "701", FieldReturned: false, FieldParkedByUserID: exampleUserID,
	},
	switchboard.EventConferenceJoined: {
		FieldDirection: DirectionOutbound, FieldFrom: exampleExtension, FieldCallerName: exampleUserName, FieldTo: "800",
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldConferenceID: 7, FieldConferenceName: "Board room", FieldConferenceExtension: "800",
		FieldParticipantID: 3, FieldParticipantCount: 3,
	},
	switchboard.EventConferenceLeft: {
		FieldDirection: DirectionOutbound, FieldFrom: exampleExtension, FieldCallerName: exampleUserName, FieldTo: "800",
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldConferenceID: 7, FieldConferenceName: "Board room", FieldConferenceExtension: "800",
		FieldParticipantID: 3, FieldParticipantCount: 2,
	},
	switchboard.EventCallPickedUp: {
		FieldDirection: DirectionInbound, FieldFrom: "+15551234567", FieldTo: "+15557654321", FieldNumber: "+15557654321",
		FieldUserID: exampleUserID, FieldExtension: exampleExtension, FieldUserName: exampleUserName,
		FieldPickup: PickupDirected, FieldRingingUserID: 1002, FieldRingingExtension: "1002", FieldRingingUserName: "Bob Lee",
	},
	switchboard.EventVoicemailRead: {
		FieldVoicemailID: 555, FieldVoicemailBoxID: 12, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldNewMessages: 0, FieldOldMessages: 1,
	},
	switchboard.EventVoicemailDeleted: {
		FieldVoicemailID: 555, FieldVoicemailBoxID: 12, FieldUserID: exampleUserID, FieldExtension: exampleExtension,
		FieldNewMessages: 0, FieldOldMessages: 0,
	},
	switchboard.EventRecordingFailed: {
		FieldRecordingID: "rec_0123456789abcdef0123456789abcdef", FieldCallID: "1704067200.12345",
		FieldReason: "the recording's audio could not be stored: no space left on device",
	},
}

// noCall lists the events that have no call, so no uniqueid or crm_id.
var noCall = map[string]bool{
	switchboard.EventSMSReceived: true, switchboard.EventSMSSent: true, switchboard.EventSMSDelivered: true,
	switchboard.EventContactCreated: true, switchboard.EventContactUpdated: true, switchboard.EventContactDeleted: true,
	switchboard.EventCampaignStarted: true, switchboard.EventCampaignPaused: true, switchboard.EventCampaignFinished: true,
	switchboard.EventPresenceChanged: true, switchboard.EventLimitTripped: true,
	switchboard.EventVoicemailRead: true, switchboard.EventVoicemailDeleted: true,
}

// Example returns the event name with the example values of the providers' documents, as of
// now, for accountID: what "send a test" delivers. Each call gets a fresh event id; the
// values are the same every time (only the date moves). nil for an unknown name.
func Example(name string, accountID int64, now time.Time) *switchboard.Event {
	data, ok := examples[name]
	if !ok {
		return nil
	}
	data = maps.Clone(data)
	for k, v := range data {
		if list, ok := v.([]string); ok {
			data[k] = append([]string(nil), list...)
		}
	}
	ev := &switchboard.Event{ID: switchboard.NewEventID(), AccountID: accountID, Name: name,
		OccurredAt: now.UTC(), Data: data}
	if !noCall[name] {
		ev.CallID, ev.CRMID = exampleCallID, exampleCRMID
		if _, ok := data[FieldCallStartedAt]; !ok && name != switchboard.EventTranscriptionFinished {
			data[FieldCallStartedAt] = now.UTC().Add(-2 * time.Minute).Truncate(time.Second)
		}
	}
	return ev
}
