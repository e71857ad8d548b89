package webhook_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// Values distinctive enough that finding them anywhere means they leaked.
const (
	authValue = "Bearer tok-9f2c1d-receiver-credential"
	keyValue  = "key-77aa31-receiver-credential"
	// A value that looks like a sealed one: a user's value is sealed all the same, so it is
	// sent as it was given.
	looksSealed = "sealed:v1:Zm9vYmFy"
)

func TestHeaderValuesAreSealedAtRestAndSentInClear(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		db, err := store.Open(context.Background(), filepath.Join(dir, "switchboard.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkHeadersSealed(t, newFixtureOn(t, db))
		// Nowhere in the database files (the WAL included): not in the subscription's row,
		// not in the attempt log.
		files, _ := filepath.Glob(filepath.Join(dir, "switchboard.db*"))
		if len(files) == 0 {
			t.Fatal("no database files found")
		}
		for _, name := range files {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{authValue, keyValue} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%s holds the header value %q in clear", filepath.Base(name), secret)
				}
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		checkHeadersSealed(t, newFixtureOn(t, storetest.NewPostgres(t)))
	})
}

func checkHeadersSealed(t *testing.T, f *fixture) {
	ctx := context.Background()
	rc := newReceiver(t, nil)
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{
		URL: ptr(rc.URL), Format: ptr("standard"), Events: []string{"*"},
		Headers: map[string]string{"authorization": authValue, "X-Api-Key": keyValue, "X-Looks-Sealed": looksSealed}})
	if err != nil {
		t.Fatal(err)
	}
	expectRedacted(t, "create", w.Headers, "Authorization", "X-Api-Key", "X-Looks-Sealed")

	// The row as the store holds it: sealed values only.
	raw, err := f.db.GetWebhook(ctx, f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Headers) != 3 {
		t.Fatalf("stored headers %v, want 3", raw.Headers)
	}
	for name, v := range raw.Headers {
		if !strings.HasPrefix(v, "sealed:v1:") || strings.Contains(v, authValue) || strings.Contains(v, keyValue) || v == looksSealed {
			t.Errorf("stored %s = %q, want a sealed value", name, v)
		}
	}

	got, err := f.svc.GetWebhook(ctx, f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	expectRedacted(t, "get", got.Headers, "Authorization", "X-Api-Key", "X-Looks-Sealed")
	list, err := f.svc.ListWebhooks(ctx, f.accountID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %v", list, err)
	}
	expectRedacted(t, "list", list[0].Headers, "Authorization", "X-Api-Key", "X-Looks-Sealed")

	// The receiver gets the values in clear.
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	for name, want := range map[string]string{"Authorization": authValue, "X-Api-Key": keyValue, "X-Looks-Sealed": looksSealed} {
		if v := reqs[0].Header.Get(name); v != want {
			t.Errorf("receiver got %s: %q, want %q", name, v, want)
		}
	}

	// The attempt log names the headers without their values.
	d := f.deliveries(t, w.ID)[0]
	_, attempts, err := f.svc.GetDelivery(ctx, f.accountID, d.ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("attempts: %v, %v", attempts, err)
	}
	for _, name := range []string{"Authorization", "X-Api-Key", "X-Looks-Sealed"} {
		if v := attempts[0].RequestHeaders[name]; len(v) != 1 || v[0] != webhook.RedactedHeaderValue {
			t.Errorf("attempt log %s = %q, want [%s]", name, v, webhook.RedactedHeaderValue)
		}
	}
	if v := attempts[0].RequestHeaders["User-Agent"]; len(v) != 1 || v[0] != webhook.UserAgent {
		t.Errorf("attempt log User-Agent = %q: only secrets are redacted", v)
	}
}

func expectRedacted(t *testing.T, where string, h map[string]string, names ...string) {
	t.Helper()
	if len(h) != len(names) {
		t.Errorf("%s: headers %v, want %v", where, h, names)
	}
	for _, name := range names {
		if v, ok := h[name]; !ok || v != webhook.RedactedHeaderValue {
			t.Errorf("%s: header %s = %q, want %q", where, name, v, webhook.RedactedHeaderValue)
		}
	}
}

func TestPatchWithThePlaceholderKeepsTheHeaderValue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rc := newReceiver(t, nil)
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{
		URL: ptr(rc.URL), Format: ptr("standard"), Events: []string{"*"},
		Headers: map[string]string{"Authorization": authValue, "X-Team": "sales"}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.db.GetWebhook(ctx, f.accountID, w.ID)

	// The GET answer sent back with one value changed and one header added; the name's case
	// does not matter.
	w, err = f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{
		Headers: map[string]string{"authorization": webhook.RedactedHeaderValue, "X-Team": "support", "X-New": "n"}})
	if err != nil {
		t.Fatal(err)
	}
	expectRedacted(t, "patch", w.Headers, "Authorization", "X-Team", "X-New")
	after, _ := f.db.GetWebhook(ctx, f.accountID, w.ID)
	if after.Headers["Authorization"] != before.Headers["Authorization"] {
		t.Errorf("the kept value was rewritten: %q, was %q", after.Headers["Authorization"], before.Headers["Authorization"])
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	for name, want := range map[string]string{"Authorization": authValue, "X-Team": "support", "X-New": "n"} {
		if v := reqs[0].Header.Get(name); v != want {
			t.Errorf("after PATCH the receiver got %s: %q, want %q", name, v, want)
		}
	}

	// A PATCH without headers leaves them alone.
	if _, err := f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{Name: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.db.GetWebhook(ctx, f.accountID, w.ID); got.Headers["Authorization"] != before.Headers["Authorization"] || len(got.Headers) != 3 {
		t.Errorf("a PATCH of the name changed the headers: %v", got.Headers)
	}

	// The placeholder for a header that has no stored value is a mistake, not a value.
	_, err = f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{
		Headers: map[string]string{"Authorization": webhook.RedactedHeaderValue, "X-Api-Key": webhook.RedactedHeaderValue}})
	var e *switchboard.Error
	if !asError(err, &e) || e.Code != switchboard.EBADREQUEST || !strings.Contains(e.Details["headers"], "X-Api-Key") {
		t.Errorf("placeholder for an unset header: %v, want BAD_REQUEST naming X-Api-Key", err)
	}
	_, _, err = f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(rc.URL), Events: []string{"*"},
		Headers: map[string]string{"Authorization": webhook.RedactedHeaderValue}})
	if !asError(err, &e) || e.Code != switchboard.EBADREQUEST || e.Details["headers"] == "" {
		t.Errorf("placeholder on create: %v, want BAD_REQUEST", err)
	}
	if got, _ := f.db.GetWebhook(ctx, f.accountID, w.ID); len(got.Headers) != 3 {
		t.Errorf("a refused PATCH changed the headers: %v", got.Headers)
	}

	// An empty map still clears them.
	w, err = f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{Headers: map[string]string{}})
	if err != nil || len(w.Headers) != 0 {
		t.Errorf("clearing: %v, %v", w, err)
	}
}

func TestPlaintextHeadersFromBeforeSealingStillDeliver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rc := newReceiver(t, nil)
	w, _ := f.subscribe(t, rc.URL, "standard", nil, "*")
	// A row as an older server wrote it: the value in clear.
	old, err := f.db.GetWebhook(ctx, f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	old.Headers = map[string]string{"X-Api-Key": keyValue}
	if err := f.db.UpdateWebhook(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetWebhook(ctx, f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	expectRedacted(t, "get", got.Headers, "X-Api-Key")

	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	if reqs := rc.requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Api-Key") != keyValue {
		t.Fatalf("the old row's header did not reach the receiver: %v", reqs)
	}

	// Its next update seals it, and it still delivers.
	if _, err := f.svc.UpdateWebhook(ctx, f.accountID, w.ID, switchboard.WebhookChange{Name: ptr("touched")}); err != nil {
		t.Fatal(err)
	}
	raw, _ := f.db.GetWebhook(ctx, f.accountID, w.ID)
	if v := raw.Headers["X-Api-Key"]; !strings.HasPrefix(v, "sealed:v1:") || strings.Contains(v, keyValue) {
		t.Errorf("after an update the old value is stored as %q, want it sealed", v)
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	if reqs := rc.requests(); len(reqs) != 2 || reqs[1].Header.Get("X-Api-Key") != keyValue {
		t.Errorf("after sealing the receiver got %v", reqs)
	}

	// Rotating the secret writes the row too, and seals another old value the same way.
	old, _ = f.db.GetWebhook(ctx, f.accountID, w.ID)
	old.Headers["X-Other"] = "plain"
	if err := f.db.UpdateWebhook(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RotateSecret(ctx, f.accountID, w.ID, 0); err != nil {
		t.Fatal(err)
	}
	if raw, _ := f.db.GetWebhook(ctx, f.accountID, w.ID); !strings.HasPrefix(raw.Headers["X-Other"], "sealed:v1:") {
		t.Errorf("after a rotation X-Other is stored as %q, want it sealed", raw.Headers["X-Other"])
	}
}

func TestSealedHeaderUnderAnotherKeyFailsClearly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rc := newReceiver(t, nil)
	w, _, err := f.svc.CreateWebhook(ctx, f.accountID, switchboard.WebhookChange{URL: ptr(rc.URL), Format: ptr("standard"),
		Events: []string{"*"}, Headers: map[string]string{"X-Api-Key": keyValue}})
	if err != nil {
		t.Fatal(err)
	}
	// The secret re-sealed under a second key, the header left under the first: only the
	// header fails to open.
	key := make([]byte, 32)
	key[0] = 1
	sealer, _ := webhook.NewSealer(key)
	raw, _ := f.db.GetWebhook(ctx, f.accountID, w.ID)
	raw.SealedSecret = sealer.Seal("whsec_dGVzdA==")
	if err := f.db.UpdateWebhook(ctx, raw); err != nil {
		t.Fatal(err)
	}
	other := newFixtureOn(t, f.db, func(c *webhook.Config) { c.Key = key })
	attempt, err := other.svc.SendTest(ctx, f.accountID, w.ID, "contact.created")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(attempt.Error, "X-Api-Key") || !strings.Contains(attempt.Error, "--secret-key") {
		t.Errorf("attempt error %q, want it to name the header and the key", attempt.Error)
	}
	if len(rc.requests()) != 0 {
		t.Errorf("a request went out without its header")
	}
}
