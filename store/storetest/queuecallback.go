package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// callbackOf is a pending callback of the stay g.
func callbackOf(g *switchboard.GroupCall, number string) *switchboard.QueueCallback {
	return &switchboard.QueueCallback{AccountID: g.AccountID, QueueID: g.GroupID, StayID: g.StayID, CallID: g.UniqueID,
		Direction: switchboard.CallInbound, From: g.From, CallerName: "John Doe", To: g.To, Number: g.To,
		CallbackNumber: number, EnteredAt: g.EnteredAt, RequestedAt: g.EnteredAt.Add(30 * time.Second)}
}

// testQueueCallbacks: a callback is stored with its event in one transaction, bounded per
// queue, and survives a restart: the start-up recovery closes every open stay, and
// ResumeQueueCallbacks brings the pending ones back, oldest place first, their stays open
// again. A callback that is done or failed is never resumed or changed again.
func testQueueCallbacks(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "510")
	q.CallbackEnabled, q.CallbackKey, q.CallbackAfter, q.CallbackMax, q.CallbackRetries = true, "*", 30, 2, 3
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	got, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(q, got); d != "" {
		t.Fatalf("callback settings (-want +got):\n%s", d)
	}

	// Two callers: the later one asks first; the earlier keeps the earlier place.
	early, late := stay(f, f.a.ID, "cb1", q.ID, day), stay(f, f.a.ID, "cb2", q.ID, day.Add(time.Minute))
	mustOK(t, f.db.StartGroupCall(f.ctx, early))
	mustOK(t, f.db.StartGroupCall(f.ctx, late))
	cbLate, cbEarly := callbackOf(late, "+15551230002"), callbackOf(early, "+15551230001")
	requested := func() *switchboard.Event {
		return switchboard.NewEvent(f.a.ID, switchboard.EventQueueCallbackRequested, map[string]any{"queue_id": q.ID})
	}
	mustOK(t, f.db.CreateQueueCallback(f.ctx, cbLate, 2, requested()))
	mustOK(t, f.db.CreateQueueCallback(f.ctx, cbEarly, 2, requested()))
	// A stay has one callback; a callback without a number is refused; the third pending one
	// is over callback_max. None of them writes anything.
	wantCode(t, f.db.CreateQueueCallback(f.ctx, callbackOf(early, "+15551230001"), 0, requested()), switchboard.ECONFLICT)
	third := stay(f, f.a.ID, "cb3", q.ID, day.Add(2*time.Minute))
	mustOK(t, f.db.StartGroupCall(f.ctx, third))
	wantCode(t, f.db.CreateQueueCallback(f.ctx, callbackOf(third, ""), 0, requested()), switchboard.EBADREQUEST)
	wantCode(t, f.db.CreateQueueCallback(f.ctx, callbackOf(third, "+15551230003"), 2, requested()), switchboard.ECONFLICT)
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 100)
	mustOK(t, err)
	if len(evs) != 2 {
		t.Fatalf("%d events stored; want the 2 requests only", len(evs))
	}

	// A restart: every open stay is closed, then the pending callbacks resume.
	_, err = f.db.CloseOpenGroupCalls(f.ctx, day.Add(time.Hour))
	mustOK(t, err)
	resumed, err := f.db.ResumeQueueCallbacks(f.ctx)
	mustOK(t, err)
	if d := cmp.Diff([]*switchboard.QueueCallback{cbEarly, cbLate}, resumed); d != "" {
		t.Fatalf("resumed callbacks, oldest place first (-want +got):\n%s", d)
	}
	page, err := f.db.ListGroupCalls(f.ctx, f.a.ID, switchboard.TargetQueue, switchboard.CallQuery{Desc: false})
	mustOK(t, err)
	for _, g := range page.Calls {
		open := g.Status == "" && g.LeftAt.IsZero()
		if want := g.StayID != "cb3"; open != want {
			t.Errorf("stay %s open = %v after resuming; want %v (only stays with a pending callback reopen)", g.StayID, open, want)
		}
	}

	// Done and failed callbacks are final.
	cbEarly.Attempts, cbEarly.Status, cbEarly.CallbackCallID = 1, switchboard.CallbackDone, "1700000000.9"
	mustOK(t, f.db.UpdateQueueCallback(f.ctx, cbEarly))
	wantCode(t, f.db.UpdateQueueCallback(f.ctx, cbEarly), switchboard.ECONFLICT)
	cbLate.Attempts, cbLate.Status = 2, switchboard.CallbackFailed
	mustOK(t, f.db.UpdateQueueCallback(f.ctx, cbLate))
	resumed, err = f.db.ResumeQueueCallbacks(f.ctx)
	mustOK(t, err)
	if len(resumed) != 0 {
		t.Errorf("resumed %d finished callbacks; want none", len(resumed))
	}
	all, err := f.db.ListQueueCallbacks(f.ctx, f.a.ID, q.ID, true)
	mustOK(t, err)
	if len(all) != 2 || all[0].StayID != "cb2" || all[0].Status != switchboard.CallbackFailed ||
		all[1].Status != switchboard.CallbackDone || all[1].CallbackCallID != "1700000000.9" || all[1].Attempts != 1 {
		t.Errorf("ListQueueCallbacks(all) = %+v", all)
	}
	pending, err := f.db.ListQueueCallbacks(f.ctx, f.a.ID, q.ID, false)
	mustOK(t, err)
	if len(pending) != 0 {
		t.Errorf("%d pending; want none", len(pending))
	}
	// Another account sees no queue there.
	_, err = f.db.ListQueueCallbacks(f.ctx, f.b.ID, q.ID, true)
	wantCode(t, err, switchboard.ENOTFOUND)
}
