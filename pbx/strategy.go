package pbx

import (
	"slices"
	"time"

	"switchboard"
)

// Queue strategies decide whom a waiting caller's next attempt rings. They are pure: the
// member statuses, what the queue remembers of its members and the random source come in as
// arguments, so every strategy is table-tested without calls (strategy_test.go).

// memberStatus is what the queue knows of one member now.
type memberStatus struct {
	m      switchboard.QueueMember
	online bool // a registered phone
	busy   bool // on a call or ringing for a queue
	wrapUp bool
	// refusing: the member's user takes no call now (do not disturb, or call waiting off
	// while on a call; Engine.takesCall), whatever ringinuse says.
	refusing bool
}

func (s memberStatus) available(ringInUse bool) bool {
	return s.online && !s.m.LoggedOut && !s.m.Paused && !s.wrapUp && !s.refusing && (ringInUse || !s.busy)
}

// memberHistory is what a queue remembers of its members for its strategies.
type memberHistory struct {
	callsTaken   map[int64]int       // fewestcalls: calls each member answered from this queue
	lastAnswered map[int64]time.Time // leastrecent: when each member last answered
	rrLast       int64               // rrmemory: the member rung last (user id)
}

func newMemberHistory() memberHistory {
	return memberHistory{callsTaken: map[int64]int{}, lastAnswered: map[int64]time.Time{}}
}

// queueEmpty applies joinempty/leavewhenempty as Asterisk maps them to member states: the
// queue is "empty" when no member is usable, a member being unusable when it is offline
// (Asterisk's invalid/unavailable: a logged-out agent) under no, loose and strict, or
// paused under no and strict. "yes" (join) / "no" (leave) never count the queue empty.
func queueEmpty(setting string, join bool, st []memberStatus) bool {
	excludePaused, excludeOffline := false, false
	switch {
	case setting == "strict":
		excludePaused, excludeOffline = true, true
	case setting == "loose":
		excludeOffline = true
	case setting == "no" && join, setting == "yes" && !join:
		excludePaused, excludeOffline = true, true
	default:
		return false
	}
	for _, s := range st {
		if excludeOffline && (!s.online || s.m.LoggedOut) { // logged out of the queue (agent.go)
			continue
		}
		if excludePaused && s.m.Paused {
			continue
		}
		return false
	}
	return true
}

// pickMembers chooses whom the caller's next attempt rings, in the strategy's order, from
// the available members not yet tried this round; ringall takes every one of the lowest
// penalty, the others one. intn(n) draws uniformly from [0, n) (rand.IntN in the engine).
func pickMembers(q *switchboard.Queue, h *memberHistory, tried map[int64]bool, st []memberStatus,
	intn func(n int) int) []switchboard.QueueMember {
	var cand []switchboard.QueueMember
	for _, s := range st {
		if s.available(q.RingInUse == "yes") && !tried[s.m.UserID] {
			cand = append(cand, s.m)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	if q.Strategy == switchboard.StrategyWRandom {
		// Asterisk's wrandom: each member draws a metric in [0, (penalty+1)*1000); the
		// lowest rings, so a higher penalty makes a member less likely to ring first.
		best, bestMetric := cand[0], -1
		for _, m := range cand {
			metric := intn((m.Penalty + 1) * 1000)
			if bestMetric < 0 || metric < bestMetric {
				best, bestMetric = m, metric
			}
		}
		return []switchboard.QueueMember{best}
	}
	// Penalty is the first key of every other strategy: higher penalties ring only once the
	// lower ones were tried this round.
	minPenalty := cand[0].Penalty
	for _, m := range cand {
		minPenalty = min(minPenalty, m.Penalty)
	}
	tier := cand[:0:0]
	for _, m := range cand {
		if m.Penalty == minPenalty {
			tier = append(tier, m)
		}
	}
	switch q.Strategy {
	case switchboard.StrategyRingAll:
		return tier
	case switchboard.StrategyLeastRecent:
		return []switchboard.QueueMember{slices.MinFunc(tier, func(a, b switchboard.QueueMember) int {
			return h.lastAnswered[a.UserID].Compare(h.lastAnswered[b.UserID])
		})}
	case switchboard.StrategyFewestCalls:
		return []switchboard.QueueMember{slices.MinFunc(tier, func(a, b switchboard.QueueMember) int {
			return h.callsTaken[a.UserID] - h.callsTaken[b.UserID]
		})}
	case switchboard.StrategyRandom:
		return []switchboard.QueueMember{tier[intn(len(tier))]}
	case switchboard.StrategyRRMemory:
		// The first member after the one rung last, in member order, wrapping around.
		for _, m := range tier {
			if m.UserID > h.rrLast {
				return []switchboard.QueueMember{m}
			}
		}
		return []switchboard.QueueMember{tier[0]}
	}
	return []switchboard.QueueMember{tier[0]} // linear: member order, every caller from the top
}
