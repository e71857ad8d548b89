package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/store/storetest"
)

// The callback settings of a queue: defaults on create, a PATCH that changes only them, and
// bad values refused with the field named, changing nothing.
func TestQueueCallbackSettings(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Sales", "extension": "8005"})
	expectOK(t, r, 201, "Queue created")
	q := r.result()
	if q["callback_enabled"] != false || q["callback_key"] != "1" || q["callback_after_s"] != float64(0) ||
		q["callback_max"] != float64(0) || q["callback_retries"] != float64(1) {
		t.Errorf("callback defaults = %v; want off, key 1, at once, no limit, 1 retry", q)
	}
	id := itoa(int64(q["pk"].(float64)))
	r = e.request("PATCH", base+"/queues/"+id, e.a.devKey, map[string]any{"callback_enabled": true, "callback_key": "*",
		"callback_after_s": 60, "callback_max": 5, "callback_retries": 0})
	expectOK(t, r, 200, "Queue updated")
	q = r.result()
	if q["callback_enabled"] != true || q["callback_key"] != "*" || q["callback_after_s"] != float64(60) ||
		q["callback_max"] != float64(5) || q["callback_retries"] != float64(0) || q["queue_name"] != "Sales" {
		t.Errorf("patched queue = %v", q)
	}
	for field, bad := range map[string]any{"callback_key": "12", "callback_after_s": -1, "callback_max": 100000,
		"callback_retries": 11} {
		r = e.request("PATCH", base+"/queues/"+id, e.a.devKey, map[string]any{field: bad, "callback_enabled": false})
		expectError(t, r, 400, "BAD_REQUEST")
		if detail(r, field) == "" {
			t.Errorf("%s = %v: details = %s; want the field named", field, bad, r.raw)
		}
	}
	r = e.request("GET", base+"/queues/"+id, e.a.devKey, nil)
	if q := r.result(); q["callback_enabled"] != true || q["callback_key"] != "*" {
		t.Errorf("a refused PATCH changed the queue: %v", q)
	}
	r = e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Bad", "extension": "8006", "callback_key": "x"})
	expectError(t, r, 400, "BAD_REQUEST")
}

// GET /queues/{queue_id}/callbacks lists the queue's pending callbacks (all of them with
// status=all); another account's queue is not found, a bad status is refused.
func TestQueueCallbackList(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnv(t, db)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Sales", "extension": "8005"})
	expectOK(t, r, 201, "Queue created")
	queueID := int64(r.result()["pk"].(float64))
	ctx := context.Background()
	entered := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	for i, number := range []string{"+15551110001", "+15551110002"} {
		stay := fmt.Sprint("s", i)
		g := &switchboard.GroupCall{AccountID: e.a.account.ID, GroupType: switchboard.TargetQueue, GroupID: queueID,
			GroupName: "Sales", UniqueID: "1705312800." + stay, StayID: stay, From: number, EnteredAt: entered}
		if err := db.StartGroupCall(ctx, g); err != nil {
			t.Fatal(err)
		}
		cb := &switchboard.QueueCallback{AccountID: e.a.account.ID, QueueID: queueID, StayID: stay, CallID: g.UniqueID,
			Direction: switchboard.CallInbound, From: number, CallbackNumber: number, EnteredAt: entered,
			RequestedAt: entered.Add(time.Duration(i+1) * time.Minute)}
		if err := db.CreateQueueCallback(ctx, cb, 0); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			cb.Status, cb.Attempts, cb.CallbackCallID = switchboard.CallbackDone, 1, "1705312900.7"
			if err := db.UpdateQueueCallback(ctx, cb); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := base + "/queues/" + itoa(queueID) + "/callbacks"
	r = e.request("GET", path, e.a.devKey, nil)
	expectOK(t, r, 200, "List of queue callbacks")
	list := objects(r.results())
	if len(list) != 1 || list[0]["callback_number"] != "+15551110002" || list[0]["status"] != "pending" ||
		list[0]["entered_at"] != "2024-01-15T10:00:00Z" {
		t.Errorf("pending callbacks = %v; want the second caller's only", list)
	}
	r = e.request("GET", path+"?status=all", e.a.devKey, nil)
	expectOK(t, r, 200, "List of queue callbacks")
	list = objects(r.results())
	if len(list) != 2 || list[1]["status"] != "done" || list[1]["callback_call_id"] != "1705312900.7" || list[1]["attempts"] != float64(1) {
		t.Errorf("all callbacks = %v; want both, the first done by call 1705312900.7", list)
	}
	expectError(t, e.request("GET", path+"?status=lost", e.a.devKey, nil), 400, "BAD_REQUEST")
	expectError(t, e.request("GET", e.b.base(e.srv)+"/queues/"+itoa(queueID)+"/callbacks", e.b.devKey, nil), 404, "NOT_FOUND")
}

func objects(l []any) []map[string]any {
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}
