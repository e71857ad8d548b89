package storetest

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
)

func runCallTraceTests(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Run("CallTraces/RoundTripReplaceAndIsolation", func(t *testing.T) { testCallTraces(t, newFixture(t, open(t))) })
}

// A call's trace comes back step by step, a second save of the same call replaces it, one
// account never reads another's, and an over-long trace is cut with a last "truncated" step.
func testCallTraces(t *testing.T, f *fixture) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tr := &switchboard.CallTrace{AccountID: f.a.ID, CallID: "1772443800.1", CallFlowID: 7, Steps: []switchboard.CallTraceStep{
		{At: at, Node: "hours", Type: "time_condition", Kind: "decision", Detail: "open: Mon 09:00-17:00"},
		{At: at.Add(time.Second), Node: "menu", Type: "ivr", Kind: "key", Key: "1"},
	}}
	mustOK(t, f.db.SaveCallTrace(f.ctx, tr))
	got, err := f.db.GetCallTrace(f.ctx, f.a.ID, tr.CallID)
	mustOK(t, err)
	if d := diff(tr.Steps, got.Steps); d != "" || got.CallFlowID != 7 || got.CreatedAt.IsZero() {
		t.Fatalf("trace came back flow %d created %v, steps (-want +got):\n%s", got.CallFlowID, got.CreatedAt, d)
	}
	_, err = f.db.GetCallTrace(f.ctx, f.b.ID, tr.CallID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.GetCallTrace(f.ctx, f.a.ID, "1772443800.2")
	wantCode(t, err, switchboard.ENOTFOUND)

	// B's call with the same uniqueid (another node's) is B's own.
	mustOK(t, f.db.SaveCallTrace(f.ctx, &switchboard.CallTrace{AccountID: f.b.ID, CallID: tr.CallID, CallFlowID: 9}))
	tr.Steps = append(tr.Steps, switchboard.CallTraceStep{At: at.Add(2 * time.Second), Node: "sales", Type: "queue", Kind: "outcome", Detail: "answered"})
	mustOK(t, f.db.SaveCallTrace(f.ctx, tr))
	got, err = f.db.GetCallTrace(f.ctx, f.a.ID, tr.CallID)
	mustOK(t, err)
	if len(got.Steps) != 3 || got.Steps[2].Detail != "answered" {
		t.Fatalf("replaced trace: %+v", got.Steps)
	}
	gotB, err := f.db.GetCallTrace(f.ctx, f.b.ID, tr.CallID)
	mustOK(t, err)
	if gotB.CallFlowID != 9 || len(gotB.Steps) != 0 {
		t.Fatalf("B's trace: %+v", gotB)
	}

	long := &switchboard.CallTrace{AccountID: f.a.ID, CallID: "1772443800.3", CallFlowID: 7}
	for i := range switchboard.MaxCallTraceSteps + 50 {
		long.Steps = append(long.Steps, switchboard.CallTraceStep{At: at.Add(time.Duration(i) * time.Millisecond), Node: "menu", Kind: "timeout"})
	}
	mustOK(t, f.db.SaveCallTrace(f.ctx, long))
	got, err = f.db.GetCallTrace(f.ctx, f.a.ID, long.CallID)
	mustOK(t, err)
	if n := len(got.Steps); n != switchboard.MaxCallTraceSteps || got.Steps[n-1].Detail != "truncated" {
		t.Fatalf("long trace kept %d steps, last %+v", n, got.Steps[n-1])
	}
	wantCode(t, f.db.SaveCallTrace(f.ctx, &switchboard.CallTrace{AccountID: 999999, CallID: "x", CallFlowID: 1}), switchboard.ENOTFOUND)
}
