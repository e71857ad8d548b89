package webhook

import (
	"fmt"
	"net/http"

	"switchboard"
	"switchboard/events"
)

// The voxpria format (seeds/voxpria-webhooks.md). POST only; the body is
//
//	{"event":"call.completed","timestamp":"2025-02-09T12:00:00Z","data":{…}}
//
// timestamp is the event's time in RFC 3339, UTC, to the second. data, in camelCase:
//
//	call.started / call.completed / call.failed:
//	  callId (the call's uniqueid), status ("started", "completed" or "failed"),
//	  direction ("inbound"/"outbound"), fromNumber ("anonymous" when withheld), toNumber,
//	  crmId (when the call has one); ended calls also duration and answeredDuration
//	  (seconds), recording and transcript when there are any.
//	campaign.started / .paused / .finished: campaignId, campaignName, status.
//
// The document's receivers verify with HMAC(JSON.stringify(req.body)), i.e. over the parsed
// body written again by JavaScript, so the bytes sent are exactly what JSON.stringify
// writes: compact, no HTML escaping, U+2028/U+2029 unescaped, numbers as JavaScript prints
// them, keys in an order JSON.parse keeps, and no trailing newline.
//
// X-Voxpria-Signature: sha256=<hex HMAC-SHA256 of those bytes, keyed by the secret string
// (whsec_… as shown)>, one header line per secret during a rotation overlap.
func renderVoxpria(t Target, ev *switchboard.Event, wireName string) (*rendered, error) {
	if err := postOnly(t); err != nil {
		return nil, err
	}
	d := ev.Data
	var data object
	switch wireName {
	case "call.started", "call.completed", "call.failed":
		status := map[string]string{"call.started": "started", "call.completed": "completed", "call.failed": "failed"}[wireName]
		data = object{{"callId", ev.CallID}, {"status", status},
			{"direction", events.String(d, events.FieldDirection)},
			{"fromNumber", callerNumber(d, "anonymous")}, {"toNumber", events.String(d, events.FieldTo)}}
		if ev.CRMID != "" {
			data = append(data, field{"crmId", ev.CRMID})
		}
		if wireName != "call.started" {
			data = append(data, field{"duration", intOrZero(d, events.FieldDuration)},
				field{"answeredDuration", intOrZero(d, events.FieldAnsweredDuration)})
			if s := events.String(d, events.FieldRecordingURL); s != "" {
				data = append(data, field{"recording", s})
			}
			if s := events.String(d, events.FieldTranscript); s != "" {
				data = append(data, field{"transcript", s})
			}
		}
	case "campaign.started", "campaign.paused", "campaign.finished":
		data = object{{"campaignId", numberOrNull(d, events.FieldCampaignID)},
			{"campaignName", events.String(d, events.FieldCampaignName)},
			{"status", events.String(d, events.FieldStatus)}}
	default:
		return nil, fmt.Errorf("the voxpria format has no event %q", wireName)
	}
	envelope := object{{"event", wireName}, {"timestamp", isoTime(ev.OccurredAt)}, {"data", data}}
	body, err := marshalJSON(jsValue(envelope))
	if err != nil {
		return nil, err
	}
	body = unescapeLineSeparators(body)
	out := &rendered{method: http.MethodPost, body: body, contentType: "application/json", header: http.Header{}}
	for _, s := range t.Secrets {
		out.header.Add("X-Voxpria-Signature", SignHex(s, body))
	}
	return out, nil
}
