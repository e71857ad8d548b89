package webhook

import (
	"bytes"
	"maps"
	"net/http"
	"time"

	"switchboard"
)

// The standard format (https://www.standardwebhooks.com): POST only, the body
//
//	{"type":"call.inbound.ended","timestamp":"2026-01-02T03:04:05.123Z","data":{…}}
//
// with the canonical event name, the event's time in RFC 3339 (UTC, fractional seconds
// when there are any), and data holding the event's canonical fields (events/fields.go)
// plus event_id, account_id, and call_id / crm_id where the event has them. Authenticity is
// the common webhook-id, webhook-timestamp and webhook-signature headers.
func renderStandard(t Target, ev *switchboard.Event, wireName string) (*rendered, error) {
	if err := postOnly(t); err != nil {
		return nil, err
	}
	data := make(map[string]any, len(ev.Data)+4)
	maps.Copy(data, ev.Data)
	data["event_id"] = ev.ID
	data["account_id"] = ev.AccountID
	if ev.CallID != "" {
		data["call_id"] = ev.CallID
	}
	if ev.CRMID != "" {
		data["crm_id"] = ev.CRMID
	}
	for k, v := range data {
		if tm, ok := v.(time.Time); ok {
			data[k] = tm.UTC().Format(time.RFC3339Nano)
		}
	}
	body, err := marshalJSON(object{{"type", wireName},
		{"timestamp", ev.OccurredAt.UTC().Format(time.RFC3339Nano)}, {"data", data}})
	if err != nil {
		return nil, err
	}
	return &rendered{method: http.MethodPost, body: body, contentType: "application/json"}, nil
}

// StandardBody is the standard format's body of ev, without a trailing newline: the
// canonical JSON that the live event stream (stream/) sends, so that the stream and the
// webhooks render an event alike.
func StandardBody(ev *switchboard.Event) ([]byte, error) {
	r, err := renderStandard(Target{Format: "standard"}, ev, ev.Name)
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(r.body, "\n"), nil
}
