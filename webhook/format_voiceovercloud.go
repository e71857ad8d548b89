package webhook

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"switchboard"
	"switchboard/events"
)

// The voiceovercloud format (seeds/voiceovercloud-webhooks.md): a POST with no body, every
// field in the query string (appended after any query the URL has), in the document's order:
//
//	inboundCallStart        event date inboundNumber callerid callid crm_id
//	inboundCallRinging      event date inboundNumber callerid callid extension crm_id
//	inboundCallAnswered     event date inboundNumber callerid callid extension crm_id
//	inboundCallEnd          event date inboundNumber callerid callid extension duration answeredDuration crm_id
//	outboundCallStart       event date extension destination callid crm_id
//	outboundCallAnswered    event date extension destination callid crm_id
//	outboundCallEnd         event date extension destination callid duration answeredDuration crm_id
//	ivrOption               event date inboundNumber callerid callid ivrOption crm_id
//	callRecordingAvailable  event date callid crm_id
//	callTranscriptionAvailable event date callid crm_id
//
// date is the event's time, UTC, "YYYY-MM-DD hh:mm:ss"; numbers are E.164 without the "+";
// callerid is "Anonymous" for a withheld caller id; callid is the call's uniqueid; crm_id
// is the one given when the call was placed, empty when none; extension is empty when no
// extension answered (the document's "null"); durations are whole seconds. The Method of
// the subscription is not used: this provider always POSTs. Authenticity is the common
// webhook-* headers (the provider itself relies on its source IP).
func renderVoiceOverCloud(t Target, ev *switchboard.Event, wireName string) (*rendered, error) {
	d := ev.Data
	var q []field
	add := func(k, v string) { q = append(q, field{k, v}) }
	add("event", wireName)
	add("date", ev.OccurredAt.UTC().Format("2006-01-02 15:04:05"))
	inbound := func() {
		add("inboundNumber", withoutPlus(dialledNumber(d)))
		add("callerid", withoutPlus(callerNumber(d, "Anonymous")))
		add("callid", ev.CallID)
	}
	durations := func() {
		add("duration", fmt.Sprint(intOrZero(d, events.FieldDuration)))
		add("answeredDuration", fmt.Sprint(intOrZero(d, events.FieldAnsweredDuration)))
	}
	outbound := func() {
		add("extension", events.String(d, events.FieldExtension))
		add("destination", withoutPlus(events.String(d, events.FieldTo)))
		add("callid", ev.CallID)
	}
	switch wireName {
	case "inboundCallStart":
		inbound()
	case "inboundCallRinging", "inboundCallAnswered":
		inbound()
		add("extension", events.String(d, events.FieldExtension))
	case "inboundCallEnd":
		inbound()
		extension := ""
		if events.Answered(d) {
			extension = events.String(d, events.FieldExtension)
		}
		add("extension", extension)
		durations()
	case "outboundCallStart", "outboundCallAnswered":
		outbound()
	case "outboundCallEnd":
		outbound()
		durations()
	case "ivrOption":
		inbound()
		add("ivrOption", events.String(d, events.FieldOption))
	case "callRecordingAvailable", "callTranscriptionAvailable":
		add("callid", ev.CallID)
	default:
		return nil, fmt.Errorf("the voiceovercloud format has no event %q", wireName)
	}
	add("crm_id", ev.CRMID)
	parts := make([]string, len(q))
	for i, f := range q {
		parts[i] = url.QueryEscape(f.key) + "=" + url.QueryEscape(f.value.(string))
	}
	return &rendered{method: http.MethodPost, query: strings.Join(parts, "&")}, nil
}

// withoutPlus writes an E.164 number as the provider does: without the leading "+".
func withoutPlus(number string) string { return strings.TrimPrefix(number, "+") }
