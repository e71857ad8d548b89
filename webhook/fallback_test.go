package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard"
)

// TestFallbackURLGetsTheDeliveryOnceTheMainURLUsedUpItsRetries: two real receivers; the
// main one fails every attempt. After its retries the fallback gets the same delivery (same
// webhook-id, same body) once; the attempt log shows every attempt and where it went.
func TestFallbackURLGetsTheDeliveryOnceTheMainURLUsedUpItsRetries(t *testing.T) {
	f := newFixture(t)
	main := newReceiver(t, status(http.StatusInternalServerError))
	fallback := newReceiver(t, status(http.StatusOK))
	ctx := context.Background()
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(main.URL), Format: ptr("standard"),
		Events: []string{"*"}, Retries: ptr(1), FallbackURL: ptr(fallback.URL + "/backup")})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t) // main, attempt 1: 500
	if len(fallback.requests()) != 0 {
		t.Fatal("the fallback was sent the delivery before the main URL used up its retries")
	}
	f.clock.Advance(time.Hour) // past the retry's delay
	f.runOnce(t)               // main, the one retry: 500; the fallback's turn comes at once
	f.runOnce(t)               // fallback
	if n := len(main.requests()); n != 2 {
		t.Errorf("main URL got %d requests, want 2 (the first attempt and one retry)", n)
	}
	got := fallback.requests()
	if len(got) != 1 || got[0].MessageID != ev.ID || got[0].Body != main.requests()[0].Body {
		t.Fatalf("fallback got %d requests (%+v), want the same delivery once", len(got), got)
	}
	d := f.deliveries(t, w.ID)[0]
	if d.Status != switchboard.DeliverySucceeded {
		t.Errorf("delivery %s, want succeeded through the fallback", d.Status)
	}
	_, attempts, err := f.svc.GetDelivery(ctx, f.accountID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 3 || !strings.HasSuffix(attempts[2].RequestURL, "/backup") || attempts[2].ResponseStatus != 200 ||
		strings.HasSuffix(attempts[0].RequestURL, "/backup") {
		t.Errorf("attempt log: %d attempts", len(attempts))
		for _, a := range attempts {
			t.Logf("  %d %s → %d", a.Number, a.RequestURL, a.ResponseStatus)
		}
	}
	f.clock.Advance(24 * time.Hour)
	if f.runOnce(t); len(fallback.requests()) != 1 || len(main.requests()) != 2 {
		t.Error("more requests after the fallback took the delivery")
	}
}

// TestFallbackURLFailingEndsTheDelivery: the fallback gets one attempt; when it fails too,
// the delivery has failed, and the subscription is not turned off by the fallback's 410.
func TestFallbackURLFailingEndsTheDelivery(t *testing.T) {
	f := newFixture(t)
	main := newReceiver(t, status(http.StatusInternalServerError))
	fallback := newReceiver(t, status(http.StatusGone))
	ctx := context.Background()
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(main.URL), Format: ptr("standard"),
		Events: []string{"*"}, Retries: ptr(0), FallbackURL: ptr(fallback.URL)})
	if err != nil {
		t.Fatal(err)
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	f.runOnce(t)
	f.clock.Advance(24 * time.Hour)
	f.runOnce(t)
	if len(main.requests()) != 1 || len(fallback.requests()) != 1 {
		t.Errorf("main %d, fallback %d requests; want 1 each", len(main.requests()), len(fallback.requests()))
	}
	if d := f.deliveries(t, w.ID)[0]; d.Status != switchboard.DeliveryFailed {
		t.Errorf("delivery %s, want failed", d.Status)
	}
	if got, _ := f.svc.GetWebhook(ctx, f.accountID, w.ID); !got.Active {
		t.Errorf("the fallback's 410 turned the subscription off: %s", got.DisabledReason)
	}
}

// TestFallbackURLIsCheckedLikeTheURL: the fallback URL obeys the same rules (SSRF), and an
// empty one removes it.
func TestFallbackURLIsCheckedLikeTheURL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rc := newReceiver(t, status(http.StatusOK))
	for _, bad := range []string{"http://169.254.169.254/latest/meta-data", "http://10.0.0.1/hook", "ftp://example.com/x", "not a url"} {
		_, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(rc.URL), Format: ptr("standard"),
			Events: []string{"*"}, FallbackURL: ptr(bad)})
		var e *switchboard.Error
		if !errors.As(err, &e) || e.Code != switchboard.EBADREQUEST || e.Details["fallback_url"] == "" {
			t.Errorf("fallback_url %q: %v, want BAD_REQUEST naming fallback_url", bad, err)
		}
	}
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(rc.URL), Format: ptr("standard"),
		Events: []string{"*"}, FallbackURL: ptr(rc.URL + "/b")})
	if err != nil || w.FallbackURL != rc.URL+"/b" {
		t.Fatalf("create: %v %+v", err, w)
	}
	w, err = f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{FallbackURL: ptr("")})
	if err != nil || w.FallbackURL != "" {
		t.Fatalf("removing the fallback: %v %q", err, w.FallbackURL)
	}
	if got, _ := f.svc.GetWebhook(ctx, f.accountID, w.ID); got.FallbackURL != "" {
		t.Errorf("stored fallback %q after removing it", got.FallbackURL)
	}
}
