package pbx

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// TestPickMembers table-tests the queue strategies on member statuses alone: who rings
// next, given who is available, who was tried this round, the queue's memory of its
// members and the random draws.
func TestPickMembers(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 1, 2, 9, min, 0, 0, time.UTC) }
	// free is an available member (online, not busy, not paused, not in wrap-up).
	free := func(id int64, penalty int) memberStatus {
		return memberStatus{m: switchboard.QueueMember{UserID: id, Penalty: penalty}, online: true}
	}
	busy := func(s memberStatus) memberStatus { s.busy = true; return s }
	paused := func(s memberStatus) memberStatus { s.m.Paused = true; return s }
	offline := func(s memberStatus) memberStatus { s.online = false; return s }
	wrapUp := func(s memberStatus) memberStatus { s.wrapUp = true; return s }
	three := []memberStatus{free(1, 0), free(2, 0), free(3, 0)}
	history := memberHistory{
		callsTaken:   map[int64]int{1: 2, 2: 1, 3: 3},
		lastAnswered: map[int64]time.Time{1: at(1), 2: at(5), 3: at(3)},
		rrLast:       2,
	}
	for _, tc := range []struct {
		name      string
		strategy  switchboard.QueueStrategy
		ringInUse string
		statuses  []memberStatus
		tried     []int64
		draws     []int // what the random source returns, in turn
		want      []int64
	}{
		{name: "ringall rings the whole lowest tier", strategy: switchboard.StrategyRingAll,
			statuses: []memberStatus{free(1, 1), free(2, 0), free(3, 0)}, want: []int64{2, 3}},
		{name: "ringall skips busy, paused, offline and wrap-up", strategy: switchboard.StrategyRingAll,
			statuses: []memberStatus{busy(free(1, 0)), paused(free(2, 0)), offline(free(3, 0)), wrapUp(free(4, 0)), free(5, 0)},
			want:     []int64{5}},
		{name: "ringinuse rings a busy member", strategy: switchboard.StrategyRingAll, ringInUse: "yes",
			statuses: []memberStatus{busy(free(1, 0)), free(2, 0)}, want: []int64{1, 2}},
		{name: "the next tier once the lower one was tried", strategy: switchboard.StrategyRingAll,
			statuses: []memberStatus{free(1, 1), free(2, 0), free(3, 0)}, tried: []int64{2, 3}, want: []int64{1}},
		{name: "nobody left this round", strategy: switchboard.StrategyLinear,
			statuses: three, tried: []int64{1, 2, 3}, want: nil},
		{name: "linear starts from the top", strategy: switchboard.StrategyLinear, statuses: three, want: []int64{1}},
		{name: "linear goes on down", strategy: switchboard.StrategyLinear, statuses: three, tried: []int64{1}, want: []int64{2}},
		{name: "rrmemory after the member rung last", strategy: switchboard.StrategyRRMemory, statuses: three, want: []int64{3}},
		{name: "rrmemory wraps around", strategy: switchboard.StrategyRRMemory, statuses: three, tried: []int64{3},
			want: []int64{1}},
		{name: "fewestcalls", strategy: switchboard.StrategyFewestCalls, statuses: three, want: []int64{2}},
		{name: "leastrecent", strategy: switchboard.StrategyLeastRecent, statuses: three, want: []int64{1}},
		{name: "random draws one of the tier", strategy: switchboard.StrategyRandom, statuses: three, draws: []int{2},
			want: []int64{3}},
		{name: "random never leaves the lowest tier", strategy: switchboard.StrategyRandom,
			statuses: []memberStatus{free(1, 0), free(2, 5), free(3, 0)}, draws: []int{1}, want: []int64{3}},
		{name: "wrandom rings the lowest draw", strategy: switchboard.StrategyWRandom,
			statuses: []memberStatus{free(1, 0), free(2, 5), free(3, 0)}, draws: []int{900, 100, 400}, want: []int64{2}},
		{name: "wrandom keeps the first of equal draws", strategy: switchboard.StrategyWRandom, statuses: three,
			draws: []int{7, 7, 7}, want: []int64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &switchboard.Queue{Strategy: tc.strategy, RingInUse: tc.ringInUse}
			if q.RingInUse == "" {
				q.RingInUse = "no"
			}
			tried := map[int64]bool{}
			for _, id := range tc.tried {
				tried[id] = true
			}
			draws := tc.draws
			intn := func(n int) int {
				if len(draws) == 0 {
					t.Fatalf("the strategy drew more random numbers than the %d expected", len(tc.draws))
				}
				d := draws[0]
				draws = draws[1:]
				if d < 0 || d >= n {
					t.Fatalf("draw %d is outside [0, %d)", d, n)
				}
				return d
			}
			var got []int64
			for _, m := range pickMembers(q, &history, tried, tc.statuses, intn) {
				got = append(got, m.UserID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members rung (-want +got):\n%s", diff)
			}
			if len(draws) != 0 {
				t.Errorf("%d random draws left unused", len(draws))
			}
		})
	}
}

// TestQueueEmpty is joinempty and leavewhenempty on member states.
func TestQueueEmpty(t *testing.T) {
	online := memberStatus{online: true}
	pausedOnline := memberStatus{online: true, m: switchboard.QueueMember{Paused: true}}
	offline := memberStatus{}
	for _, tc := range []struct {
		setting string
		join    bool
		st      []memberStatus
		want    bool
	}{
		{"yes", true, nil, false},
		{"no", false, nil, false},
		{"no", true, []memberStatus{offline, pausedOnline}, true},
		{"no", true, []memberStatus{online}, false},
		{"yes", false, []memberStatus{pausedOnline}, true},
		{"strict", false, []memberStatus{pausedOnline, offline}, true},
		{"loose", true, []memberStatus{pausedOnline}, false},
		{"loose", true, []memberStatus{offline}, true},
	} {
		if got := queueEmpty(tc.setting, tc.join, tc.st); got != tc.want {
			t.Errorf("queueEmpty(%q, join=%v, %d members) = %v, want %v", tc.setting, tc.join, len(tc.st), got, tc.want)
		}
	}
}
