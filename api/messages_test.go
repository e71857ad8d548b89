package api_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/internal/tstest"
	"switchboard/sms"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// newSMSEnv serves the API with a real SMS service on the simulator (its worker running).
func newSMSEnv(t *testing.T, carrier string) (*env, *store.DB) {
	t.Helper()
	db := storetest.NewSQLite(t)
	sealer, err := webhook.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc := sms.New(sms.Config{Store: db, Sealer: sealer, DefaultCarrier: carrier, SimulatorDelay: 5 * time.Millisecond,
		PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return newEnv(t, db, func(c *api.Config) { c.SMS, c.Messages = svc, svc }), db
}

// voice360 renders an event as the Voice360 webhook body's metadata.
func voice360(t *testing.T, ev *switchboard.Event, wire string) map[string]any {
	t.Helper()
	req, err := webhook.Render(webhook.Target{Format: "voice360", URL: "http://hooks.example/x", Secrets: []string{"s"}}, ev, wire, "m1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		EventName string         `json:"event_name"`
		Metadata  map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil || body.EventName != wire {
		t.Fatalf("%s body %s: %v", wire, req.Body, err)
	}
	return body.Metadata
}

// sms/send as the seed's clients call it, through to delivery on the simulator; the events
// render with the seed's field names; the Messages API lists it with its history.
func TestSMSSendDeliverAndMessagesAPI(t *testing.T) {
	e, db := newSMSEnv(t, "simulator")
	base := e.a.base(e.srv)
	body := "Hello from Voice360! Γειά 😀 你好 €["
	r := e.request("POST", base+"/sms/send", e.a.userKey, map[string]any{"from": "+15551234567", "to": "+15550001111", "message": body})
	expectOK(t, r, 200, "SMS sent successfully")
	id, _ := r.result()["message_id"].(string)
	if !strings.HasPrefix(id, "msg_") || r.result()["status"] != "queued" || r.result()["from"] != "+15551234567" {
		t.Fatalf("send answer %v", r.result())
	}
	var got map[string]any
	tstest.WaitFor(t, "delivered", func() bool {
		got = e.request("GET", base+"/messages/"+id, e.a.devKey, nil).result()
		return got["status"] == "delivered"
	})
	if got["body"] != body || got["encoding"] != "ucs2" || got["carrier"] != "simulator" || got["sms_sent_by_user_id"] != float64(e.a.john.ID) {
		t.Errorf("message %v", got)
	}
	if h, _ := got["history"].([]any); len(h) != 4 || h[3].(map[string]any)["carrier_status"] != "DELIVRD" {
		t.Errorf("history %v", got["history"])
	}

	evs, err := db.ListEvents(context.Background(), e.a.account.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]any{}
	for _, ev := range evs {
		switch ev.Name {
		case switchboard.EventSMSSent:
			seen["SMS_SENT"] = voice360(t, ev, "SMS_SENT")
		case switchboard.EventSMSDelivered:
			seen["SMS_DELIVERED"] = voice360(t, ev, "SMS_DELIVERED")
		}
	}
	sent, del := seen["SMS_SENT"], seen["SMS_DELIVERED"]
	if sent["message_id"] != id || sent["from_number"] != "+15551234567" || sent["body"] != body ||
		sent["sms_sent_by_user_id"] == nil {
		t.Errorf("SMS_SENT metadata %v", sent)
	}
	if to, _ := sent["to_number"].([]any); len(to) != 1 || to[0] != "+15550001111" {
		t.Errorf("SMS_SENT to_number %v, want [\"+15550001111\"] as the seed shows", sent["to_number"])
	}
	if del["message_id"] != id || del["status"] != "delivered" {
		t.Errorf("SMS_DELIVERED metadata %v", del)
	}

	// An inbound message through the simulator: SMS_RECEIVED with to_number a string.
	r = e.request("POST", base+"/simulator/sms", e.a.devKey, map[string]any{"from": "+15550001111", "to": "+15551234567", "message": "Ναι 👍"})
	expectOK(t, r, 200, "Inbound SMS received")
	inID, _ := r.result()["message_id"].(string)
	evs, _ = db.ListEvents(context.Background(), e.a.account.ID, 0, 100)
	last := evs[len(evs)-1]
	if last.Name != switchboard.EventSMSReceived {
		t.Fatalf("last event %s", last.Name)
	}
	if m := voice360(t, last, "SMS_RECEIVED"); m["to_number"] != "+15551234567" || m["from_number"] != "+15550001111" || m["message_id"] != inID || m["body"] != "Ναι 👍" {
		t.Errorf("SMS_RECEIVED metadata %v", m)
	}

	list := e.request("GET", base+"/messages?direction=inbound", e.a.devKey, nil)
	if len(list.results()) != 1 || list.results()[0].(map[string]any)["message_id"] != inID {
		t.Errorf("inbound list %s", list.raw)
	}
	conv := e.request("GET", base+"/messages/conversations", e.a.devKey, nil)
	if len(conv.results()) != 1 || conv.results()[0].(map[string]any)["message_count"] != float64(2) ||
		conv.results()[0].(map[string]any)["party"] != "+15550001111" {
		t.Errorf("conversations %s", conv.raw)
	}
	// Paging by cursor: one a page.
	p1 := e.request("GET", base+"/messages?limit=1", e.a.devKey, nil)
	next := p1.header.Get("X-Next-Cursor")
	p2 := e.request("GET", base+"/messages?limit=1&cursor="+next, e.a.devKey, nil)
	if len(p1.results()) != 1 || next == "" || len(p2.results()) != 1 || p2.header.Get("X-Next-Cursor") != "" ||
		p2.results()[0].(map[string]any)["message_id"] != id {
		t.Errorf("pages %s / %s", p1.raw, p2.raw)
	}

	// Jane's key sees none of John's line's messages; another account's key sees nothing.
	if r := e.request("GET", base+"/messages", e.a.janeKey, nil); len(r.results()) != 0 {
		t.Errorf("Jane sees %s", r.raw)
	}
	expectError(t, e.request("GET", base+"/messages/"+id, e.a.janeKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", e.b.base(e.srv)+"/messages/"+id, e.b.devKey, nil), 404, "NOT_FOUND")
	if r := e.request("GET", base+"/messages", e.a.userKey, nil); len(r.results()) != 2 {
		t.Errorf("John sees %s", r.raw)
	}
	expectError(t, e.request("GET", base+"/messages?status=lost", e.a.devKey, nil), 400, "BAD_REQUEST")
	expectError(t, e.request("GET", base+"/messages?from_date=yesterday", e.a.devKey, nil), 400, "BAD_REQUEST")
}

// Bad sends: 400 in the envelope naming the field, nothing stored; STOP then a send is a
// clear 400.
func TestSMSSendBadInput(t *testing.T) {
	e, _ := newSMSEnv(t, "simulator")
	base := e.a.base(e.srv)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"from": "+15551234567", "to": "+15550001111", "message": strings.Repeat("a", 161)}, "message"},
		{map[string]any{"from": "+15551234567", "to": "+15550001111", "message": strings.Repeat("😀", 36)}, "message"},
		{map[string]any{"from": "+15551234567", "to": "+15550001111", "message": ""}, "message"},
		{map[string]any{"from": "+15551234567", "to": "911", "message": "hi"}, "to"},
		{map[string]any{"from": "+15551234567", "to": "+19005550000", "message": "hi"}, "to"},
		{map[string]any{"from": "+16661234567", "to": "+15550001111", "message": "hi"}, "from"},
	} {
		r := e.request("POST", base+"/sms/send", e.a.devKey, tc.body)
		expectError(t, r, 400, "BAD_REQUEST")
		if detail(r, tc.field) == "" {
			t.Errorf("%v: no details.%s in %s", tc.body, tc.field, r.raw)
		}
	}
	if r := e.request("GET", base+"/messages", e.a.devKey, nil); len(r.results()) != 0 {
		t.Fatalf("refused sends were stored: %s", r.raw)
	}
	expectOK(t, e.request("POST", base+"/simulator/sms", e.a.devKey, map[string]any{"from": "+15550001111", "to": "+15551234567", "message": "STOP"}), 200, "Inbound SMS received")
	r := e.request("POST", base+"/sms/send", e.a.devKey, map[string]any{"from": "+15551234567", "to": "+15550001111", "message": "hi"})
	expectError(t, r, 400, "BAD_REQUEST")
	if !strings.Contains(detail(r, "to"), "opted out") {
		t.Errorf("opted out: %s", r.raw)
	}
	// sms_max_parts lets 161 characters through.
	r = e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"sms_max_parts": 2})
	expectOK(t, r, 200, "SMS settings updated")
	r = e.request("POST", base+"/sms/send", e.a.devKey, map[string]any{"from": "+15551234567", "to": "+15550002222", "message": strings.Repeat("a", 161)})
	expectOK(t, r, 200, "SMS sent successfully")
}

// The settings: the Kannel password is write-only and sealed; bad values are 400; a
// user key may not change them.
func TestSMSSettings(t *testing.T) {
	e, db := newSMSEnv(t, "")
	base := e.a.base(e.srv)
	r := e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"number_id": e.a.mainLine.ID, "sms_carrier": "kannel",
		"kannel": map[string]any{"url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "sb", "password": "s3cret", "smsc": "fake"}})
	expectOK(t, r, 200, "SMS settings updated")
	if strings.Contains(r.raw, "s3cret") || r.result()["kannel"].(map[string]any)["has_password"] != true {
		t.Errorf("settings answer %s", r.raw)
	}
	stored, err := db.GetSMSSettings(context.Background(), e.a.account.ID, e.a.mainLine.ID)
	if err != nil || len(stored.KannelPassword) == 0 || strings.Contains(string(stored.KannelPassword), "s3cret") {
		t.Errorf("stored password %q (%v)", stored.KannelPassword, err)
	}
	expectError(t, e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"sms_carrier": "pigeon"}), 400, "BAD_REQUEST")
	expectError(t, e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"sms_max_parts": 11}), 400, "BAD_REQUEST")
	expectError(t, e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"number_id": e.b.mainLine.ID, "sms_max_parts": 2}), 404, "NOT_FOUND")
	expectError(t, e.request("PUT", base+"/sms/settings", e.a.userKey, map[string]any{"sms_max_parts": 2}), 403, "AUTH_INVALID")
	// The account has no carrier (and the server no default): valid sends are 503.
	r = e.request("POST", base+"/sms/send", e.a.devKey, map[string]any{"from": "+15559876543", "to": "+15550001111", "message": "hi"})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
	// The simulator route refuses a number whose carrier is not the simulator.
	expectError(t, e.request("POST", base+"/simulator/sms", e.a.devKey, map[string]any{"from": "+15550001111", "to": "+15551234567", "message": "x"}), 409, "CONFLICT")
}

// With the SMS service's cache on (for longer than the test), a number or setting changed
// through this server's API is seen by the very next sms/send.
func TestSMSSendSeesChangesThroughTheCache(t *testing.T) {
	db := storetest.NewSQLite(t)
	svc := sms.New(sms.Config{Store: db, DefaultCarrier: "simulator", CacheTTL: time.Hour}) // no worker: nothing is sent
	e := newEnv(t, db, func(c *api.Config) {
		c.SMS, c.Messages, c.CacheTTL, c.Forget = svc, svc, time.Hour, svc.ForgetAccount
	})
	base := e.a.base(e.srv)
	send := func(text string) response {
		return e.request("POST", base+"/sms/send", e.a.devKey, map[string]any{"from": e.a.mainLine.Number, "to": "+15550001111", "message": text})
	}
	expectOK(t, send("cached now"), 200, "SMS sent successfully")
	// Sending changes nothing cached, so it keeps the cache: a change behind the server's back
	// (another node) is not seen by the next send, as it would be if each send dropped it.
	if _, err := db.UpdateNumberFunc(t.Context(), e.a.account.ID, e.a.mainLine.ID, func(n *switchboard.Number) error {
		n.SMSEnabled, n.MMSEnabled = false, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectOK(t, send("still cached"), 200, "SMS sent successfully")
	expectOK(t, send("still cached"), 200, "SMS sent successfully")

	r := e.request("PATCH", base+"/numbers/"+strconv.FormatInt(e.a.mainLine.ID, 10), e.a.devKey, map[string]any{"sms_enabled": false, "mms_enabled": false})
	expectOK(t, r, 200, "Number updated")
	if r := send("after sms_enabled off"); r.status != 400 || !strings.Contains(r.raw, "does not have SMS enabled") {
		t.Fatalf("a send from a number whose SMS was just turned off: %d %s", r.status, r.raw)
	}
	r = e.request("PATCH", base+"/numbers/"+strconv.FormatInt(e.a.mainLine.ID, 10), e.a.devKey, map[string]any{"sms_enabled": true})
	expectOK(t, r, 200, "Number updated")

	long := strings.Repeat("a", 161)
	expectError(t, send(long), 400, "BAD_REQUEST")
	expectOK(t, e.request("PUT", base+"/sms/settings", e.a.devKey, map[string]any{"sms_max_parts": 2}), 200, "SMS settings updated")
	expectOK(t, send(long), 200, "SMS sent successfully")
}
