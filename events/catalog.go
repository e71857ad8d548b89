// Package events holds the event catalog of shared/EVENTS.md: which provider event names
// each canonical event becomes in every webhook format, the canonical Data fields of each
// event (fields.go), and the example events that "send a test" delivers (examples.go).
package events

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"switchboard"
)

// Webhook formats.
const (
	FormatVoice360       = "voice360"
	FormatVoxpria        = "voxpria"
	FormatVoiceOverCloud = "voiceovercloud"
	FormatVoipline       = "voipline"
	FormatStandard       = "standard"
)

// Formats lists the webhook formats a subscription may choose.
var Formats = []string{FormatVoice360, FormatVoxpria, FormatVoiceOverCloud, FormatVoipline, FormatStandard}

// wireNames is the mapping table of EVENTS.md: canonical name -> the provider names a format
// may send for it. Where a row holds two names, whether both are sent or one is chosen from
// the event's data is decided in WireNames (see dataDependent).
var wireNames = map[string]map[string][]string{
	FormatVoice360: {
		switchboard.EventCallInboundStarted:    {"INCOMING_EXTERNAL_CALL"},
		switchboard.EventCallInboundAnswered:   {"USER_ANSWER"},
		switchboard.EventCallInboundEnded:      {"CALL_ENDED"},
		switchboard.EventCallOutboundStarted:   {"USER_DIAL"},
		switchboard.EventCallOutboundEnded:     {"USER_HANGUP", "CALL_ENDED"}, // both are sent
		switchboard.EventTranscriptionFinished: {"TRANSCRIPTION_FINISHED"},
		switchboard.EventQueueEntered:          {"QUEUE_ENTER"},
		switchboard.EventQueueMemberRinging:    {"QUEUE_MEMBER_DIAL"},
		switchboard.EventQueueMemberAnswered:   {"QUEUE_MEMBER_ANSWER"},
		switchboard.EventQueueMemberEnded:      {"QUEUE_MEMBER_DIAL_HANGUP"},
		switchboard.EventQueueLeft:             {"QUEUE_HANGUP"},
		switchboard.EventQueueNoAnswer:         {"QUEUE_NO_ANSWER"},
		switchboard.EventQueueTimeout:          {"QUEUE_HANGUP_TIMEOUT"},
		switchboard.EventQueueAbandoned:        {"QUEUE_HANGUP_ABANDONED"},
		switchboard.EventSMSReceived:           {"SMS_RECEIVED"},
		switchboard.EventSMSSent:               {"SMS_SENT"},
		switchboard.EventSMSDelivered:          {"SMS_DELIVERED"},
		switchboard.EventContactCreated:        {"CONTACT_CREATED"},
		switchboard.EventContactUpdated:        {"CONTACT_UPDATED"},
		switchboard.EventContactDeleted:        {"CONTACT_DELETED"},
	},
	FormatVoiceOverCloud: {
		switchboard.EventCallInboundStarted:    {"inboundCallStart"},
		switchboard.EventCallInboundRinging:    {"inboundCallRinging"},
		switchboard.EventCallInboundAnswered:   {"inboundCallAnswered"},
		switchboard.EventCallInboundEnded:      {"inboundCallEnd"},
		switchboard.EventCallOutboundStarted:   {"outboundCallStart"},
		switchboard.EventCallOutboundAnswered:  {"outboundCallAnswered"},
		switchboard.EventCallOutboundEnded:     {"outboundCallEnd"},
		switchboard.EventIVROption:             {"ivrOption"},
		switchboard.EventRecordingAvailable:    {"callRecordingAvailable"},
		switchboard.EventTranscriptionFinished: {"callTranscriptionAvailable"},
	},
	FormatVoxpria: {
		switchboard.EventCallInboundStarted:  {"call.started"},
		switchboard.EventCallOutboundStarted: {"call.started"},
		switchboard.EventCallInboundEnded:    {"call.completed", "call.failed"}, // one, by answered
		switchboard.EventCallOutboundEnded:   {"call.completed", "call.failed"}, // one, by answered
		switchboard.EventCampaignStarted:     {"campaign.started"},
		switchboard.EventCampaignPaused:      {"campaign.paused"},
		switchboard.EventCampaignFinished:    {"campaign.finished"},
	},
	FormatVoipline: {
		switchboard.EventCallInboundRinging:   {"user_inbound_call"},
		switchboard.EventCallInboundAnswered:  {"user_inbound_call_answered"},
		switchboard.EventCallInboundEnded:     {"user_inbound_call_completed"},
		switchboard.EventCallOutboundStarted:  {"user_outbound_call"},
		switchboard.EventCallOutboundAnswered: {"user_outbound_call_answered"},
		switchboard.EventCallOutboundEnded:    {"user_outbound_call_completed"},
		// one, by direction
		switchboard.EventRecordingAvailable:   {"inbound_call_recording", "outbound_call_recording"},
		switchboard.EventVoicemailLeft:        {"voicemail"},
		switchboard.EventFlowWebhook:          {"webhook_component_event"},
		switchboard.EventQueueCallSummary:     {"queue_call_summary"},
		switchboard.EventRingGroupCallSummary: {"ring_group_call_summary"},
	},
}

// WireNames returns the provider event names that ev becomes in format, in the order they
// are sent: none when the provider has no such event, two where EVENTS.md says both are sent
// (voice360's call.outbound.ended: USER_HANGUP then CALL_ENDED). Where the provider name
// depends on the call, it is read from ev.Data: voxpria's call.*.ended is call.completed when
// the call was answered (Answered), call.failed otherwise; voipline's recording.available is
// outbound_call_recording when data "direction" is "outbound", inbound_call_recording
// otherwise. The standard format sends every event under its canonical name; an unknown
// format sends nothing.
func WireNames(format string, ev *switchboard.Event) []string {
	if ev == nil {
		return nil
	}
	if format == FormatStandard {
		if !slices.Contains(switchboard.EventNames, ev.Name) {
			return nil
		}
		return []string{ev.Name}
	}
	names := wireNames[format][ev.Name]
	switch {
	case len(names) == 0:
		return nil
	case format == FormatVoxpria && len(names) == 2:
		if Answered(ev.Data) {
			return []string{"call.completed"}
		}
		return []string{"call.failed"}
	case format == FormatVoipline && ev.Name == switchboard.EventRecordingAvailable:
		if String(ev.Data, FieldDirection) == DirectionOutbound {
			return []string{"outbound_call_recording"}
		}
		return []string{"inbound_call_recording"}
	}
	return slices.Clone(names)
}

// Answered reports whether the call of a call event was answered: data "answered" is true,
// or "answered_duration" is above zero.
func Answered(data map[string]any) bool {
	if b, ok := data[FieldAnswered].(bool); ok && b {
		return true
	}
	d, ok := Number(data, FieldAnsweredDuration)
	return ok && d > 0
}

// providerNames maps every provider name of every format to the canonical names it stands
// for. A name used by several formats or rows (CALL_ENDED, call.started, call.completed)
// stands for all of them.
var providerNames = func() map[string][]string {
	m := map[string][]string{}
	for _, byName := range wireNames {
		for canonical, names := range byName {
			for _, n := range names {
				if !slices.Contains(m[n], canonical) {
					m[n] = append(m[n], canonical)
				}
			}
		}
	}
	return m
}()

// ResolveEventFilter turns the event names a subscription asks for into the canonical names
// the fan-out matches on. Accepted: canonical names, any format's provider names
// (CALL_ENDED stands for call.inbound.ended and call.outbound.ended; voxpria's call.failed
// for both ended events too) and "*" (every event, returned alone as ["*"]). The result is
// sorted and without duplicates. Unknown names give a BAD_REQUEST *switchboard.Error whose
// Details map each unknown name to the problem.
func ResolveEventFilter(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, &switchboard.Error{Code: switchboard.EBADREQUEST,
			Message: `Name at least one event, or "*" for every event`}
	}
	var out, unknown []string
	all := false
	for _, raw := range names {
		n := strings.TrimSpace(raw)
		switch {
		case n == "*":
			all = true
		case slices.Contains(switchboard.EventNames, n):
			out = append(out, n)
		case len(providerNames[n]) > 0:
			out = append(out, providerNames[n]...)
		default:
			unknown = append(unknown, raw)
		}
	}
	if len(unknown) > 0 {
		details := make(map[string]string, len(unknown))
		quoted := make([]string, len(unknown))
		for i, n := range unknown {
			details[n] = "is not an event name: use a name of shared/EVENTS.md (canonical or a format's), or \"*\""
			quoted[i] = strconv.Quote(n)
		}
		return nil, &switchboard.Error{Code: switchboard.EBADREQUEST,
			Message: fmt.Sprintf("Unknown event name(s): %s", strings.Join(quoted, ", ")), Details: details}
	}
	if all {
		return []string{"*"}, nil
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
