package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/store"
)

// runWebhookTests covers the webhook part of the store (subscriptions, deliveries, logs).
// Run calls it.
func runWebhookTests(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Run("WebhookCRUD", func(t *testing.T) { testWebhookCRUD(t, open(t)) })
	t.Run("FanOut", func(t *testing.T) { testFanOut(t, open(t)) })
	t.Run("FanOutIsAtomic", func(t *testing.T) { testFanOutAtomic(t, open(t)) })
	t.Run("ClaimLeasesAndOrdersCalls", func(t *testing.T) { testClaimOrdering(t, open(t)) })
	t.Run("ClaimBoundsPerEndpoint", func(t *testing.T) { testClaimPerEndpoint(t, open(t)) })
	t.Run("RecordAttempts", func(t *testing.T) { testRecordAttempts(t, open(t)) })
	t.Run("ListAndResendDeliveries", func(t *testing.T) { testListResend(t, open(t)) })
	t.Run("PruneAndDelete", func(t *testing.T) { testPruneDelete(t, open(t)) })
}

// webhookFixture makes two accounts, so that every test can check tenant isolation.
func webhookFixture(t *testing.T, db *store.DB) (ctx context.Context, a, b int64) {
	t.Helper()
	ctx = context.Background()
	for _, acc := range []*switchboard.Account{{Name: "A"}, {Name: "B"}} {
		if err := db.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		if a == 0 {
			a = acc.ID
		} else {
			b = acc.ID
		}
	}
	return ctx, a, b
}

func newHook(t *testing.T, ctx context.Context, db *store.DB, accountID int64, format string, filter ...string) *switchboard.Webhook {
	t.Helper()
	w := &switchboard.Webhook{AccountID: accountID, Name: "hook", URL: "https://example.com/hook", Events: filter,
		EventFilter: filter, Format: format, Method: "POST", Retries: switchboard.RetriesFormatDefault,
		Headers: map[string]string{"X-Team": "sales"}, Active: true, SealedSecret: []byte("sealed-bytes")}
	if err := db.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	return w
}

func appendEvent(t *testing.T, ctx context.Context, db *store.DB, accountID int64, name, callID string) *switchboard.Event {
	t.Helper()
	ev := switchboard.NewEvent(accountID, name, map[string]any{"contact_id": 1, "phone": "+15551234567"})
	ev.CallID = callID
	if err := db.AppendEvents(ctx, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func deliveriesOf(t *testing.T, ctx context.Context, db *store.DB, accountID, webhookID int64) []*switchboard.Delivery {
	t.Helper()
	list, _, err := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: accountID, WebhookID: webhookID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(list) // oldest first reads better in assertions
	return list
}

func testWebhookCRUD(t *testing.T, db *store.DB) {
	ctx, a, b := webhookFixture(t, db)
	w := newHook(t, ctx, db, a, "standard", "contact.created")
	if w.ID == 0 || w.CreatedAt.IsZero() {
		t.Fatalf("create did not set ID and CreatedAt: %+v", w)
	}
	got, err := db.GetWebhook(ctx, a, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("read back differs (-created +read):\n%s", diff)
	}
	if _, err := db.GetWebhook(ctx, b, w.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("another account's GetWebhook: err = %v, want NOT_FOUND", err)
	}
	if err := db.DeleteWebhook(ctx, b, w.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("another account's DeleteWebhook: err = %v, want NOT_FOUND", err)
	}

	// Rotation with overlap keeps the previous sealed secret until a time.
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	w.SealedPreviousSecret, w.SealedSecret, w.PreviousSecretUntil = w.SealedSecret, []byte("new-sealed"), until
	w.Active = false
	w.Headers = map[string]string{}
	if err := db.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetWebhook(ctx, a, w.ID)
	if string(got.SealedSecret) != "new-sealed" || string(got.SealedPreviousSecret) != "sealed-bytes" ||
		!got.PreviousSecretUntil.Equal(until) || got.Active || len(got.Headers) != 0 {
		t.Errorf("after update: %+v", got)
	}
	other := *w
	other.AccountID = b
	if err := db.UpdateWebhook(ctx, &other); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("another account's UpdateWebhook: err = %v, want NOT_FOUND", err)
	}
	if list, _ := db.ListWebhooks(ctx, b); len(list) != 0 {
		t.Errorf("account B lists %d webhooks of account A", len(list))
	}
	if list, _ := db.ListWebhooks(ctx, a); len(list) != 1 {
		t.Errorf("account A lists %d webhooks, want 1", len(list))
	}
	if err := db.DeleteWebhook(ctx, a, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetWebhook(ctx, a, w.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("after delete: err = %v, want NOT_FOUND", err)
	}
}

func testFanOut(t *testing.T, db *store.DB) {
	ctx, a, b := webhookFixture(t, db)
	contacts := newHook(t, ctx, db, a, "standard", "contact.created")
	all := newHook(t, ctx, db, a, "standard", "*")
	off := newHook(t, ctx, db, a, "standard", "*")
	off.Active = false
	if err := db.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}
	voice360 := newHook(t, ctx, db, a, "voice360", "call.outbound.ended")
	voxpria := newHook(t, ctx, db, a, "voxpria", "contact.created") // voxpria has no contact events
	otherAccount := newHook(t, ctx, db, b, "standard", "*")

	created := appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	deleted := appendEvent(t, ctx, db, a, switchboard.EventContactDeleted, "")
	ended := switchboard.NewEvent(a, switchboard.EventCallOutboundEnded, map[string]any{"duration": 10, "answered": true})
	ended.CallID = "1704067200.1"
	if err := db.AppendEvents(ctx, ended); err != nil {
		t.Fatal(err)
	}

	type row struct{ Event, Wire, MessageID, CallID string }
	rows := func(w *switchboard.Webhook) []row {
		var out []row
		for _, d := range deliveriesOf(t, ctx, db, w.AccountID, w.ID) {
			if d.Status != switchboard.DeliveryPending || d.EventSeq == 0 {
				t.Errorf("new delivery %d: status %q, seq %d", d.ID, d.Status, d.EventSeq)
			}
			out = append(out, row{d.EventName, d.WireName, d.MessageID, d.CallID})
		}
		return out
	}
	if diff := cmp.Diff([]row{{"contact.created", "contact.created", created.ID, ""}}, rows(contacts)); diff != "" {
		t.Errorf("contact.created subscription (-want +got):\n%s", diff)
	}
	if got := rows(all); len(got) != 3 || got[1].MessageID != deleted.ID {
		t.Errorf("\"*\" subscription got %v, want all three events", got)
	}
	if got := rows(off); len(got) != 0 {
		t.Errorf("inactive subscription got deliveries: %v", got)
	}
	if got := rows(voxpria); len(got) != 0 {
		t.Errorf("voxpria got deliveries of an event it has no name for: %v", got)
	}
	if got := rows(otherAccount); len(got) != 0 {
		t.Errorf("account B's subscription got account A's events: %v", got)
	}
	// voice360 sends USER_HANGUP and CALL_ENDED for an outbound call's end: two deliveries,
	// each with its own stable message id.
	got := rows(voice360)
	if len(got) != 2 || got[0].MessageID != ended.ID || got[1].MessageID != ended.ID+"_2" ||
		got[0].Wire == got[1].Wire || got[0].CallID != ended.CallID {
		t.Errorf("voice360 call.outbound.ended deliveries = %v, want two with ids %s and %s_2", got, ended.ID, ended.ID)
	}
}

func testFanOutAtomic(t *testing.T, db *store.DB) {
	ctx, a, _ := webhookFixture(t, db)
	w := newHook(t, ctx, db, a, "standard", "*")
	good := switchboard.NewEvent(a, switchboard.EventContactCreated, nil)
	bad := switchboard.NewEvent(a, "", nil) // no name: refused
	if err := db.AppendEvents(ctx, good, bad); err == nil {
		t.Fatal("AppendEvents took an event without a name")
	}
	if got := deliveriesOf(t, ctx, db, a, w.ID); len(got) != 0 {
		t.Errorf("a failed transaction left %d deliveries behind", len(got))
	}
	if evs, _ := db.ListEvents(ctx, a, 0, 10); len(evs) != 0 {
		t.Errorf("a failed transaction left %d events behind", len(evs))
	}
}

func claimIDs(t *testing.T, ctx context.Context, db *store.DB, now time.Time, limit, perEndpoint int) []string {
	t.Helper()
	claimed, err := db.ClaimDeliveries(ctx, now, time.Minute, limit, perEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range claimed {
		if c.Event == nil || c.Webhook == nil || c.Event.ID != c.Delivery.EventID || c.Webhook.ID != c.Delivery.WebhookID {
			t.Fatalf("claimed delivery without its event and webhook: %+v", c)
		}
		ids = append(ids, c.Delivery.MessageID)
	}
	slices.Sort(ids)
	return ids
}

func succeed(t *testing.T, ctx context.Context, db *store.DB, now time.Time, ds ...*switchboard.Delivery) {
	t.Helper()
	var outs []switchboard.AttemptOutcome
	for _, d := range ds {
		outs = append(outs, switchboard.AttemptOutcome{DeliveryID: d.ID, WebhookID: d.WebhookID,
			Status: switchboard.DeliverySucceeded, Attempt: switchboard.DeliveryAttempt{Number: 1, At: now, ResponseStatus: 200}})
	}
	if err := db.RecordAttempts(ctx, outs, 0, now); err != nil {
		t.Fatal(err)
	}
}

func testClaimOrdering(t *testing.T, db *store.DB) {
	ctx, a, _ := webhookFixture(t, db)
	w := newHook(t, ctx, db, a, "standard", "*")
	first := appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "call-1")
	second := appendEvent(t, ctx, db, a, switchboard.EventContactUpdated, "call-1")
	other := appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "call-2")
	loose := appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	now := time.Now().Add(time.Second)

	want := []string{first.ID, other.ID, loose.ID}
	slices.Sort(want)
	if got := claimIDs(t, ctx, db, now, 10, 10); !slices.Equal(got, want) || len(deliveriesOf(t, ctx, db, a, w.ID)) != 4 {
		t.Fatalf("first claim = %v, want %v (the second event of call-1 waits for the first)", got, want)
	}
	if got := claimIDs(t, ctx, db, now, 10, 10); len(got) != 0 {
		t.Fatalf("leased deliveries were claimed again: %v", got)
	}
	ds := deliveriesOf(t, ctx, db, a, w.ID)
	succeed(t, ctx, db, now, ds[0]) // call-1's first event is through
	if got := claimIDs(t, ctx, db, now, 10, 10); !slices.Equal(got, []string{second.ID}) {
		t.Fatalf("after the first succeeded, claim = %v, want [%s]", got, second.ID)
	}
	// A crashed worker's lease runs out: the delivery is claimable again, same message id.
	if got := claimIDs(t, ctx, db, now.Add(2*time.Minute), 10, 10); len(got) != 3 {
		t.Errorf("after the leases expired, claim = %v, want the three unfinished deliveries", got)
	}
	if err := db.ReleaseDeliveryLeases(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, ctx, db, now, 10, 10); len(got) != 3 {
		t.Errorf("after releasing leases, claim = %v, want the three unfinished deliveries", got)
	}
	// Nothing is due before its time.
	if err := db.ReleaseDeliveryLeases(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, ctx, db, now.Add(-time.Hour), 10, 10); len(got) != 0 {
		t.Errorf("claimed deliveries before they were due: %v", got)
	}
	// An inactive subscription's deliveries wait.
	w.Active = false
	if err := db.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, ctx, db, now, 10, 10); len(got) != 0 {
		t.Errorf("claimed deliveries of an inactive subscription: %v", got)
	}
}

func testClaimPerEndpoint(t *testing.T, db *store.DB) {
	ctx, a, _ := webhookFixture(t, db)
	slow := newHook(t, ctx, db, a, "standard", "contact.created")
	fast := newHook(t, ctx, db, a, "standard", "contact.updated")
	for range 10 {
		appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	}
	appendEvent(t, ctx, db, a, switchboard.EventContactUpdated, "")
	now := time.Now().Add(time.Second)
	claimed, err := db.ClaimDeliveries(ctx, now, time.Minute, 100, 3)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, c := range claimed {
		per[c.Delivery.WebhookID]++
	}
	if per[slow.ID] != 3 || per[fast.ID] != 1 {
		t.Errorf("claimed per subscription = %v, want 3 of the backlog and the other's 1", per)
	}
	// The bound counts leases still held.
	if more, _ := db.ClaimDeliveries(ctx, now, time.Minute, 100, 3); len(more) != 0 {
		t.Errorf("claimed %d more while 3 are in flight to the same subscription", len(more))
	}
	// A small limit still reaches both subscriptions over claims.
	if err := db.ReleaseDeliveryLeases(ctx); err != nil {
		t.Fatal(err)
	}
	one, _ := db.ClaimDeliveries(ctx, now, time.Minute, 1, 3)
	two, _ := db.ClaimDeliveries(ctx, now, time.Minute, 1, 3)
	if len(one) != 1 || len(two) != 1 {
		t.Fatalf("limit 1 claims returned %d and %d", len(one), len(two))
	}
}

func testRecordAttempts(t *testing.T, db *store.DB) {
	ctx, a, _ := webhookFixture(t, db)
	w := newHook(t, ctx, db, a, "standard", "*")
	for range 3 {
		appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	}
	ds := deliveriesOf(t, ctx, db, a, w.ID)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries of 3 events, want 3", len(ds))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	retryAt := now.Add(30 * time.Second)
	attempt := switchboard.DeliveryAttempt{Number: 1, At: now, RequestMethod: "POST", RequestURL: w.URL,
		RequestHeaders: map[string][]string{"Webhook-Id": {ds[0].MessageID}}, RequestBody: `{"a":1}`,
		ResponseStatus: 500, ResponseBody: "oops", Latency: 1500 * time.Microsecond, Error: "the receiver answered 500"}
	err := db.RecordAttempts(ctx, []switchboard.AttemptOutcome{
		{DeliveryID: ds[0].ID, WebhookID: w.ID, Status: switchboard.DeliveryPending, NextAttemptAt: retryAt, Attempt: attempt},
	}, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	d, attempts, err := db.GetDelivery(ctx, a, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != switchboard.DeliveryPending || !d.NextAttemptAt.Equal(retryAt) || d.Attempts != 1 ||
		d.RoundAttempts != 1 || d.LastStatus != 500 || d.LastError != attempt.Error {
		t.Errorf("after a failed attempt: %+v", d)
	}
	attempt.ID, attempt.DeliveryID = attempts[0].ID, d.ID
	if diff := cmp.Diff([]*switchboard.DeliveryAttempt{&attempt}, attempts); diff != "" {
		t.Errorf("attempt log (-want +got):\n%s", diff)
	}
	if claimed, _ := db.ClaimDeliveries(ctx, now.Add(10*time.Second), time.Minute, 10, 10); len(claimed) != 2 {
		t.Errorf("claimed %d before the retry was due, want only the 2 others", len(claimed))
	}

	// Two failed deliveries in a row with disableAfter 2 turn the subscription off.
	fail := func(d *switchboard.Delivery) switchboard.AttemptOutcome {
		return switchboard.AttemptOutcome{DeliveryID: d.ID, WebhookID: w.ID, Status: switchboard.DeliveryFailed,
			Attempt: switchboard.DeliveryAttempt{Number: 1, At: now, Error: "connection refused"}}
	}
	if err := db.RecordAttempts(ctx, []switchboard.AttemptOutcome{fail(ds[1])}, 2, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetWebhook(ctx, a, w.ID); !got.Active || got.ConsecutiveFailures != 1 {
		t.Fatalf("after one failure: active %v, failures %d", got.Active, got.ConsecutiveFailures)
	}
	if err := db.RecordAttempts(ctx, []switchboard.AttemptOutcome{fail(ds[2])}, 2, now); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetWebhook(ctx, a, w.ID)
	if got.Active || got.DisabledReason == "" || !got.DisabledAt.Equal(now) {
		t.Fatalf("after two failures in a row: active %v, reason %q, at %v", got.Active, got.DisabledReason, got.DisabledAt)
	}
	if d, _, _ := db.GetDelivery(ctx, a, ds[2].ID); d.Status != switchboard.DeliveryFailed || !d.CompletedAt.Equal(now) {
		t.Errorf("failed delivery: %+v", d)
	}
	// Turning it on again clears the record of why it was off.
	got.Active = true
	if err := db.UpdateWebhook(ctx, got); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetWebhook(ctx, a, w.ID)
	if !got.Active || got.DisabledReason != "" || !got.DisabledAt.IsZero() || got.ConsecutiveFailures != 0 {
		t.Errorf("re-enabled: %+v", got)
	}
	// 410 Gone disables at once.
	err = db.RecordAttempts(ctx, []switchboard.AttemptOutcome{{DeliveryID: ds[0].ID, WebhookID: w.ID,
		Status: switchboard.DeliveryFailed, DisableReason: "the receiver answered 410 Gone",
		Attempt: switchboard.DeliveryAttempt{Number: 2, At: now, ResponseStatus: 410}}}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetWebhook(ctx, a, w.ID); got.Active || got.DisabledReason != "the receiver answered 410 Gone" {
		t.Errorf("after 410: active %v, reason %q", got.Active, got.DisabledReason)
	}
	// An outcome for a delivery that is no longer pending is dropped, not double-counted.
	if err := db.RecordAttempts(ctx, []switchboard.AttemptOutcome{fail(ds[2])}, 0, now); err != nil {
		t.Fatal(err)
	}
	if d, attempts, _ := db.GetDelivery(ctx, a, ds[2].ID); d.Attempts != 1 || len(attempts) != 1 {
		t.Errorf("a stale outcome was recorded: attempts %d, logs %d", d.Attempts, len(attempts))
	}
}

func testListResend(t *testing.T, db *store.DB) {
	ctx, a, b := webhookFixture(t, db)
	w1 := newHook(t, ctx, db, a, "standard", "*")
	w2 := newHook(t, ctx, db, a, "standard", "contact.deleted")
	for range 5 {
		appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	}
	appendEvent(t, ctx, db, a, switchboard.EventContactDeleted, "")
	ds := deliveriesOf(t, ctx, db, a, w1.ID)
	if len(ds) != 6 {
		t.Fatalf("%d deliveries of 6 events, want 6", len(ds))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	err := db.RecordAttempts(ctx, []switchboard.AttemptOutcome{{DeliveryID: ds[0].ID, WebhookID: w1.ID,
		Status: switchboard.DeliveryFailed, Attempt: switchboard.DeliveryAttempt{Number: 1, At: now, Error: "refused"}}}, 0, now)
	if err != nil {
		t.Fatal(err)
	}

	// Pages of 2, newest first, cover everything once.
	var seen []int64
	cursor := int64(0)
	for page := 0; ; page++ {
		list, next, err := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: a, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			seen = append(seen, d.ID)
		}
		if next == 0 {
			break
		}
		cursor = next
		if page > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 7 || !slices.IsSortedFunc(seen, func(x, y int64) int { return int(y - x) }) {
		t.Errorf("paged through %v, want 7 deliveries newest first", seen)
	}
	count := func(f switchboard.DeliveryFilter) int {
		f.AccountID = a
		list, _, err := db.ListDeliveries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	if n := count(switchboard.DeliveryFilter{WebhookID: w2.ID}); n != 1 {
		t.Errorf("by webhook: %d, want 1", n)
	}
	if n := count(switchboard.DeliveryFilter{EventName: switchboard.EventContactDeleted}); n != 2 {
		t.Errorf("by event: %d, want 2", n)
	}
	if n := count(switchboard.DeliveryFilter{Status: switchboard.DeliveryFailed}); n != 1 {
		t.Errorf("failed: %d, want 1", n)
	}
	if n := count(switchboard.DeliveryFilter{Status: switchboard.DeliveryPending}); n != 6 {
		t.Errorf("pending: %d, want 6", n)
	}
	if n := count(switchboard.DeliveryFilter{Since: now.Add(time.Hour)}); n != 0 {
		t.Errorf("since an hour ahead: %d, want 0", n)
	}
	if n := count(switchboard.DeliveryFilter{Until: now.Add(time.Hour)}); n != 7 {
		t.Errorf("until an hour ahead: %d, want 7", n)
	}
	if list, _, _ := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: b}); len(list) != 0 {
		t.Errorf("account B lists %d of account A's deliveries", len(list))
	}
	if _, _, err := db.GetDelivery(ctx, b, ds[0].ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("account B's GetDelivery: %v, want NOT_FOUND", err)
	}

	// Resend: pending again, same message id, fresh retry budget; another account's id is not found.
	later := now.Add(time.Minute)
	n, err := db.ResendDeliveries(ctx, a, []int64{ds[0].ID, 999999}, later)
	if err != nil || n != 1 {
		t.Fatalf("resend: n = %d, err = %v, want 1", n, err)
	}
	if n, _ := db.ResendDeliveries(ctx, b, []int64{ds[0].ID}, later); n != 0 {
		t.Errorf("account B resent account A's delivery")
	}
	d, _, _ := db.GetDelivery(ctx, a, ds[0].ID)
	if d.Status != switchboard.DeliveryPending || d.MessageID != ds[0].MessageID || d.RoundAttempts != 0 ||
		d.Attempts != 1 || !d.NextAttemptAt.Equal(later) || !d.CompletedAt.IsZero() {
		t.Errorf("resent delivery: %+v", d)
	}
}

func testPruneDelete(t *testing.T, db *store.DB) {
	ctx, a, _ := webhookFixture(t, db)
	w := newHook(t, ctx, db, a, "standard", "*")
	for range 3 {
		appendEvent(t, ctx, db, a, switchboard.EventContactCreated, "")
	}
	ds := deliveriesOf(t, ctx, db, a, w.ID)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries of 3 events, want 3", len(ds))
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	succeed(t, ctx, db, old, ds[0])
	succeed(t, ctx, db, time.Now(), ds[1])
	n, err := db.PruneDeliveries(ctx, time.Now().Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: n = %d, err = %v, want 1", n, err)
	}
	if _, _, err := db.GetDelivery(ctx, a, ds[0].ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("pruned delivery still there: %v", err)
	}
	if got := deliveriesOf(t, ctx, db, a, w.ID); len(got) != 2 {
		t.Errorf("prune took recent or pending deliveries: %d left, want 2", len(got))
	}
	pending, oldest, err := db.PendingDeliveryStats(ctx)
	if err != nil || pending != 1 || oldest.IsZero() {
		t.Errorf("pending stats = %d, %v, %v; want 1 and a time", pending, oldest, err)
	}
	if err := db.DeleteWebhook(ctx, a, w.ID); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: a}); len(list) != 0 {
		t.Errorf("deleting the subscription left %d deliveries", len(list))
	}
	if _, _, err := db.GetDelivery(ctx, a, ds[1].ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("deleted subscription's delivery still readable: %v", err)
	}
}
