package pbx

import (
	"context"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
	"switchboard/sip"
)

// Call park. A phone parks the other party by blind-transferring it to a park slot: 701 to
// 720, or 700 for the first free one. The parked party hears hold music; the parker hears
// the slot spoken (slotAnnouncement) and is released. Any
// phone of the account dialling the slot retrieves the call; an empty slot answers 404, a
// taken one (or a full lot) refuses the REFER with 486. When nobody retrieves the call
// within the park timeout, it rings the parker's phones again; if the parker does not
// answer either, the call ends.

// The park lot's slots; dialling parkAny parks in the first free one.
const (
	parkAny   = 700
	parkFirst = 701
	parkLast  = 720
)

// defaultParkTimeout is how long a call stays parked before it rings the parker back.
const defaultParkTimeout = 45 * time.Second

type parkKey struct {
	accountID int64
	slot      string
}

// parkedCall is a call in a park slot. transferee is set once the park has started (a
// slot reserved by a REFER still being answered is not retrievable yet).
type parkedCall struct {
	c          *call
	transferee *leg
	retrieved  chan *leg     // the retriever's answered leg, handed to the park's goroutine
	gone       chan struct{} // closed when the park ends without a retrieval
}

// isParkSlot reports whether a dialled string is the park lot's.
func (e *Engine) isParkSlot(dialled string) bool {
	n, err := strconv.Atoi(dialled)
	return err == nil && strconv.Itoa(n) == dialled && n >= parkAny && n <= parkLast
}

// reservePark takes slot `to` (or the first free one for 700) for call c.
func (e *Engine) reservePark(c *call, to string) (string, error) {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	if e.parked == nil {
		e.parked = map[parkKey]*parkedCall{}
	}
	take := func(slot string) string {
		e.parked[parkKey{c.accountID, slot}] = &parkedCall{c: c, retrieved: make(chan *leg), gone: make(chan struct{})}
		return slot
	}
	if to != strconv.Itoa(parkAny) {
		if e.parked[parkKey{c.accountID, to}] != nil {
			return "", refuse(486, "Busy Here: park slot "+to+" is taken")
		}
		return take(to), nil
	}
	for n := parkFirst; n <= parkLast; n++ {
		if slot := strconv.Itoa(n); e.parked[parkKey{c.accountID, slot}] == nil {
			return take(slot), nil
		}
	}
	return "", refuse(486, "Busy Here: every park slot is taken")
}

// claimPark takes the parked call out of its slot (a retrieval or the timeout); nil when
// the slot holds no parked call of that call (want nil: any parked call).
func (e *Engine) claimPark(k parkKey, want *call) *parkedCall {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	pc := e.parked[k]
	if pc == nil || pc.transferee == nil || want != nil && pc.c != want {
		return nil
	}
	delete(e.parked, k)
	return pc
}

// unclaimPark puts a parked call back in its slot after a retrieval failed.
func (e *Engine) unclaimPark(k parkKey, pc *parkedCall) {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	if e.parked[k] == nil {
		e.parked[k] = pc
	}
}

// freePark gives back a slot reserved by call c that was never parked in (or that it left).
func (e *Engine) freePark(k parkKey, c *call) {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	if pc := e.parked[k]; pc != nil && pc.c == c {
		delete(e.parked, k)
	}
}

// ParkedCalls is the number of calls in park slots (tests check the lot empties).
func (e *Engine) ParkedCalls() int {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	return len(e.parked)
}

// park holds the transferee in slot until someone retrieves it, it hangs up, or the timeout
// rings the parker back.
func (c *call) park(t transferor, transferee *leg, slot string) {
	e := c.e
	k := parkKey{c.accountID, slot}
	e.parkMu.Lock()
	pc := e.parked[k]
	if pc != nil && pc.c == c {
		pc.transferee = transferee
	}
	e.parkMu.Unlock()
	if pc == nil || pc.c != c {
		t.notify("500 Server Internal Error", true)
		c.hangup("park slot lost")
		return
	}
	stop := c.playHold(transferee)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	c.mu.Lock()
	c.transferredBy, c.transferredTo = t.by, slot
	c.mu.Unlock()
	c.emit(c.event(switchboard.EventCallParked, t.by, map[string]any{events.FieldParkSlot: slot}))
	if t.by != nil {
		c.removeParty(t.by.ID)
	}
	if t.referred && !t.l.ended() {
		// The parker hears where the call is before it is released.
		actx, acancel := context.WithTimeout(t.l.ctx(), 10*time.Second)
		_ = t.l.media.Play(actx, media.PCM(c.slotAnnouncement(actx, slot)))
		acancel()
	}
	c.releaseTransferor(t)

	ctx, cancel := c.transferContext(transferee)
	defer cancel()
	// The timeout runs on the engine's clock, looked at every QueuePoll, so tests move a
	// clock instead of waiting 45 s.
	deadline := e.now().Add(e.cfg.ParkTimeout)
	tick := time.NewTicker(e.cfg.QueuePoll)
	defer tick.Stop()
	var r *leg
	for r == nil {
		select {
		case r = <-pc.retrieved:
			continue
		case <-ctx.Done():
			// The parked party hung up (or the call is ending): a retriever who claimed
			// the slot meanwhile sees gone and hangs up its leg.
			e.freePark(k, c)
			close(pc.gone)
			return
		case <-tick.C:
		}
		if !e.now().Before(deadline) {
			if e.claimPark(k, c) == nil {
				continue // a retriever has it: wait for its leg
			}
			close(pc.gone)
			c.parkReturn(t.by, transferee, slot, stop, &stopped)
			return
		}
	}
	stop()
	stopped = true
	if !c.attach(transferee, r) {
		r.hangup()
		return
	}
	var u *switchboard.User
	uctx, ucancel := context.WithTimeout(context.Background(), lookupTimeout)
	u, _ = e.store.GetUser(uctx, c.accountID, r.userID)
	ucancel()
	c.parkTaken(u, t.by, slot, false)
}

// parkTaken credits the user who took the parked call and stores call.retrieved.
func (c *call) parkTaken(u, parker *switchboard.User, slot string, returned bool) {
	c.mu.Lock()
	if u != nil {
		c.answeredBy = u
		if c.direction == switchboard.CallInbound {
			c.user = u
		}
	}
	c.mu.Unlock()
	if u != nil {
		c.addParty(party{userID: u.ID, direction: switchboard.CallInbound, from: c.from, to: slot})
	}
	extra := map[string]any{events.FieldParkSlot: slot, events.FieldReturned: returned}
	if parker != nil {
		extra[events.FieldParkedByUserID] = parker.ID
	}
	c.emit(c.event(switchboard.EventCallRetrieved, u, extra))
}

// parkReturn rings the parker's phones for a parked call nobody took; unanswered, the call
// ends.
func (c *call) parkReturn(parker *switchboard.User, transferee *leg, slot string, stop func(), stopped *bool) {
	if parker == nil {
		c.hangup("park timeout")
		return
	}
	dests := c.destsOf(parker)
	ctx, cancel := c.transferContext(transferee)
	rctx, rcancel := context.WithTimeout(ctx, c.e.cfg.DefaultRingTime)
	var w *leg
	if len(dests) > 0 {
		w = c.fork(rctx, dests, forkHooks{}).winner
	}
	rcancel()
	cancel()
	stop()
	*stopped = true
	if w == nil || !c.attach(transferee, w) {
		if w != nil {
			w.hangup()
		}
		c.hangup("park timeout: the parker did not answer")
		return
	}
	c.parkTaken(parker, parker, slot, true)
}

// retrieve answers a phone that dialled a park slot and joins it to the parked call.
func (e *Engine) retrieve(req *sipmsg.Request, tx sipmsg.ServerTransaction, dev *switchboard.Device, offer *media.Remote, slot string) {
	reply := func(code int, reason string) { _ = tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil)) }
	if offer == nil {
		reply(488, "Not Acceptable Here: an offer is required to retrieve a parked call")
		return
	}
	k := parkKey{dev.AccountID, slot}
	pc := e.claimPark(k, nil)
	if pc == nil {
		reply(404, "Not Found: no call is parked in "+slot)
		return
	}
	c := pc.c
	// A retrieval that fails puts the call back in its slot.
	unclaim := func() { e.unclaimPark(k, pc) }
	giveBack := func(code int, reason string) {
		reply(code, reason)
		unclaim()
	}
	ua, err := e.dialogUA(req.Transport())
	if err != nil {
		giveBack(503, "Service Unavailable")
		return
	}
	dtx, err := ua.ReadInvite(req, tx)
	if err != nil {
		giveBack(400, "Bad Request")
		return
	}
	sess, err := e.newMedia()
	if err != nil {
		_ = dtx.Respond(503, "Service Unavailable", nil)
		unclaim()
		return
	}
	r := &leg{c: c, media: sess, uas: dtx, inviteTx: tx, userID: dev.UserID, peerAddr: req.Source(),
		secure: offer.Crypto != nil || dev.RequireSecure}
	natAdjust(req, offer)
	var answer []byte
	if err = r.setRemote(offer); err == nil {
		answer, err = r.sdpAnswer(offer)
	}
	if err != nil || !e.track() {
		sess.Close()
		_ = dtx.Respond(488, "Not Acceptable Here", nil)
		unclaim()
		return
	}
	defer e.wg.Done()
	r.setDialogID(dtx.ID)
	acked := make(chan error, 1)
	go func() { acked <- r.respondFinal(sipmsg.NewSDPResponseFromRequest(dtx.InviteRequest, answer)) }()
	timer := time.NewTimer(e.cfg.AckTimeout)
	select {
	case err = <-acked:
	case <-timer.C:
		err = errNoAck
		tx.Terminate()
	}
	timer.Stop()
	if err != nil {
		r.hangup()
		unclaim()
		return
	}
	r.light(sip.DialogConfirmed) // the retriever's busy lamp: in a call
	select {
	case pc.retrieved <- r:
	case <-pc.gone:
		r.hangup()
		return
	}
	// sipgo ends the INVITE transaction when this handler returns: it returns once the
	// retriever's leg has ended (the call hangs it up when it ends).
	select {
	case <-r.ctx().Done():
	case <-c.hangupC:
	}
}

// slotAnnouncement says "parked at" and the slot's digits in the call's language; without
// a prompt library the slot is played as DTMF tones (which phones and people can read).
func (c *call) slotAnnouncement(ctx context.Context, slot string) []int16 {
	if c.e.promptLibrary() == nil {
		return media.DTMFTones(slot)
	}
	pcm := c.e.systemPrompt(ctx, c.accountID, switchboard.SysPromptParkSlot, c.language, silence)
	for _, d := range slot {
		if d < '0' || d > '9' {
			continue
		}
		pcm = append(pcm, c.e.systemPrompt(ctx, c.accountID, switchboard.SysPromptDigit(int(d-'0')), c.language,
			func() []int16 { return media.DTMFTones(string(d)) })...)
	}
	return pcm
}
