package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"switchboard"
	"switchboard/webhook"
)

func TestCreateRefusesBadInputWithDetails(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.Policy = webhook.URLPolicy{} }) // production policy
	cases := []struct {
		name   string
		change switchboard.WebhookChange
		field  string
	}{
		{"relative URL", switchboard.WebhookChange{URL: ptr("/hook"), Events: []string{"*"}}, "url"},
		{"plain http", switchboard.WebhookChange{URL: ptr("http://example.com/hook"), Events: []string{"*"}}, "url"},
		{"loopback", switchboard.WebhookChange{URL: ptr("https://127.0.0.1/hook"), Events: []string{"*"}}, "url"},
		{"metadata address", switchboard.WebhookChange{URL: ptr("https://169.254.169.254/latest"), Events: []string{"*"}}, "url"},
		{"ftp", switchboard.WebhookChange{URL: ptr("ftp://example.com/"), Events: []string{"*"}}, "url"},
		{"no URL", switchboard.WebhookChange{Events: []string{"*"}}, "url"},
		{"unknown event", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"call.exploded"}}, "events"},
		{"no events", switchboard.WebhookChange{URL: ptr("https://example.com/h")}, "events"},
		{"event the format never sends", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Format: ptr("voxpria"),
			Events: []string{"contact.created"}}, "events"},
		{"unknown format", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Format: ptr("soap"), Events: []string{"*"}}, "format"},
		{"retries 11", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"}, Retries: ptr(11)}, "retries"},
		{"retries -1", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"}, Retries: ptr(-1)}, "retries"},
		{"method PUT", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"}, Method: ptr("PUT")}, "method"},
		{"Host header", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"Host": "evil"}}, "headers"},
		{"Content-Length header", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"content-length": "1"}}, "headers"},
		{"signature header", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"X-Voice360-Signature": "sha256=0"}}, "headers"},
		{"webhook-* header", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"Webhook-Id": "x"}}, "headers"},
		{"invalid header name", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"Bad Header": "x"}}, "headers"},
		{"header value with a newline", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"X-Ok": "a\r\nX-Injected: 1"}}, "headers"},
		{"header given twice", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Headers: map[string]string{"X-Api-Key": "a", "x-api-key": "b"}}, "headers"},
		{"token for a format that signs", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Events: []string{"*"},
			Secret: ptr("my-own-secret")}, "secret"},
		{"short voipline token", switchboard.WebhookChange{URL: ptr("https://example.com/h"), Format: ptr("voipline"),
			Events: []string{"*"}, Secret: ptr("abc")}, "secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.CreateWebhook(context.Background(), f.accountID, tc.change)
			var e *switchboard.Error
			if !asError(err, &e) || e.Code != switchboard.EBADREQUEST || e.Details[tc.field] == "" {
				t.Fatalf("err = %v, want BAD_REQUEST with details for %q", err, tc.field)
			}
		})
	}
	if list, _ := f.svc.ListWebhooks(context.Background(), f.accountID); len(list) != 0 {
		t.Errorf("refused creates stored %d subscriptions", len(list))
	}
}

// TestFormatDefaultsToVoice360 pins the one default of the format: the service's. The REST
// API is Voice360's, and its integrations expect Voice360's payloads.
func TestFormatDefaultsToVoice360(t *testing.T) {
	f := newFixture(t)
	w, _, err := f.svc.CreateWebhook(context.Background(), f.accountID, switchboard.WebhookChange{
		URL: ptr("http://127.0.0.1:9/hook"), Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Format != "voice360" || webhook.DefaultFormat != "voice360" {
		t.Errorf("format %q (DefaultFormat %q), want voice360", w.Format, webhook.DefaultFormat)
	}
}

func asError(err error, target **switchboard.Error) bool {
	e, ok := err.(*switchboard.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestProviderNamesAndVoiplineToken(t *testing.T) {
	f := newFixture(t)
	var got []*http.Request
	rc := newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) { got = append(got, r) })
	// voipline with a token the user chose: it is sent as X-Pbx-Token and never logged.
	w, secret, err := f.svc.CreateWebhook(context.Background(), f.accountID, switchboard.WebhookChange{
		URL: ptr(rc.URL), Format: ptr("voipline"), Events: []string{"user_inbound_call"}, Secret: ptr("my-pbx-token-123")})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "my-pbx-token-123" {
		t.Errorf("secret = %q, want the chosen token", secret)
	}
	if len(w.EventFilter) != 1 || w.EventFilter[0] != switchboard.EventCallInboundRinging {
		t.Errorf("provider name resolved to %v, want [call.inbound.ringing]", w.EventFilter)
	}
	f.event(t, switchboard.EventCallInboundRinging, "1704067200.3")
	f.event(t, switchboard.EventContactCreated, "") // not subscribed
	f.runOnce(t)
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Pbx-Token") != "my-pbx-token-123" {
		t.Fatalf("requests %d, token %q", len(reqs), reqs[0].Header.Get("X-Pbx-Token"))
	}
	d := f.deliveries(t, w.ID)[0]
	_, attempts, err := f.svc.GetDelivery(context.Background(), f.accountID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range attempts[0].RequestHeaders {
		if strings.Contains(strings.Join(v, ""), "my-pbx-token-123") {
			t.Errorf("the attempt log shows the token in %s", name)
		}
	}
	// The delivery list filters by canonical and by provider name alike.
	for _, name := range []string{"call.inbound.ringing", "user_inbound_call"} {
		list, _, err := f.svc.ListDeliveries(context.Background(), switchboard.DeliveryFilter{AccountID: f.accountID, EventName: name})
		if err != nil || len(list) != 1 {
			t.Errorf("filter %q: %d deliveries, %v", name, len(list), err)
		}
	}
	if _, _, err := f.svc.ListDeliveries(context.Background(), switchboard.DeliveryFilter{AccountID: f.accountID, EventName: "nope"}); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
		t.Errorf("unknown event filter: %v, want BAD_REQUEST", err)
	}
}

func TestSendTestReachesOnlyThatSubscription(t *testing.T) {
	f := newFixture(t)
	one := newReceiver(t, nil)
	other := newReceiver(t, nil)
	w, _ := f.subscribe(t, one.URL, "voiceovercloud", nil, "*")
	f.subscribe(t, other.URL, "voiceovercloud", nil, "*")
	attempt, err := f.svc.SendTest(context.Background(), f.accountID, w.ID, "inboundCallStart")
	if err != nil {
		t.Fatal(err)
	}
	if attempt.ResponseStatus != 200 || attempt.Error != "" {
		t.Errorf("test attempt: %+v", attempt)
	}
	reqs := one.requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Query, "event=inboundCallStart") {
		t.Errorf("the subscription got %+v, want one inboundCallStart", reqs)
	}
	if len(other.requests()) != 0 {
		t.Errorf("another subscription got the test")
	}
	if _, err := f.svc.SendTest(context.Background(), f.accountID, w.ID, "CONTACT_CREATED"); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
		t.Errorf("an event the format does not send: %v, want BAD_REQUEST", err)
	}
	if list, _, _ := f.svc.ListDeliveries(context.Background(), switchboard.DeliveryFilter{AccountID: f.accountID}); len(list) != 0 {
		t.Errorf("a test stored %d deliveries", len(list))
	}
}
