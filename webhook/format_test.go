package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/events"
	"switchboard/internal/testpeer"
	"switchboard/webhook"
)

// wireCapture is what the test receiver saw of one request.
type wireCapture struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// loopbackPolicy lets the tests' receivers on this machine be reached.
var loopbackPolicy = webhook.URLPolicy{AllowHTTP: true,
	AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// receiver starts a real HTTP server that records each request and answers 200.
func captureServer(t *testing.T) (*httptest.Server, chan wireCapture) {
	t.Helper()
	got := make(chan wireCapture, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- wireCapture{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// deliver renders ev for t and sends it over a real connection with the webhook client,
// returning what the receiver got.
func deliver(t *testing.T, target webhook.Target, ev *switchboard.Event, wireName string, sentAt time.Time) (*webhook.Request, wireCapture) {
	t.Helper()
	srv, got := captureServer(t)
	if target.URL == "" {
		target.URL = srv.URL + "/hook"
	} else {
		target.URL = strings.Replace(target.URL, "RECEIVER", srv.URL, 1)
	}
	req, err := webhook.Render(target, ev, wireName, "msg_"+ev.ID, sentAt)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequest(req.Method, req.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header = req.Header.Clone()
	resp, err := webhook.NewHTTPClient(loopbackPolicy, 5*time.Second).Do(hreq)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("receiver answered %d", resp.StatusCode)
	}
	return req, <-got
}

var (
	occurred = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // 1704067200, the documents' time
	sentAt   = time.Date(2024, 1, 1, 0, 0, 30, 0, time.UTC)
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // a Standard Webhooks-shaped secret

// example is the catalog's example of name, dated at the documents' time.
func example(name string) *switchboard.Event {
	return events.Example(name, 12345, occurred)
}

// documentExample is example without the crm_id that click-to-call gives a call: the
// voice360 document's payloads are those of a call placed any other way.
func documentExample(name string) *switchboard.Event {
	ev := example(name)
	if ev != nil {
		ev.CRMID = ""
	}
	return ev
}

// verifyVoice360 is the seed's documented verification (voice360-api.md, "Verifying Webhook
// Signatures"), written again here independently of the code under test.
func verifyVoice360(raw []byte, header, signingSecret string) bool {
	provided, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	a, err := hex.DecodeString(provided)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(signingSecret))
	m.Write(raw)
	return hmac.Equal(a, m.Sum(nil))
}

// checkCommonHeaders checks what every delivery carries, and the Standard Webhooks
// signature of every secret.
func checkCommonHeaders(t *testing.T, r wireCapture, messageID string, secrets ...string) {
	t.Helper()
	if got := r.Header.Get("webhook-id"); got != messageID {
		t.Errorf("webhook-id = %q, want %q", got, messageID)
	}
	if got := r.Header.Get("webhook-timestamp"); got != strconv.FormatInt(sentAt.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q, want %d", got, sentAt.Unix())
	}
	if got := r.Header.Get("User-Agent"); got != "Switchboard-Webhooks/1" {
		t.Errorf("User-Agent = %q", got)
	}
	sigs := strings.Fields(r.Header.Get("webhook-signature"))
	if len(sigs) != len(secrets) {
		t.Fatalf("webhook-signature has %d signatures, want %d: %q", len(sigs), len(secrets), sigs)
	}
	for i, s := range secrets {
		if err := webhook.VerifyStandard(s, r.Header, r.Body, 5*time.Minute, sentAt.Add(time.Second)); err != nil {
			t.Errorf("secret %d: VerifyStandard: %v", i, err)
		}
		// Independently: v1,<base64 HMAC-SHA256 of id.timestamp.body> keyed by the decoded
		// bytes after whsec_.
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			key = []byte(s)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(messageID + "." + strconv.FormatInt(sentAt.Unix(), 10) + "."))
		m.Write(r.Body)
		if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); sigs[i] != want {
			t.Errorf("signature %d = %q, want %q", i, sigs[i], want)
		}
	}
}

func TestVoice360PostBodyHeadersAndSignature(t *testing.T) {
	ev := documentExample(switchboard.EventCallInboundStarted)
	target := webhook.Target{Format: "voice360", Method: "POST", Secrets: []string{secret},
		Headers: map[string]string{"X-Custom": "yes", "webhook-signature": "forged", "X-Voice360-Signature": "forged"}}
	_, r := deliver(t, target, ev, "INCOMING_EXTERNAL_CALL", sentAt)

	want := `{"event_name":"INCOMING_EXTERNAL_CALL","account_id":"12345","timestamp":1704067200,"metadata":{"caller_id_number":"+15551234567","caller_id_name":"John Doe","dnis":"+15559876543","uniqueid":"1704067200.12345"}}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Custom") != "yes" {
		t.Errorf("method %s, content type %q, custom header %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Custom"))
	}
	sig := r.Header.Values("X-Voice360-Signature")
	if len(sig) != 1 || !verifyVoice360(r.Body, sig[0], secret) {
		t.Errorf("X-Voice360-Signature %q does not verify", sig)
	}
	if verifyVoice360(r.Body, sig[0], "whsec_other") {
		t.Error("the signature verifies with another secret")
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret)
}

func TestVoice360MetadataMatchesTheDocument(t *testing.T) {
	// The document's payloads, field for field (values of our examples).
	tests := []struct {
		canonical, wire string
		metadata        string
	}{
		{"call.inbound.ended", "CALL_ENDED", `{"caller_id_number":"+15551234567","dnis":"+15559876543","uniqueid":"1704067200.12345","call_direction":"inbound","to_user_id":"67890","duration":120}`},
		{"call.outbound.started", "USER_DIAL", `{"dialed_number":"+15551234567","from_user_id":"67890","uniqueid":"1704067200.12345"}`},
		{"call.outbound.ended", "USER_HANGUP", `{"dialed_number":"+15551234567","from_user_id":"67890","uniqueid":"1704067200.12345","duration":45}`},
		{"call.outbound.ended", "CALL_ENDED", `{"caller_id_number":"+15559876543","dnis":"+15551234567","uniqueid":"1704067200.12345","call_direction":"outbound","to_user_id":null,"from_user_id":"67890","duration":45}`},
		{"sms.sent", "SMS_SENT", `{"from_number":"+15559876543","to_number":["+15551234567"],"body":"Hello from Voice360!","message_id":"msg_xyz789","sms_sent_by_user_id":"67890"}`},
		{"sms.received", "SMS_RECEIVED", `{"from_number":"+15551234567","to_number":"+15559876543","body":"Hello, this is a test message","message_id":"msg_abc123"}`},
		{"queue.member.ringing", "QUEUE_MEMBER_DIAL", `{"App-Name":"Queue","to_user_id":"67890","from_user_id":null,"uniqueid":"1704067200.12345","caller_id_number":"+15551234567","dnis":"+15559876543","queuecall_id":"456"}`},
		{"queue.left", "QUEUE_HANGUP", `{"App-Name":"Queue","queue_id":"123","queuecall_id":"456","uniqueid":"1704067200.12345","queuename":"123","duration":16.59,"dnis":"+15559876543","dialed_number":"+15559876543","caller_id_number":"+15551234567"}`},
		{"queue.abandoned", "QUEUE_HANGUP_ABANDONED", `{"caller_id_number":"+15551234567","queue_name":"Support Queue","queue_id":"456","wait_time":45}`},
		{"contact.updated", "CONTACT_UPDATED", `{"contact_id":"98765","updated_fields":["first_name","email"],"phone":"+15551234567"}`},
	}
	for _, tt := range tests {
		ev := documentExample(tt.canonical)
		if ev == nil {
			t.Fatalf("no example for %q", tt.canonical)
		}
		req, err := webhook.Render(webhook.Target{Format: "voice360", URL: "https://example.com/h", Secrets: []string{secret}},
			ev, tt.wire, ev.ID, sentAt)
		if err != nil {
			t.Fatalf("%s: %v", tt.wire, err)
		}
		var envelope struct {
			EventName string          `json:"event_name"`
			Metadata  json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(req.Body, &envelope); err != nil {
			t.Fatal(err)
		}
		if envelope.EventName != tt.wire || string(envelope.Metadata) != tt.metadata {
			t.Errorf("%s metadata\n got %s\nwant %s", tt.wire, envelope.Metadata, tt.metadata)
		}
	}
}

func TestVoice360OverlapSendsOneSignaturePerSecret(t *testing.T) {
	ev := example(switchboard.EventSMSReceived)
	previous := "whsec_c2Vjb25kLXNlY3JldC1ieXRlcy0xMjM0NTY3OA=="
	_, r := deliver(t, webhook.Target{Format: "voice360", Secrets: []string{secret, previous}}, ev, "SMS_RECEIVED", sentAt)
	sigs := r.Header.Values("X-Voice360-Signature")
	if len(sigs) != 2 || !verifyVoice360(r.Body, sigs[0], secret) || !verifyVoice360(r.Body, sigs[1], previous) {
		t.Errorf("X-Voice360-Signature values %q: want the new secret's then the previous one's", sigs)
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret, previous)
}

func TestVoice360GetPutsTheEnvelopeInTheQuery(t *testing.T) {
	ev := documentExample(switchboard.EventCallInboundAnswered)
	req, r := deliver(t, webhook.Target{Format: "voice360", Method: "GET", URL: "RECEIVER/hook?source=pbx&a=b c",
		Secrets: []string{secret}}, ev, "USER_ANSWER", sentAt)
	if r.Method != "GET" || len(r.Body) != 0 || req.Body != nil || r.Header.Get("Content-Type") != "" {
		t.Errorf("method %s, body %q, content type %q: want a GET without body", r.Method, r.Body, r.Header.Get("Content-Type"))
	}
	q, err := url.ParseQuery(r.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"source": {"pbx"}, "a": {"b c"}, "event_name": {"USER_ANSWER"}, "account_id": {"12345"},
		"timestamp": {"1704067200"},
		"metadata":  {`{"caller_id_number":"+15551234567","to_user_id":"67890","uniqueid":"1704067200.12345"}`}}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	// Documented: the signature is of the whole raw query string as received.
	if sig := r.Header.Get("X-Voice360-Signature"); !verifyVoice360([]byte(r.RawQuery), sig, secret) {
		t.Errorf("X-Voice360-Signature %q is not the HMAC of the raw query %q", sig, r.RawQuery)
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret)
}

// nodeRoundTrip runs JavaScript's JSON.stringify(JSON.parse(body)) and the document's
// HMAC(JSON.stringify(payload)) in node. Without node the test is skipped on a developer's
// machine and fails under CI, which installs it.
func nodeRoundTrip(t *testing.T, body []byte, key string) (restringified, signature string) {
	t.Helper()
	node := testpeer.Require(t, "node", "nodejs")
	script := `const crypto = require('crypto');
let raw = ''; process.stdin.setEncoding('utf8');
process.stdin.on('data', c => raw += c);
process.stdin.on('end', () => {
  const payload = JSON.parse(raw);
  const s = JSON.stringify(payload);
  const hmac = crypto.createHmac('sha256', process.argv[1]).update(JSON.stringify(payload)).digest('hex');
  process.stdout.write(JSON.stringify({s, sig: 'sha256=' + hmac}));
});`
	cmd := exec.Command(node, "-e", script, key)
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var res struct{ S, Sig string }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.S, res.Sig
}

func TestVoxpriaCompletedBodyAndSignature(t *testing.T) {
	ev := example(switchboard.EventCallInboundEnded)
	_, r := deliver(t, webhook.Target{Format: "voxpria", Secrets: []string{secret}}, ev, "call.completed", sentAt)
	want := `{"event":"call.completed","timestamp":"2024-01-01T00:00:00Z","data":{"callId":"1704067200.12345","status":"completed","direction":"inbound","fromNumber":"+15551234567","toNumber":"+15559876543","crmId":"usefulid","duration":120,"answeredDuration":77,"recording":"https://example.com/recordings/1704067200.12345.wav"}}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	sig := r.Header.Get("X-Voxpria-Signature")
	if !verifyVoice360(r.Body, sig, secret) { // same sha256=<hex> scheme over the raw bytes
		t.Errorf("X-Voxpria-Signature %q does not verify over the body", sig)
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret)
	s, nodeSig := nodeRoundTrip(t, r.Body, secret)
	if s != string(r.Body) || nodeSig != sig {
		t.Errorf("JSON.stringify(JSON.parse(body)) = %s (signature %s), want the body and %s", s, nodeSig, sig)
	}
}

// TestVoxpriaBytesSurviveJavaScript feeds values that Go and JavaScript write differently
// unless care is taken: HTML characters, U+2028/U+2029, invalid UTF-8, control characters,
// big and fractional numbers, negative zero.
func TestVoxpriaBytesSurviveJavaScript(t *testing.T) {
	ev := example(switchboard.EventCallOutboundEnded)
	ev.Data["to"] = "<script>&\u2028\u2029\"\\\x01\x7f\xff é 😀 \\u2028"
	ev.Data["duration"] = 1e21
	ev.Data["answered_duration"] = 0.0
	ev.Data["transcript"] = "line\nbreak\ttab\b\f"
	ev.Data["answered"] = true
	req, err := webhook.Render(webhook.Target{Format: "voxpria", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "call.completed", ev.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	body := string(req.Body)
	for _, bad := range []string{`\u003c`, `\u0026`, `\ufffd`, "\n"} {
		if strings.Contains(body, bad) {
			t.Errorf("body contains %q, which JSON.stringify would not write: %s", bad, body)
		}
	}
	// An escaped U+2028 is a backslash-u not itself escaped; the text \u2028 in the input
	// is written \\u2028 and must stay so.
	for _, bad := range []string{`[^\\]\\u2028`, `[^\\]\\u2029`} {
		if regexp.MustCompile(bad).MatchString(body) {
			t.Errorf("body contains %q, which JSON.stringify would not write: %s", bad, body)
		}
	}
	if !strings.Contains(body, `"duration":1e+21`) {
		t.Errorf("1e21 not written as JavaScript does (1e+21): %s", body)
	}
	if !json.Valid(req.Body) {
		t.Fatalf("not JSON: %s", body)
	}
	s, nodeSig := nodeRoundTrip(t, req.Body, secret)
	if s != body {
		t.Errorf("JSON.stringify(JSON.parse(body)) differs\n got %s\nwant %s", s, body)
	}
	if nodeSig != req.Header.Get("X-Voxpria-Signature") {
		t.Errorf("the document's verifier computes %s, header is %s", nodeSig, req.Header.Get("X-Voxpria-Signature"))
	}
}

func TestVoxpriaFailedAndCampaign(t *testing.T) {
	ev := example(switchboard.EventCallOutboundEnded)
	ev.Data["answered"], ev.Data["answered_duration"] = false, 0
	names := events.WireNames("voxpria", ev)
	if len(names) != 1 || names[0] != "call.failed" {
		t.Fatalf("unanswered call -> %q, want call.failed", names)
	}
	req, err := webhook.Render(webhook.Target{Format: "voxpria", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "call.failed", ev.ID, sentAt)
	if err != nil || !strings.Contains(string(req.Body), `"event":"call.failed"`) || !strings.Contains(string(req.Body), `"status":"failed"`) {
		t.Errorf("call.failed: %v %s", err, req.Body)
	}
	c := example(switchboard.EventCampaignFinished)
	req, err = webhook.Render(webhook.Target{Format: "voxpria", URL: "https://example.com/h", Secrets: []string{secret}},
		c, "campaign.finished", c.ID, sentAt)
	want := `{"event":"campaign.finished","timestamp":"2024-01-01T00:00:00Z","data":{"campaignId":42,"campaignName":"Spring renewals","status":"finished"}}`
	if err != nil || string(req.Body) != want {
		t.Errorf("campaign.finished: %v\n got %s\nwant %s", err, req.Body, want)
	}
	// A name the format does not send for the event is refused, not guessed.
	if _, err := webhook.Render(webhook.Target{Format: "voxpria", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "call.completed", ev.ID, sentAt); err == nil {
		t.Error("an unanswered call rendered as call.completed")
	}
}

func TestVoiceOverCloudQueryOnly(t *testing.T) {
	ev := example(switchboard.EventCallInboundEnded)
	ev.Data["from"] = "" // withheld caller id
	ev.Data["to"], ev.Data["number"] = "+611800111222", "+611800111222"
	_, r := deliver(t, webhook.Target{Format: "voiceovercloud", Method: "GET", URL: "RECEIVER/voc?key=1",
		Secrets: []string{secret}}, ev, "inboundCallEnd", sentAt)
	if r.Method != "POST" || len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
		t.Errorf("method %s body %q content type %q: want a POST with no body", r.Method, r.Body, r.Header.Get("Content-Type"))
	}
	wantOrder := []string{"key", "event", "date", "inboundNumber", "callerid", "callid", "extension", "duration", "answeredDuration", "crm_id"}
	var order []string
	for _, kv := range strings.Split(r.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		order = append(order, k)
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("query fields, in the document's order (-want +got):\n%s", diff)
	}
	q, _ := url.ParseQuery(r.RawQuery)
	want := map[string]string{"event": "inboundCallEnd", "date": "2024-01-01 00:00:00", "inboundNumber": "611800111222",
		"callerid": "Anonymous", "callid": "1704067200.12345", "extension": "280085", "duration": "120",
		"answeredDuration": "77", "crm_id": "usefulid", "key": "1"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`).MatchString(q.Get("date")) {
		t.Errorf("date %q is not YYYY-MM-DD hh:mm:ss", q.Get("date"))
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret)
}

func TestVoiceOverCloudNumbersAndUnansweredCall(t *testing.T) {
	out := example(switchboard.EventCallOutboundStarted)
	out.Data["to"] = "+61288880000"
	out.CRMID = ""
	req, err := webhook.Render(webhook.Target{Format: "voiceovercloud", URL: "https://example.com/h", Secrets: []string{secret}},
		out, "outboundCallStart", out.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	want := "event=outboundCallStart&date=2024-01-01+00%3A00%3A00&extension=280085&destination=61288880000&callid=1704067200.12345&crm_id="
	if u.RawQuery != want {
		t.Errorf("query\n got %s\nwant %s", u.RawQuery, want)
	}
	end := example(switchboard.EventCallInboundEnded)
	end.Data["answered"], end.Data["answered_duration"] = false, 0
	req, err = webhook.Render(webhook.Target{Format: "voiceovercloud", URL: "https://example.com/h", Secrets: []string{secret}},
		end, "inboundCallEnd", end.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(req.URL)
	if q := u.Query(); q.Get("extension") != "" || q.Get("answeredDuration") != "0" || q.Get("callerid") != "15551234567" {
		t.Errorf("unanswered call query %s: want empty extension, answeredDuration 0, callerid without +", u.RawQuery)
	}
}

func TestVoiplineTokenAndFields(t *testing.T) {
	token := "my-own-token-123"
	ev := example(switchboard.EventCallInboundRinging)
	_, r := deliver(t, webhook.Target{Format: "voipline", Secrets: []string{token, "old-token-456"},
		Headers: map[string]string{"X-Pbx-Token": "forged"}}, ev, "user_inbound_call", sentAt)
	if got := r.Header.Values("X-Pbx-Token"); len(got) != 1 || got[0] != token {
		t.Errorf("X-Pbx-Token = %q, want only the current token", got)
	}
	want := `{"type":"user_inbound_call","unique_call_id":"1704067200.12345","call_type":"inbound","caller_id":"+15551234567","caller_name":"John Doe","dest_number":"+15559876543","user_name":"Jane Smith","user_extension":"280085","date":"2024-01-01T00:00:00Z","queue_id":123,"queue_name":"Sales Queue","ring_group_id":null,"ring_group_name":null,"crm_id":"usefulid"}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, token, "old-token-456")
}

func TestVoiplineComponentEventHasTheDocumentsFields(t *testing.T) {
	ev := example(switchboard.EventFlowWebhook)
	ev.Data["call_started_at"] = "2024-01-01T00:00:00Z" // as the store gives it back
	_, r := deliver(t, webhook.Target{Format: "voipline", Secrets: []string{"tok"}}, ev, "webhook_component_event", sentAt)
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "webhook_component_event", "unique_call_id": "1704067200.12345",
		"user_name": "John Doe", "user_number": "+15551234567", "dest_number": "+15559876543",
		"call_start_at": "2024-01-01T00:00:00Z", "component_name": "Queue timeout"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook_component_event (-want +got):\n%s", diff)
	}
	rec := example(switchboard.EventRecordingAvailable)
	rec.Data["direction"] = "outbound"
	names := events.WireNames("voipline", rec)
	if len(names) != 1 || names[0] != "outbound_call_recording" {
		t.Fatalf("outbound recording -> %q", names)
	}
	req, err := webhook.Render(webhook.Target{Format: "voipline", URL: "https://example.com/h", Secrets: []string{"tok"}},
		rec, names[0], rec.ID, sentAt)
	if err != nil || !strings.Contains(string(req.Body), `"type":"outbound_call_recording"`) ||
		!strings.Contains(string(req.Body), `"recording_url":"https://example.com/recordings/`) {
		t.Errorf("recording: %v %s", err, req.Body)
	}
}

func TestStandardBodyAndSignatures(t *testing.T) {
	ev := example(switchboard.EventContactCreated)
	previous := webhook.NewSecret()
	_, r := deliver(t, webhook.Target{Format: "standard", Secrets: []string{secret, previous}}, ev, "contact.created", sentAt)
	want := `{"type":"contact.created","timestamp":"2024-01-01T00:00:00Z","data":{"account_id":12345,"company":"Example Inc","contact_id":98765,"email":"john@example.com","event_id":"` +
		ev.ID + `","first_name":"John","last_name":"Doe","phone":"+15551234567"}}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	checkCommonHeaders(t, r, "msg_"+ev.ID, secret, previous)
	// A receiver that has only one of the two secrets accepts the delivery.
	for _, s := range []string{secret, previous} {
		if err := webhook.VerifyStandard(s, r.Header, r.Body, time.Minute, sentAt); err != nil {
			t.Errorf("VerifyStandard with one secret: %v", err)
		}
	}
}

func TestVerifyStandardRefuses(t *testing.T) {
	ev := example(switchboard.EventSMSSent)
	req, err := webhook.Render(webhook.Target{Format: "standard", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "sms.sent", "msg_1", sentAt)
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.VerifyStandard(secret, req.Header, req.Body, time.Minute, sentAt); err != nil {
		t.Fatalf("the genuine delivery does not verify: %v", err)
	}
	tampered := bytes.Replace(req.Body, []byte("Voice360"), []byte("Voice361"), 1)
	if err := webhook.VerifyStandard(secret, req.Header, tampered, time.Minute, sentAt); err == nil {
		t.Error("a tampered body verifies")
	}
	if err := webhook.VerifyStandard(webhook.NewSecret(), req.Header, req.Body, time.Minute, sentAt); err == nil {
		t.Error("another secret verifies")
	}
	if err := webhook.VerifyStandard(secret, req.Header, req.Body, time.Minute, sentAt.Add(10*time.Minute)); err == nil {
		t.Error("a replay 10 minutes later verifies with a 1 minute tolerance")
	}
	h := req.Header.Clone()
	h.Set("webhook-id", "msg_2")
	if err := webhook.VerifyStandard(secret, h, req.Body, time.Minute, sentAt); err == nil {
		t.Error("a changed webhook-id verifies")
	}
	h = req.Header.Clone()
	h.Del("webhook-signature")
	if err := webhook.VerifyStandard(secret, h, req.Body, time.Minute, sentAt); err == nil {
		t.Error("a delivery without signature verifies")
	}
}

func TestNewSecretShape(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	rest, ok := strings.CutPrefix(a, "whsec_")
	key, err := base64.StdEncoding.DecodeString(rest)
	if !ok || err != nil || len(key) < 24 || len(key) > 32 {
		t.Errorf("secret %q: want whsec_ and the base64 of 24-32 bytes", a)
	}
}

// TestRenderedAfterStoreRoundTripIsIdentical: a retry renders the event the store read back
// (Data JSON-decoded, numbers as float64, times as strings); the bytes must be the same.
func TestRenderedAfterStoreRoundTripIsIdentical(t *testing.T) {
	for _, format := range events.Formats {
		for _, name := range switchboard.EventNames {
			ev := example(name)
			raw, _ := json.Marshal(ev.Data)
			back := *ev
			back.Data = nil
			if err := json.Unmarshal(raw, &back.Data); err != nil {
				t.Fatal(err)
			}
			for _, wire := range events.WireNames(format, ev) {
				target := webhook.Target{Format: format, URL: "https://example.com/h", Secrets: []string{secret}}
				a, err1 := webhook.Render(target, ev, wire, ev.ID, sentAt)
				b, err2 := webhook.Render(target, &back, wire, ev.ID, sentAt)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s %s: %v %v", format, wire, err1, err2)
				}
				if a.URL != b.URL || !bytes.Equal(a.Body, b.Body) || !cmp.Equal(a.Header, b.Header) {
					t.Errorf("%s %s differs after the round trip:\n%s %s\n%s %s", format, wire, a.URL, a.Body, b.URL, b.Body)
				}
			}
		}
	}
}

func TestRenderRefusesWhatCannotBeSent(t *testing.T) {
	ev := example(switchboard.EventCallInboundStarted)
	ok := webhook.Target{Format: "standard", URL: "https://example.com/h", Secrets: []string{secret}}
	bad := []struct {
		name   string
		target webhook.Target
		wire   string
	}{
		{"unknown format", webhook.Target{Format: "nope", URL: ok.URL, Secrets: ok.Secrets}, "call.inbound.started"},
		{"no secret", webhook.Target{Format: "standard", URL: ok.URL}, "call.inbound.started"},
		{"wrong wire name", ok, "INCOMING_EXTERNAL_CALL"},
		{"GET on voxpria", webhook.Target{Format: "voxpria", Method: "GET", URL: ok.URL, Secrets: ok.Secrets}, "call.started"},
		{"relative URL", webhook.Target{Format: "standard", URL: "/hook", Secrets: ok.Secrets}, "call.inbound.started"},
		{"header with CRLF", webhook.Target{Format: "standard", URL: ok.URL, Secrets: ok.Secrets,
			Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}, "call.inbound.started"},
	}
	for _, b := range bad {
		if _, err := webhook.Render(b.target, ev, b.wire, "msg", sentAt); err == nil {
			t.Errorf("%s: rendered", b.name)
		}
	}
}

// A call placed with a crm_id (click-to-call) carries it in every call event of the voice360
// and voipline formats, and CALL_ENDED of an outbound call answered by a user (an internal,
// queue or ring group call) names that user in to_user_id.
func TestCRMIDAndAnsweringUserOfAnOutboundCall(t *testing.T) {
	ev := example(switchboard.EventCallOutboundEnded)
	ev.Data[events.FieldAnsweredByUserID] = 42
	req, err := webhook.Render(webhook.Target{Format: "voice360", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "CALL_ENDED", ev.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Metadata map[string]any }
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if got := body.Metadata["to_user_id"]; got != "42" {
		t.Errorf("voice360 CALL_ENDED to_user_id = %v, want \"42\" (the user who answered)", got)
	}
	if got := body.Metadata["crm_id"]; got != "usefulid" {
		t.Errorf("voice360 CALL_ENDED crm_id = %v, want the call's crm_id", got)
	}
	req, err = webhook.Render(webhook.Target{Format: "voipline", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "user_outbound_call_completed", ev.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	var vl map[string]any
	if err := json.Unmarshal(req.Body, &vl); err != nil {
		t.Fatal(err)
	}
	if got := vl["crm_id"]; got != "usefulid" {
		t.Errorf("voipline crm_id = %v, want the call's crm_id", got)
	}
	ev.CRMID = ""
	req, err = webhook.Render(webhook.Target{Format: "voipline", URL: "https://example.com/h", Secrets: []string{secret}},
		ev, "user_outbound_call_completed", ev.ID, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(req.Body), "crm_id") {
		t.Errorf("a call without crm_id sent one: %s", req.Body)
	}
}
