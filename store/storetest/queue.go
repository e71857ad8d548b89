package storetest

import (
	"testing"

	"switchboard"
)

func newQueue(accountID int64, extension string) *switchboard.Queue {
	q := &switchboard.Queue{AccountID: accountID, QueueName: "Queue " + extension, Extension: extension, Timeout: 15}
	q.ApplyDefaults()
	return q
}

func (f *fixture) queue(t *testing.T, accountID int64, extension string) *switchboard.Queue {
	t.Helper()
	q := newQueue(accountID, extension)
	mustOK(t, f.db.CreateQueue(f.ctx, q))
	return q
}

func testQueues(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	q := &switchboard.Queue{AccountID: f.a.ID, QueueName: "Sales Queue", Extension: "500",
		Strategy: switchboard.StrategyRRMemory, MusicOnHold: "jazz", Timeout: 20, Retry: 5, WrapUpTime: 10,
		MaxLen: 7, JoinEmpty: "strict", LeaveWhenEmpty: "loose", RingInUse: "yes", MaxWait: 300, ServiceLevel: 30,
		Overflow: switchboard.Target{Type: switchboard.TargetUser, ID: u2.ID}}
	mustOK(t, f.db.CreateQueue(f.ctx, q))
	q2 := f.queue(t, f.a.ID, "501")
	got, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(q, got); d != "" {
		t.Fatalf("GetQueue (-want +got):\n%s", d)
	}
	list, err := f.db.ListQueues(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Queue{q, q2}, list); d != "" {
		t.Fatalf("ListQueues (-want +got):\n%s", d)
	}

	upd := *q
	upd.QueueName, upd.Extension, upd.Strategy, upd.Timeout = "Support", "502", switchboard.StrategyLinear, 25
	upd.Overflow = switchboard.Target{Type: switchboard.TargetExternal, Number: "+15559990000"}
	mustOK(t, f.db.UpdateQueue(f.ctx, &upd))
	got, err = f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateQueue (-want +got):\n%s", d)
	}
	f.queue(t, f.a.ID, "500") // the old extension is free

	n := newNumber(f.a.ID, "+15552220000")
	n.Target = switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}
	f.number(t, n)
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID}))
	mustOK(t, f.db.DeleteQueue(f.ctx, f.a.ID, q.ID))
	_, err = f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteQueue(f.ctx, f.a.ID, q.ID), switchboard.ENOTFOUND)
	gotN, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if gotN.Target != (switchboard.Target{}) {
		t.Fatalf("number still routes to the deleted queue: %+v", gotN.Target)
	}
	f.queue(t, f.a.ID, "502") // the deleted queue's extension is free
}

func testSharedExtensions(t *testing.T, f *fixture) {
	// A queue may not take a user's extension, nor a ring group a queue's, and so on.
	wantField(t, f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "100")), switchboard.ECONFLICT, "extension")
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "100")), switchboard.ECONFLICT, "extension")
	q := f.queue(t, f.a.ID, "500")
	g := f.ringGroup(t, f.a.ID, "600")
	wantField(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "500"}), switchboard.ECONFLICT, "presence_id")
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "500")), switchboard.ECONFLICT, "extension")
	wantField(t, f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "600")), switchboard.ECONFLICT, "extension")
	updQ := *q
	updQ.Extension = "600"
	wantField(t, f.db.UpdateQueue(f.ctx, &updQ), switchboard.ECONFLICT, "extension")
	updG := *g
	updG.Extension = "100"
	wantField(t, f.db.UpdateRingGroup(f.ctx, &updG), switchboard.ECONFLICT, "extension")
	updU := *f.ua
	updU.Extension = "600"
	wantField(t, f.db.UpdateUser(f.ctx, &updU), switchboard.ECONFLICT, "presence_id")
	// Nothing of the refused writes stayed.
	queues, err := f.db.ListQueues(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Queue{q}, queues); d != "" {
		t.Fatalf("queues after refused writes (-want +got):\n%s", d)
	}
	groups, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g}, groups); d != "" {
		t.Fatalf("ring groups after refused writes (-want +got):\n%s", d)
	}
	// Another account may use them all.
	f.queue(t, f.b.ID, "600")
	f.ringGroup(t, f.b.ID, "500")
}

func testQueueReferences(t *testing.T, f *fixture) {
	qb := f.queue(t, f.b.ID, "500")
	gb := f.ringGroup(t, f.b.ID, "600")
	for _, target := range []switchboard.Target{
		{Type: switchboard.TargetUser, ID: f.ub.ID},
		{Type: switchboard.TargetQueue, ID: qb.ID},
		{Type: switchboard.TargetRingGroup, ID: gb.ID},
	} {
		q := newQueue(f.a.ID, "700")
		q.Overflow = target
		wantField(t, f.db.CreateQueue(f.ctx, q), switchboard.EBADREQUEST, "overflow")
	}
	qa := f.queue(t, f.a.ID, "700")
	qa.Overflow = switchboard.Target{Type: switchboard.TargetQueue, ID: qb.ID}
	wantField(t, f.db.UpdateQueue(f.ctx, qa), switchboard.EBADREQUEST, "overflow")

	_, err := f.db.GetQueue(f.ctx, f.a.ID, qb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *qb
	hijack.AccountID, hijack.QueueName, hijack.Extension = f.a.ID, "Hijacked", "701"
	wantCode(t, f.db.UpdateQueue(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteQueue(f.ctx, f.a.ID, qb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetQueue(f.ctx, f.b.ID, qb.ID)
	mustOK(t, err)
	if d := diff(qb, got); d != "" {
		t.Fatalf("B's queue changed through A (-want +got):\n%s", d)
	}
	bad := newQueue(f.a.ID, "702")
	bad.Strategy = "loudest"
	wantField(t, f.db.CreateQueue(f.ctx, bad), switchboard.EBADREQUEST, "strategy")
}

func testQueueMembers(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	u2 := f.user(t, f.a.ID, "101")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: 3}))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID, Paused: true}))
	want := []switchboard.QueueMember{
		{QueueID: q.ID, UserID: f.ua.ID, Paused: true},
		{QueueID: q.ID, UserID: u2.ID, Penalty: 3},
	}
	if f.ua.ID > u2.ID {
		want[0], want[1] = want[1], want[0]
	}
	members, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(want, members); d != "" {
		t.Fatalf("ListQueueMembers (-want +got):\n%s", d)
	}
	// Setting again updates penalty and paused instead of adding.
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: 1, Paused: true}))
	mustOK(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, q.ID, f.ua.ID))
	members, err = f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: q.ID, UserID: u2.ID, Penalty: 1, Paused: true}}, members); d != "" {
		t.Fatalf("members after update and removal (-want +got):\n%s", d)
	}
	wantCode(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, q.ID, f.ua.ID), switchboard.ENOTFOUND)

	// B's user cannot join A's queue; A cannot touch B's queue.
	wantField(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ub.ID}),
		switchboard.EBADREQUEST, "user_id")
	qb := f.queue(t, f.b.ID, "500")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.b.ID, switchboard.QueueMember{QueueID: qb.ID, UserID: f.ub.ID, Penalty: 4}))
	wantCode(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: qb.ID, UserID: f.ua.ID}), switchboard.ENOTFOUND)
	wantCode(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, qb.ID, f.ub.ID), switchboard.ENOTFOUND)
	_, err = f.db.ListQueueMembers(f.ctx, f.a.ID, qb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	membersB, err := f.db.ListQueueMembers(f.ctx, f.b.ID, qb.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: qb.ID, UserID: f.ub.ID, Penalty: 4}}, membersB); d != "" {
		t.Fatalf("B's members (-want +got):\n%s", d)
	}
	wantField(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: -1}),
		switchboard.EBADREQUEST, "penalty")
}
