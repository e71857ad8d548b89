package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/store"
)

// runGroupCallTests covers queue and ring group stays, their day stats and the paging of
// call records. Run calls it.
func runGroupCallTests(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"GroupCalls/LifecycleWithEvents", testGroupCallLifecycle},
		{"GroupCalls/DayStats", testQueueDayStats},
		{"GroupCalls/PagingFiltersIsolation", testGroupCallPaging},
		{"CallRecords/PagingSortCursor", testCallRecordPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newFixture(t, open(t))) })
	}
}

var day = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

func stay(f *fixture, accountID int64, stayID string, queueID int64, entered time.Time) *switchboard.GroupCall {
	return &switchboard.GroupCall{AccountID: accountID, GroupType: switchboard.TargetQueue, GroupID: queueID,
		GroupName: "Sales", UniqueID: "1700000000." + stayID, StayID: stayID, From: "+15551230000", To: "+15559870000",
		EnteredAt: entered}
}

func testGroupCallLifecycle(t *testing.T, f *fixture) {
	g := stay(f, f.a.ID, "s1", 7, day)
	entered := switchboard.NewEvent(f.a.ID, switchboard.EventQueueEntered, map[string]any{"queue_id": 7})
	mustOK(t, f.db.StartGroupCall(f.ctx, g, entered))
	g.AnsweredAt, g.UserID, g.Extension, g.UserName = day.Add(12*time.Second), f.ua.ID, "100", "Ann"
	answered := switchboard.NewEvent(f.a.ID, switchboard.EventQueueMemberAnswered, map[string]any{"queue_id": 7})
	mustOK(t, f.db.AnswerGroupCall(f.ctx, g, answered))
	// A second answer of the same stay is refused, and stores no event: one agent takes a caller.
	wantCode(t, f.db.AnswerGroupCall(f.ctx, g, switchboard.NewEvent(f.a.ID, switchboard.EventQueueMemberAnswered, nil)), switchboard.ECONFLICT)
	g.LeftAt, g.Status = day.Add(72*time.Second), switchboard.GroupCallAnswered
	left := switchboard.NewEvent(f.a.ID, switchboard.EventQueueLeft, nil)
	mustOK(t, f.db.EndGroupCall(f.ctx, g, left))
	wantCode(t, f.db.EndGroupCall(f.ctx, g), switchboard.ECONFLICT)

	page, err := f.db.ListGroupCalls(f.ctx, f.a.ID, switchboard.TargetQueue, switchboard.CallQuery{})
	mustOK(t, err)
	if len(page.Calls) != 1 {
		t.Fatalf("got %d stays; want 1", len(page.Calls))
	}
	got := page.Calls[0]
	if got.WaitSeconds != 12 || got.Duration != 60 || got.Status != "answered" || got.UserID != f.ua.ID || got.UserName != "Ann" {
		t.Errorf("stay = %+v; want answered after 12 s, 60 s talk, by Ann", got)
	}
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	mustOK(t, err)
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	if d := cmp.Diff([]string{switchboard.EventQueueEntered, switchboard.EventQueueMemberAnswered, switchboard.EventQueueLeft}, names); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	// A bad status writes nothing, not even the event.
	bad := stay(f, f.a.ID, "s2", 7, day)
	mustOK(t, f.db.StartGroupCall(f.ctx, bad))
	bad.LeftAt, bad.Status = day.Add(time.Second), "lost"
	wantCode(t, f.db.EndGroupCall(f.ctx, bad, switchboard.NewEvent(f.a.ID, switchboard.EventQueueLeft, nil)), switchboard.EBADREQUEST)
	if evs, _ := f.db.ListEvents(f.ctx, f.a.ID, 0, 10); len(evs) != 3 {
		t.Errorf("a refused end stored an event")
	}
	n, err := f.db.CloseOpenGroupCalls(f.ctx, day.Add(time.Hour))
	mustOK(t, err)
	if n != 1 {
		t.Errorf("closed %d open stays; want 1", n)
	}
}

func testQueueDayStats(t *testing.T, f *fixture) {
	add := func(id string, wait, talk time.Duration, status string, entered time.Time) {
		g := stay(f, f.a.ID, id, 7, entered)
		mustOK(t, f.db.StartGroupCall(f.ctx, g))
		if status == switchboard.GroupCallAnswered {
			g.AnsweredAt, g.UserID = entered.Add(wait), f.ua.ID
			mustOK(t, f.db.AnswerGroupCall(f.ctx, g))
			g.LeftAt = g.AnsweredAt.Add(talk)
		} else {
			g.LeftAt = entered.Add(wait)
		}
		g.Status = status
		mustOK(t, f.db.EndGroupCall(f.ctx, g))
	}
	add("a1", 5*time.Second, 100*time.Second, "answered", day)
	add("a2", 30*time.Second, 200*time.Second, "answered", day)
	add("b1", 10*time.Second, 0, "abandoned", day) // within the service level: not counted against it
	add("b2", 40*time.Second, 0, "abandoned", day)
	add("t1", 60*time.Second, 0, "timeout", day)
	add("old", 1*time.Second, 10*time.Second, "answered", day.Add(-24*time.Hour)) // yesterday
	// Another queue and another account do not count.
	other := stay(f, f.a.ID, "o1", 8, day)
	mustOK(t, f.db.StartGroupCall(f.ctx, other))
	mustOK(t, f.db.StartGroupCall(f.ctx, stay(f, f.b.ID, "x1", 7, day)))

	s, err := f.db.QueueDayStats(f.ctx, f.a.ID, 7, day.Truncate(24*time.Hour), 20)
	mustOK(t, err)
	want := switchboard.QueueDayStats{Offered: 5, Answered: 2, Abandoned: 2, AnsweredWithinSL: 1, AbandonedAfterSL: 1,
		TotalAnswerWait: 35, TotalTalk: 300, Talked: 2}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("day stats (-want +got):\n%s", diff)
	}
}

func testGroupCallPaging(t *testing.T, f *fixture) {
	for i := 0; i < 5; i++ {
		mustOK(t, f.db.StartGroupCall(f.ctx, stay(f, f.a.ID, fmt.Sprint("q", i), int64(7+i%2), day.Add(time.Duration(i)*time.Minute))))
	}
	rg := stay(f, f.a.ID, "rg", 7, day)
	rg.GroupType = switchboard.TargetRingGroup
	mustOK(t, f.db.StartGroupCall(f.ctx, rg))
	mustOK(t, f.db.StartGroupCall(f.ctx, stay(f, f.b.ID, "other", 7, day)))

	page, err := f.db.ListGroupCalls(f.ctx, f.a.ID, switchboard.TargetQueue, switchboard.CallQuery{IDs: []int64{7}, Desc: true})
	mustOK(t, err)
	var ids []string
	for _, g := range page.Calls {
		ids = append(ids, g.StayID)
	}
	if diff := cmp.Diff([]string{"q4", "q2", "q0"}, ids); diff != "" {
		t.Errorf("queue 7 newest first (-want +got):\n%s", diff)
	}
	page, err = f.db.ListGroupCalls(f.ctx, f.a.ID, switchboard.TargetRingGroup, switchboard.CallQuery{})
	mustOK(t, err)
	if len(page.Calls) != 1 || page.Calls[0].StayID != "rg" {
		t.Errorf("ring group calls = %d; want only the ring group's one", len(page.Calls))
	}
	_, err = f.db.ListGroupCalls(f.ctx, f.a.ID, switchboard.TargetQueue, switchboard.CallQuery{Sort: "loudness"})
	wantCode(t, err, switchboard.EBADREQUEST)
}

func testCallRecordPaging(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	for i := 0; i < 7; i++ {
		r := &switchboard.CallRecord{AccountID: f.a.ID, UniqueID: fmt.Sprint("1700000000.", i), Direction: switchboard.CallInbound,
			From: "+15551230000", To: "+15559870000", UserID: f.ua.ID, Extension: "100",
			StartedAt: day.Add(time.Duration(i) * time.Minute)}
		if i%2 == 1 {
			r.UserID = u2.ID
		}
		mustOK(t, f.db.StartCallRecord(f.ctx, r))
		r.EndedAt, r.Disposition, r.Duration = r.StartedAt.Add(time.Duration(10*(7-i))*time.Second), switchboard.DispositionAnswered, 10*(7-i)
		mustOK(t, f.db.EndCallRecord(f.ctx, r))
	}
	other := &switchboard.CallRecord{AccountID: f.b.ID, UniqueID: "x", Direction: switchboard.CallInbound, StartedAt: day}
	mustOK(t, f.db.StartCallRecord(f.ctx, other))

	uids := func(p *switchboard.CallRecordPage) []string {
		var out []string
		for _, r := range p.Records {
			out = append(out, r.UniqueID)
		}
		return out
	}
	// Cursor paging by duration, ascending, 3 a page, walks every record of the account once.
	var all []string
	q := switchboard.CallQuery{Sort: switchboard.SortDuration, Limit: 3}
	for pages := 0; ; pages++ {
		p, err := f.db.PageCallRecords(f.ctx, f.a.ID, q)
		mustOK(t, err)
		all = append(all, uids(p)...)
		if p.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the cursor does not end")
		}
		q.Cursor = p.NextCursor
	}
	want := []string{"1700000000.6", "1700000000.5", "1700000000.4", "1700000000.3", "1700000000.2", "1700000000.1", "1700000000.0"}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("by duration ascending via cursor (-want +got):\n%s", diff)
	}
	// Offset and limit, one user, a date range, newest first.
	p, err := f.db.PageCallRecords(f.ctx, f.a.ID, switchboard.CallQuery{IDs: []int64{f.ua.ID}, Desc: true, Offset: 1, Limit: 2,
		From: day, To: day.Add(6 * time.Minute)})
	mustOK(t, err)
	if diff := cmp.Diff([]string{"1700000000.2", "1700000000.0"}, uids(p)); diff != "" {
		t.Errorf("user A, minutes 0-5, newest first, offset 1 (-want +got):\n%s", diff)
	}
	for _, bad := range []switchboard.CallQuery{{Limit: 1001}, {Offset: -1}, {Cursor: "nonsense!"}, {Cursor: "MTIzLjQ", Offset: 2},
		{From: day, To: day}} {
		if _, err := f.db.PageCallRecords(f.ctx, f.a.ID, bad); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("query %+v: error %v; want BAD_REQUEST", bad, err)
		}
	}
}
