package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/store"
)

// runCallTests covers trunks and call records. Run calls it.
func runCallTests(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Trunks/RoundTripAndIsolation", testTrunks},
		{"Trunks/InvalidWritesNothing", testTrunkInvalid},
		{"CallRecords/StartEndWithEvents", testCallRecordLifecycle},
		{"CallRecords/EndIsOnceAndAtomic", testCallRecordEndOnce},
		{"CallRecords/CloseOpenAtStartup", testCloseOpenCallRecords},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newFixture(t, open(t))) })
	}
}

func testTrunks(t *testing.T, f *fixture) {
	tr := &switchboard.Trunk{AccountID: f.a.ID, Name: "Carrier", Host: "192.0.2.10", Username: "acme",
		SealedPassword: []byte{1, 2, 3, 4}, InboundAddresses: []string{"198.51.100.0/24"},
		CallerIDNumber: "+15551230000", AllowUserCallerID: true}
	mustOK(t, f.db.CreateTrunk(f.ctx, tr))
	if tr.ID == 0 || tr.Port != 5060 || tr.Transport != "udp" {
		t.Fatalf("created trunk: id %d port %d transport %q; want an id and the defaults 5060/udp", tr.ID, tr.Port, tr.Transport)
	}
	got, err := f.db.GetTrunk(f.ctx, f.a.ID, tr.ID)
	mustOK(t, err)
	if diff := cmp.Diff(tr, got); diff != "" {
		t.Errorf("GetTrunk differs from what was created (-want +got):\n%s", diff)
	}
	// Account B sees nothing of A's trunk.
	_, err = f.db.GetTrunk(f.ctx, f.b.ID, tr.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteTrunk(f.ctx, f.b.ID, tr.ID), switchboard.ENOTFOUND)
	list, err := f.db.ListTrunks(f.ctx, f.b.ID)
	mustOK(t, err)
	if len(list) != 0 {
		t.Errorf("account B lists %d trunks; want 0", len(list))
	}
	all, err := f.db.ListAllTrunks(f.ctx)
	mustOK(t, err)
	if len(all) != 1 || all[0].AccountID != f.a.ID {
		t.Errorf("ListAllTrunks = %d trunks; want A's one", len(all))
	}

	// An update without a password keeps the stored one.
	tr.SealedPassword = nil
	tr.Port = 5080
	tr.Transport = "tcp"
	mustOK(t, f.db.UpdateTrunk(f.ctx, tr))
	got, err = f.db.GetTrunk(f.ctx, f.a.ID, tr.ID)
	mustOK(t, err)
	if got.Port != 5080 || got.Transport != "tcp" || string(got.SealedPassword) != string([]byte{1, 2, 3, 4}) {
		t.Errorf("after update: port %d transport %q password %v; want 5080, tcp and the old sealed password",
			got.Port, got.Transport, got.SealedPassword)
	}
	other := *tr
	other.AccountID = f.b.ID
	wantCode(t, f.db.UpdateTrunk(f.ctx, &other), switchboard.ENOTFOUND)

	mustOK(t, f.db.DeleteTrunk(f.ctx, f.a.ID, tr.ID))
	_, err = f.db.GetTrunk(f.ctx, f.a.ID, tr.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
}

func testTrunkInvalid(t *testing.T, f *fixture) {
	bad := []*switchboard.Trunk{
		{AccountID: f.a.ID, Name: "", Host: "192.0.2.1"},
		{AccountID: f.a.ID, Name: "x", Host: "bad host!"},
		{AccountID: f.a.ID, Name: "x", Host: "sip.example.com"}, // no IP to recognise it by
		{AccountID: f.a.ID, Name: "x", Host: "192.0.2.1", Transport: "sctp"},
		{AccountID: f.a.ID, Name: "x", Host: "192.0.2.1", Username: "u"}, // no password
		{AccountID: f.a.ID, Name: "x", Host: "192.0.2.1", InboundAddresses: []string{"nope"}},
		{AccountID: f.a.ID, Name: "x", Host: "192.0.2.1", CallerIDNumber: "12"},
	}
	for i, tr := range bad {
		wantCode(t, f.db.CreateTrunk(f.ctx, tr), switchboard.EBADREQUEST)
		if tr.ID != 0 {
			t.Errorf("invalid trunk %d got id %d", i, tr.ID)
		}
	}
	list, err := f.db.ListTrunks(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(list) != 0 {
		t.Errorf("invalid trunks stored: %d", len(list))
	}
}

func callEvents(f *fixture, uniqueID, name string) *switchboard.Event {
	ev := switchboard.NewEvent(f.a.ID, name, map[string]any{"direction": "inbound"})
	ev.CallID, ev.CRMID = uniqueID, "crm-7"
	return ev
}

func testCallRecordLifecycle(t *testing.T, f *fixture) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r := &switchboard.CallRecord{AccountID: f.a.ID, UniqueID: "1777636800.1", Direction: switchboard.CallInbound,
		From: "+15550001111", To: "+15550002222", CallerName: "Caller", UserID: f.ua.ID, Extension: "100",
		StartedAt: start, CRMID: "crm-7", RecordingRequested: true}
	mustOK(t, f.db.StartCallRecord(f.ctx, r, callEvents(f, r.UniqueID, switchboard.EventCallInboundStarted)))
	got, err := f.db.GetCallRecord(f.ctx, f.a.ID, r.UniqueID)
	mustOK(t, err)
	if !got.EndedAt.IsZero() || got.Disposition != "" {
		t.Errorf("an open record shows end %v disposition %q", got.EndedAt, got.Disposition)
	}
	_, err = f.db.GetCallRecord(f.ctx, f.b.ID, r.UniqueID)
	wantCode(t, err, switchboard.ENOTFOUND)

	r.AnsweredAt = start.Add(5 * time.Second)
	r.EndedAt = start.Add(65*time.Second + 500*time.Millisecond)
	r.Disposition = switchboard.DispositionAnswered
	// The call was transferred: the record keeps where to and by whom (the diff below).
	r.TransferredTo, r.TransferredByUserID = "701", f.ua.ID
	mustOK(t, f.db.EndCallRecord(f.ctx, r, callEvents(f, r.UniqueID, switchboard.EventCallInboundEnded)))
	got, err = f.db.GetCallRecord(f.ctx, f.a.ID, r.UniqueID)
	mustOK(t, err)
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("ended record (-want +got):\n%s", diff)
	}
	if got.Duration != 65 || got.BillableSeconds != 60 {
		t.Errorf("duration %d billable %d; want 65 and 60", got.Duration, got.BillableSeconds)
	}
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	mustOK(t, err)
	var names []string
	for _, ev := range evs {
		if ev.CallID != r.UniqueID || ev.CRMID != "crm-7" {
			t.Errorf("event %s has call id %q crm id %q", ev.Name, ev.CallID, ev.CRMID)
		}
		names = append(names, ev.Name)
	}
	if diff := cmp.Diff([]string{switchboard.EventCallInboundStarted, switchboard.EventCallInboundEnded}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	list, err := f.db.ListCallRecords(f.ctx, f.a.ID, switchboard.CallRecordFilter{UserID: f.ua.ID})
	mustOK(t, err)
	if len(list) != 1 {
		t.Errorf("ListCallRecords for the user = %d; want 1", len(list))
	}
	list, err = f.db.ListCallRecords(f.ctx, f.b.ID, switchboard.CallRecordFilter{})
	mustOK(t, err)
	if len(list) != 0 {
		t.Errorf("account B lists %d of A's calls", len(list))
	}
}

func testCallRecordEndOnce(t *testing.T, f *fixture) {
	start := time.Now().UTC().Truncate(time.Millisecond)
	r := &switchboard.CallRecord{AccountID: f.a.ID, UniqueID: "1.1", Direction: switchboard.CallOutbound, StartedAt: start}
	mustOK(t, f.db.StartCallRecord(f.ctx, r))
	dup := *r
	wantCode(t, f.db.StartCallRecord(f.ctx, &dup), switchboard.ECONFLICT)

	// An end whose event cannot be stored leaves the record open.
	bad := switchboard.NewEvent(0, switchboard.EventCallOutboundEnded, nil) // no account: refused
	end := *r
	end.EndedAt, end.Disposition = start.Add(time.Second), switchboard.DispositionBusy
	wantCode(t, f.db.EndCallRecord(f.ctx, &end, bad), switchboard.EBADREQUEST)
	got, err := f.db.GetCallRecord(f.ctx, f.a.ID, r.UniqueID)
	mustOK(t, err)
	if !got.EndedAt.IsZero() {
		t.Fatalf("a failed end closed the record")
	}
	end = *r
	end.EndedAt, end.Disposition = start.Add(time.Second), switchboard.DispositionBusy
	mustOK(t, f.db.EndCallRecord(f.ctx, &end))
	again := end
	wantCode(t, f.db.EndCallRecord(f.ctx, &again), switchboard.ECONFLICT)
	missing := end
	missing.UniqueID = "9.9"
	wantCode(t, f.db.EndCallRecord(f.ctx, &missing), switchboard.ENOTFOUND)
}

func testCloseOpenCallRecords(t *testing.T, f *fixture) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	open := &switchboard.CallRecord{AccountID: f.a.ID, UniqueID: "100.1", Direction: switchboard.CallInbound,
		StartedAt: start, AnsweredAt: start.Add(2 * time.Second), CRMID: "c1"}
	done := &switchboard.CallRecord{AccountID: f.b.ID, UniqueID: "100.2", Direction: switchboard.CallOutbound, StartedAt: start}
	mustOK(t, f.db.StartCallRecord(f.ctx, open))
	mustOK(t, f.db.StartCallRecord(f.ctx, done))
	done.EndedAt, done.Disposition = start.Add(3*time.Second), switchboard.DispositionNoAnswer
	mustOK(t, f.db.EndCallRecord(f.ctx, done))

	restart := start.Add(time.Minute)
	closed, err := f.db.CloseOpenCallRecords(f.ctx, restart, func(r *switchboard.CallRecord) *switchboard.Event {
		ev := switchboard.NewEvent(r.AccountID, switchboard.EventCallInboundEnded, map[string]any{"hangup_cause": "failed"})
		ev.CallID, ev.CRMID = r.UniqueID, r.CRMID
		return ev
	})
	mustOK(t, err)
	if len(closed) != 1 || closed[0].UniqueID != "100.1" {
		t.Fatalf("closed %d records; want only the open one", len(closed))
	}
	got, err := f.db.GetCallRecord(f.ctx, f.a.ID, "100.1")
	mustOK(t, err)
	if !got.EndedAt.Equal(restart) || got.Disposition != switchboard.DispositionFailed || got.Duration != 60 || got.BillableSeconds != 58 {
		t.Errorf("closed record: end %v disposition %q duration %d billable %d; want the restart time, failed, 60, 58",
			got.EndedAt, got.Disposition, got.Duration, got.BillableSeconds)
	}
	kept, err := f.db.GetCallRecord(f.ctx, f.b.ID, "100.2")
	mustOK(t, err)
	if kept.Disposition != switchboard.DispositionNoAnswer {
		t.Errorf("an ended record was changed: disposition %q", kept.Disposition)
	}
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	mustOK(t, err)
	if len(evs) != 1 || evs[0].CallID != "100.1" || evs[0].CRMID != "c1" {
		t.Errorf("events after closing: %d; want one ended event of 100.1 with its crm id", len(evs))
	}
	// A second start finds nothing open.
	closed, err = f.db.CloseOpenCallRecords(f.ctx, restart, nil)
	mustOK(t, err)
	if len(closed) != 0 {
		t.Errorf("second close found %d open records", len(closed))
	}
}
