package pbx

import (
	"context"
	"errors"
	"strings"

	"switchboard"
	"switchboard/media"
)

// PlaceCall starts a click-to-call call: it answers at once with the call's uniqueid and
// "initiating", then rings every phone of the from-user showing `to` as the caller; when
// one answers, it dials `to` (an extension, or a number through the trunk) while the user
// hears ringback, and bridges the two. CRMID travels on every event of the call.
func (e *Engine) PlaceCall(ctx context.Context, req switchboard.OutboundCallRequest) (*switchboard.OutboundCall, error) {
	u := req.FromUser
	if u == nil || u.AccountID != req.AccountID {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "The from user is required")
	}
	to := strings.TrimSpace(req.To)
	if req.Recording && e.recordings() == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE,
			"The call cannot be recorded: no recording storage is configured on this server")
	}
	// Plan the far end first, so a number we cannot reach is refused now, not after the
	// user picked up.
	far, err := e.routeFromUser(ctx, u, to, "")
	var r *refusal
	if errors.As(err, &r) && r.code == 403 {
		// A toll-fraud guard: the request is refused, not the service unavailable.
		return nil, switchboard.Errorf(switchboard.EAUTHINVALID, "The call cannot be placed: %s", r.reason)
	}
	if errors.As(err, &r) {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "The call cannot be placed: %s", r.reason)
	}
	if err != nil {
		return nil, err
	}
	// The far end's slots go with the call (newCall); until then every return gives them back.
	started := false
	defer func() {
		if !started {
			far.release()
		}
	}()
	if req.CallerID != "" && far.direction == switchboard.CallOutbound && len(far.dests) == 1 && far.dests[0].userID == 0 {
		far.dests[0].fromUser, far.from, far.number = req.CallerID, req.CallerID, req.CallerID
	}
	own := &plan{callInfo: callInfo{accountID: u.AccountID, user: u}}
	// The user's phones show the number being called as the caller, as VoIPLine does.
	err = e.ringUser(ctx, own, u, to, to) // the user asked for the call: do not disturb does not apply
	own.release()                         // forwarding is refused below: the user's own leg never takes a trunk
	if err != nil {
		if errors.As(err, &r) {
			return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "The call cannot be placed: %s", r.reason)
		}
		return nil, err
	}
	if len(own.dests) > 0 && own.dests[0].userID == 0 {
		// Forwarding is on: click-to-call rings the user's own phones, never the forward number.
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE,
			"The call cannot be placed: the user forwards calls; click-to-call needs a registered phone")
	}
	far.crmID, far.recording = req.CRMID, req.Recording
	far.user = u
	c := e.newCall(far)
	c.ringTime = own.ringTime
	if !e.track() {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "The call cannot be placed: the server is shutting down")
	}
	if err := c.start(); err != nil {
		e.wg.Done()
		return nil, err
	}
	started = true
	go c.runClickToCall(own, far)
	return &switchboard.OutboundCall{CallID: c.id, Status: "initiating"}, nil
}

// runClickToCall rings the user (leg a), then the far end (leg b), and bridges them.
func (c *call) runClickToCall(own, far *plan) {
	defer c.e.wg.Done()
	ctx, cancel := c.ringContext(context.Background())
	res := c.fork(ctx, own.dests, forkHooks{})
	cancel()
	if res.winner == nil {
		d := switchboard.DispositionNoAnswer
		if res.busy {
			d = switchboard.DispositionBusy
		} else if res.code >= 500 {
			d = switchboard.DispositionFailed
		}
		c.finish(d)
		return
	}
	a := res.winner
	c.mu.Lock()
	c.a = a
	c.mu.Unlock()

	// The user hears ringback until the far end answers or sends early media.
	ringback, stopRingback := context.WithCancel(context.Background())
	defer stopRingback()
	c.e.wg.Add(1) // in the call's goroutine: wg is above zero
	go func() {
		defer c.e.wg.Done()
		_ = a.media.Play(ringback, media.Ringback())
	}()

	c.ringTime = far.ringTime
	ctx, cancel = c.ringContext(a.ctx())
	res = c.fork(ctx, far.dests, forkHooks{
		early: func(l *leg) {
			if c.setEarly(l) {
				stopRingback()
				_ = c.bridge(a, l)
			}
		},
	})
	cancel()
	stopRingback()
	if res.winner == nil {
		d := switchboard.DispositionFailed
		switch {
		case a.ended():
			d = switchboard.DispositionCancelled
		case res.busy:
			d = switchboard.DispositionBusy
		case ctx.Err() == context.DeadlineExceeded || res.code == 480 || res.code == 408:
			d = switchboard.DispositionNoAnswer
		}
		c.finish(d)
		return
	}
	b := res.winner
	c.mu.Lock()
	c.b = b
	early := c.early
	c.early = nil
	c.mu.Unlock()
	if early != nil && early != b {
		early.close()
	}
	if err := c.bridge(a, b); err != nil {
		c.e.log.Error("bridging failed", "uniqueid", c.id, "error", err)
		c.finish(switchboard.DispositionFailed)
		return
	}
	c.markAnswered(far.userOf(b))
	c.waitEnd()
	c.finish(switchboard.DispositionAnswered)
}
