package storetest

import (
	"testing"

	"switchboard"
)

func newRingGroup(accountID int64, extension string, members ...int64) *switchboard.RingGroup {
	g := &switchboard.RingGroup{AccountID: accountID, Name: "Group " + extension, Extension: extension,
		Strategy: switchboard.RingSimultaneous, RingTime: 20}
	for _, id := range members {
		g.Members = append(g.Members, switchboard.RingGroupMember{UserID: id})
	}
	return g
}

func (f *fixture) ringGroup(t *testing.T, accountID int64, extension string, members ...int64) *switchboard.RingGroup {
	t.Helper()
	g := newRingGroup(accountID, extension, members...)
	mustOK(t, f.db.CreateRingGroup(f.ctx, g))
	return g
}

func testRingGroups(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	u3 := f.user(t, f.a.ID, "102")
	// Members keep the order given, not the order of their ids.
	g := &switchboard.RingGroup{AccountID: f.a.ID, Name: "Front desk", Extension: "600",
		Strategy: switchboard.RingSequential, RingTime: 25,
		Members:  []switchboard.RingGroupMember{{UserID: u3.ID, RingTime: 10}, {UserID: f.ua.ID}, {UserID: u2.ID, RingTime: 5}},
		Fallback: switchboard.Target{Type: switchboard.TargetUser, ID: u2.ID}}
	mustOK(t, f.db.CreateRingGroup(f.ctx, g))
	empty := f.ringGroup(t, f.a.ID, "601")
	got, err := f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff(g, got); d != "" {
		t.Fatalf("GetRingGroup (-want +got):\n%s", d)
	}
	list, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g, empty}, list); d != "" {
		t.Fatalf("ListRingGroups (-want +got):\n%s", d)
	}

	upd := *g
	upd.Name, upd.Extension, upd.Strategy, upd.RingTime = "Reception", "602", switchboard.RingSimultaneous, 30
	upd.Members = []switchboard.RingGroupMember{{UserID: u2.ID}, {UserID: u3.ID, RingTime: 7}}
	upd.Fallback = switchboard.Target{Type: switchboard.TargetHangup}
	mustOK(t, f.db.UpdateRingGroup(f.ctx, &upd))
	got, err = f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateRingGroup (-want +got):\n%s", d)
	}
	f.ringGroup(t, f.a.ID, "600") // the old extension is free

	q := f.queue(t, f.a.ID, "500")
	q.Overflow = switchboard.Target{Type: switchboard.TargetRingGroup, ID: g.ID}
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	mustOK(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID))
	_, err = f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID), switchboard.ENOTFOUND)
	gotQ, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if gotQ.Overflow != (switchboard.Target{}) {
		t.Fatalf("queue overflow still leads to the deleted ring group: %+v", gotQ.Overflow)
	}
}

func testRingGroupReferences(t *testing.T, f *fixture) {
	g := f.ringGroup(t, f.a.ID, "600", f.ua.ID)
	// A member from B is refused, and the refused write leaves the group as it was.
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "601", f.ua.ID, f.ub.ID)), switchboard.EBADREQUEST, "members")
	upd := *g
	upd.Name = "Changed"
	upd.Members = []switchboard.RingGroupMember{{UserID: f.ub.ID}}
	wantField(t, f.db.UpdateRingGroup(f.ctx, &upd), switchboard.EBADREQUEST, "members")
	fb := *g
	fb.Fallback = switchboard.Target{Type: switchboard.TargetUser, ID: f.ub.ID}
	wantField(t, f.db.UpdateRingGroup(f.ctx, &fb), switchboard.EBADREQUEST, "fallback")
	list, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g}, list); d != "" {
		t.Fatalf("ring groups after refused writes (-want +got):\n%s", d)
	}
	dup := newRingGroup(f.a.ID, "602", f.ua.ID, f.ua.ID)
	wantField(t, f.db.CreateRingGroup(f.ctx, dup), switchboard.EBADREQUEST, "members")

	gb := f.ringGroup(t, f.b.ID, "600", f.ub.ID)
	_, err = f.db.GetRingGroup(f.ctx, f.a.ID, gb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *gb
	hijack.AccountID, hijack.Extension, hijack.Members = f.a.ID, "603", nil
	wantCode(t, f.db.UpdateRingGroup(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, gb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetRingGroup(f.ctx, f.b.ID, gb.ID)
	mustOK(t, err)
	if d := diff(gb, got); d != "" {
		t.Fatalf("B's ring group changed through A (-want +got):\n%s", d)
	}
}
