package pbx

import (
	"context"
	"slices"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/events"
	"switchboard/sip"
)

// Call pickup: a user dials *8<extension> (directed) to take a call ringing that user's
// phones, or *8 alone (group) to take a call ringing any fellow member of a ring group the
// picker belongs to — whichever way the call reached that member (straight, through the
// ring group, through a queue), as Asterisk's pickup groups do. The oldest ringing call is
// taken. The picker's INVITE becomes the answered callee leg of the call: the ringing
// phones are cancelled, the caller is bridged to the picker, and call.picked_up is stored.
//
// Every fork (call.fork) publishes what it rings as a ringingSet; a pickup hands its leg
// to the fork over the set's unbuffered offers channel, so a call is taken only by the
// fork still ringing it. A call answered or ended meanwhile closed its set's done channel:
// the picker hears 481, and nothing of the call is touched.

// pickupPlan is what a *8 code asks for.
type pickupPlan struct {
	kind   string // events.PickupDirected or events.PickupGroup
	picker *switchboard.User
	// users are those whose ringing calls may be taken: the directed user, or the
	// members of the picker's ring groups.
	users map[int64]bool
	// target is the directed user (nil for a group pickup).
	target *switchboard.User
}

// planPickup checks a pickup code: ext is the extension after *8 ("" for a group pickup).
func (e *Engine) planPickup(ctx context.Context, picker *switchboard.User, ext string) (*pickupPlan, error) {
	if ext != "" {
		if !switchboard.ValidExtension(ext) {
			return nil, refuse(404, "Not Found: dial *8 and an extension, or *8 alone")
		}
		u, err := e.store.GetUserByExtension(ctx, picker.AccountID, ext)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return nil, refuse(404, "Not Found: no user with extension "+ext)
		}
		if err != nil {
			return nil, err
		}
		return &pickupPlan{kind: events.PickupDirected, picker: picker, users: map[int64]bool{u.ID: true}, target: u}, nil
	}
	groups, err := e.store.ListRingGroups(ctx, picker.AccountID)
	if err != nil {
		return nil, err
	}
	users := map[int64]bool{}
	for _, g := range groups {
		if !slices.ContainsFunc(g.Members, func(m switchboard.RingGroupMember) bool { return m.UserID == picker.ID }) {
			continue
		}
		for _, m := range g.Members {
			users[m.UserID] = true
		}
	}
	if len(users) == 0 {
		return nil, refuse(404, "Not Found: group pickup (*8) takes calls of your ring groups, and you are in none")
	}
	return &pickupPlan{kind: events.PickupGroup, picker: picker, users: users}, nil
}

// ringingSet is what one fork rings, published on its call for pickups to find.
type ringingSet struct {
	users map[int64]bool // whose phones ring
	// offers takes a picker's leg; unbuffered, so an offer is taken only by the fork while
	// it still rings.
	offers chan *pickupOffer
	done   chan struct{} // closed once the fork no longer takes offers
}

// pickupOffer is a picker's leg offered to a ringing fork.
type pickupOffer struct {
	l       *leg
	answer  []byte // our SDP for the picker's 200
	plan    *pickupPlan
	ringing int64 // the ringing user whose call it is
	// taken is told, once, whether the fork took charge of the leg (answered it, or
	// hung it up when the picker never confirmed); false leaves the leg to the picker.
	taken chan bool
}

// publishRinging makes the fork's ringing set findable by pickups.
func (c *call) publishRinging(rs *ringingSet) {
	c.mu.Lock()
	c.ringing = rs
	c.mu.Unlock()
}

// withdrawRinging ends the set: from then on no pickup can hand the fork a leg.
func (c *call) withdrawRinging(rs *ringingSet) {
	c.mu.Lock()
	if c.ringing == rs {
		c.ringing = nil
	}
	c.mu.Unlock()
	close(rs.done)
}

// pickupCandidate is a call a pickup may take.
type pickupCandidate struct {
	c       *call
	rs      *ringingSet
	ringing int64
	started time.Time
}

// ringingCalls returns the calls of the account now ringing one of the plan's users,
// oldest first. A call the picker placed is never theirs to pick up.
func (e *Engine) ringingCalls(pk *pickupPlan) []pickupCandidate {
	var out []pickupCandidate
	for _, c := range e.liveCalls() {
		if c.accountID != pk.picker.AccountID {
			continue
		}
		c.mu.Lock()
		rs, a := c.ringing, c.a
		c.mu.Unlock()
		if rs == nil || a != nil && a.userID == pk.picker.ID {
			continue
		}
		var ringing int64
		for id := range rs.users {
			if pk.users[id] && (ringing == 0 || id < ringing) {
				ringing = id
			}
		}
		if ringing != 0 {
			out = append(out, pickupCandidate{c: c, rs: rs, ringing: ringing, started: c.started})
		}
	}
	slices.SortFunc(out, func(x, y pickupCandidate) int { return x.started.Compare(y.started) })
	return out
}

// runPickup offers the picker's leg a (of the never started call c, which only carries
// it here) to the ringing calls the plan may take, oldest first. The call that takes it
// answers it and owns it; the picker's INVITE handler stays until the leg ends, as every
// INVITE handler does. Nothing ringing: 404; calls answered or ended meanwhile: 481.
func (c *call) runPickup(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	a.userID = p.pickup.picker.ID
	a.pickedUpBy = p.pickup.picker
	candidates := c.e.ringingCalls(p.pickup)
	if len(candidates) == 0 {
		a.reject(404, "Not Found: no ringing call to pick up")
		a.close()
		return
	}
	for _, cd := range candidates {
		a.c = cd.c // the leg belongs to the call that takes it; read there after the send
		offer := &pickupOffer{l: a, answer: answer, plan: p.pickup, ringing: cd.ringing, taken: make(chan bool, 1)}
		select {
		case cd.rs.offers <- offer:
			if <-offer.taken {
				select {
				case <-a.ctx().Done():
				case <-cd.c.endedC:
				}
				return
			}
		case <-cd.rs.done:
		case <-a.ctx().Done(): // the picker gave up (CANCEL, answered by the dialog)
			a.c = c
			a.close()
			return
		}
	}
	a.c = c
	a.reject(481, "Call/Transaction Does Not Exist: the call was answered or ended before the pickup")
	a.close()
}

// takePickup is the fork's side of a pickup: unless the ring already ended, the picker's
// INVITE is answered and, once its ACK came, the picker is the call's answered callee
// (true) and call.picked_up is stored. A picker who never confirms is hung up and the call
// rings on (false).
func (c *call) takePickup(ringCtx context.Context, o *pickupOffer) bool {
	if ringCtx.Err() != nil {
		o.taken <- false // ring time over or the caller gone: the picker hears 481
		return false
	}
	o.taken <- true
	l := o.l
	acked := make(chan error, 1)
	go func() { acked <- l.respondFinal(sipmsg.NewSDPResponseFromRequest(l.uas.InviteRequest, o.answer)) }()
	timer := time.NewTimer(c.e.cfg.AckTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-acked:
		if err == nil {
			err = l.lateAnswerError()
		}
	case <-timer.C:
		err = errNoAck
	case <-l.ctx().Done():
		err = errAckInterrupted
	case <-c.hangupC:
		err = errAckInterrupted
	}
	if err != nil {
		c.e.log.Warn("the picker did not take the answer; the call rings on", "uniqueid", c.id, "error", err)
		l.inviteTx.Terminate()
		l.hangup()
		return false
	}
	l.light(sip.DialogConfirmed) // the picker's busy lamp: on a call now
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	ringing, gerr := c.e.store.GetUser(ctx, c.accountID, o.ringing)
	cancel()
	extra := map[string]any{events.FieldPickup: o.plan.kind, events.FieldRingingUserID: o.ringing}
	if gerr == nil {
		extra[events.FieldRingingExtension], extra[events.FieldRingingUserName] = ringing.Extension, ringing.DisplayName()
	}
	c.emit(c.event(switchboard.EventCallPickedUp, o.plan.picker, extra))
	c.e.log.Info("call picked up", "uniqueid", c.id, "pickup", o.plan.kind, "by_user_id", o.plan.picker.ID,
		"ringing_user_id", o.ringing)
	return true
}

// handOverParty makes the picker the call's party in place of the user(s) it rang: the
// callee of a direct call is not on it any more (their channels, call waiting).
func (c *call) handOverParty(picker *switchboard.User) {
	e := c.e
	e.mu.Lock()
	c.mu.Lock()
	live := e.calls[c.id] == c
	kept, present := c.parties[:0:0], false
	for _, p := range c.parties {
		present = present || p.userID == picker.ID
		if p.direction == switchboard.CallInbound && p.userID != picker.ID {
			if k := (agentKey{c.accountID, p.userID}); live {
				if e.busy[k]--; e.busy[k] <= 0 {
					delete(e.busy, k)
				}
			}
			continue
		}
		kept = append(kept, p)
	}
	c.parties = kept
	c.mu.Unlock()
	e.mu.Unlock()
	if present {
		e.queues.changed()
		return
	}
	c.addParty(party{userID: picker.ID, direction: switchboard.CallInbound, from: c.from, to: c.to})
}
