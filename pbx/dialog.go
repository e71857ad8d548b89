package pbx

import (
	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard/media"
)

// InDialog handles a request inside one of the engine's dialogs: ACK, BYE, re-INVITE (hold
// passed through to the other leg), INFO. It reports false when no dialog matches.
func (e *Engine) InDialog(req *sipmsg.Request, tx sipmsg.ServerTransaction) bool {
	l := e.findDialog(req)
	if l == nil {
		return false
	}
	switch req.Method {
	case sipmsg.ACK:
		l.readAck(req, tx)
	case sipmsg.BYE:
		var err error
		if l.uas != nil {
			err = l.uas.ReadBye(req, tx)
		} else {
			err = l.uac.ReadBye(req, tx)
		}
		if err != nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	case sipmsg.INVITE:
		l.c.reinvite(l, req, tx)
	case sipmsg.INFO:
		// SIP INFO DTMF is not relayed (RFC 4733 is); acknowledge it so the dialog lives.
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	default:
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 501, "Not Implemented", nil))
	}
	return true
}

// reinvite answers a re-INVITE of leg l (a hold, a resume, a new address) and passes its
// direction on to the other leg, so that putting a call on hold is seen on both sides.
func (c *call) reinvite(l *leg, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	reply := func(code int, reason string) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil))
	}
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		// No body (a session refresh without SDP) or SDP we cannot use: keep the session.
		reply(488, "Not Acceptable Here")
		return
	}
	if err := l.media.SetRemote(offer); err != nil {
		reply(488, "Not Acceptable Here")
		return
	}
	wasHeld := l.held()
	l.setHold(offer.OnHold())
	answer, err := offer.Answer(l.media.LocalAddr(), l.nextOrigin())
	if err != nil {
		reply(500, "Server Internal Error")
		return
	}
	res := sipmsg.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(&sipmsg.ContactHeader{Address: c.e.sip.ContactHeader().Address})
	acked := l.expectReinviteAck(req.CSeq().SeqNo)
	if err := tx.Respond(res); err != nil {
		return
	}
	// The 200 is resent until its ACK arrives; sipgo's transaction does not (RFC 6026).
	c.e.wg.Add(1)
	go func() {
		defer c.e.wg.Done()
		c.resendUntilAck(l, tx, res, acked)
	}()
	other := c.other(l)
	if other == nil || wasHeld == offer.OnHold() {
		return // only a change of hold is passed on
	}
	dir := media.SendRecv
	if offer.OnHold() {
		dir = media.SendOnly
		if offer.Direction == media.Inactive {
			dir = media.Inactive
		}
	}
	c.e.wg.Add(1)
	go func() {
		defer c.e.wg.Done()
		if err := other.reoffer(dir); err != nil {
			c.e.log.Warn("passing hold on failed", "uniqueid", c.id, "error", err)
		}
	}()
}
