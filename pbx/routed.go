package pbx

import (
	"context"
	"errors"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/flow"
)

// A call routed to a queue or ring group is driven here: its caller's side (answered by a
// queue to hear music, or hearing ringing), the walk along overflow and fallback targets,
// ringing members until a deadline on the engine's clock, bridging the one who answers,
// and the record of the stay. queue.go and ringgroup.go decide whom to ring.

// callerState is the caller's side of a call routed to queues and ring groups.
type callerState struct {
	a        *leg
	answer   []byte
	p        *plan
	answered bool   // the caller's INVITE was answered (a queue answers to play music)
	mohStop  func() // stops the queue's music on hold (or a flow's ringback), while it plays
	flow     flowState
}

// answerCaller answers the caller's INVITE (once) and waits for the ACK.
func (c *call) answerCaller(st *callerState) bool {
	if st.answered {
		return true
	}
	if err := c.answerCallerAndAwaitAck(st.a, st.answer, nil); err != nil {
		c.e.log.Warn("caller did not take the answer", "uniqueid", c.id, "error", err)
		return false
	}
	st.answered = true
	return true
}

// maxTargetHops cuts overflow and fallback chains that a configuration made circular.
const maxTargetHops = 8

// runRouted drives a call whose first target is a queue or ring group, following overflow
// and fallback targets until someone answers, the caller leaves, or no target is left.
func (c *call) runRouted(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	if !c.begin(a) {
		return
	}
	st := &callerState{a: a, answer: answer, p: p}
	c.walkTargets(st, p.target)
}

// walkTargets runs the call from target (a queue, ring group or call flow) along overflow
// and fallback targets to its end: a routed call from its start, a transferred call from
// the transfer.
func (c *call) walkTargets(st *callerState, target switchboard.Target) {
	defer c.stopMOH(st)
	if r := c.walk(st, target, false); !r.done {
		c.endUnanswered(st, r.disposition, r.code, r.reason)
	}
}

// walkResult is how a walk along targets ended: done (the call is finished: answered and
// over, or the caller left), or not answered, with how to end the call and, for a flow, the
// outcome.
type walkResult struct {
	done        bool
	outcome     flow.Outcome
	disposition switchboard.CallDisposition
	code        int
	reason      string
}

func unanswered(o flow.Outcome, d switchboard.CallDisposition, code int, reason string) walkResult {
	return walkResult{outcome: o, disposition: d, code: code, reason: reason}
}

var walkDone = walkResult{done: true}

// walk runs the call from target along overflow and fallback targets until someone
// answers, the caller leaves (done), or no target is left. only stops after target itself
// (a flow's node with a next node of its own: the flow, not the target, says what follows).
// A call flow among the targets runs to the call's end.
func (c *call) walk(st *callerState, target switchboard.Target, only bool) walkResult {
	visited := map[switchboard.Target]bool{}
	for hops := 0; ; hops++ {
		if target.Type == switchboard.TargetNone || target.Type == switchboard.TargetHangup {
			return unanswered(flow.NoAnswer, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
		}
		if visited[target] || hops >= maxTargetHops {
			c.e.log.Warn("routing loop cut: the overflow/fallback targets lead back", "uniqueid", c.id,
				"target_type", target.Type, "target_id", target.ID)
			return unanswered(flow.Unavailable, switchboard.DispositionFailed, 482, "Loop Detected")
		}
		visited[target] = true
		var next switchboard.Target
		var done bool
		switch target.Type {
		case switchboard.TargetQueue:
			next, done = c.runQueue(st, target.ID)
		case switchboard.TargetRingGroup:
			next, done = c.runRingGroup(st, target.ID)
		case switchboard.TargetUser, switchboard.TargetExternal:
			return c.ringDirect(st, target)
		case switchboard.TargetCallFlow:
			c.runFlow(st, target.ID)
			return walkDone
		case switchboard.TargetConference:
			c.runConference(st, target.ID)
			return walkDone
		default:
			return unanswered(flow.Unavailable, switchboard.DispositionFailed, 480, "Temporarily Unavailable")
		}
		if done {
			return walkDone
		}
		if st.a.ended() {
			c.finish(switchboard.DispositionCancelled)
			return walkDone
		}
		if only {
			return unanswered(flow.NoAnswer, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
		}
		target = next
	}
}

// endUnanswered ends a call nobody answered: the caller is told code (or sent a BYE when
// the queue had answered it), and the record is closed.
func (c *call) endUnanswered(st *callerState, d switchboard.CallDisposition, code int, reason string) {
	c.stopMOH(st)
	if st.a.ended() {
		d = switchboard.DispositionCancelled
	} else if !st.answered {
		st.a.reject(code, reason)
	}
	c.finish(d)
}

// connect bridges the caller to the answered leg b of user u, answering the caller if no
// queue did, and waits for either side to hang up. It reports false when the caller was
// gone before the bridge. bridged, when not nil, runs right after the bridge is attempted
// and before the call's answered event: work that need not keep the caller in silence.
func (c *call) connect(st *callerState, b *leg, u *switchboard.User, via map[string]any, bridged func()) bool {
	c.stopMOH(st)
	c.mu.Lock()
	c.b = b
	c.legsSwapped()
	if u != nil && c.direction == switchboard.CallInbound {
		c.user = u // an inbound call is the answering agent's; an outbound one stays the caller's
	}
	c.via = via
	c.mu.Unlock()
	if u != nil {
		c.addParty(party{userID: u.ID, direction: switchboard.CallInbound, from: c.from, to: c.to})
	}
	err := c.bridge(st.a, b)
	if err == nil && !b.answeredAt.IsZero() {
		c.e.answerDelay.observe(time.Since(b.answeredAt))
	}
	if bridged != nil {
		bridged()
	}
	if err != nil {
		c.e.log.Error("bridging failed", "uniqueid", c.id, "error", err)
		return false
	}
	c.markAnswered(u)
	if !st.answered && !c.answerCaller(st) {
		return false
	}
	c.waitEnd()
	return true
}

// destsOf returns the registered phones of user u as destinations showing the caller.
func (c *call) destsOf(u *switchboard.User) []dest {
	p := &plan{}
	err := c.e.planUser(context.Background(), p, u, c.from, c.callerName)
	// A member's forward passes the toll-fraud guards' checks but holds no slot: the queue
	// rings members again and again, and each try would take one more until the call ends.
	p.release()
	if err != nil {
		return nil
	}
	return p.dests
}

// ringUntil rings dests until one answers, the deadline passes on the engine's clock, or
// the caller leaves. The caller hears ringing when nobody answered its INVITE yet.
func (c *call) ringUntil(st *callerState, dests []dest, deadline time.Time) *leg {
	var ringing func()
	if !st.answered {
		ringing = func() { c.sendRinging(st.a, nil) }
	}
	return c.ringWithin(st.a.ctx(), dests, deadline, ringing)
}

// ringWithin rings dests until one answers, the deadline passes on the engine's clock,
// parent ends or the call is asked to hang up; ringing, if not nil, runs when a
// destination rings. A queue callback rings agents with no caller on the line: its parent
// ends when the engine stops.
func (c *call) ringWithin(parent context.Context, dests []dest, deadline time.Time, ringing func()) *leg {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		stop, cancelStop := context.WithCancel(ctx)
		defer cancelStop()
		go func() {
			select {
			case <-c.hangupC:
				cancel()
			case <-stop.Done():
			}
		}()
		if c.e.sleepUntil(ctx, deadline) {
			cancel()
		}
	}()
	hooks := forkHooks{ringing: ringing}
	result := make(chan forkResult, 1)
	c.e.wg.Add(1) // in the call's goroutine: wg is above zero
	go func() {
		defer c.e.wg.Done()
		result <- c.fork(ctx, dests, hooks)
	}()
	select {
	case r := <-result:
		return r.winner
	case <-ctx.Done():
		// The deadline passed or the caller left: the queue's timers (max wait, abandon)
		// go on now. The fork may not be done yet: a phone that never answered the INVITE
		// (it vanished) cannot be cancelled until it does (RFC 3261 §9.1), so its
		// transaction runs out timer B, 32 s. The fork finishes in the background, and a
		// phone that answers meanwhile is hung up.
		c.e.wg.Add(1)
		go func() {
			defer c.e.wg.Done()
			if r := <-result; r.winner != nil {
				r.winner.hangup()
			}
		}()
		return nil
	}
}

// hangingUp reports whether the call was asked to end (shutdown).
func (c *call) hangingUp() bool {
	select {
	case <-c.hangupC:
		return true
	default:
		return false
	}
}

// endStay stores the end of a stay with its events.
func (c *call) endStay(g *switchboard.GroupCall, evs ...*switchboard.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := c.e.store.EndGroupCall(ctx, g, evs...); err != nil {
		c.e.log.Error("storing the end of a queue or ring group stay failed", "uniqueid", c.id, "error", err)
	}
}

// summary is the queue.call.summary or ringgroup.call.summary of a stay as it ends. The
// wait and talk times are computed here as the store will (whole seconds).
func (c *call) summary(g *switchboard.GroupCall) *switchboard.Event {
	wait, talk := 0, 0
	if g.AnsweredAt.IsZero() {
		wait = max(0, int(g.LeftAt.Sub(g.EnteredAt)/time.Second))
	} else {
		wait = max(0, int(g.AnsweredAt.Sub(g.EnteredAt)/time.Second))
		talk = max(0, int(g.LeftAt.Sub(g.AnsweredAt)/time.Second))
	}
	data := map[string]any{
		events.FieldAnswered: !g.AnsweredAt.IsZero(), events.FieldWaitTime: wait,
		events.FieldDuration:         max(0, int(g.LeftAt.Sub(g.EnteredAt)/time.Second)),
		events.FieldAnsweredDuration: talk,
	}
	name := switchboard.EventQueueCallSummary
	if g.GroupType == switchboard.TargetRingGroup {
		name = switchboard.EventRingGroupCallSummary
		data[events.FieldRingGroupID], data[events.FieldRingGroupName] = g.GroupID, g.GroupName
	} else {
		data[events.FieldQueueID], data[events.FieldQueueName] = g.GroupID, g.GroupName
	}
	var u *switchboard.User
	if g.UserID != 0 {
		u = &switchboard.User{ID: g.UserID, Extension: g.Extension, CallerIDName: g.UserName}
	}
	return c.event(name, u, data)
}

// ringDirect rings a user or an external number (an overflow or fallback target, a flow's
// node) until one answers, bridges and runs the call to its end (done), or reports why
// nobody answered: busy (do not disturb, call waiting off), unavailable (no phone, no
// trunk) or no answer.
func (c *call) ringDirect(st *callerState, t switchboard.Target) walkResult {
	e := c.e
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	var dests []dest
	var u *switchboard.User
	ringTime := externalRingTime
	why := flow.Unavailable
	switch t.Type {
	case switchboard.TargetUser:
		var err error
		if u, err = e.store.GetUser(ctx, c.accountID, t.ID); err == nil {
			p := &plan{}
			err := e.planUser(ctx, p, u, c.from, c.callerName)
			if err == nil {
				dests, ringTime = p.dests, p.ringTime
				c.takeSlots(p)
			} else if r := (*refusal)(nil); errors.As(err, &r) && r.code == 486 {
				why = flow.Busy
			}
			if c.direction == switchboard.CallInbound && len(dests) > 0 {
				c.emit(c.event(switchboard.EventCallInboundRinging, u, nil))
			}
		}
	case switchboard.TargetExternal:
		if trunk, err := e.accountTrunk(ctx, c.accountID); err == nil {
			if d, err := e.trunkDest(trunk, t.Number, c.from, c.callerName); err == nil {
				if slot, err := e.guardOutbound(ctx, c.accountID, nil, t.Number); err == nil {
					c.takeSlots(&plan{slots: []*outboundSlot{slot}})
					dests = []dest{d}
				}
			}
		}
	}
	cancel()
	if len(dests) == 0 {
		return unanswered(why, switchboard.DispositionFailed, 480, "Temporarily Unavailable")
	}
	winner := c.ringUntil(st, dests, e.now().Add(ringTime))
	if winner == nil || st.a.ended() {
		if winner != nil {
			winner.hangup()
		}
		if st.a.ended() {
			c.finish(switchboard.DispositionCancelled)
			return walkDone
		}
		return unanswered(flow.NoAnswer, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
	}
	c.connect(st, winner, u, nil, nil)
	c.finish(switchboard.DispositionAnswered)
	return walkDone
}
