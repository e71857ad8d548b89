package storetest

import (
	"strings"
	"testing"

	"switchboard"
	"switchboard/store"
)

func runCallFlowTests(t *testing.T, open func(t *testing.T) *store.DB) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"CallFlows/RoundTripAndIsolation", testCallFlows},
		{"CallFlows/ReferencesMustBeTheAccounts", testCallFlowRefs},
		{"CallFlows/DeleteRefusedWhileUsed", testCallFlowInUse},
		{"CallFlows/WhatLeadsTo", testFlowReferences},
		{"CallFlows/DeleteOfWhatANodeNamesRefused", testDeleteNamedByFlow},
		{"Paging/CallFlows", testPageCallFlows},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newFixture(t, open(t))) })
	}
}

// queueFlow is a flow of one queue node, then a hangup.
func queueFlow(accountID int64, name string, queueID int64) *switchboard.CallFlow {
	return &switchboard.CallFlow{AccountID: accountID, Name: name, Start: "q", Nodes: map[string]switchboard.FlowNode{
		"q":   {Type: switchboard.FlowNodeQueue, QueueID: queueID, Next: "bye"},
		"bye": {Type: switchboard.FlowNodeHangup},
	}}
}

// Flows round-trip with their nodes, names are unique per account only, and one account
// never reads, changes or deletes another's flow.
func testCallFlows(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	retries := 1
	fl := queueFlow(f.a.ID, "Main line", q.ID)
	fl.Start = "hours"
	fl.Nodes["hours"] = switchboard.FlowNode{Type: switchboard.FlowNodeTimeCondition, TimeZone: "Europe/Berlin", Then: "menu", Else: "bye",
		Open:       []switchboard.OpenHours{{Days: []string{"mon", "tue"}, From: "09:00", To: "17:00"}},
		Exceptions: []switchboard.DateException{{Date: "2026-12-25", Name: "Christmas"}}}
	fl.Nodes["menu"] = switchboard.FlowNode{Type: switchboard.FlowNodeIVR, Name: "Main", PromptID: 4, Options: map[string]string{"1": "q", "#": "bye"},
		Retries: &retries, TimeoutS: 7, Timeout: "bye"}
	mustOK(t, f.db.CreateCallFlow(f.ctx, fl))
	if fl.ID == 0 || fl.CreatedAt.IsZero() {
		t.Fatalf("created %+v", fl)
	}
	got, err := f.db.GetCallFlow(f.ctx, f.a.ID, fl.ID)
	mustOK(t, err)
	if d := diff(fl, got); d != "" {
		t.Fatalf("GetCallFlow (-want +got):\n%s", d)
	}
	wantField(t, f.db.CreateCallFlow(f.ctx, queueFlow(f.a.ID, "Main line", q.ID)), switchboard.ECONFLICT, "name")
	bad := queueFlow(f.a.ID, "Broken", q.ID)
	bad.Nodes["q"] = switchboard.FlowNode{Type: switchboard.FlowNodeQueue, QueueID: q.ID, Next: "nowhere"}
	wantField(t, f.db.CreateCallFlow(f.ctx, bad), switchboard.EBADREQUEST, "nodes.q.next")

	qb := f.queue(t, f.b.ID, "500")
	fb := queueFlow(f.b.ID, "Main line", qb.ID) // the same name in another account is fine
	mustOK(t, f.db.CreateCallFlow(f.ctx, fb))
	_, err = f.db.GetCallFlow(f.ctx, f.a.ID, fb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.UpdateCallFlowFunc(f.ctx, f.a.ID, fb.ID, func(c *switchboard.CallFlow) error { c.Name = "mine"; return nil })
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteCallFlow(f.ctx, f.a.ID, fb.ID), switchboard.ENOTFOUND)

	updated, err := f.db.UpdateCallFlowFunc(f.ctx, f.a.ID, fl.ID, func(c *switchboard.CallFlow) error {
		c.Name = "Main line (winter)"
		delete(c.Nodes, "menu")
		c.Nodes["hours"] = switchboard.FlowNode{Type: switchboard.FlowNodeTimeCondition, TimeZone: "Europe/Berlin", Then: "q", Else: "bye", Override: "closed"}
		return nil
	})
	mustOK(t, err)
	got, err = f.db.GetCallFlow(f.ctx, f.a.ID, fl.ID)
	mustOK(t, err)
	if d := diff(updated, got); d != "" || got.Nodes["hours"].Override != "closed" || len(got.Nodes) != 3 {
		t.Fatalf("after update (-want +got):\n%s\n%+v", d, got)
	}
	// An invalid change stores nothing.
	_, err = f.db.UpdateCallFlowFunc(f.ctx, f.a.ID, fl.ID, func(c *switchboard.CallFlow) error { c.Start = "gone"; return nil })
	wantField(t, err, switchboard.EBADREQUEST, "start")
	again, err := f.db.GetCallFlow(f.ctx, f.a.ID, fl.ID)
	mustOK(t, err)
	if again.Start != "hours" {
		t.Fatalf("a refused change was stored: start %q", again.Start)
	}
	mustOK(t, f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID))
	_, err = f.db.GetCallFlow(f.ctx, f.a.ID, fl.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	if _, err := f.db.GetCallFlow(f.ctx, f.b.ID, fb.ID); err != nil {
		t.Fatalf("B's flow went with A's: %v", err)
	}
}

// A node's queue, ring group and user must be the account's: another account's is refused
// naming the node's field, on create and on update.
func testCallFlowRefs(t *testing.T, f *fixture) {
	qa, qb := f.queue(t, f.a.ID, "500"), f.queue(t, f.b.ID, "500")
	gb := f.ringGroup(t, f.b.ID, "600")
	wantField(t, f.db.CreateCallFlow(f.ctx, queueFlow(f.a.ID, "x", qb.ID)), switchboard.EBADREQUEST, "nodes.q.queue_id")
	fl := queueFlow(f.a.ID, "x", qa.ID)
	fl.Nodes["rg"] = switchboard.FlowNode{Type: switchboard.FlowNodeRingGroup, RingGroupID: gb.ID, Next: "bye"}
	fl.Nodes["q"] = switchboard.FlowNode{Type: switchboard.FlowNodeQueue, QueueID: qa.ID, Next: "rg"}
	wantField(t, f.db.CreateCallFlow(f.ctx, fl), switchboard.EBADREQUEST, "nodes.rg.ring_group_id")
	ok := queueFlow(f.a.ID, "x", qa.ID)
	mustOK(t, f.db.CreateCallFlow(f.ctx, ok))
	_, err := f.db.UpdateCallFlowFunc(f.ctx, f.a.ID, ok.ID, func(c *switchboard.CallFlow) error {
		c.Nodes["q"] = switchboard.FlowNode{Type: switchboard.FlowNodeUser, UserID: f.ub.ID, Next: "bye"}
		return nil
	})
	wantField(t, err, switchboard.EBADREQUEST, "nodes.q.user_id")
	// A number may route to a flow of its account only.
	fb := queueFlow(f.b.ID, "y", qb.ID)
	mustOK(t, f.db.CreateCallFlow(f.ctx, fb))
	n := newNumber(f.a.ID, "+15551230001")
	n.Target = switchboard.Target{Type: switchboard.TargetCallFlow, ID: fb.ID}
	wantCode(t, f.db.CreateNumber(f.ctx, n), switchboard.EBADREQUEST)
	n.Target.ID = ok.ID
	mustOK(t, f.db.CreateNumber(f.ctx, n))
}

// A flow a number, a queue overflow or a ring group fallback sends calls to cannot be
// deleted; the conflict names each of them. Once they point elsewhere it can.
func testCallFlowInUse(t *testing.T, f *fixture) {
	qa := f.queue(t, f.a.ID, "500")
	fl := queueFlow(f.a.ID, "Main", qa.ID)
	mustOK(t, f.db.CreateCallFlow(f.ctx, fl))
	toFlow := switchboard.Target{Type: switchboard.TargetCallFlow, ID: fl.ID}
	n := newNumber(f.a.ID, "+15551230002")
	n.Target = toFlow
	f.number(t, n)
	q2 := f.queue(t, f.a.ID, "501")
	q2.Overflow = toFlow
	mustOK(t, f.db.UpdateQueue(f.ctx, q2))
	g := f.ringGroup(t, f.a.ID, "600")
	g.Fallback = toFlow
	mustOK(t, f.db.UpdateRingGroup(f.ctx, g))

	err := f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID)
	wantCode(t, err, switchboard.ECONFLICT)
	msg := switchboard.ErrorMessage(err)
	for _, want := range []string{"number +15551230002", `queue "` + q2.QueueName + `" (overflow)`, `ring group "` + g.Name + `" (fallback)`} {
		if !strings.Contains(msg, want) {
			t.Errorf("conflict %q does not name %s", msg, want)
		}
	}
	n.Target = switchboard.Target{}
	mustOK(t, f.db.UpdateNumber(f.ctx, n))
	q2.Overflow = switchboard.Target{}
	mustOK(t, f.db.UpdateQueue(f.ctx, q2))
	wantCode(t, f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID), switchboard.ECONFLICT) // the ring group still does
	g.Fallback = switchboard.Target{}
	mustOK(t, f.db.UpdateRingGroup(f.ctx, g))
	mustOK(t, f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID))
}

// FlowReferences names the numbers, overflows, fallbacks and flow nodes that lead to a
// queue, of the account only.
func testFlowReferences(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	other := f.queue(t, f.a.ID, "501")
	n := newNumber(f.a.ID, "+15551230003")
	n.Target = switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}
	f.number(t, n)
	other.Overflow = switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}
	mustOK(t, f.db.UpdateQueue(f.ctx, other))
	fl := queueFlow(f.a.ID, "Main", q.ID)
	fl.Nodes["again"] = switchboard.FlowNode{Type: switchboard.FlowNodeQueue, QueueID: q.ID, Next: "bye"}
	fl.Nodes["q"] = switchboard.FlowNode{Type: switchboard.FlowNodeQueue, QueueID: q.ID, Next: "again"}
	mustOK(t, f.db.CreateCallFlow(f.ctx, fl))
	unrelated := queueFlow(f.a.ID, "Other", other.ID)
	mustOK(t, f.db.CreateCallFlow(f.ctx, unrelated))
	qb := f.queue(t, f.b.ID, "500")
	mustOK(t, f.db.CreateCallFlow(f.ctx, queueFlow(f.b.ID, "B", qb.ID)))

	got, err := f.db.FlowReferences(f.ctx, f.a.ID, switchboard.TargetQueue, q.ID)
	mustOK(t, err)
	want := []switchboard.FlowUse{
		{Kind: "number", ID: n.ID, Name: "+15551230003", Field: "target"},
		{Kind: "queue", ID: other.ID, Name: other.QueueName, Field: "overflow"},
		{Kind: "callflow", ID: fl.ID, Name: "Main", Node: "again", Field: "queue_id"},
		{Kind: "callflow", ID: fl.ID, Name: "Main", Node: "q", Field: "queue_id"},
	}
	if d := diff(want, got); d != "" {
		t.Fatalf("FlowReferences (-want +got):\n%s", d)
	}
	got, err = f.db.FlowReferences(f.ctx, f.b.ID, switchboard.TargetQueue, q.ID)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatalf("account B sees references to A's queue: %+v", got)
	}
}

func testPageCallFlows(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		mustOK(t, f.db.CreateCallFlow(f.ctx, queueFlow(f.a.ID, name, q.ID)))
	}
	qb := f.queue(t, f.b.ID, "500")
	mustOK(t, f.db.CreateCallFlow(f.ctx, queueFlow(f.b.ID, "b's", qb.ID)))
	page := func(p switchboard.Page) ([]*switchboard.CallFlow, bool, error) {
		return f.db.PageCallFlows(f.ctx, f.a.ID, p)
	}
	for _, size := range []int{1, 2, 1000} {
		got := walk(t, size, 5, page, func(p *switchboard.Page, fl *switchboard.CallFlow) { p.After = fl.ID })
		var names []string
		for _, fl := range got {
			names = append(names, fl.Name)
		}
		if strings.Join(names, ",") != "a,b,c,d,e" {
			t.Errorf("pages of %d: %v", size, names)
		}
	}
	rows, _, err := f.db.PageCallFlows(f.ctx, f.a.ID, switchboard.Page{Limit: 2, Offset: 3})
	mustOK(t, err)
	if len(rows) != 2 || rows[0].Name != "d" {
		t.Fatalf("offset 3: %+v", rows)
	}
	wantBadPage(t, page)
}

// A user, queue or ring group a flow node names cannot be deleted: the conflict names the
// flow and node. Once the flow no longer names it, it can.
func testDeleteNamedByFlow(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	g := f.ringGroup(t, f.a.ID, "600")
	u := f.user(t, f.a.ID, "101")
	fl := queueFlow(f.a.ID, "Main", q.ID)
	fl.Nodes["q"] = switchboard.FlowNode{Type: switchboard.FlowNodeQueue, QueueID: q.ID, Next: "rg"}
	fl.Nodes["rg"] = switchboard.FlowNode{Type: switchboard.FlowNodeRingGroup, RingGroupID: g.ID, Next: "op"}
	fl.Nodes["op"] = switchboard.FlowNode{Type: switchboard.FlowNodeUser, UserID: u.ID, Next: "hello"}
	p := &switchboard.Prompt{AccountID: f.a.ID, Name: "Hello", Source: switchboard.PromptSourceWAV, Samples: 8,
		Size: 60, BlobKey: switchboard.AccountBlobKey(f.a.ID, "prompts", "hello.wav")}
	mustOK(t, f.db.CreatePrompt(f.ctx, p))
	room := &switchboard.ConferenceRoom{AccountID: f.a.ID, Name: "Board", Extension: "800", MaxParticipants: 10}
	mustOK(t, f.db.CreateConferenceRoom(f.ctx, room))
	fl.Nodes["hello"] = switchboard.FlowNode{Type: switchboard.FlowNodeAnnouncement, PromptID: p.ID, Next: "room"}
	box := switchboard.NewVoicemailBox(f.a.ID, 0, "Sales")
	mustOK(t, f.db.CreateVoicemailBox(f.ctx, box))
	fl.Nodes["hello"] = switchboard.FlowNode{Type: switchboard.FlowNodeAnnouncement, PromptID: p.ID, Next: "menu"}
	fl.Nodes["menu"] = switchboard.FlowNode{Type: switchboard.FlowNodeIVR, PromptID: p.ID,
		Options: map[string]string{"1": "room", "2": "vm"}, Timeout: "room", Invalid: "room"}
	fl.Nodes["room"] = switchboard.FlowNode{Type: switchboard.FlowNodeConference, ConferenceID: room.ID}
	fl.Nodes["vm"] = switchboard.FlowNode{Type: switchboard.FlowNodeVoicemail, VoicemailBoxID: box.ID}
	delete(fl.Nodes, "bye") // the room and the box end the flow
	mustOK(t, f.db.CreateCallFlow(f.ctx, fl))
	_, boxErr := f.db.DeleteVoicemailBox(f.ctx, f.a.ID, box.ID)
	_, promptErr := f.db.DeletePrompt(f.ctx, f.a.ID, p.ID)
	for what, err := range map[string]error{
		`call flow "Main" (node q, queue_id)`:          f.db.DeleteQueue(f.ctx, f.a.ID, q.ID),
		`call flow "Main" (node rg, ring_group_id)`:    f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID),
		`call flow "Main" (node op, user_id)`:          errOnly(f.db.DeleteUser(f.ctx, f.a.ID, u.ID)),
		`call flow "Main" (node hello, prompt_id)`:     promptErr,
		`call flow "Main" (node room, conference_id)`:  f.db.DeleteConferenceRoom(f.ctx, f.a.ID, room.ID),
		`call flow "Main" (node vm, voicemail_box_id)`: boxErr,
	} {
		wantCode(t, err, switchboard.ECONFLICT)
		if !strings.Contains(switchboard.ErrorMessage(err), what) {
			t.Errorf("conflict %q does not name %s", switchboard.ErrorMessage(err), what)
		}
	}
	// A user's unanswered calls can go to the flow: only the account's own flow, and the
	// flow cannot be deleted while it takes them.
	taker := &switchboard.User{AccountID: f.a.ID, Extension: "1888", FirstName: "T", LastName: "U", UnansweredCallFlowID: fl.ID}
	mustOK(t, f.db.CreateUser(f.ctx, taker))
	wantField(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.b.ID, Extension: "1888", FirstName: "T", LastName: "U",
		UnansweredCallFlowID: fl.ID}), switchboard.EBADREQUEST, "unanswered_callflow_id")
	err := f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID)
	wantCode(t, err, switchboard.ECONFLICT)
	if !strings.Contains(switchboard.ErrorMessage(err), "user 1888 (unanswered calls)") {
		t.Errorf("conflict %q does not name the user", switchboard.ErrorMessage(err))
	}
	_, err = f.db.UpdateUserFunc(f.ctx, f.a.ID, taker.ID, func(u *switchboard.User) error { u.UnansweredCallFlowID = 0; return nil })
	mustOK(t, err)
	mustOK(t, f.db.DeleteCallFlow(f.ctx, f.a.ID, fl.ID))
	mustOK(t, f.db.DeleteQueue(f.ctx, f.a.ID, q.ID))
	mustOK(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID))
	mustOK(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, u.ID)))
	_, promptErr = f.db.DeletePrompt(f.ctx, f.a.ID, p.ID)
	mustOK(t, promptErr)
	mustOK(t, f.db.DeleteConferenceRoom(f.ctx, f.a.ID, room.ID))
	_, boxErr = f.db.DeleteVoicemailBox(f.ctx, f.a.ID, box.ID)
	mustOK(t, boxErr)
}
