package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"switchboard"
	"switchboard/store/storetest"
)

// A call's trace is readable with the developer key of its account, step by step; another
// account's call is 404 (not 403: whether it exists is not told), and so is a call that ran
// no flow; a user key is refused.
func TestCallTrace(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnv(t, db)
	at := time.Date(2026, 3, 2, 9, 30, 0, 123e6, time.UTC)
	must(t, db.SaveCallTrace(context.Background(), &switchboard.CallTrace{AccountID: e.a.account.ID, CallID: "1772443800.17",
		CallFlowID: 4, Steps: []switchboard.CallTraceStep{
			{At: at, Node: "hours", Type: "time_condition", Kind: "entered"},
			{At: at, Node: "hours", Type: "time_condition", Kind: "decision", Detail: "open: Mon 09:00-17:00 Europe/Berlin -> menu"},
			{At: at.Add(2 * time.Second), Node: "menu", Type: "ivr", Kind: "key", Key: "1", Detail: "option 1 -> sales"},
		}}))
	r := e.request("GET", e.a.base(e.srv)+"/calls/1772443800.17/trace", e.a.devKey, nil)
	expectOK(t, r, http.StatusOK, "Call trace")
	res := r.result()
	steps, _ := res["steps"].([]any)
	if res["call_id"] != "1772443800.17" || res["callflow_id"] != float64(4) || len(steps) != 3 {
		t.Fatalf("trace: %s", r.raw)
	}
	key := steps[2].(map[string]any)
	if key["node"] != "menu" || key["kind"] != "key" || key["key"] != "1" || key["at"] != "2026-03-02T09:30:02.123Z" {
		t.Fatalf("key step: %v", key)
	}
	if d := steps[1].(map[string]any)["detail"]; d != "open: Mon 09:00-17:00 Europe/Berlin -> menu" {
		t.Fatalf("decision detail %v", d)
	}
	// B's key on B's path with A's call id, and on A's path.
	expectError(t, e.request("GET", e.b.base(e.srv)+"/calls/1772443800.17/trace", e.b.devKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/calls/1772443800.17/trace", e.b.devKey, nil), http.StatusForbidden, "AUTH_INVALID")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/calls/1772443800.18/trace", e.a.devKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/calls/1772443800.17/trace", e.a.userKey, nil), http.StatusForbidden, "AUTH_INVALID")
}
