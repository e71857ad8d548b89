package pbx

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/media"
	"switchboard/sip"
)

// leg is one side of a call: a SIP dialog and its RTP session. The caller's leg of a phone
// or trunk call is a UAS dialog (uas); every leg the engine dials is a UAC dialog (uac).
type leg struct {
	c      *call
	media  *media.Session
	uas    *sipgo.DialogServerSession
	uac    *sipgo.DialogClientSession
	userID int64 // the account's user whose phone this leg is; 0 for a trunk leg
	// inviteTx is the caller's INVITE transaction (UAS legs): terminating it stops the
	// retransmissions of our 200 when the ACK never comes.
	inviteTx sipmsg.ServerTransaction
	// lateOffer: the caller's INVITE had no SDP, so our 200 carries the offer and its ACK
	// the answer.
	lateOffer bool

	// respondMu serializes our responses to the caller's INVITE: sipgo's server dialog is
	// not safe for concurrent writes, and a callee's 180 can arrive while another callee's
	// answer is being passed on.
	respondMu sync.Mutex
	finalSent bool // a final response went out; later provisional ones are dropped

	mu       sync.Mutex
	origin   media.Origin // our SDP origin towards this leg
	dialogID string
	onHold   bool // the leg's last SDP put the call on hold
	closed   bool
	released bool // media counted and closed

	lateAnswered bool  // the ACK after a late offer was read
	lateErr      error // why its SDP answer is unusable

	reinviteAck  chan struct{} // closed when the ACK of our 200 to a re-INVITE arrives
	reinviteCSeq uint32        // that re-INVITE's CSeq
	// reinviteOffered: that re-INVITE had no SDP, our 200 carried an offer and its ACK
	// carries the answer.
	reinviteOffered bool

	// secure: the leg's media is SRTP (SDES). Our offers carry our key, and an offer or
	// answer from the leg without one is refused rather than taken as plain RTP.
	secure bool

	answeredAt time.Time // when this dialled leg's 2xx arrived (wall clock), for the answer-to-bridge delay

	// peerAddr is where the leg's peer sends from (ip:port): the caller's INVITE source, or
	// the address a dialled leg was sent to. A REFER in the dialog must come from there.
	peerAddr string
	// movedTo is the call the leg belongs to since an attended transfer joined it to
	// another call; its in-dialog requests go there (owner).
	movedTo atomic.Pointer[call]
	// pickedUpBy is the user whose *8 INVITE this leg is (pickup.go): the call's answered
	// callee though no fork dialled it.
	pickedUpBy *switchboard.User

	lamp sip.DialogState // what busy lamps were last told of this leg (blf.go), under mu

	keypad keypad // its key presses, merged from RFC 4733, SIP INFO and tones (keys.go)
}

// owner is the call whose bridge the leg is in: the call it was made for, or the one an
// attended transfer moved it to.
func (l *leg) owner() *call {
	if c := l.movedTo.Load(); c != nil {
		return c
	}
	return l.c
}

// ctx is done when the leg's dialog has ended (BYE received or sent, or CANCELled).
func (l *leg) ctx() context.Context {
	if l.uas != nil {
		return l.uas.Context()
	}
	return l.uac.Context()
}

// errFinalSent: the caller's INVITE already has its final response.
var errFinalSent = errors.New("pbx: the caller's INVITE already has a final response")

// respondProvisional sends a 1xx to the caller unless its final response already went out.
func (l *leg) respondProvisional(res *sipmsg.Response) {
	l.respondMu.Lock()
	defer l.respondMu.Unlock()
	if l.finalSent {
		return
	}
	_ = l.uas.WriteResponse(res)
}

// respondFinal sends the caller's final response, once. For a 2xx it returns when the ACK
// arrived (sipgo retransmits until then), so it runs outside respondMu: finalSent alone
// keeps every later response out.
func (l *leg) respondFinal(res *sipmsg.Response) error {
	l.respondMu.Lock()
	if l.finalSent {
		l.respondMu.Unlock()
		return errFinalSent
	}
	l.finalSent = true
	l.respondMu.Unlock()
	return l.uas.WriteResponse(res)
}

// reject ends the caller's INVITE with a failure response.
func (l *leg) reject(code int, reason string) {
	_ = l.respondFinal(sipmsg.NewResponseFromRequest(l.uas.InviteRequest, code, reason, nil))
}

// ended reports whether the leg's dialog is over.
func (l *leg) ended() bool { return l.ctx().Err() != nil }

// byeTimeout bounds how long hanging up a leg waits for the peer's answer.
const byeTimeout = 5 * time.Second

// hangup ends an answered leg with a BYE (unless its dialog already ended), then closes its
// media and forgets its dialog. Safe to call more than once.
func (l *leg) hangup() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	if !l.ended() {
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		var err error
		if l.uas != nil {
			err = l.uas.Bye(ctx)
		} else {
			err = l.uac.Bye(ctx)
		}
		cancel()
		if err != nil {
			l.c.e.log.Debug("BYE failed", "uniqueid", l.c.id, "error", err)
		}
	}
	l.close()
}

// close releases the leg's media and dialog without signalling.
func (l *leg) close() {
	l.mu.Lock()
	l.closed = true
	id := l.dialogID
	first := !l.released
	l.released = true
	l.mu.Unlock()
	if first {
		l.c.e.countMedia(l.media.Stats(), l.uas != nil)
	}
	l.media.Close()
	if l.uas != nil {
		l.uas.Close()
	} else if l.uac != nil {
		l.uac.Close()
	}
	l.c.e.removeDialog(id)
	l.light(sip.DialogTerminated)
}

func (l *leg) setDialogID(id string) {
	l.mu.Lock()
	l.dialogID = id
	l.mu.Unlock()
	l.c.e.addDialog(id, l)
}

func (l *leg) nextOrigin() media.Origin {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.origin.Version++
	return l.origin
}

func (l *leg) held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.onHold
}

func (l *leg) setHold(h bool) {
	l.mu.Lock()
	l.onHold = h
	l.mu.Unlock()
}

// remoteTarget is where in-dialog requests to the leg go (its Contact).
func (l *leg) remoteTarget() (sipmsg.Uri, bool) {
	var c *sipmsg.ContactHeader
	if l.uas != nil {
		c = l.uas.InviteRequest.Contact()
	} else if l.uac.InviteResponse != nil {
		c = l.uac.InviteResponse.Contact()
	}
	if c == nil {
		return sipmsg.Uri{}, false
	}
	return *c.Address.Clone(), true
}

// errDowngrade: a secure leg's SDP came without SRTP.
var errDowngrade = errors.New("pbx: the leg is SRTP and its SDP offers plain RTP")

// setRemote takes the leg's SDP (offer or answer) into its media; a secure leg refuses plain
// RTP.
func (l *leg) setRemote(r *media.Remote) error {
	if l.secure && r.Crypto == nil {
		return errDowngrade
	}
	return l.media.SetRemote(r)
}

// sdpOffer is our offer to the leg: RTP/SAVP with our SRTP key on a secure leg.
func (l *leg) sdpOffer(dir media.Direction) ([]byte, error) {
	var key *media.Crypto
	if l.secure {
		var err error
		if key, err = l.media.SRTPKey(media.AES_CM_128_HMAC_SHA1_80); err != nil {
			return nil, err
		}
	}
	return media.BuildSecureOffer(l.media.LocalAddr(), l.nextOrigin(), dir, key)
}

// sdpAnswer is our answer to the leg's offer, with our SRTP key when the offer is SRTP.
func (l *leg) sdpAnswer(offer *media.Remote) ([]byte, error) {
	var key *media.Crypto
	if offer.Crypto != nil {
		var err error
		if key, err = l.media.SRTPKey(offer.Crypto.Suite); err != nil {
			return nil, err
		}
	}
	return offer.AnswerSecure(l.media.LocalAddr(), l.nextOrigin(), key)
}

// finalResponse waits for the transaction's final response.
func finalResponse(ctx context.Context, tx sipmsg.ClientTransaction) (*sipmsg.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("the transaction ended without a final response")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// dest is one place a call is dialled: a registered phone or a number through a trunk.
type dest struct {
	uri       sipmsg.Uri
	addr      string // ip:port to send to; "" = the URI's host
	transport string // "udp", "tcp" or "tls"; SRTP is offered over tls
	userID    int64  // the user whose phone it is (0 for a trunk)
	username  string // digest credentials for the trunk's challenge
	password  string
	fromUser  string // the caller id shown: user part of From
	fromName  string // and its display name
}

// dial sends an INVITE with our offer to d, returning the new leg (not yet answered).
func (c *call) dial(ctx context.Context, d dest) (*leg, error) {
	ua, err := c.e.dialogUA(d.transport)
	if err != nil {
		return nil, err
	}
	sess, err := c.e.newMedia()
	if err != nil {
		return nil, err
	}
	l := &leg{c: c, media: sess, userID: d.userID, secure: strings.EqualFold(d.transport, "tls"), peerAddr: d.addr}
	offer, err := l.sdpOffer(media.SendRecv)
	if err != nil {
		sess.Close()
		return nil, err
	}
	req := sipmsg.NewRequest(sipmsg.INVITE, d.uri)
	req.SetTransport(strings.ToUpper(d.transport))
	if d.addr != "" {
		req.SetDestination(d.addr)
	}
	contact := ua.ContactHDR
	from := &sipmsg.FromHeader{DisplayName: sanitizeDisplay(d.fromName),
		Address: sipmsg.Uri{Scheme: "sip", User: d.fromUser, Host: contact.Address.Host}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: d.uri.User, Host: d.uri.Host, Port: d.uri.Port},
		Params: sipmsg.NewParams()}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sipmsg.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"))
	req.SetBody(offer)
	dcs, err := ua.WriteInvite(ctx, req)
	if err != nil {
		sess.Close()
		return nil, err
	}
	l.uac = dcs
	l.light(sip.DialogEarly)
	return l, nil
}

// maxDisplayBytes bounds a display name in a From header.
const maxDisplayBytes = 64

// sanitizeDisplay keeps a display name from breaking the header it is quoted in: quotes,
// backslashes and control characters go, invalid UTF-8 becomes U+FFFD, and a long name is
// cut to at most maxDisplayBytes on a character boundary, so it stays valid UTF-8.
func sanitizeDisplay(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > maxDisplayBytes {
		cut := maxDisplayBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// forkResult is how ringing a set of destinations ended.
type forkResult struct {
	winner *leg // the leg that answered; nil if none did
	code   int  // the final response to pass back when none answered
	reason string
	busy   bool
}

// forkHooks are called as the destinations ring.
type forkHooks struct {
	ringing func()       // a destination rings (180, or 183 without SDP)
	early   func(l *leg) // a destination sends early media (183 with SDP); its media is set
}

// fork rings every destination at once; the first to answer wins and the others are
// cancelled (or, if they answered too, acknowledged and hung up). It returns when one
// answered, all failed, or ctx ended (ring timeout or the caller gave up), in which case
// every destination is cancelled.
func (c *call) fork(ctx context.Context, dests []dest, hooks forkHooks) forkResult {
	ringCtx, cancelRing := context.WithCancel(ctx)
	type outcome struct {
		l   *leg
		err error
	}
	results := make(chan outcome, len(dests))
	pending := 0
	// What rings is published for pickups (*8) before the first INVITE leaves, until the
	// fork is decided; an offer made while the others are dialled waits for the loop below.
	rs := &ringingSet{users: map[int64]bool{}, offers: make(chan *pickupOffer), done: make(chan struct{})}
	for _, d := range dests {
		if d.userID != 0 {
			rs.users[d.userID] = true
		}
	}
	c.publishRinging(rs)
	best := forkResult{code: 480, reason: "Temporarily Unavailable"}
	for _, d := range dests {
		sent := time.Now()
		l, err := c.dial(ringCtx, d)
		if err != nil {
			c.e.log.Warn("dialling failed", "uniqueid", c.id, "to", d.uri.String(), "error", err)
			if errors.Is(err, media.ErrPortsExhausted) {
				best = forkResult{code: 503, reason: "Service Unavailable"}
			}
			continue
		}
		pending++
		legCtx, stopLeg := silentAbandon(ringCtx, sent)
		c.e.wg.Add(1) // in the call's goroutine: wg is above zero
		go func() {
			defer c.e.wg.Done()
			defer stopLeg.stop()
			err := l.uac.WaitAnswer(legCtx, sipgo.AnswerOptions{
				Username: d.username, Password: d.password,
				OnResponse: func(r *sipmsg.Response) error {
					stopLeg.responded.Store(true)
					switch {
					case r.StatusCode == 180 || r.StatusCode == 183 && len(r.Body()) == 0:
						if hooks.ringing != nil {
							hooks.ringing()
						}
					case r.StatusCode == 183:
						remote, err := media.ParseSDP(r.Body())
						if err == nil && l.setRemote(remote) == nil && hooks.early != nil {
							hooks.early(l)
						} else if hooks.ringing != nil {
							hooks.ringing()
						}
					case r.IsSuccess():
						if l.answeredAt.IsZero() { // the first 2xx; read after WaitAnswer returns, through results
							l.answeredAt = time.Now()
						}
						// Cancel the others at once, before this result is read, so that
						// no second phone keeps ringing meanwhile.
						defer cancelRing()
					}
					return nil
				}})
			results <- outcome{l, err}
		}()
	}
	var winner *leg
	for pending > 0 && winner == nil {
		var o outcome
		select {
		case o = <-results:
			pending--
		case pk := <-rs.offers:
			if c.takePickup(ringCtx, pk) {
				winner = pk.l
			}
			continue
		}
		if o.err == nil {
			if c.acceptAnswer(o.l) {
				winner = o.l
				continue
			}
			c.discard(o.l, nil)
			continue
		}
		var dr *sipgo.ErrDialogResponse
		if errors.As(o.err, &dr) {
			switch code := dr.Res.StatusCode; {
			case code == 486 || code == 600:
				best = forkResult{code: 486, reason: "Busy Here", busy: true}
			case !best.busy && code >= 400 && code != 401 && code != 407 && code != 487:
				best = forkResult{code: code, reason: dr.Res.Reason}
			}
		}
		o.l.close()
	}
	c.withdrawRinging(rs)
	cancelRing()
	if winner != nil {
		// The others are being cancelled: collect them in the background.
		if pending > 0 {
			c.e.wg.Add(1)
			go func(n int) {
				defer c.e.wg.Done()
				for ; n > 0; n-- {
					o := <-results
					c.discard(o.l, o.err)
				}
			}(pending)
		}
		return forkResult{winner: winner}
	}
	return best
}

// silentPhoneAfter is how long after its INVITE a phone that sent no response at all is
// taken for gone: by then the INVITE was sent three times (T1 = 500 ms: at 0, 0.5 and
// 1.5 s), and a phone that is there answers the first with 100 Trying (sipgo's UAS within
// 200 ms). Wall-clock time, as the retransmissions are.
const silentPhoneAfter = 1500 * time.Millisecond

// legStop is the end of one forked INVITE's wait (see silentAbandon).
type legStop struct {
	responded atomic.Bool // any response came: the phone is there
	stop      func()
}

// silentAbandon returns the context an INVITE sent at sent waits for its answer with. It
// ends with ring: normally a CANCEL follows, but RFC 3261 §9.1 allows one only after a
// provisional response, so for a phone that never answered, sipgo would wait out timer B
// (32 s) — and a phone that vanished without un-registering never answers. Such a phone,
// silent for silentPhoneAfter, is abandoned instead: its transaction ends at once, nothing
// more is sent to it. A phone that only had less time to answer gets its CANCEL as usual.
func silentAbandon(ring context.Context, sent time.Time) (context.Context, *legStop) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ls := &legStop{}
	stopAfter := context.AfterFunc(ring, func() {
		if !ls.responded.Load() && time.Since(sent) >= silentPhoneAfter {
			cancel(sipgo.WaitAnswerForceCancelErr)
			return
		}
		cancel(ring.Err())
	})
	ls.stop = func() {
		stopAfter()
		cancel(context.Canceled)
	}
	return ctx, ls
}

// acceptAnswer completes an answered leg: ACK, its media from the 200's SDP, its dialog
// registered. A 200 without usable SDP is hung up.
func (c *call) acceptAnswer(l *leg) bool {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.uac.Ack(ctx); err != nil {
		c.e.log.Warn("ACK failed", "uniqueid", c.id, "error", err)
		l.close()
		return false
	}
	l.setDialogID(l.uac.ID)
	remote, err := media.ParseSDP(l.uac.InviteResponse.Body())
	if err == nil {
		err = l.setRemote(remote)
	}
	if err != nil {
		c.e.log.Warn("answer without usable SDP: hanging up", "uniqueid", c.id, "error", err)
		l.hangup()
		return false
	}
	l.light(sip.DialogConfirmed)
	return true
}

// discard ends a leg that lost the race: one that answered anyway is acknowledged and hung
// up, the others are already cancelled.
func (c *call) discard(l *leg, err error) {
	if err == nil && l.uac.InviteResponse != nil && l.uac.InviteResponse.IsSuccess() {
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		_ = l.uac.Ack(ctx)
		cancel()
		l.hangup()
		return
	}
	l.close()
}
