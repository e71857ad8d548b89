package webhook

import (
	"fmt"
	"net/http"

	"switchboard"
	"switchboard/events"
)

// The voipline format (seeds/voipline-api.md). POST only; a JSON body whose "type" is the
// event name, with snake_case fields, and the header X-Pbx-Token carrying the subscription's
// secret token as it is (the current one; the user may choose it).
//
// webhook_component_event has exactly the document's fields: type, unique_call_id, user_name
// (the caller's CNAM, as the document defines it), user_number (the caller's CLI),
// dest_number, call_start_at (ISO 8601), component_name.
//
// The document shows the other events' fields only as images; from its prose ("caller ID,
// type of call, user name, user's extension, destination number, date, and queue
// information") Switchboard sends, for every event (absent values as null):
//
//	type            the event name
//	unique_call_id  the call's uniqueid
//	call_type       "inbound" or "outbound"
//	caller_id       the caller's number, E.164 ("anonymous" when withheld)
//	caller_name     the caller's CNAM ("" when unknown)
//	dest_number     the number dialled, E.164 (an extension for internal calls)
//	user_name       the PBX user's name (who rings, answered, dialled, or owns the mailbox)
//	user_extension  that user's extension
//	date            when the event happened, ISO 8601 UTC
//
// and by event:
//
//	user_inbound_call, user_inbound_call_answered: queue_id, queue_name, ring_group_id,
//	  ring_group_name (the queue or ring group that offered the call, else null)
//	user_inbound_call_completed, user_outbound_call_completed: answered (bool), duration,
//	  answered_duration (seconds)
//	inbound_call_recording, outbound_call_recording: duration, recording_url
//	voicemail: duration, recording_url
//	queue_call_summary: queue_id, queue_name, answered, wait_time, duration,
//	  answered_duration, call_start_at
//	ring_group_call_summary: ring_group_id, ring_group_name, answered, wait_time, duration,
//	  answered_duration, call_start_at
//
// In the summaries user_name and user_extension are who answered (null when nobody did).
// The call events of a call placed with a crm_id (click-to-call) end with "crm_id"
// (webhook_component_event keeps exactly the document's fields).
func renderVoipline(t Target, ev *switchboard.Event, wireName string) (*rendered, error) {
	if err := postOnly(t); err != nil {
		return nil, err
	}
	d := ev.Data
	var body object
	if wireName == "webhook_component_event" {
		body = object{{"type", wireName}, {"unique_call_id", ev.CallID},
			{"user_name", events.String(d, events.FieldCallerName)}, {"user_number", callerNumber(d, "anonymous")},
			{"dest_number", dialledNumber(d)}, {"call_start_at", isoTime(callStart(ev))},
			{"component_name", events.String(d, events.FieldComponentName)}}
	} else {
		// The wire name alone says the direction, whatever the event's data holds.
		var direction string
		switch wireName {
		case "user_inbound_call", "user_inbound_call_answered", "user_inbound_call_completed",
			"inbound_call_recording", "voicemail", "queue_call_summary", "ring_group_call_summary":
			direction = events.DirectionInbound
		case "user_outbound_call", "user_outbound_call_answered", "user_outbound_call_completed",
			"outbound_call_recording":
			direction = events.DirectionOutbound
		default:
			return nil, fmt.Errorf("the voipline format has no event %q", wireName)
		}
		dest := events.String(d, events.FieldTo)
		if direction == events.DirectionInbound {
			dest = dialledNumber(d)
		}
		body = object{{"type", wireName}, {"unique_call_id", ev.CallID}, {"call_type", direction},
			{"caller_id", callerNumber(d, "anonymous")}, {"caller_name", events.String(d, events.FieldCallerName)},
			{"dest_number", dest}, {"user_name", orNull(d, events.FieldUserName)},
			{"user_extension", orNull(d, events.FieldExtension)}, {"date", isoTime(ev.OccurredAt)}}
		outcome := func() object {
			answered := events.Answered(d)
			return object{{"answered", answered}, {"duration", intOrZero(d, events.FieldDuration)},
				{"answered_duration", intOrZero(d, events.FieldAnsweredDuration)}}
		}
		switch wireName {
		case "user_inbound_call", "user_inbound_call_answered":
			body = append(body, field{"queue_id", numberOrNull(d, events.FieldQueueID)},
				field{"queue_name", orNull(d, events.FieldQueueName)},
				field{"ring_group_id", numberOrNull(d, events.FieldRingGroupID)},
				field{"ring_group_name", orNull(d, events.FieldRingGroupName)})
		case "user_inbound_call_completed", "user_outbound_call_completed":
			body = append(body, outcome()...)
		case "inbound_call_recording", "outbound_call_recording", "voicemail":
			body = append(body, field{"duration", intOrZero(d, events.FieldDuration)},
				field{"recording_url", orNull(d, events.FieldRecordingURL)})
		case "queue_call_summary", "ring_group_call_summary":
			if wireName == "queue_call_summary" {
				body = append(body, field{"queue_id", numberOrNull(d, events.FieldQueueID)},
					field{"queue_name", orNull(d, events.FieldQueueName)})
			} else {
				body = append(body, field{"ring_group_id", numberOrNull(d, events.FieldRingGroupID)},
					field{"ring_group_name", orNull(d, events.FieldRingGroupName)})
			}
			body = append(body, field{"wait_time", intOrZero(d, events.FieldWaitTime)})
			body = append(body, outcome()...)
			body = append(body, field{"call_start_at", isoTime(callStart(ev))})
		}
	}
	if ev.CRMID != "" && wireName != "webhook_component_event" {
		body = append(body, field{"crm_id", ev.CRMID})
	}
	raw, err := marshalJSON(body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("X-Pbx-Token", t.Secrets[0])
	return &rendered{method: http.MethodPost, body: raw, contentType: "application/json", header: h}, nil
}
