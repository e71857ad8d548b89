package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
)

func runRecordingTests(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Run("Recordings/RoundTripPagingAndIsolation", func(t *testing.T) { testRecordings(t, newFixture(t, open(t))) })
	t.Run("Recordings/EndStoresEventsInOneTransaction", func(t *testing.T) { testEndRecording(t, newFixture(t, open(t))) })
	t.Run("Recordings/RetentionUsageAndDelete", func(t *testing.T) { testRecordingRetention(t, newFixture(t, open(t))) })
	t.Run("Recordings/PolicyFields", func(t *testing.T) { testRecordingPolicies(t, newFixture(t, open(t))) })
}

// recording stores a row of the account that started at.
func (f *fixture) recording(t *testing.T, accountID int64, callID string, userID int64, at time.Time) *switchboard.Recording {
	t.Helper()
	r := &switchboard.Recording{ID: switchboard.NewRecordingID(), AccountID: accountID, CallID: callID, UserID: userID,
		Direction: "inbound", Status: switchboard.RecordingActive, StartedAt: at.UTC().Truncate(time.Millisecond)}
	r.BlobKey = switchboard.RecordingBlobKey(accountID, r.StartedAt, r.ID)
	mustOK(t, f.db.CreateRecording(f.ctx, r))
	return r
}

// end finishes a recording as available with size bytes, ended at.
func (f *fixture) endRecording(t *testing.T, r *switchboard.Recording, size int64, at time.Time) *switchboard.Recording {
	t.Helper()
	got, err := f.db.EndRecording(f.ctx, r.AccountID, r.ID, func(row *switchboard.Recording) error {
		row.Status, row.Size, row.DurationMs, row.EndedAt = switchboard.RecordingAvailable, size, 1500, at.UTC().Truncate(time.Millisecond)
		return nil
	}, nil)
	mustOK(t, err)
	return got
}

// Rows round-trip; the list is newest first, filtered by call, user and date, paged by a
// cursor that is stable; another account's recording is NOT_FOUND and never listed.
func testRecordings(t *testing.T, f *fixture) {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r1 := f.recording(t, f.a.ID, "1.1", f.ua.ID, base)
	r2 := f.recording(t, f.a.ID, "1.2", 0, base.Add(time.Hour))
	r3 := f.recording(t, f.a.ID, "1.2", f.ua.ID, base.Add(time.Hour)) // same start as r2: the id breaks the tie
	rb := f.recording(t, f.b.ID, "1.1", f.ub.ID, base)

	got, err := f.db.GetRecording(f.ctx, f.a.ID, r1.ID)
	mustOK(t, err)
	if d := diff(r1, got); d != "" {
		t.Fatalf("GetRecording (-want +got):\n%s", d)
	}
	_, err = f.db.GetRecording(f.ctx, f.a.ID, rb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.CreateRecording(f.ctx, r1), switchboard.ECONFLICT)

	ids := func(recs []*switchboard.Recording) []string {
		out := []string{}
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	newer, older := r2, r3
	if r3.ID > r2.ID {
		newer, older = r3, r2
	}
	all, more, err := f.db.PageRecordings(f.ctx, f.a.ID, switchboard.RecordingFilter{}, switchboard.Page{})
	mustOK(t, err)
	if d := diff([]string{newer.ID, older.ID, r1.ID}, ids(all)); d != "" || more {
		t.Fatalf("list (-want +got):\n%s (more %v)", d, more)
	}
	// Page by page with the cursor.
	var paged []*switchboard.Recording
	p := switchboard.Page{Limit: 1}
	for i := 0; i < 5; i++ {
		page, more, err := f.db.PageRecordings(f.ctx, f.a.ID, switchboard.RecordingFilter{}, p)
		mustOK(t, err)
		paged = append(paged, page...)
		if !more {
			break
		}
		p.AfterKey = switchboard.RecordingCursor(page[len(page)-1])
	}
	if d := diff(ids(all), ids(paged)); d != "" {
		t.Fatalf("paged (-want +got):\n%s", d)
	}
	for name, tc := range map[string]struct {
		f    switchboard.RecordingFilter
		want []string
	}{
		"call":      {switchboard.RecordingFilter{CallID: "1.1"}, []string{r1.ID}},
		"user":      {switchboard.RecordingFilter{UserID: f.ua.ID}, []string{r3.ID, r1.ID}},
		"from":      {switchboard.RecordingFilter{From: base.Add(time.Minute)}, []string{newer.ID, older.ID}},
		"to":        {switchboard.RecordingFilter{To: base.Add(time.Hour)}, []string{r1.ID}},
		"call+user": {switchboard.RecordingFilter{CallID: "1.2", UserID: f.ua.ID}, []string{r3.ID}},
	} {
		got, _, err := f.db.PageRecordings(f.ctx, f.a.ID, tc.f, switchboard.Page{})
		mustOK(t, err)
		if d := diff(tc.want, ids(got)); d != "" {
			t.Errorf("filter %s (-want +got):\n%s", name, d)
		}
	}
	_, _, err = f.db.PageRecordings(f.ctx, f.a.ID, switchboard.RecordingFilter{}, switchboard.Page{AfterKey: "junk"})
	wantField(t, err, switchboard.EBADREQUEST, "cursor")
	listB, _, err := f.db.PageRecordings(f.ctx, f.b.ID, switchboard.RecordingFilter{}, switchboard.Page{})
	mustOK(t, err)
	if d := diff([]string{rb.ID}, ids(listB)); d != "" {
		t.Fatalf("account B's list (-want +got):\n%s", d)
	}
	call, err := f.db.CallRecordings(f.ctx, f.a.ID, "1.2")
	mustOK(t, err)
	if len(call) != 2 {
		t.Fatalf("call 1.2 has %d recordings, want 2", len(call))
	}
	if call, _ := f.db.CallRecordings(f.ctx, f.b.ID, "1.2"); len(call) != 0 {
		t.Fatalf("account B sees %d recordings of A's call", len(call))
	}
}

// EndRecording writes the outcome and the hook's events in one transaction: a failing hook
// writes neither; a second end is CONFLICT; another account's is NOT_FOUND; the hook's
// transaction handle reaches the store.
func testEndRecording(t *testing.T, f *fixture) {
	r := f.recording(t, f.a.ID, "2.1", f.ua.ID, time.Now())
	ended := time.Now().UTC().Truncate(time.Millisecond)
	change := func(row *switchboard.Recording) error {
		row.Status, row.Size, row.DurationMs, row.PausedMs, row.EndedAt = switchboard.RecordingAvailable, 16044, 2000, 500, ended
		return nil
	}
	event := func(ctx context.Context, tx switchboard.StoreTx, row *switchboard.Recording) ([]*switchboard.Event, error) {
		if tx == nil {
			return nil, errors.New("no transaction handle")
		}
		return []*switchboard.Event{switchboard.NewEvent(row.AccountID, switchboard.EventRecordingAvailable,
			map[string]any{"recording_id": row.ID, "size": row.Size})}, nil
	}
	before := len(f.events(t, f.a.ID))
	boom := errors.New("hook failed")
	_, err := f.db.EndRecording(f.ctx, f.a.ID, r.ID, change, func(ctx context.Context, tx switchboard.StoreTx, row *switchboard.Recording) ([]*switchboard.Event, error) {
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing hook: err %v", err)
	}
	if got, _ := f.db.GetRecording(f.ctx, f.a.ID, r.ID); got.Status != switchboard.RecordingActive || len(f.events(t, f.a.ID)) != before {
		t.Fatalf("a failing hook wrote: status %s, %d events", got.Status, len(f.events(t, f.a.ID))-before)
	}
	_, err = f.db.EndRecording(f.ctx, f.b.ID, r.ID, change, event)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.EndRecording(f.ctx, f.a.ID, r.ID, func(row *switchboard.Recording) error { return nil }, event)
	wantField(t, err, switchboard.EBADREQUEST, "status")

	got, err := f.db.EndRecording(f.ctx, f.a.ID, r.ID, change, event)
	mustOK(t, err)
	want := *r
	want.Status, want.Size, want.DurationMs, want.PausedMs, want.EndedAt = switchboard.RecordingAvailable, 16044, 2000, 500, ended
	if d := diff(&want, got); d != "" {
		t.Fatalf("EndRecording (-want +got):\n%s", d)
	}
	if read, _ := f.db.GetRecording(f.ctx, f.a.ID, r.ID); diff(&want, read) != "" {
		t.Fatalf("stored row (-want +got):\n%s", diff(&want, read))
	}
	evs := f.events(t, f.a.ID)
	if len(evs) != before+1 || evs[len(evs)-1].Name != switchboard.EventRecordingAvailable {
		t.Fatalf("events after the end: %d new", len(evs)-before)
	}
	_, err = f.db.EndRecording(f.ctx, f.a.ID, r.ID, change, event)
	wantField(t, err, switchboard.ECONFLICT, "status")

	active, err := f.db.ActiveRecordings(f.ctx)
	mustOK(t, err)
	if len(active) != 0 {
		t.Fatalf("%d active after the end", len(active))
	}
	f.recording(t, f.b.ID, "2.2", 0, time.Now())
	if active, _ := f.db.ActiveRecordings(f.ctx); len(active) != 1 || active[0].AccountID != f.b.ID {
		t.Fatalf("active: %v, want account B's one", active)
	}
}

// Expired recordings are those of accounts with a retention, ended longer ago than it;
// usage counts the available ones; a recording being written cannot be deleted.
func testRecordingRetention(t *testing.T, f *fixture) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old := f.endRecording(t, f.recording(t, f.a.ID, "3.1", 0, now.AddDate(0, 0, -40)), 1000, now.AddDate(0, 0, -40))
	recent := f.endRecording(t, f.recording(t, f.a.ID, "3.2", 0, now.AddDate(0, 0, -5)), 2000, now.AddDate(0, 0, -5))
	oldB := f.endRecording(t, f.recording(t, f.b.ID, "3.3", 0, now.AddDate(0, 0, -400)), 4000, now.AddDate(0, 0, -400))
	active := f.recording(t, f.a.ID, "3.4", 0, now.AddDate(0, 0, -90))

	exp, err := f.db.ExpiredRecordings(f.ctx, now, 10)
	mustOK(t, err)
	if len(exp) != 0 {
		t.Fatalf("%d expired with no retention set", len(exp))
	}
	_, err = f.db.UpdateAccountFunc(f.ctx, f.a.ID, func(a *switchboard.Account) error { a.RecordingRetentionDays = 30; return nil })
	mustOK(t, err)
	exp, err = f.db.ExpiredRecordings(f.ctx, now, 10)
	mustOK(t, err)
	if len(exp) != 1 || exp[0].ID != old.ID {
		t.Fatalf("expired = %v, want only %s (recent %s, B's %s kept)", exp, old.ID, recent.ID, oldB.ID)
	}
	n, bytes, err := f.db.RecordingUsage(f.ctx)
	mustOK(t, err)
	if n != 3 || bytes != 7000 {
		t.Fatalf("usage = %d recordings, %d bytes; want 3, 7000", n, bytes)
	}
	_, err = f.db.DeleteRecording(f.ctx, f.a.ID, active.ID)
	wantField(t, err, switchboard.ECONFLICT, "status")
	_, err = f.db.DeleteRecording(f.ctx, f.b.ID, old.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	del, err := f.db.DeleteRecording(f.ctx, f.a.ID, old.ID)
	mustOK(t, err)
	if del.BlobKey != old.BlobKey {
		t.Fatalf("deleted row's key %q, want %q", del.BlobKey, old.BlobKey)
	}
	_, err = f.db.GetRecording(f.ctx, f.a.ID, old.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	if exp, _ := f.db.ExpiredRecordings(f.ctx, now, 10); len(exp) != 0 {
		t.Fatalf("still expired after delete: %v", exp)
	}
}

// The recording settings of accounts, users, queues and numbers round-trip.
func testRecordingPolicies(t *testing.T, f *fixture) {
	a, err := f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if a.RecordingDefault != switchboard.RecordNone || a.TranscriptionEnabled {
		t.Fatalf("new account: recording_default %q, transcription %v", a.RecordingDefault, a.TranscriptionEnabled)
	}
	a, err = f.db.UpdateAccountFunc(f.ctx, f.a.ID, func(a *switchboard.Account) error {
		a.RecordingDefault, a.RecordingRetentionDays, a.RecordingConsentPromptID = switchboard.RecordAll, 90, 12
		a.TranscriptionEnabled, a.RedactionEnabled = true, true
		return nil
	})
	mustOK(t, err)
	got, err := f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff(a, got); d != "" || got.RecordingDefault != switchboard.RecordAll || got.RecordingRetentionDays != 90 ||
		got.RecordingConsentPromptID != 12 || !got.TranscriptionEnabled || !got.RedactionEnabled {
		t.Fatalf("account settings (-want +got):\n%s\n%+v", d, got)
	}
	_, err = f.db.UpdateAccountFunc(f.ctx, f.a.ID, func(a *switchboard.Account) error { a.RecordingDefault = "sometimes"; return nil })
	wantField(t, err, switchboard.EBADREQUEST, "recording_default")
	if b, _ := f.db.GetAccount(f.ctx, f.b.ID); b.RecordingDefault != switchboard.RecordNone || b.TranscriptionEnabled {
		t.Fatalf("account B changed: %+v", b)
	}

	u := &switchboard.User{AccountID: f.a.ID, Extension: "201", Recording: switchboard.RecordInbound}
	mustOK(t, f.db.CreateUser(f.ctx, u))
	gu, err := f.db.GetUser(f.ctx, f.a.ID, u.ID)
	mustOK(t, err)
	if gu.Recording != switchboard.RecordInbound {
		t.Fatalf("user recording %q", gu.Recording)
	}
	_, err = f.db.UpdateUserFunc(f.ctx, f.a.ID, u.ID, func(u *switchboard.User) error { u.Recording = switchboard.RecordOutbound; return nil })
	mustOK(t, err)
	if gu, _ = f.db.GetUser(f.ctx, f.a.ID, u.ID); gu.Recording != switchboard.RecordOutbound {
		t.Fatalf("user recording after update %q", gu.Recording)
	}
	_, err = f.db.UpdateUserFunc(f.ctx, f.a.ID, u.ID, func(u *switchboard.User) error { u.Recording = "x"; return nil })
	wantField(t, err, switchboard.EBADREQUEST, "recording")

	q := f.queue(t, f.a.ID, "600")
	_, err = f.db.UpdateQueueFunc(f.ctx, f.a.ID, q.ID, func(q *switchboard.Queue) error { q.Recording = switchboard.RecordAll; return nil })
	mustOK(t, err)
	if gq, _ := f.db.GetQueue(f.ctx, f.a.ID, q.ID); gq.Recording != switchboard.RecordAll {
		t.Fatalf("queue recording %q", gq.Recording)
	}
	n := newNumber(f.a.ID, "+15557654321")
	n.Recording, n.RecordingConsentPromptID = switchboard.RecordNone, 5
	f.number(t, n)
	gn, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if gn.Recording != switchboard.RecordNone || gn.RecordingConsentPromptID != 5 {
		t.Fatalf("number recording %q prompt %d", gn.Recording, gn.RecordingConsentPromptID)
	}
	_, err = f.db.UpdateNumberFunc(f.ctx, f.a.ID, n.ID, func(n *switchboard.Number) error { n.Recording = ""; n.RecordingConsentPromptID = 0; return nil })
	mustOK(t, err)
	if gn, _ = f.db.GetNumber(f.ctx, f.a.ID, n.ID); gn.Recording != "" || gn.RecordingConsentPromptID != 0 {
		t.Fatalf("number after update: %q %d", gn.Recording, gn.RecordingConsentPromptID)
	}
}
