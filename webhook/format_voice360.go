package webhook

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/events"
)

// The voice360 format (seeds/voice360-api.md, "Webhooks").
//
// POST (the default): the body is the JSON envelope
//
//	{"event_name":"CALL_ENDED","account_id":"12345","timestamp":1704067200,"metadata":{…}}
//
// with account_id a string, timestamp the event's unix time in seconds, and metadata holding
// exactly the fields of the document's example payload for that event, in its order and with
// its types (ids as strings, durations as numbers, absent values as null). Additions the
// document does not show: CALL_ENDED of an outbound call carries from_user_id (the user who
// dialled) beside to_user_id (the user who answered an internal, queue or ring group call;
// null for a call through a trunk or one nobody answered); call events of a call placed with
// a crm_id (click-to-call) end with "crm_id"; TRANSCRIPTION_FINISHED carries "error" on
// failure, as the document's prose says. A withheld caller id is sent as "anonymous"; queue_id and
// queuename are the queue's id as a string (the v3 API's queue name), queue_name its
// friendly name.
//
// X-Voice360-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret string
// as shown to the user (whsec_… included)>. During a rotation overlap the header is sent
// once per secret (two header lines, the new secret's first); a receiver that reads only
// one value should check each value it is given, or rotate without overlap.
//
// GET (the portal's other method): no body; the envelope goes in the query string, appended
// after any query the URL already has, as event_name, account_id, timestamp and metadata
// (the same compact JSON as above, URL-encoded). The signature is then the HMAC of the
// request's whole raw query string — every byte after "?" exactly as sent, the URL's own
// parameters included — which receivers read as e.g. req.originalUrl.split("?")[1] or
// request.query_string.
func renderVoice360(t Target, ev *switchboard.Event, wireName string) (*rendered, error) {
	metadata, err := voice360Metadata(ev, wireName)
	if err != nil {
		return nil, err
	}
	meta, err := marshalJSON(metadata)
	if err != nil {
		return nil, err
	}
	accountID := strconv.FormatInt(ev.AccountID, 10)
	timestamp := ev.OccurredAt.Unix()
	out := &rendered{header: http.Header{}}
	var signed []byte
	switch strings.ToUpper(t.Method) {
	case "", http.MethodPost:
		body, err := marshalJSON(object{{"event_name", wireName}, {"account_id", accountID},
			{"timestamp", timestamp}, {"metadata", rawJSON(meta)}})
		if err != nil {
			return nil, err
		}
		out.method, out.body, out.contentType = http.MethodPost, body, "application/json"
		signed = body
	case http.MethodGet:
		out.method = http.MethodGet
		out.query = "event_name=" + url.QueryEscape(wireName) + "&account_id=" + url.QueryEscape(accountID) +
			"&timestamp=" + strconv.FormatInt(timestamp, 10) + "&metadata=" + url.QueryEscape(string(meta))
		query, err := withQuery(t.URL, out.query)
		if err != nil {
			return nil, err
		}
		u, _ := url.Parse(query)
		signed = []byte(u.RawQuery)
	default:
		return nil, fmt.Errorf("the voice360 format is sent with POST or GET, not %s", t.Method)
	}
	for _, s := range t.Secrets {
		out.header.Add("X-Voice360-Signature", SignHex(s, signed))
	}
	return out, nil
}

// rawJSON is already-encoded JSON, written as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// voice360Metadata builds the metadata object of one event, as the document's example.
func voice360Metadata(ev *switchboard.Event, wireName string) (object, error) {
	m, err := voice360Fields(ev, wireName)
	if err == nil && ev.CRMID != "" && ev.CallID != "" {
		m = append(m, field{"crm_id", ev.CRMID})
	}
	return m, err
}

// voice360Fields is the document's metadata of one event.
func voice360Fields(ev *switchboard.Event, wireName string) (object, error) {
	d := ev.Data
	uniqueid := orEmptyNull(ev.CallID)
	caller := callerNumber(d, "anonymous")
	userID := orNull(d, events.FieldUserID)
	queueID := orNull(d, events.FieldQueueID)
	switch wireName {
	case "INCOMING_EXTERNAL_CALL":
		return object{{"caller_id_number", caller}, {"caller_id_name", events.String(d, events.FieldCallerName)},
			{"dnis", dialledNumber(d)}, {"uniqueid", uniqueid}}, nil
	case "CALL_ENDED":
		outbound := events.String(d, events.FieldDirection) == events.DirectionOutbound
		direction, dnis, toUser := events.DirectionInbound, dialledNumber(d), userID
		if outbound {
			direction, dnis = events.DirectionOutbound, events.String(d, events.FieldTo)
			toUser = orNull(d, events.FieldAnsweredByUserID)
		}
		m := object{{"caller_id_number", caller}, {"dnis", dnis}, {"uniqueid", uniqueid},
			{"call_direction", direction}, {"to_user_id", toUser}}
		if outbound {
			m = append(m, field{"from_user_id", userID})
		}
		return append(m, field{"duration", intOrZero(d, events.FieldDuration)}), nil
	case "USER_DIAL":
		return object{{"dialed_number", events.String(d, events.FieldTo)}, {"from_user_id", userID},
			{"uniqueid", uniqueid}}, nil
	case "USER_ANSWER":
		return object{{"caller_id_number", caller}, {"to_user_id", userID}, {"uniqueid", uniqueid}}, nil
	case "USER_HANGUP":
		return object{{"dialed_number", events.String(d, events.FieldTo)}, {"from_user_id", userID},
			{"uniqueid", uniqueid}, {"duration", intOrZero(d, events.FieldDuration)}}, nil
	case "SMS_RECEIVED":
		to := ""
		if list := events.Strings(d, events.FieldTo); len(list) > 0 {
			to = list[0]
		}
		return object{{"from_number", events.String(d, events.FieldFrom)}, {"to_number", to},
			{"body", events.String(d, events.FieldBody)}, {"message_id", events.String(d, events.FieldMessageID)}}, nil
	case "SMS_SENT":
		return object{{"from_number", events.String(d, events.FieldFrom)}, {"to_number", stringList(d, events.FieldTo)},
			{"body", events.String(d, events.FieldBody)}, {"message_id", events.String(d, events.FieldMessageID)},
			{"sms_sent_by_user_id", userID}}, nil
	case "SMS_DELIVERED":
		return object{{"to_number", stringList(d, events.FieldTo)}, {"message_id", events.String(d, events.FieldMessageID)},
			{"status", events.String(d, events.FieldStatus)}}, nil
	case "QUEUE_ENTER":
		return object{{"queue_id", queueID}, {"queuecall_id", orNull(d, events.FieldQueueCallID)},
			{"uniqueid", uniqueid}, {"queuename", queueID}, {"callerid_number", caller},
			{"callerid_name", events.String(d, events.FieldCallerName)}}, nil
	case "QUEUE_MEMBER_DIAL", "QUEUE_MEMBER_DIAL_HANGUP":
		m := object{{"App-Name", "Queue"}, {"to_user_id", userID}, {"from_user_id", nil}, {"uniqueid", uniqueid},
			{"caller_id_number", caller}, {"dnis", dialledNumber(d)}, {"queuecall_id", orNull(d, events.FieldQueueCallID)}}
		if wireName == "QUEUE_MEMBER_DIAL_HANGUP" {
			m = append(m, field{"duration", intOrZero(d, events.FieldDuration)})
		}
		return m, nil
	case "QUEUE_MEMBER_ANSWER":
		return object{{"App-Name", "Queue"}, {"to_user_id", userID}, {"caller_id_number", caller},
			{"uniqueid", uniqueid}, {"dnis", dialledNumber(d)}, {"queuecall_id", orNull(d, events.FieldQueueCallID)}}, nil
	case "QUEUE_HANGUP":
		duration := numberOrNull(d, events.FieldDuration)
		if duration == nil {
			duration = 0
		}
		return object{{"App-Name", "Queue"}, {"queue_id", queueID}, {"queuecall_id", orNull(d, events.FieldQueueCallID)},
			{"uniqueid", uniqueid}, {"queuename", queueID}, {"duration", duration}, {"dnis", dialledNumber(d)},
			{"dialed_number", dialledNumber(d)}, {"caller_id_number", caller}}, nil
	case "QUEUE_NO_ANSWER", "QUEUE_HANGUP_TIMEOUT", "QUEUE_HANGUP_ABANDONED":
		return object{{"caller_id_number", caller}, {"queue_name", events.String(d, events.FieldQueueName)},
			{"queue_id", queueID}, {"wait_time", intOrZero(d, events.FieldWaitTime)}}, nil
	case "CONTACT_CREATED":
		return object{{"contact_id", orNull(d, events.FieldContactID)}, {"phone", events.String(d, events.FieldPhone)},
			{"first_name", events.String(d, events.FieldFirstName)}, {"last_name", events.String(d, events.FieldLastName)},
			{"email", events.String(d, events.FieldEmail)}}, nil
	case "CONTACT_UPDATED":
		return object{{"contact_id", orNull(d, events.FieldContactID)},
			{"updated_fields", stringList(d, events.FieldUpdatedFields)}, {"phone", events.String(d, events.FieldPhone)}}, nil
	case "CONTACT_DELETED":
		return object{{"contact_id", orNull(d, events.FieldContactID)}, {"phone", events.String(d, events.FieldPhone)}}, nil
	case "TRANSCRIPTION_FINISHED":
		success, _ := events.Bool(d, events.FieldSuccess)
		var transcription any
		if success {
			transcription = orNull(d, events.FieldTranscription)
		}
		m := object{{"uniqueid", uniqueid}, {"transcription", transcription},
			{"provider", events.String(d, events.FieldProvider)}, {"model", events.String(d, events.FieldModel)},
			{"total_tokens", intOrZero(d, events.FieldTotalTokens)}, {"success", success}}
		if !success {
			m = append(m, field{"error", events.String(d, events.FieldError)})
		}
		return m, nil
	}
	return nil, fmt.Errorf("the voice360 format has no event %q", wireName)
}

// orEmptyNull is s, or null when empty.
func orEmptyNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stringList is data[key] as a JSON array of strings, [] when absent.
func stringList(data map[string]any, key string) []string {
	list := events.Strings(data, key)
	if list == nil {
		return []string{}
	}
	return list
}
