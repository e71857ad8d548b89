package storetest

import (
	"testing"

	"switchboard"
)

func newNumber(accountID int64, e164 string) *switchboard.Number {
	return &switchboard.Number{AccountID: accountID, Number: e164, FriendlyName: "Main " + e164, Status: "active"}
}

func (f *fixture) number(t *testing.T, n *switchboard.Number) *switchboard.Number {
	t.Helper()
	mustOK(t, f.db.CreateNumber(f.ctx, n))
	return n
}

func testNumbers(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	n := &switchboard.Number{AccountID: f.a.ID, Number: "+15551234567", FriendlyName: "Main line", SMSEnabled: true,
		MMSEnabled: true, OwnerUserID: f.ua.ID, SMSAssignedUserID: f.ua.ID, Status: "porting", AIAgentID: "agent-7",
		Target: switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}}
	f.number(t, n)
	n2 := f.number(t, newNumber(f.a.ID, "+15551234568"))
	got, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if d := diff(n, got); d != "" {
		t.Fatalf("GetNumber (-want +got):\n%s", d)
	}
	got, err = f.db.GetNumberByE164(f.ctx, "+15551234568")
	mustOK(t, err)
	if d := diff(n2, got); d != "" {
		t.Fatalf("GetNumberByE164 (-want +got):\n%s", d)
	}
	_, err = f.db.GetNumberByE164(f.ctx, "+15550000000")
	wantCode(t, err, switchboard.ENOTFOUND)

	upd := *n
	upd.FriendlyName, upd.MMSEnabled, upd.OwnerUserID, upd.SMSAssignedUserID = "Renamed", false, 0, 0
	upd.Status, upd.AIAgentID = "active", ""
	upd.Target = switchboard.Target{Type: switchboard.TargetExternal, Number: "+442071234567"}
	mustOK(t, f.db.UpdateNumber(f.ctx, &upd))
	got, err = f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateNumber (-want +got):\n%s", d)
	}
	mustOK(t, f.db.DeleteNumber(f.ctx, f.a.ID, n.ID))
	_, err = f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteNumber(f.ctx, f.a.ID, n.ID), switchboard.ENOTFOUND)
	f.number(t, newNumber(f.b.ID, "+15551234567")) // a deleted number can be had again, by anyone
}

func testNumberFilter(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	owned := newNumber(f.a.ID, "+15550000001")
	owned.OwnerUserID = f.ua.ID
	f.number(t, owned)
	smsOnly := newNumber(f.a.ID, "+15550000002")
	smsOnly.SMSEnabled, smsOnly.SMSAssignedUserID, smsOnly.Status = true, f.ua.ID, "inactive"
	f.number(t, smsOnly)
	other := newNumber(f.a.ID, "+15550000003")
	other.OwnerUserID, other.SMSAssignedUserID, other.AIAgentID = u2.ID, u2.ID, "agent-1"
	f.number(t, other)
	f.number(t, newNumber(f.b.ID, "+15550000004"))

	for _, tc := range []struct {
		name   string
		filter switchboard.NumberFilter
		want   []*switchboard.Number
	}{
		{"all", switchboard.NumberFilter{}, []*switchboard.Number{owned, smsOnly, other}},
		{"number", switchboard.NumberFilter{Number: "+15550000002"}, []*switchboard.Number{smsOnly}},
		{"B's number", switchboard.NumberFilter{Number: "+15550000004"}, nil},
		{"owner", switchboard.NumberFilter{OwnerUserID: f.ua.ID}, []*switchboard.Number{owned}},
		{"status", switchboard.NumberFilter{Status: "inactive"}, []*switchboard.Number{smsOnly}},
		{"sms assigned", switchboard.NumberFilter{SMSAssignedUserID: f.ua.ID}, []*switchboard.Number{smsOnly}},
		{"ai agent", switchboard.NumberFilter{AIAgentID: "agent-1"}, []*switchboard.Number{other}},
		{"assigned to", switchboard.NumberFilter{AssignedToUserID: f.ua.ID}, []*switchboard.Number{owned, smsOnly}},
		{"assigned to and status", switchboard.NumberFilter{AssignedToUserID: f.ua.ID, Status: "active"}, []*switchboard.Number{owned}},
		{"owner and ai agent", switchboard.NumberFilter{OwnerUserID: f.ua.ID, AIAgentID: "agent-1"}, nil},
	} {
		got, err := f.db.ListNumbers(f.ctx, f.a.ID, tc.filter)
		mustOK(t, err)
		if d := diff(tc.want, got); d != "" {
			t.Errorf("ListNumbers %s (-want +got):\n%s", tc.name, d)
		}
	}
}

func testNumberConflicts(t *testing.T, f *fixture) {
	nb := f.number(t, newNumber(f.b.ID, "+15557770000"))
	// Numbers are global: A cannot take B's.
	wantField(t, f.db.CreateNumber(f.ctx, newNumber(f.a.ID, "+15557770000")), switchboard.ECONFLICT, "number")
	na := f.number(t, newNumber(f.a.ID, "+15557770001"))
	upd := *na
	upd.Number = "+15557770000"
	wantField(t, f.db.UpdateNumber(f.ctx, &upd), switchboard.ECONFLICT, "number")

	qb := f.queue(t, f.b.ID, "500")
	for field, n := range map[string]*switchboard.Number{
		"owner_user_id":        {OwnerUserID: f.ub.ID},
		"sms_assigned_user_id": {SMSAssignedUserID: f.ub.ID},
		"target":               {Target: switchboard.Target{Type: switchboard.TargetQueue, ID: qb.ID}},
	} {
		n.AccountID, n.Number, n.Status = f.a.ID, "+15557770002", "active"
		wantField(t, f.db.CreateNumber(f.ctx, n), switchboard.EBADREQUEST, field)
		ref := *na
		ref.OwnerUserID, ref.SMSAssignedUserID, ref.Target = n.OwnerUserID, n.SMSAssignedUserID, n.Target
		wantField(t, f.db.UpdateNumber(f.ctx, &ref), switchboard.EBADREQUEST, field)
	}
	list, err := f.db.ListNumbers(f.ctx, f.a.ID, switchboard.NumberFilter{})
	mustOK(t, err)
	if d := diff([]*switchboard.Number{na}, list); d != "" {
		t.Fatalf("A's numbers after refused writes (-want +got):\n%s", d)
	}

	_, err = f.db.GetNumber(f.ctx, f.a.ID, nb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *nb
	hijack.AccountID, hijack.FriendlyName = f.a.ID, "Hijacked"
	wantCode(t, f.db.UpdateNumber(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteNumber(f.ctx, f.a.ID, nb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetNumber(f.ctx, f.b.ID, nb.ID)
	mustOK(t, err)
	if d := diff(nb, got); d != "" {
		t.Fatalf("B's number changed through A (-want +got):\n%s", d)
	}
	wantField(t, f.db.CreateNumber(f.ctx, newNumber(f.a.ID, "555-1234")), switchboard.EBADREQUEST, "number")
}
