package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"switchboard"
	"switchboard/api"
)

var availabilityFields = map[string]string{"pk": "integer", "presence_id": "string", "callerID": "string",
	"first_name": "string", "last_name": "string", "devices_registered": "boolean", "channels": "array"}

var queueFields = map[string]string{"pk": "integer", "name": "string", "queue_name": "string", "extension": "string",
	"strategy": "string", "musiconhold": "string", "timeout": "integer", "retry": "integer", "wrapuptime": "integer",
	"maxlen": "integer", "joinempty": "string", "leavewhenempty": "string", "ringinuse": "string",
	"max_wait": "integer", "service_level": "integer", "overflow": "object",
	"callback_enabled": "boolean", "callback_key": "string", "callback_after_s": "integer", "callback_max": "integer",
	"callback_retries": "integer", "recording": "string"}

var queueAvailabilityFields = map[string]string{"pk": "integer", "name": "string", "queue_name": "string",
	"extension": "string", "is_ready": "boolean", "agents_online": "integer", "agents_available": "integer",
	"agents_on_call": "integer", "active_calls": "integer"}

// queueStatsFields are what a developer key sees: the seed's fields and the engine's.
var queueStatsFields = func() map[string]string {
	m := map[string]string{"callers_waiting": "integer", "callbacks_pending": "integer", "longest_wait_seconds": "integer", "offered": "integer",
		"answered": "integer", "abandoned": "integer", "service_level": "integer", "service_level_seconds": "integer",
		"average_speed_of_answer": "integer", "average_handle_time": "integer"}
	for k, v := range queueAvailabilityFields {
		m[k] = v
	}
	return m
}()

var numberFields = map[string]string{"pk": "integer", "number": "string", "friendly_name": "string",
	"sms_enabled": "boolean", "mms_enabled": "boolean", "owner_id": "integer", "sms_assigned_user_id": "null",
	"status": "string", "ai_agent_id": "null", "target": "object", "callflow_id": "null", "created_at": "string", "language": "string",
	"recording": "string", "recording_consent_prompt_id": "integer"}

func TestAvailabilityPassesLiveStateThrough(t *testing.T) {
	e := newSQLiteEnv(t)
	e.live.setUser(e.a.account.ID, e.a.john.ID, switchboard.Channel{To: "5551234", From: "1001", CallSeconds: 45, Direction: "outbound"})

	r := e.request("GET", e.a.base(e.srv)+"/availability", e.a.devKey, nil)
	expectOK(t, r, 200, "User availability data")
	users := r.results()
	if len(users) != 2 {
		t.Fatalf("got %d users, want 2: %s", len(users), r.raw)
	}
	john := users[0].(map[string]any)
	expectFields(t, "availability", john, availabilityFields)
	if john["pk"] != float64(e.a.john.ID) || john["presence_id"] != "1001" || john["callerID"] != "John Smith" ||
		john["first_name"] != "John" || john["last_name"] != "Smith" || john["devices_registered"] != true {
		t.Errorf("john = %v", john)
	}
	ch := john["channels"].([]any)
	if len(ch) != 1 {
		t.Fatalf("channels = %v", ch)
	}
	expectFields(t, "channel", ch[0].(map[string]any), map[string]string{"to": "string", "from": "string", "call_seconds": "integer", "direction": "string"})
	if c := ch[0].(map[string]any); c["to"] != "5551234" || c["from"] != "1001" || c["call_seconds"] != float64(45) || c["direction"] != "outbound" {
		t.Errorf("channel = %v", c)
	}
	jane := users[1].(map[string]any)
	if jane["devices_registered"] != false || len(jane["channels"].([]any)) != 0 {
		t.Errorf("jane = %v, want offline with no channels ([] not null)", jane)
	}
}

func TestQueues(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("GET", e.a.base(e.srv)+"/queues", e.a.devKey, nil)
	expectOK(t, r, 200, "List of queues")
	if len(r.results()) != 1 {
		t.Fatalf("queues = %s", r.raw)
	}
	q := r.results()[0].(map[string]any)
	expectFields(t, "queue", q, queueFields)
	id := strconv.FormatInt(e.a.sales.ID, 10)
	if q["pk"] != float64(e.a.sales.ID) || q["name"] != id || q["queue_name"] != "Sales Queue" || q["extension"] != "8001" ||
		q["strategy"] != "ringall" || q["musiconhold"] != "default" || q["timeout"] != float64(20) || q["joinempty"] != "yes" {
		t.Errorf("queue = %v", q)
	}

	r = e.request("GET", e.a.base(e.srv)+"/queues/"+id, e.a.devKey, nil)
	expectOK(t, r, 200, "Queue details")
	fields := map[string]string{"assigned_users": "array"}
	for k, v := range queueFields {
		fields[k] = v
	}
	expectFields(t, "queue detail", r.result(), fields)
	members := r.result()["assigned_users"].([]any)
	if len(members) != 1 {
		t.Fatalf("assigned_users = %v", members)
	}
	m := members[0].(map[string]any)
	expectFields(t, "member", m, map[string]string{"pk": "integer", "presence_id": "string", "first_name": "string",
		"last_name": "string", "penalty": "integer", "paused": "boolean"})
	if m["pk"] != float64(e.a.john.ID) || m["presence_id"] != "1001" || m["penalty"] != float64(2) || m["paused"] != false {
		t.Errorf("member = %v", m)
	}

	expectError(t, e.request("GET", e.a.base(e.srv)+"/queues/999999", e.a.devKey, nil), 404, "NOT_FOUND")
	r = e.request("GET", e.a.base(e.srv)+"/queues/sales", e.a.devKey, nil)
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "queue_id") == "" {
		t.Errorf("no details.queue_id: %s", r.raw)
	}
}

func TestQueueAvailability(t *testing.T) {
	e := newSQLiteEnv(t)
	e.live.setQueue(e.a.account.ID, e.a.sales.ID, switchboard.QueueLiveStats{AgentsOnline: 3, AgentsAvailable: 2, AgentsOnCall: 1, ActiveCalls: 5})
	r := e.request("GET", e.a.base(e.srv)+"/availability/queues", e.a.devKey, nil)
	expectOK(t, r, 200, "Queue availability data")
	q := r.results()[0].(map[string]any)
	expectFields(t, "queue availability", q, queueStatsFields)
	if q["is_ready"] != true || q["agents_online"] != float64(3) || q["agents_available"] != float64(2) ||
		q["agents_on_call"] != float64(1) || q["active_calls"] != float64(5) || q["queue_name"] != "Sales Queue" {
		t.Errorf("queue availability = %v", q)
	}

	e.live.setQueue(e.a.account.ID, e.a.sales.ID, switchboard.QueueLiveStats{})
	r = e.request("GET", e.a.base(e.srv)+"/availability/queues/"+strconv.FormatInt(e.a.sales.ID, 10), e.a.devKey, nil)
	expectOK(t, r, 200, "Queue availability data")
	expectFields(t, "one queue availability", r.result(), queueStatsFields)
	if r.result()["is_ready"] != false || r.result()["agents_online"] != float64(0) {
		t.Errorf("no agents online must not be ready: %v", r.result())
	}
}

func TestNumbersAndFilters(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("GET", base+"/numbers", e.a.devKey, nil)
	expectOK(t, r, 200, "List of numbers")
	if len(r.results()) != 2 {
		t.Fatalf("numbers = %s", r.raw)
	}
	var main map[string]any
	for _, n := range r.results() {
		if n.(map[string]any)["number"] == "+15551234567" {
			main = n.(map[string]any)
		}
	}
	expectFields(t, "number", main, numberFields)
	if main["friendly_name"] != "Main Business Line" || main["sms_enabled"] != true || main["mms_enabled"] != true {
		t.Errorf("number = %v", main)
	}

	for query, want := range map[string]string{
		"?status=active":                                      "+15551234567",
		"?status=inactive":                                    "+15559876543",
		"?number=%2B15559876543":                              "+15559876543",
		"?number=(555)%20987-6543":                            "+15559876543", // typed any way, compared in E.164
		"?owner_id=" + itoa(e.a.john.ID):                      "+15551234567",
		"?owner_id=" + itoa(e.a.john.ID) + "&status=inactive": "",
	} {
		r := e.request("GET", base+"/numbers"+query, e.a.devKey, nil)
		expectOK(t, r, 200, "List of numbers")
		if want == "" {
			if len(r.results()) != 0 {
				t.Errorf("%s: got %s, want none", query, r.raw)
			}
			continue
		}
		if len(r.results()) != 1 || r.results()[0].(map[string]any)["number"] != want {
			t.Errorf("%s: got %s, want only %s", query, r.raw, want)
		}
	}
	r = e.request("GET", base+"/numbers?status=lost", e.a.devKey, nil)
	expectError(t, r, 400, "BAD_REQUEST")
	r = e.request("GET", base+"/numbers?owner_id=john", e.a.devKey, nil)
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "owner_id") == "" {
		t.Errorf("no details.owner_id: %s", r.raw)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestUserEndpoints(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("GET", base+"/user/profile", e.a.userKey, nil)
	expectOK(t, r, 200, "User profile details")
	expectFields(t, "profile", r.result(), map[string]string{"pk": "integer", "asterisk_user_id": "integer",
		"presence_id": "string", "callerID": "string", "first_name": "string", "last_name": "string", "email": "string",
		"voicemail_enabled": "boolean", "forward_enabled": "boolean", "forward_number": "null", "time_zone": "string"})
	p := r.result()
	if p["pk"] != float64(e.a.john.ID) || p["asterisk_user_id"] != float64(e.a.john.ID) || p["presence_id"] != "1001" ||
		p["email"] != "john.smith@company.com" || p["time_zone"] != "America/New_York" || p["voicemail_enabled"] != true {
		t.Errorf("profile = %v", p)
	}
	r = e.request("GET", base+"/user/profile", e.a.janeKey, nil)
	if r.result()["forward_number"] != "+15550001111" || r.result()["forward_enabled"] != true {
		t.Errorf("jane's profile = %s", r.raw)
	}

	r = e.request("GET", base+"/user/numbers", e.a.userKey, nil)
	expectOK(t, r, 200, "List of phone numbers assigned to user")
	if len(r.results()) != 1 || r.results()[0].(map[string]any)["number"] != "+15551234567" {
		t.Errorf("john's numbers = %s", r.raw)
	}
	r = e.request("GET", base+"/user/numbers", e.a.janeKey, nil)
	expectOK(t, r, 200, "List of phone numbers assigned to user")
	if len(r.results()) != 0 {
		t.Errorf("jane owns no number: %s", r.raw)
	}
}

func TestKeyKindRules(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	// A developer key may not use /user/*: there is no user to show.
	r := e.request("GET", base+"/user/profile", e.a.devKey, nil)
	expectError(t, r, 403, "AUTH_INVALID")
	if msg := r.body["message"].(string); !contains(msg, "user API key") {
		t.Errorf("message %q should say a user key is needed", msg)
	}
	// A user key may not use account-wide endpoints.
	for _, path := range []string{"/availability", "/queues", "/availability/queues", "/numbers", "/users", "/api_keys"} {
		expectError(t, e.request("GET", base+path, e.a.userKey, nil), 403, "AUTH_INVALID")
	}
	expectError(t, e.request("POST", base+"/call/outbound", e.a.userKey, map[string]any{"from": "1001", "to": "+15551234567"}), 403, "AUTH_INVALID")
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

func TestAuthErrors(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)

	r := e.request("GET", base+"/queues", "", nil)
	expectError(t, r, 401, "AUTH_REQUIRED")

	r = e.request("GET", base+"/queues", "v360_dev_notAKeyAtAll1234", nil)
	expectError(t, r, 403, "AUTH_INVALID")
	if r.body["message"] != "Invalid API key provided" || detail(r, "provided_key") != "v360_dev..." {
		t.Errorf("invalid key answer = %s", r.raw)
	}

	// A key of account 61 on account 62: refused, and nothing of 62 is shown.
	r = e.request("GET", e.b.base(e.srv)+"/queues", e.a.devKey, nil)
	expectError(t, r, 403, "AUTH_INVALID")
	// An account that does not exist looks the same to a key.
	expectError(t, e.request("GET", e.srv.URL+"/v3/voice/999/queues", e.a.devKey, nil), 403, "AUTH_INVALID")
	// A non-numeric account id is a bad request.
	expectError(t, e.request("GET", e.srv.URL+"/v3/voice/sixty-one/queues", e.a.devKey, nil), 400, "BAD_REQUEST")

	// Revocation takes effect on the next request.
	expectOK(t, e.request("GET", base+"/queues", e.a.devKey, nil), 200, "List of queues")
	must(t, e.store.RevokeAPIKey(context.Background(), e.a.account.ID, e.a.devKeyID))
	expectError(t, e.request("GET", base+"/queues", e.a.devKey, nil), 403, "AUTH_INVALID")
}

func TestKeyIPAllowlist(t *testing.T) {
	e := newSQLiteEnv(t)
	ctx := context.Background()
	key, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.AllowedIPs = e.a.account.ID, []string{"203.0.113.0/24"}
	must(t, e.store.CreateAPIKey(ctx, k))
	r := e.request("GET", e.a.base(e.srv)+"/queues", key, nil) // from 127.0.0.1
	expectError(t, r, 401, "AUTH_REQUIRED")
	if msg := r.body["message"].(string); !contains(msg, "allowlist") {
		t.Errorf("message %q should name the allowlist", msg)
	}

	local, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.AllowedIPs = e.a.account.ID, []string{"127.0.0.1"}
	must(t, e.store.CreateAPIKey(ctx, k))
	expectOK(t, e.request("GET", e.a.base(e.srv)+"/queues", local, nil), 200, "List of queues")
}

func TestTrustedProxyHeaders(t *testing.T) {
	e := newSQLiteEnv(t, func(c *api.Config) { c.TrustProxyHeaders = true })
	key, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.AllowedIPs = e.a.account.ID, []string{"203.0.113.7"}
	must(t, e.store.CreateAPIKey(context.Background(), k))
	// The proxy appends the address it saw last; a client-supplied first entry is ignored.
	expectOK(t, e.request("GET", e.a.base(e.srv)+"/queues", key, nil, "X-Forwarded-For", "10.9.9.9, 203.0.113.7"), 200, "List of queues")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/queues", key, nil, "X-Forwarded-For", "203.0.113.7, 10.9.9.9"), 401, "AUTH_REQUIRED")
}

func TestPublicEndpoints(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	// Off by default: no key is 401.
	expectError(t, e.request("GET", base+"/availability", "", nil), 401, "AUTH_REQUIRED")

	e.a.account.PublicEndpoints = true
	must(t, e.store.UpdateAccount(context.Background(), e.a.account))
	e.live.setUser(e.a.account.ID, e.a.john.ID, switchboard.Channel{To: "5551234", From: "1001", CallSeconds: 45, Direction: "outbound"})
	e.live.setQueue(e.a.account.ID, e.a.sales.ID, switchboard.QueueLiveStats{AgentsOnline: 1, AgentsAvailable: 1})

	r := e.request("GET", base+"/availability", "", nil)
	expectOK(t, r, 200, "User availability data")
	expectFields(t, "public availability", r.results()[0].(map[string]any), map[string]string{"pk": "integer",
		"presence_id": "string", "callerID": "string", "first_name": "string", "last_name": "string", "devices_registered": "boolean"})
	if r.results()[0].(map[string]any)["devices_registered"] != true {
		t.Errorf("public availability = %s", r.raw)
	}

	basic := map[string]string{"pk": "integer", "name": "string", "queue_name": "string", "extension": "string", "strategy": "string"}
	r = e.request("GET", base+"/queues", "", nil)
	expectOK(t, r, 200, "List of queues")
	expectFields(t, "public queue", r.results()[0].(map[string]any), basic)
	r = e.request("GET", base+"/queues/"+itoa(e.a.sales.ID), "", nil)
	expectOK(t, r, 200, "Queue details")
	expectFields(t, "public queue detail", r.result(), basic) // no assigned_users

	r = e.request("GET", base+"/availability/queues", "", nil)
	expectOK(t, r, 200, "Queue availability data")
	expectFields(t, "public queue availability", r.results()[0].(map[string]any), queueAvailabilityFields)
	expectOK(t, e.request("GET", base+"/availability/queues/"+itoa(e.a.sales.ID), "", nil), 200, "Queue availability data")

	// Everything else still needs a key, and other accounts stay closed.
	for _, path := range []string{"/numbers", "/users", "/contacts", "/user/profile", "/settings"} {
		expectError(t, e.request("GET", base+path, "", nil), 401, "AUTH_REQUIRED")
	}
	expectError(t, e.request("GET", e.b.base(e.srv)+"/availability", "", nil), 401, "AUTH_REQUIRED")
	expectError(t, e.request("GET", e.srv.URL+"/v3/voice/999/availability", "", nil), 401, "AUTH_REQUIRED")
	// A developer key still sees the full view.
	r = e.request("GET", base+"/availability", e.a.devKey, nil)
	expectFields(t, "availability with key", r.results()[0].(map[string]any), availabilityFields)
}

func TestOutboundCallValidationAndOffline(t *testing.T) {
	e := newSQLiteEnv(t)
	url := e.a.base(e.srv) + "/call/outbound"

	r := e.request("POST", url, e.a.devKey, map[string]any{"from": "1999", "to": "not a number", "caller_id": "+16665550000", "crm_id": "x"})
	expectError(t, r, 400, "BAD_REQUEST")
	for _, f := range []string{"from", "to", "caller_id"} {
		if detail(r, f) == "" {
			t.Errorf("details.%s missing: %s", f, r.raw)
		}
	}
	// Account B's number is not a caller ID of account A.
	r = e.request("POST", url, e.a.devKey, map[string]any{"from": "1001", "to": "+15551234567", "caller_id": "+16661234567"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "caller_id") == "" {
		t.Errorf("details.caller_id missing: %s", r.raw)
	}

	// Valid: with no SIP service configured the answer is 503, saying so.
	r = e.request("POST", url, e.a.devKey, map[string]any{"from": "1001", "to": "(555) 123-4567", "caller_id": "+15559876543", "recording": true})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
	if msg := r.body["message"].(string); !contains(msg, "not available") {
		t.Errorf("503 message %q", msg)
	}
}

// placer records the call it was asked to place.
type placer struct {
	got switchboard.OutboundCallRequest
}

func (p *placer) PlaceCall(_ context.Context, req switchboard.OutboundCallRequest) (*switchboard.OutboundCall, error) {
	p.got = req
	return &switchboard.OutboundCall{CallID: "1705314600.1", Status: "initiating"}, nil
}

func TestOutboundCallPlaced(t *testing.T) {
	p := &placer{}
	e := newSQLiteEnv(t, func(c *api.Config) { c.Calls = p })
	r := e.request("POST", e.a.base(e.srv)+"/call/outbound", e.a.devKey,
		map[string]any{"from": "1001", "to": "555-123-4567", "caller_id": "+15559876543", "recording": true, "crm_id": "deal-7"})
	expectOK(t, r, 200, "Call initiated successfully")
	expectFields(t, "call", r.result(), map[string]string{"call_id": "string", "status": "string", "from": "string", "to": "string", "timestamp": "string"})
	if r.result()["status"] != "initiating" || r.result()["to"] != "+15551234567" || r.result()["from"] != "1001" {
		t.Errorf("call = %v", r.result())
	}
	if p.got.FromUser == nil || p.got.FromUser.ID != e.a.john.ID || p.got.To != "+15551234567" || p.got.CallerID != "+15559876543" ||
		!p.got.Recording || p.got.CRMID != "deal-7" || p.got.AccountID != e.a.account.ID {
		t.Errorf("placer got %+v", p.got)
	}
	// An extension is dialled as the user's phone would dial it (docs/calls.md).
	r = e.request("POST", e.a.base(e.srv)+"/call/outbound", e.a.devKey, map[string]any{"from": "1001", "to": "1002"})
	expectOK(t, r, 200, "Call initiated successfully")
	if p.got.To != "1002" || r.result()["to"] != "1002" {
		t.Errorf("click-to-call to an extension: placer got to %q, answer %v", p.got.To, r.result())
	}
}

func TestSendSMS(t *testing.T) {
	e := newSQLiteEnv(t)
	url := e.a.base(e.srv) + "/sms/send"
	long := make([]byte, 161)
	for i := range long {
		long[i] = 'a'
	}
	r := e.request("POST", url, e.a.devKey, map[string]any{"from": "+16661234567", "to": "12", "message": string(long)})
	expectError(t, r, 400, "BAD_REQUEST")
	for _, f := range []string{"from", "to", "message"} {
		if detail(r, f) == "" {
			t.Errorf("details.%s missing: %s", f, r.raw)
		}
	}
	expectError(t, e.request("POST", url, e.a.devKey, map[string]any{"from": "+15551234567", "to": "+15550001111", "message": ""}), 400, "BAD_REQUEST")
	// Jane neither owns nor is SMS-assigned to the main line.
	r = e.request("POST", url, e.a.janeKey, map[string]any{"from": "+15551234567", "to": "+15550001111", "message": "hi"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "from") == "" {
		t.Errorf("details.from missing: %s", r.raw)
	}
	// John owns it; the user key passes validation and meets the missing gateway.
	r = e.request("POST", url, e.a.userKey, map[string]any{"from": "+15551234567", "to": "+15550001111", "message": "Hello from Voice360!"})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
	r = e.request("POST", url, e.a.devKey, map[string]any{"from": "5551234567", "to": "+15550001111", "message": "hi"})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
}

type smsSender struct{ got switchboard.SMSRequest }

func (s *smsSender) SendSMS(_ context.Context, req switchboard.SMSRequest) (*switchboard.SMSMessage, error) {
	s.got = req
	return &switchboard.SMSMessage{MessageID: "sms_1", Status: "queued"}, nil
}

func TestSendSMSAccepted(t *testing.T) {
	s := &smsSender{}
	e := newSQLiteEnv(t, func(c *api.Config) { c.SMS = s })
	r := e.request("POST", e.a.base(e.srv)+"/sms/send", e.a.userKey, map[string]any{"from": "+15551234567", "to": "(555) 000-1111", "message": "Hello"})
	expectOK(t, r, 200, "SMS sent successfully")
	if r.result()["message_id"] != "sms_1" || r.result()["to"] != "+15550001111" {
		t.Errorf("sms result = %v", r.result())
	}
	if s.got.From == nil || s.got.From.ID != e.a.mainLine.ID || s.got.SentBy != e.a.john.ID || s.got.Message != "Hello" {
		t.Errorf("sender got %+v", s.got)
	}
}

func TestUnknownPathAndWrongMethod(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("GET", e.srv.URL+"/v3/voice/61/nothing-here", e.a.devKey, nil)
	expectError(t, r, 404, "NOT_FOUND")
	r = e.request("DELETE", e.a.base(e.srv)+"/availability", e.a.devKey, nil)
	expectError(t, r, 405, "METHOD_NOT_ALLOWED")
	if allow := r.header.Get("Allow"); !contains(allow, "GET") {
		t.Errorf("Allow = %q", allow)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the answer")
	}
	_ = http.StatusOK
}
