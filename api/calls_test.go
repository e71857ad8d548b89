package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/api"
	"switchboard/store"
	"switchboard/store/storetest"
)

var callDay = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

// seedCalls gives tenant tn six calls (John's at even minutes, Jane's at odd, durations
// falling) and two queue stays and one ring group call.
func seedCalls(t *testing.T, db *store.DB, tn *tenant) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		u := tn.john
		if i%2 == 1 {
			u = tn.jane
		}
		r := &switchboard.CallRecord{AccountID: tn.account.ID, UniqueID: fmt.Sprintf("1741078800.%d%d", tn.account.ID, i),
			Direction: switchboard.CallInbound, From: "+15550100" + fmt.Sprint(10+i), CallerName: "Caller", To: tn.mainLine.Number,
			UserID: u.ID, Extension: u.Extension, StartedAt: callDay.Add(time.Duration(i) * time.Minute)}
		must(t, db.StartCallRecord(ctx, r))
		r.EndedAt, r.Disposition, r.Duration = r.StartedAt.Add(time.Duration(60-i*10)*time.Second), switchboard.DispositionAnswered, 60-i*10
		must(t, db.EndCallRecord(ctx, r))
	}
	for i, status := range []string{switchboard.GroupCallAnswered, switchboard.GroupCallAbandoned} {
		g := &switchboard.GroupCall{AccountID: tn.account.ID, GroupType: switchboard.TargetQueue, GroupID: tn.sales.ID,
			GroupName: tn.sales.QueueName, UniqueID: fmt.Sprint("q", i), StayID: fmt.Sprint(tn.account.ID, "-", i), From: "=cmd|' /C calc'!A0",
			EnteredAt: callDay.Add(time.Duration(i) * time.Minute)}
		must(t, db.StartGroupCall(ctx, g))
		if status == switchboard.GroupCallAnswered {
			g.AnsweredAt, g.UserID, g.Extension, g.UserName = g.EnteredAt.Add(7*time.Second), tn.john.ID, "1001", tn.john.DisplayName()
			must(t, db.AnswerGroupCall(ctx, g))
		}
		g.LeftAt, g.Status = g.EnteredAt.Add(67*time.Second), status
		must(t, db.EndGroupCall(ctx, g))
	}
	rg := &switchboard.GroupCall{AccountID: tn.account.ID, GroupType: switchboard.TargetRingGroup, GroupID: tn.group.ID,
		GroupName: tn.group.Name, UniqueID: "rg", StayID: fmt.Sprint(tn.account.ID, "-rg"), EnteredAt: callDay}
	must(t, db.StartGroupCall(ctx, rg))
}

func callIDs(r response) []string {
	var out []string
	for _, c := range r.result()["calls"].([]any) {
		out = append(out, c.(map[string]any)["call_id"].(string))
	}
	return out
}

func TestCallRecordsAPI(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnv(t, db)
	seedCalls(t, db, e.a)
	seedCalls(t, db, e.b)
	base := e.a.base(e.srv)
	id := func(i int) string { return fmt.Sprintf("1741078800.61%d", i) }

	// Filters (one user, a date range), sort by duration ascending, offset and limit.
	r := e.request("GET", base+fmt.Sprintf("/calls/users?users=%d&from=2025-03-04T09:01:00Z&to=2025-03-04&sort=duration&order=asc&offset=1&limit=1", e.a.john.ID), e.a.devKey, nil)
	expectOK(t, r, 200, "User calls")
	if diff := cmp.Diff([]string{id(2)}, callIDs(r)); diff != "" {
		t.Errorf("John's calls from 09:01 by duration, offset 1 limit 1 (-want +got):\n%s", diff)
	}
	call := r.result()["calls"].([]any)[0].(map[string]any)
	expectFields(t, "user call", call, map[string]string{"call_id": "string", "type": "string", "caller_id": "string",
		"caller_name": "string", "destination_number": "string", "user_name": "string", "user_extension": "string",
		"date": "string", "duration": "integer", "user_id": "integer", "status": "string",
		"transferred_to": "string", "transferred_by": "integer", "recordings": "array"})
	if call["user_extension"] != "1001" || call["date"] != "2025-03-04T09:02:00Z" || call["duration"] != float64(40) {
		t.Errorf("call = %v", call)
	}
	// Cursor paging walks every call once, newest first (the default).
	var all []string
	next := base + "/calls/users?limit=4"
	for i := 0; next != ""; i++ {
		r := e.request("GET", next, e.a.devKey, nil)
		expectOK(t, r, 200, "User calls")
		all = append(all, callIDs(r)...)
		next = ""
		if c, _ := r.result()["next_cursor"].(string); c != "" {
			next = base + "/calls/users?limit=4&cursor=" + c
		}
		if i > 3 {
			t.Fatal("cursor never ends")
		}
	}
	if diff := cmp.Diff([]string{id(5), id(4), id(3), id(2), id(1), id(0)}, all); diff != "" {
		t.Errorf("every call by cursor (-want +got):\n%s", diff)
	}
	// A user key sees only its user's calls.
	r = e.request("GET", base+"/user/calls", e.a.userKey, nil)
	expectOK(t, r, 200, "User calls")
	if diff := cmp.Diff([]string{id(4), id(2), id(0)}, callIDs(r)); diff != "" {
		t.Errorf("John's own calls (-want +got):\n%s", diff)
	}
	// CSV: the same rows, formulas defused.
	r = e.request("GET", base+"/calls/queues", e.a.devKey, nil, "Accept", "text/csv")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", r.status, r.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(r.raw)).ReadAll()
	must(t, err)
	if len(rows) != 3 || rows[0][0] != "id" || rows[1][12] != "abandoned" || rows[2][12] != "answered" || rows[2][7] != "7" {
		t.Errorf("queue calls CSV = %q", rows)
	}
	if !strings.HasPrefix(rows[1][4], "'=") {
		t.Errorf("caller id cell %q: a formula must be defused", rows[1][4])
	}
	r = e.request("GET", base+fmt.Sprintf("/calls/ring_groups?ring_groups=%d", e.a.group.ID), e.a.devKey, nil)
	expectOK(t, r, 200, "Ring group calls")
	if calls := r.result()["calls"].([]any); len(calls) != 1 || calls[0].(map[string]any)["status"] != "waiting" {
		t.Errorf("ring group calls = %v", calls)
	}
	// Isolation: B's ids are refused by name, B's calls never appear.
	r = e.request("GET", base+fmt.Sprintf("/calls/users?users=%d", e.b.john.ID), e.a.devKey, nil)
	expectError(t, r, 400, switchboard.EBADREQUEST)
	r = e.request("GET", base+fmt.Sprintf("/calls/queues?queues=%d", e.b.sales.ID), e.a.devKey, nil)
	expectError(t, r, 400, switchboard.EBADREQUEST)
	r = e.request("GET", e.b.base(e.srv)+"/calls/users", e.a.devKey, nil)
	expectError(t, r, 403, switchboard.EAUTHINVALID)
	r = e.request("GET", base+"/calls/users?limit=1000", e.a.devKey, nil)
	for _, c := range callIDs(r) {
		if !strings.HasPrefix(c, "1741078800.61") {
			t.Errorf("account A sees call %s", c)
		}
	}
	// Bad input: 400 with details.
	for _, q := range []string{"limit=5000", "sort=volume", "order=sideways", "from=yesterday", "cursor=zzz", "offset=-1", "users=abc"} {
		r := e.request("GET", base+"/calls/users?"+q, e.a.devKey, nil)
		expectError(t, r, 400, switchboard.EBADREQUEST)
	}
	// A user key may not read the account's calls.
	expectError(t, e.request("GET", base+"/calls/users", e.a.userKey, nil), 403, switchboard.EAUTHINVALID)
}

// Without call records (a store that keeps none), their routes answer 503 saying so.
func TestCallRecordRoutesWithoutCallRecords(t *testing.T) {
	e := newSQLiteEnv(t, func(c *api.Config) { c.CallRecords = nil })
	base := e.a.base(e.srv)
	for _, path := range []string{"/calls/users", "/calls/queues", "/calls/ring_groups"} {
		r := e.request("GET", base+path, e.a.devKey, nil)
		expectError(t, r, http.StatusServiceUnavailable, switchboard.EUNAVAILABLE)
		if !strings.Contains(r.body["message"].(string), "Call records are not available") {
			t.Errorf("%s: message %q does not say what is missing", path, r.body["message"])
		}
	}
	expectError(t, e.request("GET", base+"/user/calls", e.a.userKey, nil), http.StatusServiceUnavailable, switchboard.EUNAVAILABLE)
}

// An overflow chain leading back to the queue is refused with details, and nothing changes.
func TestOverflowLoopRefused(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Support", "extension": "8002",
		"overflow": map[string]any{"type": "ringgroup", "id": e.a.group.ID}})
	expectOK(t, r, 201, "Queue created")
	support := int64(r.result()["pk"].(float64))
	r = e.request("PATCH", base+fmt.Sprintf("/ring_groups/%d", e.a.group.ID), e.a.devKey,
		map[string]any{"fallback": map[string]any{"type": "queue", "id": e.a.sales.ID}})
	expectOK(t, r, 200, "Ring group updated")
	// sales -> support -> ring group -> sales: refused.
	r = e.request("PATCH", base+fmt.Sprintf("/queues/%d", e.a.sales.ID), e.a.devKey,
		map[string]any{"overflow": map[string]any{"type": "queue", "id": support}})
	expectError(t, r, 400, switchboard.EBADREQUEST)
	if d := detail(r, "overflow"); !strings.Contains(d, "loop") {
		t.Errorf("overflow detail %q; want it to say the calls would loop", d)
	}
	q, err := e.store.GetQueue(context.Background(), e.a.account.ID, e.a.sales.ID)
	must(t, err)
	if q.Overflow.Type != "" {
		t.Errorf("sales overflow = %+v after a refused change", q.Overflow)
	}
	// A queue overflowing to itself, too.
	r = e.request("PATCH", base+fmt.Sprintf("/queues/%d", support), e.a.devKey,
		map[string]any{"overflow": map[string]any{"type": "queue", "id": support}})
	expectError(t, r, 400, switchboard.EBADREQUEST)
}

// The availability endpoint shows the engine's live and daily figures.
func TestQueueAvailabilityExtendedFields(t *testing.T) {
	e := newSQLiteEnv(t)
	e.live.setQueue(e.a.account.ID, e.a.sales.ID, switchboard.QueueLiveStats{AgentsOnline: 2, AgentsAvailable: 1, AgentsOnCall: 1, ActiveCalls: 3,
		CallersWaiting: 2, LongestWaitSeconds: 42, ServiceLevel: 20,
		Today: switchboard.QueueDayStats{Offered: 10, Answered: 6, Abandoned: 3, AnsweredWithinSL: 5, AbandonedAfterSL: 2,
			TotalAnswerWait: 60, TotalTalk: 900, Talked: 5}})
	r := e.request("GET", e.a.base(e.srv)+fmt.Sprintf("/availability/queues/%d", e.a.sales.ID), e.a.devKey, nil)
	expectOK(t, r, 200, "Queue availability data")
	got := r.result()
	want := map[string]float64{"callers_waiting": 2, "longest_wait_seconds": 42, "offered": 10, "answered": 6, "abandoned": 3,
		"service_level": 62.5, "average_speed_of_answer": 10, "average_handle_time": 180, "active_calls": 3}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v; want %v", k, got[k], v)
		}
	}
}
