package pbx

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
)

// Queue callbacks (docs/queues.md "Callback"). A caller waiting in a queue whose
// callback_enabled is on presses callback_key (RFC 4733, or any DTMF path that feeds the
// caller leg's media.Session.Digits). Once they have waited callback_after_s, and when
// they can be dialled back (an internal caller's extension, or an E.164 caller id: an
// anonymous caller is not offered the callback, their key is ignored), the callback is
// stored with queue.callback.requested, the caller hears a confirmation and the call ends.
// Their queueCaller stays where it was in the queue's waiting list — same place, same
// entered time, same stay — now driven by runCallback: it is offered to agents exactly when
// the caller would have been (the same autofill position and strategy). When an agent
// answers, the caller is dialled back (queue.callback.placed) and bridged to the agent; an
// unanswered callback keeps its place and is tried again after the queue's retry pause, up
// to callback_retries more times, then given up (queue.callback.failed). Pending callbacks
// are stored, and resumed with their places when the engine starts again.

// callbackTone is the confirmation a caller hears when no prompt says it: three rising
// beeps (660, 880 and 1100 Hz, 150 ms each, 50 ms apart), 0.6 s in all.
var callbackTone = sync.OnceValue(func() []int16 {
	return tones(6000, toneStep{660, 150}, toneStep{0, 50}, toneStep{880, 150}, toneStep{0, 50}, toneStep{1100, 150}, toneStep{0, 50})
})

// callbackListener watches the caller's keys while they wait in a queue. ctx ends when the
// callback key is pressed (and with the wait it derives from), so that the queue's pauses
// end at once; take reads and clears the press.
type callbackListener struct {
	parent  context.Context
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	pressed bool
	done    chan struct{}
	once    sync.Once
}

// listenForCallback starts watching the caller's keys for q's callback key, until stop.
// With callbacks off it watches nothing: its ctx is parent.
func (c *call) listenForCallback(parent context.Context, st *callerState, q *switchboard.Queue) *callbackListener {
	l := &callbackListener{parent: parent, done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(parent)
	if !q.CallbackEnabled {
		return l
	}
	digits := st.a.keys()
	c.e.wg.Add(1) // in the call's goroutine: wg is above zero
	go func() {
		defer c.e.wg.Done()
		for {
			select {
			case d, ok := <-digits:
				if !ok {
					return
				}
				if d.String() == q.CallbackDigit() {
					l.mu.Lock()
					l.pressed = true
					l.cancel()
					l.mu.Unlock()
				}
			case <-l.done:
				return
			case <-parent.Done():
				return
			}
		}
	}()
	return l
}

// waitCtx is the context the queue's pauses wait under: it ends on a press.
func (l *callbackListener) waitCtx() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ctx
}

// take reports whether the key was pressed since the last take, and clears it.
func (l *callbackListener) take() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.pressed {
		return false
	}
	l.pressed = false
	l.ctx, l.cancel = context.WithCancel(l.parent)
	return true
}

// stop ends the watching (once the caller leaves the queue or is put through: keys pressed
// in the call are no longer the queue's); it may be called more than once.
func (l *callbackListener) stop() {
	l.once.Do(func() { close(l.done) })
	l.mu.Lock()
	l.cancel()
	l.mu.Unlock()
}

// callbackTarget is how the caller can be dialled back: an internal caller's extension (and
// user), or an external caller's E.164 number; "" when they cannot be (withheld or unknown
// caller id).
func (c *call) callbackTarget() (number string, userID int64) {
	c.mu.Lock()
	u := c.user
	c.mu.Unlock()
	if c.direction == switchboard.CallOutbound && u != nil {
		return u.Extension, u.ID
	}
	if switchboard.ValidE164(c.from) {
		return c.from, 0
	}
	return "", 0
}

// takeCallback turns the waiting caller qc into a callback entry when the key press is
// allowed (callback on, waited long enough, a number to call back, under callback_max):
// the entry is stored with queue.callback.requested, the caller hears the confirmation and
// is hung up, and the entry goes on waiting in the caller's place (true). Otherwise the
// caller goes on waiting and nothing is stored (false).
func (c *call) takeCallback(st *callerState, q *switchboard.Queue, qs *queueState, qc *queueCaller) bool {
	e := c.e
	now := e.now().UTC()
	waited := now.Sub(qc.entered)
	if !q.CallbackEnabled || waited < time.Duration(q.CallbackAfter)*time.Second {
		return false
	}
	number, userID := c.callbackTarget()
	if number == "" {
		e.log.Info("callback key ignored: the caller cannot be dialled back", "uniqueid", c.id, "queue_id", q.ID)
		return false
	}
	e.queues.mu.Lock()
	position := 0
	for _, w := range qs.waiting {
		if !w.connected {
			position++
		}
		if w == qc {
			break
		}
	}
	e.queues.mu.Unlock()
	cb := &switchboard.QueueCallback{AccountID: c.accountID, QueueID: q.ID, StayID: qc.stayID, CallID: c.id,
		Direction: c.direction, From: c.from, CallerName: c.callerName, To: c.to, Number: c.number,
		CallerUserID: userID, CallbackNumber: number, EnteredAt: qc.entered, RequestedAt: now}
	ev := c.queueEvent(switchboard.EventQueueCallbackRequested, q, qc.stayID, nil, map[string]any{
		events.FieldCallbackNumber: number, events.FieldPosition: position, events.FieldWaitTime: int(waited / time.Second)})
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err := e.store.CreateQueueCallback(ctx, cb, q.CallbackMax, ev)
	cancel()
	if err != nil {
		e.log.Info("callback not taken", "uniqueid", c.id, "queue_id", q.ID, "error", err)
		return false
	}
	e.queues.mu.Lock()
	qc.callback = cb
	e.queues.mu.Unlock()
	c.stopMOH(st)
	c.confirmCallback(st)
	c.finish(switchboard.DispositionNoAnswer) // BYE: the caller will be called back
	e.startCallback(qs, qc)
	return true
}

// confirmTimeout bounds the confirmation played to the caller.
const confirmTimeout = 30 * time.Second

// confirmCallback plays the confirmation to the caller: the system prompt
// callback-confirmed in the call's language when the engine has a prompt library, else
// callbackTone.
func (c *call) confirmCallback(st *callerState) {
	ctx, cancel := context.WithTimeout(st.a.ctx(), confirmTimeout)
	defer cancel()
	pcm := c.e.systemPrompt(ctx, c.accountID, switchboard.SysPromptCallbackConfirmed, c.language, callbackTone)
	_ = st.a.media.Play(ctx, media.PCM(pcm))
}

// startCallback runs the callback entry qc in the background; once the engine is stopping
// the entry only leaves the queue's memory: it stays pending in the store for the next start.
func (e *Engine) startCallback(qs *queueState, qc *queueCaller) {
	if !e.track() {
		e.queues.remove(qs, qc)
		return
	}
	go func() {
		defer e.wg.Done()
		defer e.queues.remove(qs, qc)
		for e.callbackAttempt(qs, qc) {
		}
	}()
}

// stop ends the waits of callback entries: the engine is stopping.
func (m *queueManager) stop() { m.stoppingOnce.Do(func() { close(m.stopping) }) }

// untilStopping makes ctx (cancelled by cancel) end also when the engine stops.
func (m *queueManager) untilStopping(ctx context.Context, cancel context.CancelFunc) (context.Context, context.CancelFunc) {
	go func() {
		select {
		case <-m.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// remove takes qc out of the queue's waiting list and lets the callers behind move up.
func (m *queueManager) remove(qs *queueState, qc *queueCaller) {
	m.mu.Lock()
	qs.waiting = slices.DeleteFunc(qs.waiting, func(x *queueCaller) bool { return x == qc })
	m.mu.Unlock()
	m.kickAll()
}

// resumeCallbacks puts the stored pending callbacks back in their queues, each in its
// place by the time its caller entered, and runs them. Run calls it once, after Recover.
func (e *Engine) resumeCallbacks(ctx context.Context) {
	cbs, err := e.store.ResumeQueueCallbacks(ctx)
	if err != nil {
		e.log.Error("resuming pending queue callbacks failed", "error", err)
		return
	}
	for _, cb := range cbs {
		qc := &queueCaller{c: e.newCall(&plan{callInfo: callbackInfo(cb)}), entered: cb.EnteredAt, stayID: cb.StayID,
			tried: map[int64]bool{}, callback: cb}
		e.queues.mu.Lock()
		qs := e.queues.state(cb.QueueID)
		i := sort.Search(len(qs.waiting), func(i int) bool { return qs.waiting[i].entered.After(qc.entered) })
		qs.waiting = slices.Insert(qs.waiting, i, qc)
		e.queues.mu.Unlock()
		e.log.Info("resumed a pending queue callback", "queue_id", cb.QueueID, "queue_call_id", cb.StayID)
		e.startCallback(qs, qc)
	}
}

// callbackInfo is how a callback call is recorded: as the caller's call, whose place it
// kept, with its caller name marked "Callback: " (the agent's phone shows it too).
func callbackInfo(cb *switchboard.QueueCallback) callInfo {
	name := "Callback"
	if cb.CallerName != "" {
		name = "Callback: " + cb.CallerName
	}
	return callInfo{accountID: cb.AccountID, direction: cb.Direction, from: cb.From, callerName: sanitizeDisplay(name),
		to: cb.To, number: cb.Number}
}

// stayOf is the queue stay a callback continues.
func stayOf(cb *switchboard.QueueCallback, q *switchboard.Queue) *switchboard.GroupCall {
	return &switchboard.GroupCall{AccountID: cb.AccountID, GroupType: switchboard.TargetQueue, GroupID: cb.QueueID,
		GroupName: q.QueueName, UniqueID: cb.CallID, StayID: cb.StayID, From: cb.From, CallerName: cb.CallerName,
		To: cb.To, EnteredAt: cb.EnteredAt}
}

// callbackAttempt is one callback call of the entry qc: it waits for the entry's turn and
// rings agents as runQueue does for a caller; when an agent answers it dials the caller and
// bridges them. It reports whether the entry should be tried again (the caller did not
// answer and retries are left); false when it is done, given up, or the engine stops.
func (e *Engine) callbackAttempt(qs *queueState, qc *queueCaller) (again bool) {
	cb := qc.callback
	c := e.newCall(&plan{callInfo: callbackInfo(cb)})
	if cb.Direction == switchboard.CallOutbound && cb.CallerUserID != 0 {
		// An internal caller: the record stays theirs, as their queue call's did.
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		if u, err := e.store.GetUser(ctx, cb.AccountID, cb.CallerUserID); err == nil {
			c.user = u
		}
		cancel()
	}
	e.queues.mu.Lock()
	qc.c = c
	e.queues.mu.Unlock()
	// The waits end when the engine stops, or the started call is asked to hang up.
	waitCtx, stopWaits := c.untilHangup(e.queues.untilStopping(context.WithCancel(context.Background())))
	defer stopWaits()

	// Wait for the turn and an agent who answers. The record starts when the first agent
	// rings: a callback waiting for its turn is not a call yet.
	started := false
	var q *switchboard.Queue
	var agentLeg *leg
	var agent *switchboard.User
	for agentLeg == nil {
		if c.hangingUp() || (!started && e.isStopping()) {
			if started {
				c.finish(switchboard.DispositionCancelled)
			}
			return false // still pending in the store: resumed at the next start
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		var err error
		q, err = e.store.GetQueue(ctx, cb.AccountID, cb.QueueID)
		cancel()
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			if !started {
				c.id = cb.CallID // no callback call exists: the events are the asking call's
			}
			c.failCallback(&switchboard.Queue{ID: cb.QueueID, AccountID: cb.AccountID}, cb, "queue_deleted")
			if started {
				c.finish(switchboard.DispositionFailed)
			}
			return false
		}
		if err != nil {
			e.log.Warn("queue unavailable for a callback", "queue_id", cb.QueueID, "error", err)
			e.pause(waitCtx)
			continue
		}
		statuses, err := e.snapshot(q, false)
		if err != nil {
			e.log.Warn("queue members unavailable", "queue_id", q.ID, "error", err)
		}
		picks := c.nextPicks(q, qs, qc, statuses)
		if len(picks) == 0 {
			e.pause(waitCtx)
			continue
		}
		if !started {
			c.started = e.now().UTC()
			if err := c.start(); err != nil {
				e.log.Error("storing a callback call's start failed", "queue_id", q.ID, "error", err)
				e.queues.release(q.AccountID, picks)
				e.pause(waitCtx)
				continue
			}
			started = true
		}
		deadline := e.now().Add(time.Duration(max(q.Timeout, 1)) * time.Second)
		agentLeg, agent = c.ringMembers(waitCtx, nil, q, qc, picks, deadline)
		if agentLeg == nil && q.Retry > 0 {
			e.sleepUntil(waitCtx, e.now().Add(time.Duration(q.Retry)*time.Second))
		}
	}
	return c.callBack(q, qs, qc, agentLeg, agent)
}

// callBack dials the caller of the callback qc for the agent who answered (leg a), and
// bridges them when the caller answers. See callbackAttempt for what it reports.
func (c *call) callBack(q *switchboard.Queue, qs *queueState, qc *queueCaller, a *leg, agent *switchboard.User) (again bool) {
	e := c.e
	cb := qc.callback
	via := map[string]any{events.FieldQueueID: q.ID, events.FieldQueueName: q.QueueName}
	c.mu.Lock()
	c.a = a
	c.via = via
	if c.direction == switchboard.CallInbound {
		c.user = agent
	}
	c.mu.Unlock()
	c.addParty(party{userID: agent.ID, direction: switchboard.CallInbound, from: c.from, to: c.to})
	c.emit(c.queueEvent(switchboard.EventQueueMemberAnswered, q, qc.stayID, agent, nil))

	// The agent hears ringback while the caller is dialled.
	ringback, stopRingback := context.WithCancel(context.Background())
	defer stopRingback()
	e.wg.Add(1) // in the callback's goroutine: wg is above zero
	go func() {
		defer e.wg.Done()
		_ = a.media.Play(ringback, media.Ringback())
	}()
	dests, ringTime := c.callbackDests(q, cb, agent)
	cb.Attempts++
	cb.CallbackCallID = c.id
	placed := c.queueEvent(switchboard.EventQueueCallbackPlaced, q, qc.stayID, agent, map[string]any{
		events.FieldCallbackNumber: cb.CallbackNumber, events.FieldAttempt: cb.Attempts,
		events.FieldOriginalCallID: cb.CallID})
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err := e.store.UpdateQueueCallback(ctx, cb, placed)
	cancel()
	if err != nil {
		e.log.Error("storing a callback attempt failed", "queue_call_id", cb.StayID, "error", err)
	}
	var res forkResult
	if len(dests) > 0 {
		c.ringTime = ringTime
		rctx, rcancel := c.ringContext(a.ctx())
		res = c.fork(rctx, dests, forkHooks{})
		rcancel()
	}
	stopRingback()
	if res.winner == nil {
		c.emit(c.queueEvent(switchboard.EventQueueMemberEnded, q, qc.stayID, agent, map[string]any{events.FieldDuration: 0}))
		c.finish(switchboard.DispositionNoAnswer)
		if e.isStopping() {
			return false // the engine stops: the callback stays pending for the next start
		}
		if len(dests) == 0 {
			c.failCallback(q, cb, "unreachable")
			return false
		}
		if cb.Attempts > q.CallbackRetries {
			c.failCallback(q, cb, "no_answer")
			return false
		}
		// The entry keeps its place and is offered again after the retry pause.
		if q.Retry > 0 {
			ctx, cancel := e.queues.untilStopping(context.WithCancel(context.Background()))
			e.sleepUntil(ctx, e.now().Add(time.Duration(q.Retry)*time.Second))
			cancel()
		}
		return !e.isStopping()
	}

	b := res.winner
	c.mu.Lock()
	c.b = b
	c.legsSwapped()
	c.mu.Unlock()
	if cb.CallerUserID != 0 {
		c.addParty(party{userID: cb.CallerUserID, direction: switchboard.CallOutbound, from: c.from, to: c.to})
	}
	if err := c.bridge(a, b); err != nil {
		e.log.Error("bridging a callback failed", "uniqueid", c.id, "error", err)
	}
	now := e.now().UTC()
	e.queues.mu.Lock()
	qc.connected = true
	qs.callsTaken[agent.ID]++
	qs.lastAnswered[agent.ID] = now
	e.queues.mu.Unlock()
	cb.Status = switchboard.CallbackDone
	ctx, cancel = context.WithTimeout(context.Background(), storeTimeout)
	if err := e.store.UpdateQueueCallback(ctx, cb); err != nil {
		e.log.Error("storing a callback's answer failed", "queue_call_id", cb.StayID, "error", err)
	}
	g := stayOf(cb, q)
	g.AnsweredAt, g.UserID, g.Extension, g.UserName = now, agent.ID, agent.Extension, agent.DisplayName()
	if err := e.store.AnswerGroupCall(ctx, g, c.queueEvent(switchboard.EventQueueLeft, q, qc.stayID, nil, map[string]any{
		events.FieldReason: "answered", events.FieldDuration: now.Sub(cb.EnteredAt).Seconds()})); err != nil {
		e.log.Error("storing a callback's queue answer failed", "queue_call_id", cb.StayID, "error", err)
	}
	cancel()
	e.queues.kickAll() // the callers behind move up
	c.markAnswered(agent)
	c.waitEnd()
	end := e.now().UTC()
	e.queues.mu.Lock()
	e.queues.lastCall[agentKey{q.AccountID, agent.ID}] = end
	e.queues.mu.Unlock()
	e.queues.changed() // wrap-up starts
	g.LeftAt, g.Status = end, switchboard.GroupCallAnswered
	c.endStay(g, c.queueEvent(switchboard.EventQueueMemberEnded, q, qc.stayID, agent, map[string]any{
		events.FieldDuration: max(0, int(end.Sub(now)/time.Second))}), c.summary(g))
	c.finish(switchboard.DispositionAnswered)
	return false
}

// callbackDests is where the caller of cb is dialled back, and for how long: an internal
// caller's phones (their do not disturb and forwarding apply), or the number through the
// account's trunk, presenting the number the caller dialled (else the trunk's caller id) and
// counted by the toll-fraud guards against the agent. None when the caller cannot be
// reached now.
func (c *call) callbackDests(q *switchboard.Queue, cb *switchboard.QueueCallback, agent *switchboard.User) ([]dest, time.Duration) {
	e := c.e
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	name := "Callback: " + q.QueueName
	if cb.CallerUserID != 0 {
		u, err := e.store.GetUser(ctx, cb.AccountID, cb.CallerUserID)
		if err != nil {
			e.log.Warn("callback: the caller's user is gone", "queue_call_id", cb.StayID, "error", err)
			return nil, 0
		}
		p := &plan{}
		if err := e.planUser(ctx, p, u, q.Extension, name); err != nil {
			p.release()
			e.log.Info("callback: the caller cannot be rung now", "queue_call_id", cb.StayID, "error", err)
			return nil, 0
		}
		c.takeSlots(p)
		return p.dests, p.ringTime
	}
	trunk, err := e.accountTrunk(ctx, cb.AccountID)
	if err != nil {
		e.log.Warn("callback: no trunk to dial the caller", "queue_call_id", cb.StayID, "error", err)
		return nil, 0
	}
	callerID := cb.Number
	if !switchboard.ValidE164(callerID) {
		if callerID, err = e.callerID(ctx, trunk, nil); err != nil {
			return nil, 0
		}
	}
	d, err := e.trunkDest(trunk, cb.CallbackNumber, callerID, name)
	if err != nil {
		return nil, 0
	}
	slot, err := e.guardOutbound(ctx, cb.AccountID, agent, cb.CallbackNumber)
	if err != nil {
		e.log.Info("callback refused by a toll-fraud guard", "queue_call_id", cb.StayID, "error", err)
		return nil, 0
	}
	c.takeSlots(&plan{slots: []*outboundSlot{slot}})
	return []dest{d}, externalRingTime
}

// failCallback gives the callback up: it is stored failed with queue.callback.failed, and
// its stay ends unanswered (queue.left with reason callback_failed, the summary).
func (c *call) failCallback(q *switchboard.Queue, cb *switchboard.QueueCallback, reason string) {
	e := c.e
	cb.Status = switchboard.CallbackFailed
	failed := c.queueEvent(switchboard.EventQueueCallbackFailed, q, cb.StayID, nil, map[string]any{
		events.FieldCallbackNumber: cb.CallbackNumber, events.FieldAttempt: cb.Attempts,
		events.FieldOriginalCallID: cb.CallID, events.FieldReason: reason})
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	err := e.store.UpdateQueueCallback(ctx, cb, failed)
	cancel()
	if err != nil {
		e.log.Error("storing a failed callback failed", "queue_call_id", cb.StayID, "error", err)
	}
	g := stayOf(cb, q)
	g.LeftAt, g.Status = e.now().UTC(), switchboard.GroupCallNoAnswer
	c.endStay(g, c.queueEvent(switchboard.EventQueueLeft, q, cb.StayID, nil, map[string]any{
		events.FieldReason: "callback_failed", events.FieldDuration: g.LeftAt.Sub(cb.EnteredAt).Seconds()}), c.summary(g))
}
