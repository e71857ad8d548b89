package pbx

import (
	"testing"

	"switchboard"
)

// TestAgentStatesAreSkipped: a member logged out of the queue, paused (with a reason) or in
// wrap-up is not offered the call; a logged-out member counts as absent for joinempty.
func TestAgentStatesAreSkipped(t *testing.T) {
	member := func(id int64, change func(*memberStatus)) memberStatus {
		s := memberStatus{m: switchboard.QueueMember{UserID: id}, online: true}
		change(&s)
		return s
	}
	st := []memberStatus{
		member(1, func(s *memberStatus) { s.m.LoggedOut = true }),
		member(2, func(s *memberStatus) { s.m.Paused, s.m.PauseReason = true, "Lunch" }),
		member(3, func(s *memberStatus) { s.wrapUp = true }),
		member(4, func(s *memberStatus) {}),
	}
	q := &switchboard.Queue{Strategy: switchboard.StrategyRingAll, RingInUse: "no"}
	h := newMemberHistory()
	got := pickMembers(q, &h, map[int64]bool{}, st, func(int) int { return 0 })
	if len(got) != 1 || got[0].UserID != 4 {
		t.Errorf("ringall rang %v, want only the available member 4", got)
	}
	if !queueEmpty("loose", true, st[:1]) {
		t.Error("a queue whose only member is logged out is not empty under joinempty=loose")
	}
	if queueEmpty("loose", true, st[1:2]) {
		t.Error("a paused member empties the queue under loose (only strict counts pauses)")
	}
}
