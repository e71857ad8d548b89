package pbx

import (
	"errors"
	"net/netip"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard/media"
	"switchboard/sip"
)

// A 2xx to an INVITE travels without the transaction layer's retransmissions: the UAS
// (here, the engine) resends it until the ACK arrives (RFC 3261 13.3.1.4, RFC 6026). These
// are the ways waiting for that ACK ends without one.
var (
	// errNoAck: the caller never acknowledged our 200 within Config.AckTimeout (it vanished,
	// or its ACKs are lost). The session is ended with BYE on both legs.
	errNoAck = errors.New("pbx: no ACK for the 200 OK")
	// errNoLateAnswer: a caller that sent no offer (late offer) ACKed our offer without a
	// usable answer; the session cannot carry media and is ended (RFC 3264 section 5).
	errNoLateAnswer = errors.New("pbx: the ACK carries no usable SDP answer to our offer")
	// errAckInterrupted: the wait ended because the call is ending anyway (a BYE from either
	// leg, or the engine hanging up).
	errAckInterrupted = errors.New("pbx: the call ended while waiting for the ACK")
)

// defaultAckTimeout is 64*T1, RFC 3261's limit on retransmitting a 2xx without an ACK.
func defaultAckTimeout() time.Duration { return 64 * sipmsg.T1 }

// answerCallerAndAwaitAck sends the caller's 200 OK with sdp (retransmitted by sipgo until
// the ACK) and waits for the ACK, at most Config.AckTimeout. When the ACK does not come,
// the INVITE transaction is terminated, which stops the retransmissions and lets the BYE
// that ends the half-open dialog go out at once. interrupt (may be nil) ends the wait early,
// as the call ending does. When the caller did not take the answer, the call is marked so
// that finish records it as failed.
func (c *call) answerCallerAndAwaitAck(a *leg, sdp []byte, interrupt <-chan struct{}) (err error) {
	defer func() {
		if err != nil && !errors.Is(err, errAckInterrupted) {
			c.mu.Lock()
			c.callerUnconfirmed = true
			c.mu.Unlock()
		}
	}()
	acked := make(chan error, 1)
	go func() { acked <- a.respondFinal(sipmsg.NewSDPResponseFromRequest(a.uas.InviteRequest, sdp)) }()
	timer := time.NewTimer(c.e.cfg.AckTimeout)
	defer timer.Stop()
	select {
	case err := <-acked:
		if err != nil {
			a.inviteTx.Terminate()
			return err
		}
		if err := a.lateAnswerError(); err != nil {
			return err
		}
		a.light(sip.DialogConfirmed)
		return nil
	case <-timer.C:
		a.inviteTx.Terminate()
		return errNoAck
	case <-a.ctx().Done():
		return errAckInterrupted
	case <-interrupt:
		return errAckInterrupted
	case <-c.hangupC:
		a.inviteTx.Terminate()
		return errAckInterrupted
	}
}

// readAck takes an ACK of the leg's dialog: for the caller's INVITE it confirms the dialog
// (and, after a late offer, carries the caller's SDP answer); for a re-INVITE it stops our
// 200's retransmissions.
func (l *leg) readAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if req.CSeq() == nil {
		return
	}
	cseq := req.CSeq().SeqNo
	if l.uas != nil && cseq == l.uas.InviteRequest.CSeq().SeqNo {
		if l.awaitingLateAnswer() {
			l.takeLateAnswer(req)
		}
		_ = l.uas.ReadAck(req, tx)
		return
	}
	l.mu.Lock()
	ch, offered := l.reinviteAck, l.reinviteOffered
	matches := ch != nil && l.reinviteCSeq == cseq
	if matches {
		l.reinviteAck, l.reinviteOffered = nil, false
	}
	l.mu.Unlock()
	if !matches {
		return // a retransmitted ACK, or one for nothing we sent
	}
	if offered {
		l.owner().takeReinviteAnswer(l, req)
	}
	close(ch)
}

// awaitingLateAnswer reports whether the leg's caller sent no offer and its ACK (with the
// answer to the offer in our 200) has not come yet.
func (l *leg) awaitingLateAnswer() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lateOffer && !l.lateAnswered
}

// takeLateAnswer points the leg's media at the SDP answer in the caller's ACK.
func (l *leg) takeLateAnswer(ack *sipmsg.Request) {
	var err error
	if len(ack.Body()) == 0 {
		err = errors.New("the ACK has no body")
	} else {
		var remote *media.Remote
		if remote, err = media.ParseSDP(ack.Body()); err == nil {
			natAdjust(ack, remote)
			err = l.setRemote(remote)
		}
	}
	l.mu.Lock()
	l.lateAnswered, l.lateErr = true, err
	l.mu.Unlock()
}

// lateAnswerError is why the caller's late answer cannot be used (nil if it can, or if the
// caller made the offer itself).
func (l *leg) lateAnswerError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.lateOffer {
		return nil
	}
	if !l.lateAnswered {
		// ReadAck confirmed the dialog, so the ACK was read; this would be a bug.
		return errNoLateAnswer
	}
	if l.lateErr != nil {
		return errors.Join(errNoLateAnswer, l.lateErr)
	}
	return nil
}

// natAdjust: a phone behind NAT announces its private address in SDP; send to where its
// signalling comes from instead (latching takes the port from its first packet).
func natAdjust(req *sipmsg.Request, remote *media.Remote) {
	if src, ok := sourceAddr(req); ok && remote.Addr.Addr().IsPrivate() && !src.IsPrivate() && !src.IsLoopback() {
		remote.Addr = netip.AddrPortFrom(src, remote.Addr.Port())
	}
}

// expectReinviteAck notes that a 200 to the re-INVITE with cseq is going out (carrying our
// offer when offered, so the ACK brings the answer) and returns the channel closed when its
// ACK arrives.
func (l *leg) expectReinviteAck(cseq uint32, offered bool) <-chan struct{} {
	ch := make(chan struct{})
	l.mu.Lock()
	l.reinviteAck, l.reinviteCSeq, l.reinviteOffered = ch, cseq, offered
	l.mu.Unlock()
	return ch
}

// resendUntilAck retransmits the 200 OK to a re-INVITE of leg l until its ACK arrives
// (UDP may lose either): T1, doubling up to T2, for at most Config.AckTimeout. A lost ACK
// of a re-INVITE does not end the call — media already flows — it is only logged.
func (c *call) resendUntilAck(l *leg, tx sipmsg.ServerTransaction, res *sipmsg.Response, acked <-chan struct{}) {
	interval := sipmsg.T1
	resend := time.NewTimer(interval)
	defer resend.Stop()
	giveUp := time.NewTimer(c.e.cfg.AckTimeout)
	defer giveUp.Stop()
	for {
		select {
		case <-acked:
			return
		case <-l.ctx().Done():
			return
		case <-c.hangupC:
			return
		case <-giveUp.C:
			c.e.log.Warn("no ACK for the 200 to a re-INVITE; keeping the call", "uniqueid", c.id)
			return
		case <-resend.C:
			if err := tx.Respond(res); err != nil {
				return // the transaction is over (Timer L)
			}
			interval = min(2*interval, sipmsg.T2)
			resend.Reset(interval)
		}
	}
}
