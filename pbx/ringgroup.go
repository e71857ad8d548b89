package pbx

import (
	"context"
	"strconv"
	"time"

	"switchboard"
	"switchboard/events"
)

// runRingGroup rings ring group groupID's members, all at once (simultaneous) or one after
// the other (sequential), while the caller hears ringing. When someone answers the caller
// is bridged to them until the call ends (done); when nobody does, the group's fallback
// target is returned.
func (c *call) runRingGroup(st *callerState, groupID int64) (switchboard.Target, bool) {
	e := c.e
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	rg, err := e.store.GetRingGroup(ctx, c.accountID, groupID)
	cancel()
	if err != nil {
		e.log.Error("ring group unavailable", "uniqueid", c.id, "ring_group_id", groupID, "error", err)
		return switchboard.Target{}, false
	}
	g := &switchboard.GroupCall{AccountID: c.accountID, GroupType: switchboard.TargetRingGroup, GroupID: rg.ID,
		GroupName: rg.Name, UniqueID: c.id, StayID: strconv.FormatUint(e.seq.Add(1), 10), From: c.from,
		CallerName: c.callerName, To: c.to, EnteredAt: e.now().UTC()}
	sctx, scancel := context.WithTimeout(context.Background(), storeTimeout)
	err = e.store.StartGroupCall(sctx, g)
	scancel()
	if err != nil {
		e.log.Error("storing a ring group call failed", "uniqueid", c.id, "error", err)
		return rg.Fallback, false
	}
	via := map[string]any{events.FieldRingGroupID: rg.ID, events.FieldRingGroupName: rg.Name}
	users := map[int64]*switchboard.User{}
	// ring rings members for d and returns the answered leg, if any.
	ring := func(members []switchboard.RingGroupMember, d time.Duration) *leg {
		var dests []dest
		for _, m := range members {
			uctx, ucancel := context.WithTimeout(context.Background(), storeTimeout)
			u, err := e.store.GetUser(uctx, c.accountID, m.UserID)
			ucancel()
			if err != nil {
				continue
			}
			ds := c.destsOf(u)
			if len(ds) == 0 {
				continue // offline: skipped
			}
			users[u.ID] = u
			dests = append(dests, ds...)
			if c.direction == switchboard.CallInbound {
				c.emit(c.event(switchboard.EventCallInboundRinging, u, via))
			}
		}
		if len(dests) == 0 {
			return nil
		}
		return c.ringUntil(st, dests, e.now().Add(d))
	}
	groupTime := time.Duration(rg.RingTime) * time.Second
	var winner *leg
	if rg.Strategy == switchboard.RingSequential {
		for _, m := range rg.Members {
			if st.a.ended() {
				break
			}
			d := groupTime
			if m.RingTime > 0 {
				d = time.Duration(m.RingTime) * time.Second
			}
			if winner = ring([]switchboard.RingGroupMember{m}, d); winner != nil {
				break
			}
		}
	} else {
		winner = ring(rg.Members, groupTime)
	}
	if winner != nil && st.a.ended() {
		winner.hangup()
		winner = nil
	}
	if winner == nil {
		g.LeftAt, g.Status = e.now().UTC(), switchboard.GroupCallNoAnswer
		if st.a.ended() {
			g.Status = switchboard.GroupCallAbandoned
		}
		c.endStay(g, c.summary(g))
		if st.a.ended() {
			c.finish(switchboard.DispositionCancelled)
			return switchboard.Target{}, true
		}
		return rg.Fallback, false
	}
	agent := users[winner.userID]
	if winner.pickedUpBy != nil {
		agent = winner.pickedUpBy // picked up (*8): the picker answered
	}
	g.AnsweredAt, g.UserID, g.Extension, g.UserName = e.now().UTC(), agent.ID, agent.Extension, agent.DisplayName()
	actx, acancel := context.WithTimeout(context.Background(), storeTimeout)
	if err := e.store.AnswerGroupCall(actx, g); err != nil {
		e.log.Error("storing a ring group answer failed", "uniqueid", c.id, "error", err)
	}
	acancel()
	c.connect(st, winner, agent, via, nil)
	g.LeftAt, g.Status = e.now().UTC(), switchboard.GroupCallAnswered
	c.endStay(g, c.summary(g))
	c.finish(switchboard.DispositionAnswered)
	return switchboard.Target{}, true
}
