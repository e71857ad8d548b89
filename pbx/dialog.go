package pbx

import (
	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard/media"
)

// InDialog handles a request inside one of the engine's dialogs: ACK, BYE, re-INVITE (hold:
// the other leg hears music), INFO. It reports false when no dialog matches.
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
		l.owner().reinvite(l, req, tx)
	case sipmsg.REFER:
		l.owner().refer(l, req, tx)
	case sipmsg.INFO:
		l.readInfo(req, tx) // DTMF (keys.go); not relayed to the other leg, as RFC 4733 is
	default:
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 501, "Not Implemented", nil))
	}
	return true
}

// reinvite answers a re-INVITE of leg l (a hold, a resume, a new address): a hold is
// answered recvonly (or inactive) and plays music on hold to the other leg (takeHold). A
// re-INVITE without SDP asks us for an offer (RFC 3261 section 14.2, as some phones and
// carriers send to refresh a session): our 200 carries it and the ACK the answer.
func (c *call) reinvite(l *leg, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	reply := func(code int, reason string) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil))
	}
	if c.e.isStopping() {
		// Every call is being hung up: the session stays as it was (RFC 3261 section 14.2).
		reply(503, "Service Unavailable")
		return
	}
	offerless := len(req.Body()) == 0
	var body []byte
	var offer *media.Remote // the phone's offer, when it made one
	if offerless {
		// Our side always offers sendrecv: when the other party holds, l hears music.
		var err error
		if body, err = l.sdpOffer(media.SendRecv); err != nil {
			reply(500, "Server Internal Error")
			return
		}
	} else {
		var err error
		if offer, err = media.ParseSDP(req.Body()); err != nil {
			reply(488, "Not Acceptable Here") // SDP we cannot use: the session stays as it was
			return
		}
		if err := l.setRemote(offer); err != nil {
			reply(488, "Not Acceptable Here")
			return
		}
		if body, err = l.sdpAnswer(offer); err != nil {
			reply(500, "Server Internal Error")
			return
		}
	}
	res := sipmsg.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(&sipmsg.ContactHeader{Address: c.e.sip.ContactHeaderFor(req.Transport()).Address})
	acked := l.expectReinviteAck(req.CSeq().SeqNo, offerless)
	if err := tx.Respond(res); err != nil {
		return
	}
	if offer != nil {
		c.takeHold(l, offer.OnHold())
	}
	// The 200 is resent until its ACK arrives; sipgo's transaction does not (RFC 6026). Once
	// the engine is stopping it is not: the call is being hung up.
	c.e.goTracked(func() { c.resendUntilAck(l, tx, res, acked) })
}

// takeReinviteAnswer reads the SDP answer in the ACK of our 200 to an offerless re-INVITE.
// Without a usable one the session keeps its media as it was: the call goes on.
func (c *call) takeReinviteAnswer(l *leg, ack *sipmsg.Request) {
	answer, err := media.ParseSDP(ack.Body())
	if err == nil {
		natAdjust(ack, answer)
		err = l.setRemote(answer)
	}
	if err != nil {
		c.e.log.Warn("the ACK to our offer in a re-INVITE has no usable answer; media unchanged",
			"uniqueid", c.id, "error", err)
		return
	}
	c.takeHold(l, answer.OnHold())
}

// takeHold records whether leg l's SDP puts the call on hold and, when that changed, starts
// or stops the music on hold the other leg hears. The other leg is not re-INVITEd: its
// media session plays the music instead of l's voice, and l itself, having asked for no
// audio (a=sendonly or a=inactive, or c=0.0.0.0), is sent nothing by its own session. On
// resume the music stops and the relay, which stayed up, carries both voices again; RFC
// 4733 events and transcoding are the relay's as before.
func (c *call) takeHold(l *leg, onHold bool) {
	wasHeld := l.held()
	l.setHold(onHold)
	other := c.other(l)
	if other == nil || wasHeld == onHold {
		return // only a change of hold starts or stops music
	}
	if onHold {
		c.mu.Lock()
		class := c.musicClass
		c.mu.Unlock()
		stop := c.playMusic(other, class)
		c.mu.Lock()
		if c.heldMusic == nil {
			c.heldMusic = map[*leg]func(){}
		}
		prev := c.heldMusic[other]
		c.heldMusic[other] = stop
		c.mu.Unlock()
		if prev != nil {
			prev() // two holds raced: one music is enough
		}
		return
	}
	c.mu.Lock()
	stop := c.heldMusic[other]
	delete(c.heldMusic, other)
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}
