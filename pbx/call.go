package pbx

import (
	"context"
	"errors"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
	"switchboard/sip"
)

// Why a call ended, as the hangup_cause field says it.
const (
	causeNormal    = "normal"
	causeBusy      = "busy"
	causeNoAnswer  = "no_answer"
	causeFailed    = "failed"
	causeCancelled = "cancelled"
	causeInactive  = "rtp_timeout" // logged; the event says "failed"
)

// party is a user of the account on a call, for the live channels.
type party struct {
	userID    int64
	direction string // inbound or outbound, from the user's side
	from, to  string
}

// call is one call through the engine: the caller's leg a, the answered callee's leg b.
type call struct {
	e  *Engine
	id string // uniqueid
	// slots are the call's outbound trunk calls counted by the toll-fraud guards (under
	// mu); removeCall gives them back.
	slots []*outboundSlot
	// callInfo is the plan's. On an inbound call its user changes to the agent who
	// answers a queue or ring group call, under mu; an outbound call's user stays the
	// caller, whose call it is.
	callInfo
	started  time.Time
	ringTime time.Duration
	parties  []party

	hangupC    chan struct{} // closed when the call is asked to end (inactivity, shutdown)
	hangupOnce sync.Once
	// endedC is closed once the call has ended and is forgotten (finish).
	endedC    chan struct{}
	endedOnce sync.Once

	mu       sync.Mutex
	a, b     *leg
	relay    *media.Relay
	answered time.Time
	ringSent bool
	early    *leg // the callee leg whose early media is bridged
	// callerUnconfirmed: the caller never took our answer (no ACK, or no usable SDP in it
	// after a late offer); an otherwise answered call is then recorded as failed.
	callerUnconfirmed bool
	// via names the queue or ring group that offered the call to the answering user
	// (queue_id, queue_name or ring_group_id, ring_group_name), for the answered event.
	via map[string]any
	// answeredBy is the account's user who answered, if one did (the callee of an internal
	// call; the agent of a queue or ring group call; the user who picked it up).
	answeredBy *switchboard.User

	// legsChanged is closed (and replaced) when a transfer, a park or a retrieval swaps the
	// legs a and b, so that waitEnd watches the new ones.
	legsChanged chan struct{}
	// extras are legs the call owns that are not bridged: a transferor waiting for the
	// outcome of its REFER. finish hangs them up.
	extras []*leg
	// finished: finish has taken the legs; a transfer or retrieval that completes later
	// hangs up what it brought instead of handing it to the call.
	finished bool
	// busyWith is the transfer or park in progress on the call, if any (one at a time).
	busyWith string
	// transferredBy and transferredTo are the last transfer's, for the record.
	transferredBy *switchboard.User
	transferredTo string
	// ringing is what the call's fork rings now, for pickups (pickup.go); nil otherwise.
	ringing *ringingSet
	// musicClass is what the call plays on hold: its queue's class, or "" for the account's
	// default.
	musicClass string
	// heldMusic stops the music played to a leg because the other leg holds the call.
	heldMusic map[*leg]func()
	// rec is the call's recording in progress, if any (recording.go).
	rec *callRecording

	// recMu serializes what changes the recording: its start, stop, and the channels a
	// transfer moves; taken before mu. recEnded: the call's end took the recording, none
	// starts after.
	recMu    sync.Mutex
	recEnded bool
}

func (c *call) setMusicClass(class string) {
	c.mu.Lock()
	c.musicClass = class
	c.mu.Unlock()
}

func (e *Engine) newCall(p *plan) *call {
	return &call{e: e, id: e.nextUniqueID(), callInfo: p.callInfo, started: e.now().UTC(), ringTime: p.ringTime,
		parties: p.parties, hangupC: make(chan struct{}), slots: p.slots, legsChanged: make(chan struct{}),
		endedC: make(chan struct{})}
}

// takeSlots makes the call hold slots of a plan made while it runs (an overflow to a
// forwarding user, say) until it ends.
func (c *call) takeSlots(p *plan) {
	c.mu.Lock()
	c.slots = append(c.slots, p.slots...)
	c.mu.Unlock()
}

// hangup asks the call to end; the call's goroutine does the signalling.
func (c *call) hangup(reason string) {
	c.hangupOnce.Do(func() {
		c.e.log.Info("hanging up", "uniqueid", c.id, "reason", reason)
		close(c.hangupC)
	})
}

// channelsOf returns the call as the user's live channels (none if not a party).
func (c *call) channelsOf(userID int64, now time.Time) []switchboard.Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []switchboard.Channel
	for _, p := range c.parties {
		if p.userID == userID {
			out = append(out, switchboard.Channel{To: p.to, From: p.from, Direction: p.direction,
				CallSeconds: max(0, int(now.Sub(c.started)/time.Second))})
		}
	}
	return out
}

// inactive reports whether an answered call's media went silent on either leg while
// neither leg has put it on hold.
func (c *call) inactive() bool {
	c.mu.Lock()
	a, b, answered := c.a, c.b, !c.answered.IsZero()
	c.mu.Unlock()
	if !answered || a == nil || b == nil || a.held() || b.held() {
		return false
	}
	return a.media.Inactive() || b.media.Inactive()
}

// other is the leg across the bridge from l.
func (c *call) other(l *leg) *leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l == c.a {
		return c.b
	}
	if l == c.b {
		return c.a
	}
	return nil
}

// bridgedTo is the leg whose media is bridged with l's, or nil while the call's legs are
// not bridged (ringing, in an application, parked).
func (c *call) bridgedTo(l *leg) *leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.relay == nil {
		return nil
	}
	switch l {
	case c.a:
		return c.b
	case c.b:
		return c.a
	}
	return nil
}

// bridge relays media between the caller and l (replacing an early-media bridge). A
// recording in progress follows the parties (a transfer's new party joins it).
func (c *call) bridge(a, l *leg) error {
	c.mu.Lock()
	if c.relay != nil {
		c.relay.Close()
		c.relay = nil
	}
	r, err := media.Bridge(a.media, l.media)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.relay = r
	c.mu.Unlock()
	c.recordingFollows(a, l)
	return nil
}

// eventName is the call's event of a kind: started, ringing, answered or ended.
func (c *call) eventName(kind string) string {
	in := c.direction == switchboard.CallInbound
	switch kind {
	case "started":
		if in {
			return switchboard.EventCallInboundStarted
		}
		return switchboard.EventCallOutboundStarted
	case "ringing":
		return switchboard.EventCallInboundRinging
	case "answered":
		if in {
			return switchboard.EventCallInboundAnswered
		}
		return switchboard.EventCallOutboundAnswered
	}
	if in {
		return switchboard.EventCallInboundEnded
	}
	return switchboard.EventCallOutboundEnded
}

// event builds one of the call's events with the canonical fields of events/fields.go.
func (c *call) event(name string, u *switchboard.User, extra map[string]any) *switchboard.Event {
	data := map[string]any{
		events.FieldDirection:     c.direction,
		events.FieldTo:            c.to,
		events.FieldCallStartedAt: c.started,
	}
	if c.from != "" {
		data[events.FieldFrom] = c.from
	}
	if c.callerName != "" {
		data[events.FieldCallerName] = c.callerName
	}
	if c.number != "" {
		data[events.FieldNumber] = c.number
	}
	if u != nil {
		data[events.FieldUserID] = u.ID
		data[events.FieldExtension] = u.Extension
		data[events.FieldUserName] = u.DisplayName()
	}
	for k, v := range extra {
		data[k] = v
	}
	ev := switchboard.NewEvent(c.accountID, name, data)
	ev.OccurredAt = c.e.now().UTC()
	ev.CallID, ev.CRMID = c.id, c.crmID
	return ev
}

func (c *call) record() *switchboard.CallRecord {
	r := &switchboard.CallRecord{AccountID: c.accountID, UniqueID: c.id, Direction: c.direction, From: c.from,
		To: c.to, CallerName: c.callerName, StartedAt: c.started, CRMID: c.crmID,
		RecordingRequested: c.recording}
	if c.user != nil {
		r.UserID, r.Extension = c.user.ID, c.user.Extension
	}
	if c.transferredTo != "" {
		r.TransferredTo = c.transferredTo
		if c.transferredBy != nil {
			r.TransferredByUserID = c.transferredBy.ID
		}
	}
	return r
}

// storeTimeout bounds each store write of a call.
const storeTimeout = 10 * time.Second

// start stores the call's open record with its started event and registers the call.
func (c *call) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	select {
	case <-c.e.recovered:
	case <-ctx.Done():
		return errors.New("pbx: the records of the last run are not closed yet (is Engine.Run running?)")
	}
	if err := c.e.store.StartCallRecord(ctx, c.record(), c.event(c.eventName("started"), c.user, nil)); err != nil {
		return err
	}
	c.e.addCall(c)
	return nil
}

// begin makes a the caller's leg of an incoming call and stores the call's start; a call
// whose start cannot be stored is refused (false).
func (c *call) begin(a *leg) bool {
	c.mu.Lock()
	c.a = a
	c.mu.Unlock()
	if err := c.start(); err != nil {
		c.e.log.Error("storing a call's start failed; refusing it", "error", err)
		a.reject(500, "Server Internal Error")
		a.close()
		return false
	}
	a.light(sip.DialogEarly) // the caller's phone is now in a call, ringing out
	return true
}

// emit stores an event of the call that comes with no record change.
func (c *call) emit(ev *switchboard.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := c.e.store.AppendEvents(ctx, ev); err != nil {
		c.e.log.Error("storing call event failed", "uniqueid", c.id, "event", ev.Name, "error", err)
	}
}

// markAnswered records the answer and stores the answered event.
func (c *call) markAnswered(u *switchboard.User) {
	c.mu.Lock()
	c.answered = c.e.now().UTC()
	c.answeredBy = u
	via := c.via
	c.mu.Unlock()
	c.emit(c.event(c.eventName("answered"), c.eventUser(u), c.calleeFields(u, via)))
	c.e.goTracked(c.recordAnswered) // the policies are read without delaying the call
}

// eventUser is the user an event of the call names: on an outbound call always the caller
// (the user who dialled), on an inbound call the user it is about (ringing, answering).
func (c *call) eventUser(u *switchboard.User) *switchboard.User {
	if c.direction == switchboard.CallOutbound {
		return c.user
	}
	return u
}

// calleeFields adds to extra the user who answered an outbound call (an internal call, or
// one through a queue or ring group): user_id names the caller there.
func (c *call) calleeFields(answeredBy *switchboard.User, extra map[string]any) map[string]any {
	if c.direction != switchboard.CallOutbound || answeredBy == nil {
		return extra
	}
	out := map[string]any{events.FieldAnsweredByUserID: answeredBy.ID}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

var dispositionCause = map[switchboard.CallDisposition]string{
	switchboard.DispositionAnswered: causeNormal, switchboard.DispositionBusy: causeBusy,
	switchboard.DispositionNoAnswer: causeNoAnswer, switchboard.DispositionFailed: causeFailed,
	switchboard.DispositionCancelled: causeCancelled,
}

// finish closes both legs, stores the record with the ended event and forgets the call.
// A call is finished once: a transfer to a queue or ring group runs the queue's own ending
// while the call's goroutine waits for the same legs; the second finish does nothing.
func (c *call) finish(d switchboard.CallDisposition) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished = true
	a, b, relay, early, extras := c.a, c.b, c.relay, c.early, c.extras
	answered := c.answered
	if c.callerUnconfirmed && d == switchboard.DispositionAnswered {
		d = switchboard.DispositionFailed
	}
	c.mu.Unlock()
	// A transfer or park still ringing or waiting for this call stops.
	c.hangupOnce.Do(func() { close(c.hangupC) })
	if relay != nil {
		relay.Close()
	}
	// The legs are hung up side by side: a party that vanished (its BYE unanswered) must
	// not delay the other's BYE.
	var hangups sync.WaitGroup
	for _, l := range append([]*leg{a, b, early}, extras...) {
		if l != nil {
			hangups.Add(1)
			go func() {
				defer hangups.Done()
				l.hangup()
			}()
		}
	}
	hangups.Wait()
	end := c.e.now().UTC()
	c.mu.Lock()
	r := c.record()
	answeredBy, user := c.answeredBy, c.user // a transfer may change them until now
	c.mu.Unlock()
	r.AnsweredAt, r.EndedAt, r.Disposition = answered, end, d
	duration := max(0, int(end.Sub(c.started)/time.Second))
	billable := 0
	// Only a call that was up both ways is billed: a failed one (the caller never ACKed
	// the answer, say) keeps its answer time but no billable seconds.
	if !answered.IsZero() && d == switchboard.DispositionAnswered {
		billable = max(0, int(end.Sub(answered)/time.Second))
	}
	r.Duration, r.BillableSeconds = duration, billable
	extra := map[string]any{
		events.FieldAnswered:         !answered.IsZero(),
		events.FieldDuration:         duration,
		events.FieldAnsweredDuration: billable,
		events.FieldHangupCause:      dispositionCause[d],
	}
	// The recording is completed before the ended event, which links it (VoxPria's
	// call.completed carries it).
	if url := c.endRecording(); url != "" {
		extra[events.FieldRecordingURL] = url
	}
	ev := c.event(c.eventName("ended"), user, c.calleeFields(answeredBy, extra))
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := c.e.store.EndCallRecord(ctx, r, ev); err != nil {
		// The record stays open and is closed (failed) on the next start.
		c.e.log.Error("storing the end of a call failed", "uniqueid", c.id, "error", err)
	}
	c.e.countEnded(d)
	c.e.removeCall(c)
	c.endedOnce.Do(func() { close(c.endedC) })
	c.e.queues.kickAll() // a user may be free for a queue call now
}

// recoveredEndEvent is the ended event of a call closed at startup.
func recoveredEndEvent(r *switchboard.CallRecord) *switchboard.Event {
	name := switchboard.EventCallOutboundEnded
	if r.Direction == switchboard.CallInbound {
		name = switchboard.EventCallInboundEnded
	}
	data := map[string]any{
		events.FieldDirection: r.Direction, events.FieldTo: r.To, events.FieldCallStartedAt: r.StartedAt,
		events.FieldAnswered: !r.AnsweredAt.IsZero(), events.FieldDuration: r.Duration,
		events.FieldAnsweredDuration: r.BillableSeconds, events.FieldHangupCause: causeFailed,
	}
	if r.From != "" {
		data[events.FieldFrom] = r.From
	}
	if r.CallerName != "" {
		data[events.FieldCallerName] = r.CallerName
	}
	if r.UserID != 0 {
		data[events.FieldUserID] = r.UserID
		data[events.FieldExtension] = r.Extension
	}
	ev := switchboard.NewEvent(r.AccountID, name, data)
	ev.OccurredAt = r.EndedAt
	ev.CallID, ev.CRMID = r.UniqueID, r.CRMID
	return ev
}

// waitEnd blocks until either bridged leg's dialog ends or the call is asked to hang up.
// The legs are the call's current ones: a transfer or park swaps them (legsChanged), and a
// leg taken out of the bridge (a transferor, a parker) no longer ends the call.
func (c *call) waitEnd() {
	for {
		c.mu.Lock()
		a, b, changed := c.a, c.b, c.legsChanged
		c.mu.Unlock()
		var aDone, bDone <-chan struct{} // nil (never ready) for an empty slot
		if a != nil {
			aDone = a.ctx().Done()
		}
		if b != nil {
			bDone = b.ctx().Done()
		}
		select {
		case <-aDone:
		case <-bDone:
		case <-c.hangupC:
		case <-changed:
			continue
		}
		// A leg ended: unless a transfer swapped it out in the meantime, the call ends.
		c.mu.Lock()
		same := c.a == a && c.b == b
		c.mu.Unlock()
		if same {
			return
		}
	}
}

// legsSwapped wakes waitEnd to watch the call's new legs; under c.mu.
func (c *call) legsSwapped() {
	close(c.legsChanged)
	c.legsChanged = make(chan struct{})
}

// runInbound drives a call whose caller's leg a is a UAS dialog (a phone or a trunk):
// ring the plan's destinations, pass back ringing, early media and the outcome, bridge the
// answer, and wait for a BYE.
func (c *call) runInbound(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	if !c.begin(a) {
		return
	}
	ringCtx, cancelRing := c.ringContext(a.ctx())
	defer cancelRing()
	if p.ringingUser != nil {
		c.emit(c.event(switchboard.EventCallInboundRinging, p.ringingUser, nil))
	}
	res := c.fork(ringCtx, p.dests, forkHooks{
		ringing: func() { c.sendRinging(a, nil) },
		early: func(l *leg) {
			if a.lateOffer {
				// Our offer may go in a reliable response only (RFC 3262, which the
				// engine does not do): the caller hears its own ringback.
				c.sendRinging(a, nil)
				return
			}
			if c.setEarly(l) && c.bridge(a, l) == nil {
				c.sendRinging(a, answer)
			}
		},
	})
	if res.winner == nil {
		d, code, reason := switchboard.DispositionFailed, res.code, res.reason
		switch {
		case a.ended():
			d = switchboard.DispositionCancelled // the caller hung up (CANCEL): 487 already sent
		case ringCtx.Err() == context.DeadlineExceeded || res.code == 408 || res.code == 480 && len(p.dests) > 0:
			d, code, reason = switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable"
		case res.busy:
			d = switchboard.DispositionBusy
		}
		if c.voicemailInstead(a, answer, p, d) {
			return
		}
		if !a.ended() {
			a.reject(code, reason)
		}
		c.finish(d)
		return
	}
	b := res.winner
	c.mu.Lock()
	c.b = b
	if c.early == b {
		c.early = nil
	}
	early := c.early
	c.early = nil
	c.mu.Unlock()
	if early != nil {
		early.close()
	}
	if err := c.bridge(a, b); err != nil {
		c.e.log.Error("bridging failed", "uniqueid", c.id, "error", err)
		a.reject(500, "Server Internal Error")
		c.finish(switchboard.DispositionFailed)
		return
	}
	u := p.userOf(b)
	if b.pickedUpBy != nil {
		c.handOverParty(b.pickedUpBy)
		if c.direction == switchboard.CallInbound {
			c.mu.Lock()
			c.user = u // the record credits the user who picked the call up
			c.mu.Unlock()
		}
	}
	c.markAnswered(u)
	if err := c.answerCallerAndAwaitAck(a, answer, b.ctx().Done()); err != nil && !errors.Is(err, errAckInterrupted) {
		// A half-open dialog: the callee answered but the caller never confirmed (no ACK,
		// or no usable answer after a late offer). Both legs get a BYE.
		c.e.log.Warn("caller did not take the answer; ending the call", "uniqueid", c.id, "error", err)
		c.finish(switchboard.DispositionFailed)
		return
	}
	c.waitEnd()
	c.finish(switchboard.DispositionAnswered)
}

// ringContext is the context destinations ring under: it ends with parent (the caller's
// dialog), at the ring time, or when the call is asked to hang up.
func (c *call) ringContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, c.ringTime)
	return c.untilHangup(ctx, cancel)
}

// untilHangup makes ctx (cancelled by cancel) end also when the call is asked to hang up.
func (c *call) untilHangup(ctx context.Context, cancel context.CancelFunc) (context.Context, context.CancelFunc) {
	go func() {
		select {
		case <-c.hangupC:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// sendRinging passes ringing back to the caller once: 180, or 183 with our SDP when early
// media is bridged.
func (c *call) sendRinging(a *leg, sdp []byte) {
	c.mu.Lock()
	if c.ringSent && sdp == nil {
		c.mu.Unlock()
		return
	}
	c.ringSent = true
	c.mu.Unlock()
	if sdp != nil {
		res := sipmsg.NewSDPResponseFromRequest(a.uas.InviteRequest, sdp)
		res.StatusCode, res.Reason = 183, "Session Progress"
		a.respondProvisional(res)
		return
	}
	a.respondProvisional(sipmsg.NewResponseFromRequest(a.uas.InviteRequest, 180, "Ringing", nil))
}

// setEarly makes l the leg whose early media the caller hears, if none is yet.
func (c *call) setEarly(l *leg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.early != nil {
		return false
	}
	c.early = l
	return true
}
