package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard"
	"switchboard/events"
)

// Target is what rendering needs to know about a subscription.
type Target struct {
	Format  string // one of events.Formats
	URL     string
	Method  string            // "POST" or "GET" (GET: payload in the query string, voice360 allows it)
	Headers map[string]string // custom headers
	Secrets []string          // current secret first; a previous one during a rotation overlap
}

// Request is one HTTP request to send.
type Request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// UserAgent is sent with every delivery.
const UserAgent = "Switchboard-Webhooks/1"

// rendered is what a format contributes to a request; Render adds the rest.
type rendered struct {
	method      string      // "" = POST
	query       string      // encoded query to append to the URL, "" for none
	body        []byte      // nil for none
	contentType string      // with a body
	header      http.Header // the format's own authenticity headers
}

// formatter renders ev as the provider event wireName.
type formatter func(t Target, ev *switchboard.Event, wireName string) (*rendered, error)

var formatters = map[string]formatter{
	events.FormatVoice360:       renderVoice360,
	events.FormatVoxpria:        renderVoxpria,
	events.FormatVoiceOverCloud: renderVoiceOverCloud,
	events.FormatVoipline:       renderVoipline,
	events.FormatStandard:       renderStandard,
}

// Render builds the request that delivers ev under provider event name wireName (one of
// events.WireNames) to t, with messageID as the webhook-id and sentAt as webhook-timestamp.
//
// Every request carries the Standard Webhooks headers webhook-id, webhook-timestamp (unix
// seconds of sentAt) and webhook-signature (one "v1,<base64>" per secret, space separated,
// signing "id.timestamp.body" — the body is empty for requests without one), User-Agent
// Switchboard-Webhooks/1, Content-Type where there is a body, the format's own headers, and
// the subscription's custom headers; a custom header never replaces one of the others
// (see ownHeaders). Dates in bodies are the event's time (ev.OccurredAt), so that a
// retry sends the same body; only webhook-timestamp and the signatures change.
func Render(t Target, ev *switchboard.Event, wireName, messageID string, sentAt time.Time) (*Request, error) {
	if ev == nil {
		return nil, errors.New("no event")
	}
	render, ok := formatters[t.Format]
	if !ok {
		return nil, fmt.Errorf("unknown webhook format %q", t.Format)
	}
	if !slices.Contains(events.WireNames(t.Format, ev), wireName) {
		return nil, fmt.Errorf("the %s format does not send %s as %q", t.Format, ev.Name, wireName)
	}
	if len(t.Secrets) == 0 || t.Secrets[0] == "" {
		return nil, errors.New("the subscription has no secret")
	}
	if messageID == "" {
		return nil, errors.New("no message id")
	}
	out, err := render(t, ev, wireName)
	if err != nil {
		return nil, err
	}
	target, err := withQuery(t.URL, out.query)
	if err != nil {
		return nil, err
	}
	req := &Request{Method: out.method, URL: target, Header: http.Header{}, Body: out.body}
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	for name, value := range t.Headers {
		if ownHeaders[http.CanonicalHeaderKey(name)] || out.header.Get(name) != "" {
			continue // never let a custom header replace what proves the request authentic
		}
		if err := checkHeader(name, value); err != nil {
			return nil, err
		}
		req.Header.Set(name, value)
	}
	for name, values := range out.header {
		req.Header[http.CanonicalHeaderKey(name)] = values
	}
	req.Header.Set("User-Agent", UserAgent)
	if len(out.body) > 0 {
		req.Header.Set("Content-Type", out.contentType)
	}
	ts := sentAt.Unix()
	req.Header.Set(HeaderID, messageID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, signStandardAll(t.Secrets, messageID, ts, out.body))
	return req, nil
}

// withQuery appends an encoded query to raw, after any query the URL already has; the
// fragment, which is never sent, is dropped.
func withQuery(raw, query string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("webhook URL %q is not an absolute URL", raw)
	}
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = escapeQuery(u.RawQuery)
	if query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + query
		} else {
			u.RawQuery = query
		}
	}
	return u.String(), nil
}

// escapeQuery percent-encodes the bytes a URL's query may not hold as they are (spaces,
// controls, non-ASCII, quotes, <>, …), which a user's URL may contain but a request line may
// not; what is already encoded is left alone.
func escapeQuery(q string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ownHeaders are set by Render itself; a custom header of one of these names is ignored, so
// that nothing a subscriber configures replaces a signature, the token or the framing.
var ownHeaders = map[string]bool{
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"X-Voice360-Signature": true, "X-Voxpria-Signature": true, "X-Pbx-Token": true,
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Transfer-Encoding": true,
	"Host": true, "Connection": true, "Upgrade": true, "Te": true, "Trailer": true, "Keep-Alive": true,
	"Proxy-Connection": true, "Proxy-Authorization": true, "User-Agent": true,
}

// checkHeader refuses a custom header that would corrupt the request (the API validates
// them when they are set; this guards what is sent).
func checkHeader(name, value string) error {
	if name == "" || len(name) > 256 {
		return errors.New("header name must be 1 to 256 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return fmt.Errorf("header name %q has a character not allowed in header names", name)
		}
	}
	if len(value) > 8192 {
		return fmt.Errorf("header %s: value must be at most 8192 bytes", name)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("header %s: value must not contain control characters", name)
		}
	}
	return nil
}

// field is one member of an object whose key order matters on the wire.
type field struct {
	key   string
	value any
}

// object is a JSON object written in its fields' order (the order of the providers'
// documents), where a Go map would sort the keys.
type object []field

// marshalJSON encodes v compactly, without HTML escaping (JavaScript's JSON.stringify does
// not escape <, > or &, and receivers should see the text they expect) and without the
// encoder's trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	if obj, ok := v.(object); ok {
		buf.WriteByte('{')
		for i, f := range obj {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, f.key); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, f.value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// jsValue rewrites v into the values JavaScript's JSON.parse would produce, so that the
// bytes Go writes are those JSON.stringify writes back: every number a float64 (JavaScript
// has no other; -0 becomes 0, NaN and infinities null, as JSON.stringify writes them),
// strings made valid UTF-8 (Go would write \ufffd, JavaScript the character itself).
func jsValue(v any) any {
	switch x := v.(type) {
	case object:
		out := make(object, len(x))
		for i, f := range x {
			out[i] = field{strings.ToValidUTF8(f.key, "\uFFFD"), jsValue(f.value)}
		}
		return out
	case string:
		return strings.ToValidUTF8(x, "\uFFFD")
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = jsValue(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsValue(e)
		}
		return out
	case map[string]any:
		// A map would be written in Go's sorted key order, which JSON.parse keeps except for
		// integer-like keys (it puts those first): write it as an object in JavaScript's order.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, jsKeyOrder)
		out := make(object, len(keys))
		for i, k := range keys {
			out[i] = field{strings.ToValidUTF8(k, "\uFFFD"), jsValue(x[k])}
		}
		return out
	case nil, bool:
		return x
	}
	if f, ok := events.Number(map[string]any{"v": v}, "v"); ok {
		if _, isString := v.(string); !isString {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil
			}
			if f == 0 {
				return float64(0)
			}
			return f
		}
	}
	return v
}

// jsKeyOrder orders object keys as a JavaScript object holds them after JSON.parse:
// array-index-like keys first, ascending, then the others (here: sorted, as Go writes maps).
func jsKeyOrder(a, b string) int {
	ai, aok := arrayIndex(a)
	bi, bok := arrayIndex(b)
	switch {
	case aok && bok:
		return int(ai) - int(bi)
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}

func arrayIndex(s string) (int64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0 && n < 1<<32-1
}

// unescapeLineSeparators replaces the \u2028 and \u2029 escapes Go writes inside strings by
// the characters themselves, as JSON.stringify writes them.
func unescapeLineSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			if i+6 <= len(b) && (string(b[i:i+6]) == `\u2028` || string(b[i:i+6]) == `\u2029`) {
				r := '\u2028'
				if b[i+5] == '9' {
					r = '\u2029'
				}
				out = utf8.AppendRune(out, r)
				i += 5
				continue
			}
			out = append(out, b[i], b[i+1]) // another escape: keep both bytes
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// Helpers that read the canonical Data fields (events/fields.go) into wire values.

// orNull returns data[key] as a string, or nil (JSON null) when absent or empty.
func orNull(data map[string]any, key string) any {
	if s := events.String(data, key); s != "" {
		return s
	}
	return nil
}

// numberOrNull returns data[key] as a JSON number (whole numbers as integers), or nil.
func numberOrNull(data map[string]any, key string) any {
	if n, ok := events.Int(data, key); ok {
		return n
	}
	if f, ok := events.Number(data, key); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f
	}
	return nil
}

// intOrZero returns data[key] as a whole number (an int64, or a rounded float64 when it is
// beyond int64), 0 when absent or not a finite number.
func intOrZero(data map[string]any, key string) any {
	if n, ok := events.Int(data, key); ok {
		return n
	}
	if f, ok := events.Number(data, key); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return math.Round(f)
	}
	return int64(0)
}

// callerNumber is the caller id number, or withheld when the caller hid it.
func callerNumber(data map[string]any, withheld string) string {
	if s := events.String(data, events.FieldFrom); s != "" {
		return s
	}
	return withheld
}

// dialledNumber is the number the caller reached: the account's number, else "to".
func dialledNumber(data map[string]any) string {
	if s := events.String(data, events.FieldNumber); s != "" {
		return s
	}
	return events.String(data, events.FieldTo)
}

// isoTime writes t in ISO 8601 / RFC 3339, UTC, to the second.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// callStart is when the call began: data call_started_at, else the event's time.
func callStart(ev *switchboard.Event) time.Time {
	if t, ok := events.Time(ev.Data, events.FieldCallStartedAt); ok {
		return t
	}
	return ev.OccurredAt
}

// postOnly refuses GET for formats whose receivers read a body.
func postOnly(t Target) error {
	if t.Method != "" && !strings.EqualFold(t.Method, http.MethodPost) {
		return fmt.Errorf("the %s format is sent with POST only (the subscription asks for %s)", t.Format, t.Method)
	}
	return nil
}
