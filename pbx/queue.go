package pbx

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/events"
)

// Queues behave like Asterisk's app_queue with the queues.conf settings of the same names
// (see docs/queues.md). A caller entering a queue is answered and hears music on hold; the
// queue offers the call to its available members in the strategy's order, each attempt
// ringing for `timeout` seconds and followed by a `retry` pause; a caller may be offered
// only while its position is within the number of available members (Asterisk's
// autofill). Waiting and ringing are timed on the engine's clock (Config.Now), re-checked
// every Config.QueuePoll and at once when a call ends, so tests move an injected clock
// instead of sleeping.

// agentKey names a user of an account.
type agentKey struct{ accountID, userID int64 }

// queueCaller is one caller waiting in a queue.
type queueCaller struct {
	c         *call
	entered   time.Time
	stayID    string
	tried     map[int64]bool // members offered the call this round
	connected bool
	// callback is set once the caller hung up to be called back (queue_callback.go): the
	// entry keeps its place, driven by startCallback, and c is its current callback call.
	callback *switchboard.QueueCallback
	// keys watches the waiting caller's callback key; nil for a callback entry.
	keys *callbackListener
}

// queueState is the live state of one queue: its waiting callers, in arrival order, and
// the per-member history its strategies need.
type queueState struct {
	waiting []*queueCaller // callers in the queue (waiting or talking to an agent)
	memberHistory
}

// queueManager holds the live state of every queue and of the agents, shared by callers.
type queueManager struct {
	mu       sync.Mutex
	queues   map[int64]*queueState
	ringing  map[agentKey]int       // queue offers ringing each agent now
	lastCall map[agentKey]time.Time // when each agent's last queue call ended (wrap-up)

	kickMu sync.Mutex
	kick   chan struct{} // closed (and replaced) when waiting callers should look again

	membersMu sync.Mutex
	members   map[int64]cachedMembers

	// gen counts the changes that can alter a member's status (a call starting or ending,
	// a queue offer ringing or released, an answer, wrap-up starting, a member list
	// invalidated); a queue's status snapshot is reused only while gen is unchanged.
	gen       atomic.Uint64
	snapsMu   sync.Mutex
	snapshots map[int64]*statusSnapshot

	// stopping is closed when the engine stops (Run): callback entries, which have no
	// caller to hang up, stop waiting then.
	stopping     chan struct{}
	stoppingOnce sync.Once
}

// statusSnapshot is one queue's member statuses, computed once and shared by all its
// waiting callers until something changes. Registrations and wrap-up expiry are not
// signalled, so a snapshot also expires after one QueuePoll (the interval at which a
// waiting caller looked before) and when a member's wrap-up ends on the engine's clock.
type statusSnapshot struct {
	mu         sync.Mutex // held while (re)computing, so that concurrent callers compute once
	gen        uint64
	taken      time.Time // wall clock
	engineNow  time.Time // the engine's clock when taken
	wrapUntil  time.Time // the earliest end of a member's wrap-up (engine clock); zero if none
	membersAt  time.Time // fetched time of the member list it was computed from
	statuses   []memberStatus
	computedOK bool
}

type cachedMembers struct {
	members []switchboard.QueueMember
	fetched time.Time
}

func newQueueManager() *queueManager {
	return &queueManager{queues: map[int64]*queueState{}, ringing: map[agentKey]int{},
		lastCall: map[agentKey]time.Time{}, kick: make(chan struct{}), members: map[int64]cachedMembers{},
		snapshots: map[int64]*statusSnapshot{}, stopping: make(chan struct{})}
}

// waitingCount is the number of callers not yet connected to an agent.
func (s *queueState) waitingCount() int {
	n := 0
	for _, w := range s.waiting {
		if !w.connected {
			n++
		}
	}
	return n
}

func (m *queueManager) state(queueID int64) *queueState {
	s := m.queues[queueID]
	if s == nil {
		s = &queueState{memberHistory: newMemberHistory()}
		m.queues[queueID] = s
	}
	return s
}

// wake returns a channel closed at the next kick.
func (m *queueManager) wake() <-chan struct{} {
	m.kickMu.Lock()
	defer m.kickMu.Unlock()
	return m.kick
}

// kickAll makes every waiting caller look at the queue again (an agent became free).
func (m *queueManager) kickAll() {
	m.changed()
	m.kickMu.Lock()
	close(m.kick)
	m.kick = make(chan struct{})
	m.kickMu.Unlock()
}

// changed marks every queue's status snapshot stale.
func (m *queueManager) changed() { m.gen.Add(1) }

// membersTTL bounds how stale a queue's member list (pause, penalty) may be.
const membersTTL = time.Second

func (e *Engine) queueMembers(ctx context.Context, accountID, queueID int64) ([]switchboard.QueueMember, error) {
	members, _, err := e.queueMembersAt(ctx, accountID, queueID)
	return members, err
}

// queueMembersAt is queueMembers with the time the list was read from the store.
func (e *Engine) queueMembersAt(ctx context.Context, accountID, queueID int64) ([]switchboard.QueueMember, time.Time, error) {
	m := e.queues
	now := time.Now()
	m.membersMu.Lock()
	c, ok := m.members[queueID]
	m.membersMu.Unlock()
	if ok && now.Sub(c.fetched) < membersTTL {
		return c.members, c.fetched, nil
	}
	members, err := e.store.ListQueueMembers(ctx, accountID, queueID)
	if err != nil {
		return nil, time.Time{}, err
	}
	m.membersMu.Lock()
	m.members[queueID] = cachedMembers{members: members, fetched: now}
	m.membersMu.Unlock()
	return members, now, nil
}

// InvalidateQueueMembers makes the engine read a queue's members again at once (after the
// API paused, unpaused, added or removed one).
func (e *Engine) InvalidateQueueMembers(queueID int64) {
	e.queues.membersMu.Lock()
	delete(e.queues.members, queueID)
	e.queues.membersMu.Unlock()
	e.queues.kickAll() // also marks the status snapshots stale
}

// sleepUntil waits until the engine's clock reaches t (true), or ctx ends (false). It looks
// at the clock every QueuePoll and whenever the queues are kicked.
func (e *Engine) sleepUntil(ctx context.Context, t time.Time) bool {
	for {
		now := e.now()
		if !now.Before(t) {
			return true
		}
		wait := min(t.Sub(now), e.cfg.QueuePoll)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-e.queues.wake():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// pause waits one poll interval or until a kick; false when ctx ended.
func (e *Engine) pause(ctx context.Context) bool {
	timer := time.NewTimer(e.cfg.QueuePoll)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-e.queues.wake():
	case <-timer.C:
	}
	return true
}

// memberStatuses looks at every member of q now.
func (e *Engine) memberStatuses(q *switchboard.Queue, members []switchboard.QueueMember) []memberStatus {
	st, _ := e.computeStatuses(q, members)
	return st
}

// computeStatuses looks at every member of q now; wrapUntil is the earliest end of a
// member's wrap-up (zero when none is in wrap-up).
func (e *Engine) computeStatuses(q *switchboard.Queue, members []switchboard.QueueMember) (out []memberStatus, wrapUntil time.Time) {
	online := make([]bool, len(members))
	onCall := make([]bool, len(members))
	refusing := make([]bool, len(members))
	for i, m := range members {
		online[i] = len(e.sip.Contacts(q.AccountID, m.UserID)) > 0
		onCall[i] = e.userBusy(q.AccountID, m.UserID)
		refusing[i] = e.refusesQueueCall(q.AccountID, m.UserID, onCall[i])
	}
	now := e.now()
	e.queues.mu.Lock()
	defer e.queues.mu.Unlock()
	out = make([]memberStatus, 0, len(members))
	for i, m := range members {
		k := agentKey{q.AccountID, m.UserID}
		st := memberStatus{m: m, online: online[i], busy: onCall[i] || e.queues.ringing[k] > 0, refusing: refusing[i]}
		if last, ok := e.queues.lastCall[k]; ok && q.WrapUpTime > 0 {
			if end := last.Add(time.Duration(q.WrapUpTime) * time.Second); now.Before(end) {
				st.wrapUp = true
				if wrapUntil.IsZero() || end.Before(wrapUntil) {
					wrapUntil = end
				}
			}
		}
		out = append(out, st)
	}
	return out, wrapUntil
}

// snapshot returns the member list and statuses of q, shared between its waiting callers:
// it is recomputed only when something changed (see statusSnapshot), by one caller while
// the others wait for the result. fresh forces a recomputation (a caller joining).
func (e *Engine) snapshot(q *switchboard.Queue, fresh bool) ([]memberStatus, error) {
	m := e.queues
	m.snapsMu.Lock()
	s := m.snapshots[q.ID]
	if s == nil {
		s = &statusSnapshot{}
		m.snapshots[q.ID] = s
	}
	m.snapsMu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	// Read gen before looking, so that a change during the computation makes it stale.
	gen := m.gen.Load()
	m.membersMu.Lock()
	cached, ok := m.members[q.ID]
	m.membersMu.Unlock()
	now := e.now()
	if !fresh && s.computedOK && s.gen == gen && ok && cached.fetched.Equal(s.membersAt) &&
		time.Since(cached.fetched) < membersTTL && time.Since(s.taken) < e.cfg.QueuePoll &&
		!now.Before(s.engineNow) && now.Before(s.engineNow.Add(e.cfg.QueuePoll)) &&
		(s.wrapUntil.IsZero() || now.Before(s.wrapUntil)) {
		return s.statuses, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	members, fetched, err := e.queueMembersAt(ctx, q.AccountID, q.ID)
	cancel()
	statuses, wrapUntil := e.computeStatuses(q, members)
	if err != nil {
		s.computedOK = false
		return statuses, err
	}
	s.gen, s.taken, s.engineNow, s.wrapUntil, s.membersAt = gen, time.Now(), now, wrapUntil, fetched
	s.statuses, s.computedOK = statuses, true
	return statuses, nil
}

// stayEvent is an event of the caller's stay in queue q.
func (c *call) queueEvent(name string, q *switchboard.Queue, stayID string, u *switchboard.User, extra map[string]any) *switchboard.Event {
	data := map[string]any{events.FieldQueueID: q.ID, events.FieldQueueName: q.QueueName, events.FieldQueueCallID: stayID}
	for k, v := range extra {
		data[k] = v
	}
	return c.event(name, u, data)
}

// runQueue puts the caller in queue queueID until an agent answers (done), or returns the
// queue's overflow target when the caller may not join, times out or the queue empties.
func (c *call) runQueue(st *callerState, queueID int64) (switchboard.Target, bool) {
	e := c.e
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	q, err := e.store.GetQueue(ctx, c.accountID, queueID)
	cancel()
	var statuses []memberStatus
	if err == nil {
		statuses, err = e.snapshot(q, true) // a joining caller looks afresh
	}
	if err != nil {
		e.log.Error("queue unavailable", "uniqueid", c.id, "queue_id", queueID, "error", err)
		return switchboard.Target{}, false
	}
	if queueEmpty(q.JoinEmpty, true, statuses) {
		return q.Overflow, false
	}
	e.queues.mu.Lock()
	qs := e.queues.state(q.ID)
	if q.MaxLen > 0 && qs.waitingCount() >= q.MaxLen {
		e.queues.mu.Unlock()
		return q.Overflow, false // full: Asterisk's QUEUESTATUS=FULL
	}
	qc := &queueCaller{c: c, entered: e.now().UTC(), stayID: strconv.FormatUint(e.seq.Add(1), 10), tried: map[int64]bool{}}
	qs.waiting = append(qs.waiting, qc)
	e.queues.mu.Unlock()
	defer func() {
		e.queues.mu.Lock()
		handedOver := qc.callback != nil // a callback keeps the caller's place
		e.queues.mu.Unlock()
		if !handedOver {
			e.queues.remove(qs, qc) // the callers behind move up
		}
	}()

	g := &switchboard.GroupCall{AccountID: c.accountID, GroupType: switchboard.TargetQueue, GroupID: q.ID,
		GroupName: q.QueueName, UniqueID: c.id, StayID: qc.stayID, From: c.from, CallerName: c.callerName, To: c.to,
		EnteredAt: qc.entered}
	sctx, scancel := context.WithTimeout(context.Background(), storeTimeout)
	err = e.store.StartGroupCall(sctx, g, c.queueEvent(switchboard.EventQueueEntered, q, qc.stayID, nil, nil))
	scancel()
	if err != nil {
		e.log.Error("storing a queue entry failed", "uniqueid", c.id, "error", err)
		return q.Overflow, false
	}
	leave := func(status, eventName, reason string) {
		now := e.now().UTC()
		wait := now.Sub(qc.entered)
		g.LeftAt, g.Status = now, status
		evs := []*switchboard.Event{}
		if eventName != "" {
			evs = append(evs, c.queueEvent(eventName, q, qc.stayID, nil, map[string]any{events.FieldWaitTime: int(wait / time.Second)}))
		}
		evs = append(evs, c.queueEvent(switchboard.EventQueueLeft, q, qc.stayID, nil, map[string]any{
			events.FieldReason: reason, events.FieldDuration: wait.Seconds()}), c.summary(g))
		c.endStay(g, evs...)
	}
	if !c.answerCaller(st) {
		leave(switchboard.GroupCallAbandoned, switchboard.EventQueueAbandoned, "abandoned")
		c.finish(switchboard.DispositionCancelled)
		return switchboard.Target{}, true
	}
	c.setMusicClass(q.MusicOnHold) // a hold later in the call plays the queue's class too
	c.startMOH(st, q.MusicOnHold)
	var maxWaitEnd time.Time
	if q.MaxWait > 0 {
		maxWaitEnd = qc.entered.Add(time.Duration(q.MaxWait) * time.Second)
	}
	// The waits between attempts end when the caller hangs up or the call is asked to (a
	// shutdown): a caller in a long retry pause is not left waiting out the clock.
	waitCtx, stopWaits := c.untilHangup(context.WithCancel(st.a.ctx()))
	defer stopWaits()
	// The callback key ends the waits too; it is acted on between attempts.
	keys := c.listenForCallback(waitCtx, st, q)
	defer keys.stop()
	qc.keys = keys
	for {
		switch {
		case st.a.ended() || c.hangingUp():
			leave(switchboard.GroupCallAbandoned, switchboard.EventQueueAbandoned, "abandoned")
			c.finish(switchboard.DispositionCancelled)
			return switchboard.Target{}, true
		case !maxWaitEnd.IsZero() && !e.now().Before(maxWaitEnd):
			leave(switchboard.GroupCallTimeout, switchboard.EventQueueTimeout, "timeout")
			return q.Overflow, false
		}
		if keys.take() && c.takeCallback(st, q, qs, qc) {
			return switchboard.Target{}, true
		}
		statuses, err := e.snapshot(q, false)
		if err != nil {
			e.log.Warn("queue members unavailable", "queue_id", q.ID, "error", err)
		}
		if queueEmpty(q.LeaveWhenEmpty, false, statuses) {
			leave(switchboard.GroupCallNoAnswer, switchboard.EventQueueNoAnswer, "no_answer")
			return q.Overflow, false
		}
		picks := c.nextPicks(q, qs, qc, statuses)
		if len(picks) == 0 {
			e.pause(keys.waitCtx()) // a caller who left is seen at the top of the loop
			continue
		}
		deadline := e.now().Add(time.Duration(max(q.Timeout, 1)) * time.Second)
		if !maxWaitEnd.IsZero() && maxWaitEnd.Before(deadline) {
			deadline = maxWaitEnd
		}
		if done := c.offerMembers(st, q, qs, qc, g, picks, deadline); done {
			return switchboard.Target{}, true
		}
		if q.Retry > 0 {
			retryEnd := e.now().Add(time.Duration(q.Retry) * time.Second)
			if !maxWaitEnd.IsZero() && maxWaitEnd.Before(retryEnd) {
				retryEnd = maxWaitEnd
			}
			e.sleepUntil(keys.waitCtx(), retryEnd)
		}
	}
}

// nextPicks returns the members the caller's next attempt rings, reserving them, or none
// when it is not the caller's turn (autofill: its position must be within the number of
// available members) or nobody is available. A caller that tried everyone starts a new
// round.
func (c *call) nextPicks(q *switchboard.Queue, qs *queueState, qc *queueCaller, st []memberStatus) []switchboard.QueueMember {
	m := c.e.queues
	m.mu.Lock()
	defer m.mu.Unlock()
	available := 0
	for _, s := range st {
		if s.available(q.RingInUse == "yes") {
			available++
		}
	}
	if available == 0 {
		return nil
	}
	position := 0
	for _, w := range qs.waiting {
		if w.connected {
			continue
		}
		position++
		if w == qc {
			break
		}
	}
	if position > available {
		return nil
	}
	picks := pickMembers(q, &qs.memberHistory, qc.tried, st, c.e.intn)
	if len(picks) == 0 {
		clear(qc.tried) // everyone available was tried: a new round
		picks = pickMembers(q, &qs.memberHistory, qc.tried, st, c.e.intn)
	}
	for _, p := range picks {
		qc.tried[p.UserID] = true
		m.ringing[agentKey{q.AccountID, p.UserID}]++
		m.changed()
		if q.Strategy == switchboard.StrategyRRMemory {
			qs.rrLast = p.UserID
		}
	}
	return picks
}

// offerMembers rings the picked members until the deadline; when one answers, the caller
// is bridged to them until the call ends (true).
func (c *call) offerMembers(st *callerState, q *switchboard.Queue, qs *queueState, qc *queueCaller, g *switchboard.GroupCall,
	picks []switchboard.QueueMember, deadline time.Time) bool {
	e := c.e
	var ringing func()
	if !st.answered {
		ringing = func() { c.sendRinging(st.a, nil) }
	}
	winner, agent := c.ringMembers(st.a.ctx(), ringing, q, qc, picks, deadline)
	if winner == nil {
		return false
	}
	if st.a.ended() {
		winner.hangup()
		return false // the loop records the abandon
	}
	// Answered: the caller leaves the queue for the agent.
	if qc.keys != nil {
		qc.keys.stop() // the keys pressed in the call are not the queue's
	}
	now := e.now().UTC()
	e.queues.mu.Lock()
	qc.connected = true
	qs.callsTaken[agent.ID]++
	qs.lastAnswered[agent.ID] = now
	e.queues.mu.Unlock()
	g.AnsweredAt, g.UserID, g.Extension, g.UserName = now, agent.ID, agent.Extension, agent.DisplayName()
	wait := now.Sub(qc.entered)
	// The answer is stored (and the callers behind woken) once the caller is bridged: the
	// caller hears the agent without waiting for the store's write lock or for hundreds of
	// waiting callers to run. Its events still come before the call's answered event.
	storeAnswer := func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := e.store.AnswerGroupCall(ctx, g,
			c.queueEvent(switchboard.EventQueueMemberAnswered, q, qc.stayID, agent, nil),
			c.queueEvent(switchboard.EventQueueLeft, q, qc.stayID, nil, map[string]any{
				events.FieldReason: "answered", events.FieldDuration: wait.Seconds()}))
		cancel()
		if err != nil {
			e.log.Error("storing a queue answer failed", "uniqueid", c.id, "error", err)
		}
		e.queues.kickAll() // the callers behind move up
	}
	c.connect(st, winner, agent, map[string]any{events.FieldQueueID: q.ID, events.FieldQueueName: q.QueueName}, storeAnswer)
	end := e.now().UTC()
	e.queues.mu.Lock()
	e.queues.lastCall[agentKey{q.AccountID, agent.ID}] = end
	e.queues.mu.Unlock()
	e.queues.changed() // wrap-up starts
	g.LeftAt, g.Status = end, switchboard.GroupCallAnswered
	c.endStay(g, c.queueEvent(switchboard.EventQueueMemberEnded, q, qc.stayID, agent, map[string]any{
		events.FieldDuration: max(0, int(end.Sub(now)/time.Second))}), c.summary(g))
	c.finish(switchboard.DispositionAnswered)
	e.queues.kickAll() // the agent is free (after wrap-up)
	return true
}

// ringMembers rings the picked members (reserved by nextPicks) until one answers, the
// deadline passes, parent ends or the call is asked to hang up, and releases them. Each
// member rung gets queue.member.ringing, and queue.member.ended (duration 0) unless they
// answered. It returns the answered leg and its agent, or nil.
func (c *call) ringMembers(parent context.Context, ringing func(), q *switchboard.Queue, qc *queueCaller,
	picks []switchboard.QueueMember, deadline time.Time) (*leg, *switchboard.User) {
	e := c.e
	release := func() { e.queues.release(q.AccountID, picks) }
	users := map[int64]*switchboard.User{}
	var dests []dest
	for _, p := range picks {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		u, err := e.store.GetUser(ctx, c.accountID, p.UserID)
		cancel()
		if err != nil {
			continue
		}
		ds := c.destsOf(u)
		if len(ds) == 0 {
			continue
		}
		users[u.ID] = u
		dests = append(dests, ds...)
		c.emit(c.queueEvent(switchboard.EventQueueMemberRinging, q, qc.stayID, u, nil))
		if c.direction == switchboard.CallInbound {
			c.emit(c.event(switchboard.EventCallInboundRinging, u, map[string]any{
				events.FieldQueueID: q.ID, events.FieldQueueName: q.QueueName}))
		}
	}
	if len(dests) == 0 {
		release()
		return nil, nil
	}
	winner := c.ringWithin(parent, dests, deadline, ringing)
	release()
	var agent *switchboard.User
	if winner != nil {
		agent = users[winner.userID]
		if winner.pickedUpBy != nil {
			agent = winner.pickedUpBy // picked up (*8): the picker answered
		}
	}
	for id, u := range users {
		if agent == nil || id != agent.ID {
			c.emit(c.queueEvent(switchboard.EventQueueMemberEnded, q, qc.stayID, u, map[string]any{events.FieldDuration: 0}))
		}
	}
	return winner, agent
}

// release frees the members nextPicks reserved for an offer.
func (m *queueManager) release(accountID int64, picks []switchboard.QueueMember) {
	m.mu.Lock()
	for _, p := range picks {
		k := agentKey{accountID, p.UserID}
		if m.ringing[k]--; m.ringing[k] <= 0 {
			delete(m.ringing, k)
		}
	}
	m.mu.Unlock()
	m.changed()
}
