package pbx

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/events"
)

// Transfers. A phone in an answered call transfers the other party (the transferee) with a
// REFER in its dialog (RFC 3515): blind, to whatever it dialled, or attended (RFC 3891's
// Replaces in the Refer-To), joining the transferee with the party of the phone's other
// call. The API transfers a call blind (TransferCall). The engine is a B2BUA, so the
// transferee never sees the REFER: the engine dials the target itself and swaps the legs of
// the call, which stays one call with one record. The transferor hears the outcome as
// NOTIFYs of the implicit refer subscription with a message/sipfrag body (RFC 5589).

// Transfer kinds, as the call.transferred event's transfer_type says them.
const (
	transferBlind    = "blind"
	transferAttended = "attended"
)

// transferorGrace is how long a transferor told of success (NOTIFY 200) has to hang up
// itself, as RFC 5589 has it, before the engine sends it a BYE.
const transferorGrace = 2 * time.Second

// referReply answers a REFER.
func referReply(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string) {
	_ = tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil))
}

// refuseRefer answers a REFER with the refusal err carries (claimTransfer's are all
// refusals).
func refuseRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction, err error) {
	var r *refusal
	errors.As(err, &r)
	referReply(req, tx, r.code, r.reason)
}

// acceptRefer answers 202: the REFER's outcome follows in NOTIFYs.
func (e *Engine) acceptRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	res := sipmsg.NewResponseFromRequest(req, 202, "Accepted", nil)
	res.AppendHeader(&sipmsg.ContactHeader{Address: e.sip.ContactHeaderFor(req.Transport()).Address})
	_ = tx.Respond(res)
}

// refer handles a REFER that leg t sent inside its dialog of call c. Everything that can be
// refused is checked before the 202: a refused REFER leaves the call as it was.
func (c *call) refer(t *leg, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	e := c.e
	if e.isStopping() {
		referReply(req, tx, 503, "Service Unavailable")
		return
	}
	if !t.fromPeer(req) {
		// Someone who learnt the dialog's identifiers, not the phone in it.
		referReply(req, tx, 403, "Forbidden: not a party to this call")
		return
	}
	if t.userID == 0 {
		referReply(req, tx, 403, "Forbidden: only the account's phones may transfer")
		return
	}
	referTo := req.ReferTo()
	if referTo == nil || referTo.Address.User == "" && referTo.Address.Headers == nil {
		referReply(req, tx, 400, "Bad Request: Refer-To is missing or names no one")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	if acct, known, err := e.sip.Tenant(ctx, referTo.Address.Host); err != nil {
		referReply(req, tx, 500, "Server Internal Error")
		return
	} else if !known || acct != nil && acct.ID != c.accountID {
		referReply(req, tx, 403, "Forbidden: the transfer target is outside the account")
		return
	}
	by, err := e.store.GetUser(ctx, c.accountID, t.userID)
	if err != nil {
		referReply(req, tx, 403, "Forbidden: only the account's users may transfer")
		return
	}
	if replaces, ok := referTo.Address.Headers.Get("Replaces"); ok {
		c.referAttended(t, by, replaces, req, tx)
		return
	}
	tt, err := e.transferTarget(ctx, c, by, referTo.Address.User)
	if err != nil {
		var r *refusal
		if errors.As(err, &r) {
			referReply(req, tx, r.code, r.reason)
		} else {
			e.log.Error("resolving a transfer target failed", "uniqueid", c.id, "error", err)
			referReply(req, tx, 500, "Server Internal Error")
		}
		return
	}
	transferee, err := c.claimTransfer(t)
	if err != nil {
		tt.release()
		refuseRefer(req, tx, err)
		return
	}
	if !e.track() {
		tt.release()
		c.endTransfer()
		referReply(req, tx, 503, "Service Unavailable")
		return
	}
	e.acceptRefer(req, tx)
	go func() {
		defer e.wg.Done()
		c.runBlind(transferor{l: t, by: by, referred: true}, transferee, tt)
	}()
}

// transferor is who hands a call over: the leg that leaves, its user, and whether it asked
// with a REFER (and so hears NOTIFYs) or the API did.
type transferor struct {
	l        *leg
	by       *switchboard.User
	referred bool
}

// notify tells a referring transferor how its transfer goes (RFC 5589's sipfrag).
func (t transferor) notify(status string, final bool) {
	if t.referred {
		t.l.notifyRefer(status, final)
	}
}

// fromPeer reports whether req comes from the leg's peer (its IP; the port may differ over
// TCP). A leg whose peer address is unknown (a trunk reached by name) takes none.
func (l *leg) fromPeer(req *sipmsg.Request) bool {
	peer, _, err := net.SplitHostPort(l.peerAddr)
	src, _, err2 := net.SplitHostPort(req.Source())
	return err == nil && err2 == nil && peer == src
}

// claimTransfer marks the call busy with a transfer by leg t (nil: the API) and returns the
// leg that stays, the transferee. It refuses a call that is not answered, is ending, or
// is already being transferred, and a t that is not one of its bridged legs.
func (c *call) claimTransfer(t *leg) (*leg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.finished || c.answered.IsZero() || c.a == nil || c.b == nil:
		return nil, refuse(403, "Forbidden: the call is not answered")
	case c.busyWith != "":
		return nil, refuse(491, "Request Pending: the call is already being transferred")
	case t == nil:
		// The API hands over the call of the user the record names: that user's leg goes.
		t = c.b
		if c.direction == switchboard.CallOutbound {
			t = c.a
		}
	case t != c.a && t != c.b:
		return nil, refuse(403, "Forbidden: not a party to this call")
	}
	c.busyWith = "transfer"
	if t == c.a {
		return c.b, nil
	}
	return c.a, nil
}

// endTransfer clears the call's transfer in progress.
func (c *call) endTransfer() {
	c.mu.Lock()
	c.busyWith = ""
	c.mu.Unlock()
}

// transferTarget is where a blind transfer goes.
type transferTarget struct {
	to   string // what was dialled
	plan *plan  // an extension or number: its destinations; a queue or ring group: plan.target
	slot string // a park slot, reserved by transferTarget
	free func() // gives the slot back
}

// release gives back what resolving the target reserved (toll-fraud slots, a park slot)
// when the transfer does not go ahead.
func (tt *transferTarget) release() {
	if tt.plan != nil {
		tt.plan.release()
	}
	if tt.free != nil {
		tt.free()
	}
}

// transferTarget resolves what a blind transfer dialled, in the call's account, as the
// transferor would have dialled it: an extension (user, queue, ring group), a number
// through the trunk, or a park slot. by is the transferor (nil: the API).
func (e *Engine) transferTarget(ctx context.Context, c *call, by *switchboard.User, to string) (*transferTarget, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return nil, refuse(400, "Bad Request: no transfer target")
	}
	if e.isParkSlot(to) {
		slot, err := e.reservePark(c, to)
		if err != nil {
			return nil, err
		}
		return &transferTarget{to: to, slot: slot, free: func() { e.freePark(parkKey{c.accountID, slot}, c) }}, nil
	}
	caller := by
	if caller == nil {
		caller = &switchboard.User{AccountID: c.accountID}
		c.mu.Lock()
		if c.user != nil {
			caller = c.user
		}
		c.mu.Unlock()
	}
	// The target sees who is being transferred to it, not the transferor.
	p, err := e.routeFromUser(ctx, caller, to, c.transfereeID())
	if err != nil {
		return nil, err
	}
	return &transferTarget{to: to, plan: p}, nil
}

// transfereeID is the caller id shown to a transfer's target: the call's caller.
func (c *call) transfereeID() string { return c.from }

// detach takes the transferor t out of the bridge, leaving the transferee e alone in slot a
// (the slot a queue or ring group walk bridges from). t stays the call's (extras) until its
// dialog ends. The music e heard because t held the call stops: the transfer plays its own.
func (c *call) detach(t, e *leg) {
	c.mu.Lock()
	relay := c.relay
	c.relay = nil
	c.a, c.b = e, nil
	if t != nil {
		c.extras = append(c.extras, t)
	}
	c.legsSwapped()
	c.mu.Unlock()
	if relay != nil {
		relay.Close()
	}
	c.recordingDrops(t) // its channel is silent until the transfer's target takes it
	c.stopHeldMusic(e)
}

// stopHeldMusic stops the music on hold l hears because the other party held the call.
func (c *call) stopHeldMusic(l *leg) {
	c.mu.Lock()
	stop := c.heldMusic[l]
	delete(c.heldMusic, l)
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// playHold plays the call's music on hold to l until the returned stop is called.
func (c *call) playHold(l *leg) (stop func()) {
	c.mu.Lock()
	class := c.musicClass
	c.mu.Unlock()
	return c.playMusic(l, class)
}

// transferContext ends when the transferee's dialog does or the call is asked to end.
func (c *call) transferContext(transferee *leg) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(transferee.ctx())
	go func() {
		select {
		case <-c.hangupC:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// runBlind carries out a blind transfer: the transferee hears hold music while the target
// rings; the transferor (t, nil for the API) is told 100, then the outcome. On an answer
// the target's leg takes the transferor's place; when nobody answers and the transferor is
// still there, the call goes back to it as it was.
func (c *call) runBlind(t transferor, transferee *leg, tt *transferTarget) {
	defer c.endTransfer()
	t.notify("100 Trying", false)
	c.detach(t.l, transferee)
	if tt.slot != "" {
		c.park(t, transferee, tt.slot)
		return
	}
	if tt.plan.target.Type != switchboard.TargetNone {
		// A queue or ring group takes the call at once, as a phone's blind transfer into
		// the dialplan does: the transferor is done, the caller walks the targets.
		c.transferDone(t, tt.to, nil, transferBlind)
		c.mu.Lock()
		c.busyWith = ""
		c.mu.Unlock()
		st := &callerState{a: transferee, answered: true, p: tt.plan}
		c.walkTargets(st, tt.plan.target)
		return
	}
	ctx, cancel := c.transferContext(transferee)
	stop := c.playHold(transferee)
	res := c.fork(ctx, tt.plan.dests, forkHooks{})
	cancel()
	stop()
	if res.winner == nil || !c.attach(transferee, res.winner) {
		if res.winner != nil {
			res.winner.hangup()
		}
		tt.release()
		code, reason := res.code, res.reason
		if code == 0 || transferee.ended() {
			code, reason = 487, "Request Terminated"
		}
		c.transferFailed(t, transferee, code, reason)
		return
	}
	c.takeSlots(tt.plan)
	u := tt.plan.userOf(res.winner)
	if res.winner.userID == 0 {
		u = nil // a number through the trunk
	}
	c.transferDone(t, tt.to, u, transferBlind)
}

// attach bridges the transferee with the leg w that now takes the transferor's place; false
// when the call ended meanwhile (w is then the caller's to hang up).
func (c *call) attach(transferee, w *leg) bool {
	c.mu.Lock()
	if c.finished || transferee.ended() {
		c.mu.Unlock()
		return false
	}
	c.a, c.b = transferee, w
	c.legsSwapped()
	c.mu.Unlock()
	if err := c.bridge(transferee, w); err != nil {
		c.e.log.Error("bridging a transfer failed", "uniqueid", c.id, "error", err)
		c.hangup("transfer bridge failed")
		return false
	}
	return true
}

// transferFailed tells the transferor the target's answer and gives it the call back; a
// transferor that already left leaves nobody for the transferee, whose call ends.
func (c *call) transferFailed(t transferor, transferee *leg, code int, reason string) {
	t.notify(strconv.Itoa(code)+" "+reason, true)
	if t.l.ended() || transferee.ended() {
		c.hangup("transfer failed")
		return
	}
	c.mu.Lock()
	c.extras = removeLeg(c.extras, t.l)
	c.mu.Unlock()
	if c.attach(transferee, t.l) && t.l.held() {
		// The transferor still holds the call: the transferee hears the music until it
		// resumes (takeHold stops it then).
		stop := c.playHold(transferee)
		c.mu.Lock()
		if c.heldMusic == nil {
			c.heldMusic = map[*leg]func(){}
		}
		c.heldMusic[transferee] = stop
		c.mu.Unlock()
	}
}

// transferDone records a completed transfer: the new party is the call's (record user,
// busy count), call.transferred is stored, and the transferor is told 200 and hung up.
func (c *call) transferDone(t transferor, to string, u *switchboard.User, kind string) {
	by := t.by
	c.mu.Lock()
	c.transferredBy, c.transferredTo = by, to
	if u != nil {
		c.answeredBy = u
		if c.direction == switchboard.CallInbound {
			c.user = u
		}
	}
	c.mu.Unlock()
	if by != nil {
		c.removeParty(by.ID)
	}
	if u != nil {
		c.addParty(party{userID: u.ID, direction: switchboard.CallInbound, from: c.from, to: to})
	}
	extra := map[string]any{events.FieldTransferType: kind, events.FieldTransferTo: to}
	if u != nil {
		extra[events.FieldTransferToUserID] = u.ID
	}
	c.emit(c.event(switchboard.EventCallTransferred, by, extra))
	c.releaseTransferor(t)
}

// releaseTransferor tells a referring transferor its transfer succeeded and hangs it up
// unless it does so itself within transferorGrace; the API's transferor is hung up at once.
func (c *call) releaseTransferor(tr transferor) {
	t := tr.l
	tr.notify("200 OK", true)
	c.e.goTracked(func() {
		if tr.referred {
			timer := time.NewTimer(transferorGrace)
			defer timer.Stop()
			select {
			case <-t.ctx().Done():
			case <-timer.C:
			case <-c.hangupC:
			}
		}
		t.hangup()
		c.mu.Lock()
		c.extras = removeLeg(c.extras, t)
		c.mu.Unlock()
	})
}

func removeLeg(ls []*leg, l *leg) []*leg {
	out := ls[:0]
	for _, x := range ls {
		if x != l {
			out = append(out, x)
		}
	}
	return out
}

// removeParty takes a user off the call's parties (the transferor left).
func (c *call) removeParty(userID int64) {
	e := c.e
	e.mu.Lock()
	c.mu.Lock()
	removed := false
	for i, p := range c.parties {
		if p.userID == userID {
			c.parties = append(c.parties[:i:i], c.parties[i+1:]...)
			removed = true
			break
		}
	}
	c.mu.Unlock()
	if removed && e.calls[c.id] == c {
		k := agentKey{c.accountID, userID}
		if e.busy[k]--; e.busy[k] <= 0 {
			delete(e.busy, k)
		}
	}
	e.mu.Unlock()
	e.queues.changed()
}

// notifyTimeout bounds a NOTIFY's transaction.
const notifyTimeout = 5 * time.Second

// notifyRefer sends the transferor a NOTIFY of its refer subscription with status as a
// message/sipfrag ("100 Trying", "200 OK", "486 Busy Here"); final ends the subscription.
func (l *leg) notifyRefer(status string, final bool) {
	if l.ended() {
		return
	}
	req := sipmsg.NewRequest(sipmsg.NOTIFY, sipmsg.Uri{})
	req.AppendHeader(sipmsg.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + status + "\r\n"))
	if _, err := l.request(req, notifyTimeout); err != nil {
		l.c.e.log.Debug("NOTIFY failed", "error", err)
	}
}

// request sends req (built with an empty Request-URI) in l's dialog, to the dialog's remote
// target with our Contact, and returns its final response.
func (l *leg) request(req *sipmsg.Request, timeout time.Duration) (*sipmsg.Response, error) {
	target, ok := l.remoteTarget()
	if !ok {
		return nil, errNoRemoteTarget
	}
	req.Recipient = target
	transport := "UDP"
	if l.uas != nil {
		transport = l.uas.InviteRequest.Transport()
	} else if l.uac.InviteRequest != nil {
		transport = l.uac.InviteRequest.Transport()
	}
	req.AppendHeader(&sipmsg.ContactHeader{Address: l.c.e.sip.ContactHeaderFor(transport).Address})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var tx sipmsg.ClientTransaction
	var err error
	if l.uas != nil {
		tx, err = l.uas.TransactionRequest(ctx, req)
	} else {
		tx, err = l.uac.TransactionRequest(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(ctx, tx)
}

var errNoRemoteTarget = errors.New("the dialog has no remote target")

// referAttended joins the transferee of t's call with the other party of the dialog that
// replaces names (t's other call, RFC 3891): both legs are the engine's, so no new INVITE
// is sent. The transferee's call goes on with the joined leg; t's two legs and the other
// call end.
func (c *call) referAttended(tl *leg, by *switchboard.User, replaces string, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	e := c.e
	t := transferor{l: tl, by: by, referred: true}
	consult := e.findReplaced(replaces)
	if consult == nil || consult == tl {
		referReply(req, tx, 481, "Call/Transaction Does Not Exist: Replaces names no dialog")
		return
	}
	other := consult.owner()
	if other == c || other.accountID != c.accountID || consult.userID != tl.userID {
		// The replaced dialog must be the same user's other call.
		referReply(req, tx, 403, "Forbidden: Replaces names another party's dialog")
		return
	}
	// The joined party: the other leg of the consultation call.
	joined, err := other.claimTransfer(consult)
	if err != nil {
		referReply(req, tx, 481, "Call/Transaction Does Not Exist: the consultation call is not answered")
		return
	}
	transferee, err := c.claimTransfer(tl)
	if err != nil {
		other.endTransfer()
		refuseRefer(req, tx, err)
		return
	}
	if !e.track() {
		other.endTransfer()
		c.endTransfer()
		referReply(req, tx, 503, "Service Unavailable")
		return
	}
	e.acceptRefer(req, tx)
	go func() {
		defer e.wg.Done()
		defer c.endTransfer()
		defer other.endTransfer()
		t.notify("100 Trying", false)
		c.detach(tl, transferee)
		// The joined party heard music while the transferor held the consultation call.
		other.stopHeldMusic(joined)
		// The consultation call gives up its other party: it keeps only t's consulting
		// leg, which ends it (finish hangs it up).
		other.mu.Lock()
		orelay := other.relay
		other.relay = nil
		if other.a == joined {
			other.a = nil
		} else {
			other.b = nil
		}
		other.legsSwapped()
		other.mu.Unlock()
		if orelay != nil {
			orelay.Close()
		}
		joined.movedTo.Store(c)
		if !c.attach(transferee, joined) {
			joined.hangup()
			other.hangup("attended transfer failed")
			c.transferFailed(t, transferee, 487, "Request Terminated")
			return
		}
		var u *switchboard.User
		if joined.userID != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
			u, _ = e.store.GetUser(ctx, c.accountID, joined.userID)
			cancel()
		}
		to := other.to
		if u != nil {
			to = u.Extension
			other.removeParty(u.ID) // the joined user now talks on this call
		}
		c.transferDone(t, to, u, transferAttended)
		other.hangup("attended transfer completed")
	}()
}

// findReplaced finds the leg of the dialog a Replaces value names (RFC 3891:
// call-id;to-tag=…;from-tag=…, URL-escaped inside a Refer-To). The tags are taken in either
// order: the dialog is the engine's, seen from the phone's side.
func (e *Engine) findReplaced(raw string) *leg {
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return nil
	}
	parts := strings.Split(v, ";")
	callID := strings.TrimSpace(parts[0])
	var toTag, fromTag string
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = val
		case "from-tag":
			fromTag = val
		}
	}
	if callID == "" || toTag == "" || fromTag == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.dialogs[sipmsg.DialogIDMake(callID, toTag, fromTag)]; l != nil {
		return l
	}
	return e.dialogs[sipmsg.DialogIDMake(callID, fromTag, toTag)]
}

// TransferCall transfers an answered call blind (the API): the party of the account's
// user the record names leaves, the other party is put through to `to` (an extension,
// queue or ring group extension, number or park slot of the account). It returns once the
// transfer has started; its outcome is the call.transferred event.
func (e *Engine) TransferCall(ctx context.Context, accountID int64, callID, to string) error {
	c := e.liveCall(accountID, callID)
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account", callID)
	}
	tt, err := e.transferTarget(ctx, c, nil, to)
	if err != nil {
		return apiRefusal(err, to)
	}
	transferee, err := c.claimTransfer(nil)
	if err != nil {
		tt.release()
		var r *refusal
		errors.As(err, &r)
		return switchboard.Errorf(switchboard.ECONFLICT, "The call cannot be transferred now: %s", r.reason)
	}
	c.mu.Lock()
	t := c.a
	if t == transferee {
		t = c.b
	}
	c.mu.Unlock()
	if !e.track() {
		tt.release()
		c.endTransfer()
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "The server is shutting down")
	}
	go func() {
		defer e.wg.Done()
		// The API's transferor is not a phone: it gets no NOTIFY; its leg is hung up once
		// the target answers (at once for a queue, ring group or park slot), and gets the
		// call back if the target does not answer.
		c.runBlind(transferor{l: t}, transferee, tt)
	}()
	return nil
}

// apiRefusal turns a routing refusal into the API's error for the `to` field.
func apiRefusal(err error, to string) error {
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	switch r.code {
	case 404:
		return switchboard.FieldError(switchboard.ENOTFOUND, "to", to+" is no extension, queue, ring group, number or park slot of this account")
	case 486:
		return switchboard.Errorf(switchboard.ECONFLICT, "Every park slot is taken")
	case 403:
		return switchboard.FieldError(switchboard.EBADREQUEST, "to", "is not allowed: "+r.reason)
	}
	return switchboard.FieldError(switchboard.ECONFLICT, "to", "cannot be reached now: "+r.reason)
}

// HangupCall ends a call in progress (the API): BYE to answered legs, CANCEL or a final
// response to ringing ones.
func (e *Engine) HangupCall(ctx context.Context, accountID int64, callID string) error {
	c := e.liveCall(accountID, callID)
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account", callID)
	}
	c.hangup("api")
	return nil
}

// OpenDialogs is the number of SIP dialogs the engine tracks (tests check none is left).
func (e *Engine) OpenDialogs() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.dialogs)
}

// liveCall is the account's call in progress with the uniqueid, or nil.
func (e *Engine) liveCall(accountID int64, callID string) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.calls[callID]; c != nil && c.accountID == accountID {
		return c
	}
	return nil
}
