package pbx

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/media"
	"switchboard/phone"
)

// externalRingTime bounds how long a number dialled through a trunk may ring.
const externalRingTime = 90 * time.Second

// callInfo is who a call is between and how it is recorded: routing decides it (plan) and
// the call carries it.
type callInfo struct {
	accountID  int64
	direction  string
	from       string
	callerName string
	to         string
	number     string
	user       *switchboard.User // the account's user of the record and events
	crmID      string
	recording  bool // asked for by click-to-call; kept on the record
	// language is what prompts of a flow the call runs play in, until a set_language node
	// changes it: the dialled number's, else its account's ("" = DefaultLanguage).
	language string
}

// plan is where a call goes and how it is recorded, decided before the call is accepted.
type plan struct {
	callInfo
	dests    []dest
	ringTime time.Duration
	// ringingUser gets a call.inbound.ringing event when their phones start ringing.
	ringingUser *switchboard.User
	// users whose phones the destinations are, for the answered event.
	destUsers map[int64]*switchboard.User
	parties   []party
	// target is the queue or ring group the call goes to (runRouted), if any.
	target switchboard.Target
	// slots are the outbound trunk calls of the plan counted against the toll-fraud
	// guards; the call takes them over (newCall), and they are given back when it ends.
	slots []*outboundSlot
	// feature is a setting code the caller dialled (*78…), pickup a *8 code
	// (features.go, pickup.go); the caller's leg then goes to neither a fork nor a queue.
	feature *featureCode
	pickup  *pickupPlan
	// flowOverride is a *60 call flipping a flow's business hours (flow_override.go).
	flowOverride *flowOverridePlan
	// voicemail is the box a direct call to a user falls back to (voicemail.go);
	// voicemailAccess is *97 or *98 dialled (voicemail_access.go).
	voicemail       *voicemailPlan
	voicemailAccess string
}

// release gives back the plan's slots: for a plan that never became a call, or as a
// safety net once the call has ended (release is idempotent).
func (p *plan) release() { releaseSlots(p.slots) }

// userOf is the user whose phone l is (nil for a trunk leg), or who picked the call up.
func (p *plan) userOf(l *leg) *switchboard.User {
	if l.pickedUpBy != nil {
		return l.pickedUpBy
	}
	if u := p.destUsers[l.userID]; u != nil {
		return u
	}
	return p.user
}

// refusal is an INVITE answered with a final response before any call exists.
type refusal struct {
	code   int
	reason string
}

func (r *refusal) Error() string { return r.reason }

func refuse(code int, reason string) error { return &refusal{code, reason} }

// lookupTimeout bounds routing's store reads.
const lookupTimeout = 5 * time.Second

// Invite takes a new INVITE: from a phone (dev, authenticated) or a trunk (dev nil).
func (e *Engine) Invite(req *sipmsg.Request, tx sipmsg.ServerTransaction, dev *switchboard.Device) {
	reply := func(code int, reason string) {
		res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
		if code == 488 {
			res.AppendHeader(sipmsg.NewHeader("Accept", "application/sdp"))
		}
		_ = tx.Respond(res)
	}
	// An INVITE without SDP (late offer) gets our offer in the 200 and brings the answer
	// in its ACK; offer stays nil then.
	var offer *media.Remote
	if len(req.Body()) > 0 {
		var err error
		offer, err = media.ParseSDP(req.Body())
		switch {
		case errors.Is(err, media.ErrNoCommonCrypto):
			reply(488, "Not Acceptable Here: no supported SRTP crypto suite (AES_CM_128_HMAC_SHA1_80 or _32)")
			return
		case errors.Is(err, media.ErrNoCommonCodec):
			reply(488, "Not Acceptable Here: no common codec (PCMU or PCMA)")
			return
		case err != nil:
			reply(400, "Bad Request: malformed SDP")
			return
		}
		if dev != nil && dev.RequireSecure && offer.Crypto == nil {
			reply(488, "Not Acceptable Here: this device must use SRTP (RTP/SAVP with a=crypto)")
			return
		}
	}
	if dev != nil && e.isParkSlot(dialledOf(req)) && dialledOf(req) != strconv.Itoa(parkAny) {
		e.retrieve(req, tx, dev, offer, dialledOf(req)) // a phone dials a park slot
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	p, err := e.route(ctx, req, dev)
	cancel()
	var r *refusal
	if errors.As(err, &r) {
		reply(r.code, r.reason)
		return
	}
	if err != nil {
		e.log.Error("routing failed", "error", err)
		reply(500, "Server Internal Error")
		return
	}
	// The call runs in this handler until it ends: the plan's slots are given back then,
	// or at once when the call never starts.
	defer p.release()
	ua, err := e.dialogUA(req.Transport())
	if err != nil {
		reply(503, "Service Unavailable")
		return
	}
	dtx, err := ua.ReadInvite(req, tx)
	if err != nil {
		reply(400, "Bad Request")
		return
	}
	sess, err := e.newMedia()
	if err != nil {
		e.log.Warn("no RTP port for a call", "error", err)
		_ = dtx.Respond(503, "Service Unavailable", nil)
		return
	}
	c := e.newCall(p)
	a := &leg{c: c, media: sess, uas: dtx, inviteTx: tx, userID: callerUserID(p), lateOffer: offer == nil, peerAddr: req.Source(),
		secure: offer != nil && offer.Crypto != nil || offer == nil && strings.EqualFold(req.Transport(), "TLS") ||
			dev != nil && dev.RequireSecure}
	var answer []byte
	if offer != nil {
		natAdjust(req, offer)
		if err := a.setRemote(offer); err != nil {
			sess.Close()
			_ = dtx.Respond(488, "Not Acceptable Here", nil)
			return
		}
		answer, err = a.sdpAnswer(offer)
	} else {
		answer, err = a.sdpOffer(media.SendRecv)
	}
	if err != nil {
		sess.Close()
		_ = dtx.Respond(488, "Not Acceptable Here", nil)
		return
	}
	// sipgo terminates the INVITE transaction when this handler returns, so the call runs
	// here, in the handler's own goroutine, until it ends.
	if !e.track() {
		sess.Close()
		_ = dtx.Respond(503, "Service Unavailable", nil)
		return
	}
	_ = dtx.Respond(100, "Trying", nil)
	a.setDialogID(dtx.ID)
	switch {
	case p.feature != nil:
		c.runFeature(a, answer, p)
		return
	case p.pickup != nil:
		c.runPickup(a, answer, p)
		return
	case p.flowOverride != nil:
		c.runFlowOverride(a, answer, p)
		return
	case p.voicemailAccess != "":
		c.runVoicemailAccess(a, answer, p)
		return
	case p.voicemail != nil && p.voicemail.reason == vmNow:
		c.runVoicemailNow(a, answer, p)
		return
	}
	if p.target.Type != switchboard.TargetNone {
		c.runRouted(a, answer, p)
		return
	}
	c.runInbound(a, answer, p)
}

func callerUserID(p *plan) int64 {
	for _, pt := range p.parties {
		if pt.direction == switchboard.CallOutbound {
			return pt.userID
		}
	}
	return 0
}

func sourceAddr(req *sipmsg.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// dialledOf is what an INVITE dialled: its Request-URI's user (else the To's).
func dialledOf(req *sipmsg.Request) string {
	dialled := strings.TrimSpace(req.Recipient.User)
	if dialled == "" && req.To() != nil {
		dialled = req.To().Address.User
	}
	return dialled
}

// route decides where an INVITE goes.
func (e *Engine) route(ctx context.Context, req *sipmsg.Request, dev *switchboard.Device) (*plan, error) {
	dialled := dialledOf(req)
	if dev == nil {
		return e.routeFromTrunk(ctx, req, dialled)
	}
	caller, err := e.store.GetUser(ctx, dev.AccountID, dev.UserID)
	if err != nil {
		return nil, err
	}
	if rest, ok := strings.CutPrefix(dialled, flowOverrideCode); ok {
		return e.planFlowOverride(ctx, caller, dialled, rest)
	}
	if strings.HasPrefix(dialled, "*") {
		return e.routeFeature(ctx, caller, dialled)
	}
	return e.routeFromUser(ctx, caller, dialled, "")
}

// routeFromUser plans a call a user dials: an extension rings that user's phones (or their
// forward number); an E.164 number goes out through the account's trunk.
func (e *Engine) routeFromUser(ctx context.Context, caller *switchboard.User, dialled, presentAs string) (*plan, error) {
	p := &plan{callInfo: callInfo{accountID: caller.AccountID, direction: switchboard.CallOutbound, user: caller,
		callerName: caller.DisplayName(), to: dialled, from: caller.Extension}}
	if switchboard.ValidExtension(dialled) {
		callee, err := e.store.GetUserByExtension(ctx, caller.AccountID, dialled)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			t, err := e.store.ExtensionTarget(ctx, caller.AccountID, dialled) // a queue, ring group or room
			if err != nil {
				return nil, err
			}
			if t.Type == switchboard.TargetNone {
				return nil, refuse(404, "Not Found: no user, queue, ring group or conference room with extension "+dialled)
			}
			p.target = t
			p.parties = []party{{userID: caller.ID, direction: switchboard.CallOutbound, from: caller.Extension, to: dialled}}
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		fromUser, fromName := caller.Extension, caller.DisplayName()
		if presentAs != "" {
			fromUser, fromName = presentAs, presentAs
		}
		if err := e.planUserOrVoicemail(ctx, p, callee, fromUser, fromName); err != nil {
			return nil, err
		}
		p.parties = []party{{userID: caller.ID, direction: switchboard.CallOutbound, from: caller.Extension, to: dialled}}
		if callee.ID != caller.ID {
			p.parties = append(p.parties, party{userID: callee.ID, direction: switchboard.CallInbound,
				from: caller.Extension, to: dialled})
		}
		return p, nil
	}
	number, ok := phone.Normalize(dialled)
	if !ok {
		return nil, refuse(404, "Not Found: dial an extension or a phone number")
	}
	trunk, err := e.accountTrunk(ctx, caller.AccountID)
	if err != nil {
		return nil, err
	}
	callerID, err := e.callerID(ctx, trunk, caller)
	if err != nil {
		return nil, err
	}
	p.to, p.from, p.number = number, callerID, callerID
	d, err := e.trunkDest(trunk, number, callerID, caller.DisplayName())
	if err != nil {
		return nil, err
	}
	slot, err := e.guardOutbound(ctx, caller.AccountID, caller, number)
	if err != nil {
		return nil, err
	}
	p.slots = append(p.slots, slot)
	p.dests = []dest{d}
	p.ringTime = externalRingTime
	p.parties = []party{{userID: caller.ID, direction: switchboard.CallOutbound, from: caller.Extension, to: number}}
	return p, nil
}

// planUser adds the destinations of a call to user u: their forward number through the
// trunk when forwarding is on, else every registered phone unless u takes no call now (do
// not disturb, or call waiting off while on a call: busy, as Asterisk and FreePBX answer).
func (e *Engine) planUser(ctx context.Context, p *plan, u *switchboard.User, fromUser, fromName string) error {
	if !(u.ForwardEnabled && u.ForwardNumber != "") && !e.takesCall(u) {
		why := "is on do not disturb"
		if !u.DoNotDisturb {
			why = "is on a call and call waiting is off"
		}
		return refuse(486, "Busy Here: "+u.Extension+" "+why)
	}
	return e.ringUser(ctx, p, u, fromUser, fromName)
}

// ringUser adds the destinations that ring user u whatever their do not disturb and call
// waiting say (click-to-call rings the user's own phones at their own request).
func (e *Engine) ringUser(ctx context.Context, p *plan, u *switchboard.User, fromUser, fromName string) error {
	if p.destUsers == nil {
		p.destUsers = map[int64]*switchboard.User{}
	}
	if u.ForwardEnabled && u.ForwardNumber != "" {
		trunk, err := e.accountTrunk(ctx, u.AccountID)
		if err != nil {
			return err
		}
		callerID := fromUser
		if !switchboard.ValidE164(callerID) {
			// An internal caller has no public number: present the trunk's.
			if callerID, err = e.callerID(ctx, trunk, nil); err != nil {
				return err
			}
		}
		d, err := e.trunkDest(trunk, u.ForwardNumber, callerID, fromName)
		if err != nil {
			return err
		}
		slot, err := e.guardOutbound(ctx, u.AccountID, u, u.ForwardNumber)
		if err != nil {
			return err
		}
		p.slots = append(p.slots, slot)
		p.dests = append(p.dests, d)
		p.ringTime = externalRingTime
		return nil
	}
	contacts := e.sip.Contacts(u.AccountID, u.ID)
	for _, c := range contacts {
		var uri sipmsg.Uri
		if err := sipmsg.ParseUri(c.URI, &uri); err != nil {
			continue
		}
		transport := strings.ToLower(c.Transport)
		if transport == "" {
			transport = "udp"
		}
		p.dests = append(p.dests, dest{uri: uri, addr: c.Source, transport: transport, userID: u.ID,
			fromUser: fromUser, fromName: fromName})
	}
	if len(p.dests) == 0 {
		return refuse(480, "Temporarily Unavailable: "+u.Extension+" has no registered phone")
	}
	p.destUsers[u.ID] = u
	p.ringTime = e.cfg.DefaultRingTime
	if u.RingTimeSeconds > 0 {
		p.ringTime = time.Duration(u.RingTimeSeconds) * time.Second
	}
	return nil
}

// routeFromTrunk plans a call from a carrier to one of an account's numbers. The number
// decides the account; the source address must be one of that account's trunks.
func (e *Engine) routeFromTrunk(ctx context.Context, req *sipmsg.Request, dialled string) (*plan, error) {
	number, ok := phone.Normalize(dialled)
	if !ok {
		return nil, refuse(404, "Not Found")
	}
	num, err := e.store.GetNumberByE164(ctx, number)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return nil, refuse(404, "Not Found")
	}
	if err != nil {
		return nil, err
	}
	src, _ := sourceAddr(req)
	var trunk *switchboard.Trunk
	for _, t := range e.trunksFrom(src) {
		if t.AccountID == num.AccountID {
			trunk = t
			break
		}
	}
	if trunk == nil {
		// Another account's carrier: it may not reach this account's numbers.
		return nil, refuse(403, "Forbidden")
	}
	p := &plan{callInfo: callInfo{accountID: num.AccountID, direction: switchboard.CallInbound, to: number, number: number}}
	if f := req.From(); f != nil {
		p.from = f.Address.User
		if n, ok := phone.Normalize(p.from); ok {
			p.from = n
		}
		if strings.EqualFold(p.from, "anonymous") {
			p.from = ""
		}
		p.callerName = sanitizeDisplay(f.DisplayName)
	}
	switch num.Target.Type {
	case switchboard.TargetUser:
		u, err := e.store.GetUser(ctx, num.AccountID, num.Target.ID)
		if err != nil {
			return nil, err
		}
		p.user, p.ringingUser = u, u
		if err := e.planUserOrVoicemail(ctx, p, u, p.from, p.callerName); err != nil {
			return nil, err
		}
		p.parties = []party{{userID: u.ID, direction: switchboard.CallInbound, from: p.from, to: number}}
	case switchboard.TargetExternal:
		d, err := e.trunkDest(trunk, num.Target.Number, p.from, p.callerName)
		if err != nil {
			return nil, err
		}
		slot, err := e.guardOutbound(ctx, num.AccountID, nil, num.Target.Number)
		if err != nil {
			return nil, err
		}
		p.slots = append(p.slots, slot)
		p.dests = []dest{d}
		p.ringTime = externalRingTime
	case switchboard.TargetQueue, switchboard.TargetRingGroup, switchboard.TargetCallFlow:
		p.target = num.Target
		if num.Target.Type == switchboard.TargetCallFlow {
			acct, err := e.store.GetAccount(ctx, num.AccountID)
			if err != nil {
				return nil, err
			}
			p.language = num.PromptLanguage(acct)
		}
	case switchboard.TargetHangup:
		return nil, refuse(603, "Decline")
	default:
		return nil, refuse(480, "Temporarily Unavailable: the number has no target")
	}
	return p, nil
}

// accountTrunk is the trunk an account's calls go out through: its first.
func (e *Engine) accountTrunk(ctx context.Context, accountID int64) (*switchboard.Trunk, error) {
	ts, err := e.store.ListTrunks(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, refuse(480, "Temporarily Unavailable: no SIP trunk is configured")
	}
	return ts[0], nil
}

// callerID is the number presented on an outbound call: the user's own number when the
// trunk allows it and the user owns one, else the trunk's default caller id.
func (e *Engine) callerID(ctx context.Context, t *switchboard.Trunk, u *switchboard.User) (string, error) {
	if u != nil && t.AllowUserCallerID {
		nums, err := e.store.ListNumbers(ctx, u.AccountID, switchboard.NumberFilter{OwnerUserID: u.ID})
		if err != nil {
			return "", err
		}
		for _, n := range nums {
			if n.Status == "active" || n.Status == "" {
				return n.Number, nil
			}
		}
	}
	if t.CallerIDNumber != "" {
		return t.CallerIDNumber, nil
	}
	return "anonymous", nil
}

// trunkDest is a number dialled through the trunk, with its credentials opened.
func (e *Engine) trunkDest(t *switchboard.Trunk, number, fromUser, fromName string) (dest, error) {
	d := dest{uri: sipmsg.Uri{Scheme: "sip", User: number, Host: t.Host, Port: t.Port},
		transport: t.Transport, fromUser: fromUser, fromName: fromName, username: t.Username}
	if ip, err := netip.ParseAddr(t.Host); err == nil {
		d.addr = hostPort(ip.String(), t.Port)
	}
	if t.Username != "" {
		if e.cfg.Sealer == nil {
			return dest{}, refuse(503, "Service Unavailable: the trunk's password cannot be opened")
		}
		pw, err := e.cfg.Sealer.Open(t.SealedPassword)
		if err != nil {
			e.log.Error("opening a trunk password failed", "trunk_id", t.ID, "error", err)
			return dest{}, refuse(503, "Service Unavailable: the trunk's password cannot be opened")
		}
		d.password = pw
	}
	return d, nil
}
