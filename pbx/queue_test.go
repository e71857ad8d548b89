package pbx_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/pbx"
	sbsip "switchboard/sip"
	"switchboard/store/storetest"
)

// qenv is a PBX on an injected clock with a caller (alice, 1001) and agents 2001… with
// one registered phone each.
type qenv struct {
	*env
	clk       *tstest.Clock
	alice     *ua
	aliceUser *switchboard.User
	agents    []*agent
}

type agent struct {
	u  *switchboard.User
	ua *ua
}

// queuePoll is the queue's poll interval in these tests; quiet watches for quietFor.
const queuePoll, quietFor = 20 * time.Millisecond, 15 * queuePoll

func newQueueEnv(t *testing.T, agents int) *qenv {
	t.Helper()
	return newQueueEnvSIP(t, agents, nil)
}

// newQueueEnvSIP is newQueueEnv with the SIP server's config changed by sipMutate.
func newQueueEnvSIP(t *testing.T, agents int, sipMutate func(*sbsip.Config)) *qenv {
	t.Helper()
	clk := tstest.NewClock(time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC))
	e := newEnvSIP(t, storetest.NewSQLite(t), sipMutate,
		func(c *pbx.Config) { c.Now = clk.Now; c.SweepInterval = time.Hour; c.QueuePoll = queuePoll })
	q := &qenv{env: e, clk: clk}
	aliceUser := e.user("1001", func(u *switchboard.User) { u.FirstName, u.LastName = "Alice", "A" })
	q.aliceUser = aliceUser
	e.device(aliceUser, "alice", "alice-pw-1")
	q.alice = newUA(t, "127.0.0.1", "alice")
	q.alice.register(e, "alice", "alice-pw-1")
	for i := 1; i <= agents; i++ {
		name := fmt.Sprintf("agent%d", i)
		u := e.user(fmt.Sprint(2000+i), func(u *switchboard.User) { u.FirstName, u.LastName = "Agent", fmt.Sprint(i) })
		e.device(u, name, name+"-pw-1")
		a := newUA(t, "127.0.0.1", name)
		a.register(e, name, name+"-pw-1")
		q.agents = append(q.agents, &agent{u: u, ua: a})
	}
	return q
}

// queue creates queue 8001 with the agents as members (penalties by index, if given).
func (q *qenv) queue(mutate func(*switchboard.Queue), penalties ...int) *switchboard.Queue {
	q.t.Helper()
	qu := &switchboard.Queue{AccountID: q.account.ID, QueueName: "Sales Queue", Extension: "8001", Timeout: 15}
	qu.ApplyDefaults()
	if mutate != nil {
		mutate(qu)
	}
	ctx := context.Background()
	if err := q.db.CreateQueue(ctx, qu); err != nil {
		q.t.Fatal(err)
	}
	for i, a := range q.agents {
		m := switchboard.QueueMember{QueueID: qu.ID, UserID: a.u.ID}
		if i < len(penalties) {
			m.Penalty = penalties[i]
		}
		if err := q.db.SetQueueMember(ctx, q.account.ID, m); err != nil {
			q.t.Fatal(err)
		}
	}
	return qu
}

// callIn dials the queue from alice's phone; the queue answers at once (music on hold).
func (q *qenv) callIn() *call {
	q.t.Helper()
	c := q.alice.dial(q.env, "8001", "alice", "alice-pw-1", 0)
	c.answered(q.t)
	return c
}

// ringing waits for the next INVITE any agent receives and returns the agent's number
// (1-based) and the INVITE.
func (q *qenv) ringing() (int, *inbound) {
	q.t.Helper()
	cases := make([]reflect.SelectCase, 0, len(q.agents)+1)
	for _, a := range q.agents {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(a.ua.incoming)})
	}
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(time.After(tstest.DefaultWait))})
	i, v, _ := reflect.Select(cases)
	if i == len(q.agents) {
		q.t.Fatal("no agent was offered the call")
	}
	return i + 1, v.Interface().(*inbound)
}

// quiet asserts that no agent is offered a call for a while (a few queue polls).
func (q *qenv) quiet(what string) {
	q.t.Helper()
	tstest.Never(q.t, quietFor, what+": an agent was offered a call", func() bool {
		for _, a := range q.agents {
			if len(a.ua.incoming) > 0 {
				return true
			}
		}
		return false
	})
}

// timeOut moves the clock past a member's ring time and waits for the PBX to cancel it.
func (q *qenv) timeOut(in *inbound, qu *switchboard.Queue) {
	q.t.Helper()
	q.clk.Advance(time.Duration(qu.Timeout+1) * time.Second)
	endedWithin(q.t, in.dlg.Context(), "the ringing agent after the queue's timeout")
	in.finalSent()
}

// talk answers the INVITE, lets the caller talk for d on the clock, and hangs up from the
// caller's side, waiting until the engine has closed the call.
func (q *qenv) talk(c *call, in *inbound, d time.Duration) {
	q.t.Helper()
	in.answer(q.t, "127.0.0.1", 0)
	q.waitAnswered(c)
	q.clk.Advance(d)
	if err := c.dlg.Bye(context.Background()); err != nil {
		q.t.Fatalf("BYE: %v", err)
	}
	endedWithin(q.t, in.dlg.Context(), "the agent's leg after the caller's BYE")
	q.waitIdle()
}

// waitAnswered waits until the call's answered event is stored (the bridge is up).
func (q *qenv) waitAnswered(c *call) {
	q.t.Helper()
	tstest.WaitFor(q.t, "the call's answered event", func() bool {
		evs, _ := q.db.ListEvents(context.Background(), q.account.ID, 0, 10000)
		for _, ev := range evs {
			if (ev.Name == switchboard.EventCallInboundAnswered || ev.Name == switchboard.EventCallOutboundAnswered) &&
				ev.CallID == callIDOf(q.env, c) {
				return true
			}
		}
		return false
	})
}

// callIDOf finds the uniqueid of the call a caller placed, by its SIP Call-ID's record:
// the newest record of the account whose stays include the caller's dialog.
func callIDOf(e *env, c *call) string {
	rs, err := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
	if err != nil || len(rs) == 0 {
		return ""
	}
	return rs[0].UniqueID // tests place one call at a time unless they say otherwise
}

// TestQueueStrategiesOfferMembersInOrder drives each strategy through the same script
// and asserts which members are offered each call, in order.
func TestQueueStrategiesOfferMembersInOrder(t *testing.T) {
	type step struct{ answer bool }
	answer, timeout := step{true}, step{false}
	for _, tc := range []struct {
		strategy switchboard.QueueStrategy
		agents   int
		script   [][]step
		want     [][]int
	}{
		// linear: every call starts again from the first member.
		{switchboard.StrategyLinear, 3, [][]step{{timeout, answer}, {answer}}, [][]int{{1, 2}, {1}}},
		// rrmemory: the next call starts after the member rung last.
		{switchboard.StrategyRRMemory, 3, [][]step{{timeout, answer}, {answer}, {answer}}, [][]int{{1, 2}, {3}, {1}}},
		// fewestcalls and leastrecent part ways on the fourth call: agent 1 took two calls
		// longer ago, agent 2 one call more recently.
		{switchboard.StrategyFewestCalls, 2, [][]step{{answer}, {timeout, answer}, {answer}, {answer}}, [][]int{{1}, {2, 1}, {2}, {2}}},
		{switchboard.StrategyLeastRecent, 2, [][]step{{answer}, {timeout, answer}, {answer}, {answer}}, [][]int{{1}, {2, 1}, {2}, {1}}},
	} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			q := newQueueEnv(t, tc.agents)
			qu := q.queue(func(qu *switchboard.Queue) { qu.Strategy = tc.strategy })
			var got [][]int
			for _, steps := range tc.script {
				c := q.callIn()
				var rung []int
				for _, s := range steps {
					n, in := q.ringing()
					rung = append(rung, n)
					if !s.answer {
						q.timeOut(in, qu)
						continue
					}
					q.talk(c, in, 30*time.Second)
				}
				got = append(got, rung)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members offered per call (-want +got):\n%s", diff)
			}
		})
	}
}

// ringall offers the call to every member at once; the first to answer takes it and the
// others stop ringing.
func TestQueueRingAllRingsEveryoneAndFirstAnswerWins(t *testing.T) {
	q := newQueueEnv(t, 3)
	q.queue(nil) // ringall is the default
	c := q.callIn()
	seen := map[int]*inbound{}
	for len(seen) < 3 {
		n, in := q.ringing()
		seen[n] = in
	}
	q.talkKeepOthers(c, seen[2], seen[1], seen[3])
}

func (q *qenv) talkKeepOthers(c *call, winner *inbound, others ...*inbound) {
	q.t.Helper()
	winner.answer(q.t, "127.0.0.1", 0)
	q.waitAnswered(c)
	for _, o := range others {
		endedWithin(q.t, o.dlg.Context(), "a member who did not answer, once another did")
		o.finalSent()
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		q.t.Fatal(err)
	}
	endedWithin(q.t, winner.dlg.Context(), "the agent's leg after the caller's BYE")
	q.waitIdle()
}

// random and wrandom ring one member at a time and offer each available member once per
// round before anyone twice.
func TestQueueRandomStrategiesTryEveryMemberOncePerRound(t *testing.T) {
	for _, tc := range []struct {
		strategy  switchboard.QueueStrategy
		penalties []int
	}{
		// random draws within the lowest penalty tier: one tier for all, so that ringing
		// everyone at once would show.
		{switchboard.StrategyRandom, []int{0, 0, 0}},
		// wrandom weighs the draw by penalty across every member.
		{switchboard.StrategyWRandom, []int{0, 2, 5}},
	} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			q := newQueueEnv(t, 3)
			qu := q.queue(func(qu *switchboard.Queue) { qu.Strategy = tc.strategy }, tc.penalties...)
			c := q.callIn()
			seen := map[int]bool{}
			var last *inbound
			for i := 0; i < 3; i++ {
				n, in := q.ringing()
				q.quiet("one member at a time")
				if seen[n] {
					t.Fatalf("agent %d offered twice in one round (%v)", n, seen)
				}
				seen[n] = true
				if i < 2 {
					q.timeOut(in, qu)
				}
				last = in
			}
			q.talk(c, last, time.Second)
		})
	}
}

// Penalties: a higher penalty rings only after the lower ones were tried.
func TestQueuePenaltyTiers(t *testing.T) {
	q := newQueueEnv(t, 3)
	qu := q.queue(nil, 1, 0, 0) // ringall; agent 1 has penalty 1
	c := q.callIn()
	a, in1 := q.ringing()
	b, in2 := q.ringing()
	if a == 1 || b == 1 {
		t.Fatalf("the penalty-1 member rang in the first tier (%d, %d)", a, b)
	}
	q.quiet("the penalty-1 member waits for the next tier")
	q.clk.Advance(time.Duration(qu.Timeout+1) * time.Second)
	for _, in := range []*inbound{in1, in2} {
		endedWithin(t, in.dlg.Context(), "first tier after the timeout")
		in.finalSent()
	}
	n, in := q.ringing()
	if n != 1 {
		t.Fatalf("after the first tier, agent %d rang; want agent 1", n)
	}
	q.talk(c, in, time.Second)
}

// fromTrunk provisions a carrier whose number +15559876543 goes to target.
func (q *qenv) fromTrunk(target switchboard.Target) *carrier {
	q.t.Helper()
	cr := newCarrier(q.t, carrierIP, "", "")
	q.trunk(cr)
	num := &switchboard.Number{AccountID: q.account.ID, Number: "+15559876543", Status: "active", Target: target}
	if err := q.db.CreateNumber(context.Background(), num); err != nil {
		q.t.Fatal(err)
	}
	return cr
}

func (q *qenv) eventsOf(c *call) []*switchboard.Event { return q.callEvents(callIDOf(q.env, c)) }

// An external call through a queue: events in order with the voice360 fields, the user's
// inbound events carrying the queue, and the stats while it is up and after.
func TestQueueAnsweredCallEventsAndStats(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(nil)
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	c := cr.dial(q.env, "+15559876543", "+15551234567", "")
	c.answered(t)
	_, in := q.ringing()
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.CallersWaiting != 1 || st.ActiveCalls != 1 || st.Today.Offered != 1 {
		t.Errorf("stats while ringing = %+v; want 1 waiting, 1 active, 1 offered", st)
	}
	q.clk.Advance(8 * time.Second) // the caller waits 8 s
	in.answer(t, "127.0.0.1", 0)
	q.waitAnswered(c)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(3), ulawFrame(3))
	st := q.eng.QueueStats(q.account.ID, qu.ID)
	if st.AgentsOnCall != 1 || st.AgentsAvailable != 0 || st.CallersWaiting != 0 || st.ActiveCalls != 1 || st.Today.Answered != 1 {
		t.Errorf("stats while talking = %+v; want the agent on the call, nobody waiting, 1 active, 1 answered", st)
	}
	q.clk.Advance(100 * time.Second)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the agent after the caller's BYE")
	q.waitIdle()
	r := q.endedRecord(switchboard.CallInbound)
	if r.UserID != q.agents[0].u.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v; want answered by the agent", r)
	}
	evs := q.callEvents(r.UniqueID)
	want := []string{switchboard.EventCallInboundStarted, switchboard.EventQueueEntered, switchboard.EventQueueMemberRinging,
		switchboard.EventCallInboundRinging, switchboard.EventQueueMemberAnswered, switchboard.EventQueueLeft,
		switchboard.EventCallInboundAnswered, switchboard.EventQueueMemberEnded, switchboard.EventQueueCallSummary,
		switchboard.EventCallInboundEnded}
	if diff := cmp.Diff(want, names(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	stay := evs[1].Data["queue_call_id"]
	for _, ev := range evs[1:9] {
		if ev.Name == switchboard.EventCallInboundRinging || ev.Name == switchboard.EventCallInboundAnswered {
			if fmt.Sprint(ev.Data["queue_id"]) != fmt.Sprint(qu.ID) || ev.Data["user_id"] == nil {
				t.Errorf("%s = %v; want the queue that offered the call and the user", ev.Name, ev.Data)
			}
			continue
		}
		if fmt.Sprint(ev.Data["queue_id"]) != fmt.Sprint(qu.ID) || ev.Data["from"] != "+15551234567" {
			t.Errorf("%s = %v; want the queue and the caller", ev.Name, ev.Data)
		}
		if ev.Name != switchboard.EventQueueCallSummary && ev.Data["queue_call_id"] != stay {
			t.Errorf("%s queue_call_id %v; want the stay's %v", ev.Name, ev.Data["queue_call_id"], stay)
		}
	}
	if evs[5].Data["reason"] != "answered" || evs[7].Data["duration"] != float64(100) {
		t.Errorf("left %v / member ended %v; want reason answered, 100 s talk", evs[5].Data, evs[7].Data)
	}
	if s := evs[8].Data; s["wait_time"] != float64(8) || s["answered_duration"] != float64(100) || s["answered"] != true {
		t.Errorf("summary = %v; want 8 s wait, 100 s talk, answered", s)
	}
	st = q.eng.QueueStats(q.account.ID, qu.ID)
	want2 := switchboard.QueueDayStats{Offered: 1, Answered: 1, AnsweredWithinSL: 1, TotalAnswerWait: 8, TotalTalk: 100, Talked: 1}
	if diff := cmp.Diff(want2, st.Today); diff != "" || st.AgentsAvailable != 1 {
		t.Errorf("today after the call (-want +got):\n%s (available %d)", diff, st.AgentsAvailable)
	}
}

// Wrap-up: an agent who just finished a queue call is skipped until wrapuptime passes;
// ringinuse=no: an agent on a call is skipped.
func TestQueueWrapUpAndRingInUse(t *testing.T) {
	q := newQueueEnv(t, 2)
	qu := q.queue(func(qu *switchboard.Queue) { qu.Strategy = switchboard.StrategyLinear; qu.WrapUpTime = 60 })
	c1 := q.callIn()
	n, in := q.ringing()
	if n != 1 {
		t.Fatalf("first call rang agent %d; want 1 (linear)", n)
	}
	q.talk(c1, in, 10*time.Second)
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.AgentsAvailable != 1 || st.AgentsOnline != 2 {
		t.Errorf("stats in agent 1's wrap-up = %+v; want 2 online, 1 available", st)
	}
	// Agent 1 is in wrap-up: linear skips it.
	c2 := q.callIn()
	n, in2 := q.ringing()
	if n != 2 {
		t.Fatalf("during agent 1's wrap-up, agent %d rang; want 2", n)
	}
	in2.answer(t, "127.0.0.1", 0)
	q.waitAnswered(c2)
	// Agent 2 is on a call (ringinuse=no); agent 1 is in wrap-up: a third caller waits …
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	c3 := cr.dial(q.env, "+15559876543", "+15551234567", "")
	c3.answered(t)
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.AgentsAvailable != 0 || st.AgentsOnCall != 1 {
		t.Errorf("stats = %+v; want nobody available, 1 on a call", st)
	}
	// … until the wrap-up ends: then agent 1 rings, never agent 2.
	q.clk.Advance(61 * time.Second)
	n, in3 := q.ringing()
	if n != 1 {
		t.Fatalf("after the wrap-up, agent %d rang; want 1 (agent 2 is on a call)", n)
	}
	in3.reject(t, 486, "Busy Here")
	q.HangupAll()
}

// HangupAll ends every call and waits for the engine to be idle.
func (q *qenv) HangupAll() {
	q.eng.HangupAll("test end")
	q.waitIdle()
}

// maxlen: a full queue sends the next caller to the overflow target without entering.
func TestQueueMaxLenOverflow(t *testing.T) {
	q := newQueueEnv(t, 1)
	desk := q.user("3000")
	q.device(desk, "desk", "desk-pw-12")
	deskPhone := newUA(t, "127.0.0.1", "desk")
	deskPhone.register(q.env, "desk", "desk-pw-12")
	qu := q.queue(func(qu *switchboard.Queue) {
		qu.MaxLen = 1
		qu.Overflow = switchboard.Target{Type: switchboard.TargetUser, ID: desk.ID}
	})
	q.callIn() // waits, its agent ringing
	q.ringing()
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	c2 := cr.dial(q.env, "+15559876543", "+15551234567", "")
	in := deskPhone.next() // the overflow target rings
	in.answer(t, "127.0.0.1", 0)
	c2.answered(t)
	page, err := q.db.ListGroupCalls(context.Background(), q.account.ID, switchboard.TargetQueue, switchboard.CallQuery{})
	if err != nil || len(page.Calls) != 1 {
		t.Errorf("queue stays = %v (%v); want only the first caller's", len(page.Calls), err)
	}
	q.HangupAll()
}

// joinempty=no: with no agent online the caller does not enter, and with no overflow
// target is refused (480) without being answered.
func TestQueueJoinEmptyNoWithNobodyOnline(t *testing.T) {
	q := newQueueEnv(t, 0)
	offline := q.user("2001")
	q.device(offline, "agent1", "agent1-pw-1") // never registers
	qu := q.queue(func(qu *switchboard.Queue) { qu.JoinEmpty = "no" })
	if err := q.db.SetQueueMember(context.Background(), q.account.ID, switchboard.QueueMember{QueueID: qu.ID, UserID: offline.ID}); err != nil {
		t.Fatal(err)
	}
	c := q.alice.dial(q.env, "8001", "alice", "alice-pw-1", 0)
	if code := c.finalCode(t); code != 480 {
		t.Errorf("caller got %d; want 480", code)
	}
	r := q.endedRecord(switchboard.CallOutbound)
	if diff := cmp.Diff([]string{switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundEnded}, names(q.callEvents(r.UniqueID))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.Today.Offered != 0 || st.AgentsOnline != 0 {
		t.Errorf("stats = %+v; want nothing offered, nobody online", st)
	}
}

// leavewhenempty=yes: when every member is paused the waiting caller leaves (no_answer)
// and, with no overflow target, is hung up.
func TestQueueLeaveWhenEmpty(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(func(qu *switchboard.Queue) { qu.LeaveWhenEmpty = "yes" })
	c := q.callIn()
	_, in := q.ringing()
	if err := q.db.SetQueueMember(context.Background(), q.account.ID,
		switchboard.QueueMember{QueueID: qu.ID, UserID: q.agents[0].u.ID, Paused: true}); err != nil {
		t.Fatal(err)
	}
	q.eng.InvalidateQueueMembers(qu.ID)
	q.timeOut(in, qu) // the ring ends; the paused agent is not rung again and the queue is empty
	endedWithin(t, c.dlg.Context(), "the caller after the queue emptied")
	q.waitIdle()
	evs := names(q.eventsOf(c))
	want := []string{switchboard.EventCallOutboundStarted, switchboard.EventQueueEntered, switchboard.EventQueueMemberRinging,
		switchboard.EventQueueMemberEnded, switchboard.EventQueueNoAnswer, switchboard.EventQueueLeft,
		switchboard.EventQueueCallSummary, switchboard.EventCallOutboundEnded}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// Max wait: the caller leaves with queue.timeout for the overflow target, here a
// sequential ring group whose second member answers.
func TestQueueTimeoutExitToRingGroup(t *testing.T) {
	q := newQueueEnv(t, 3)
	ctx := context.Background()
	rg := &switchboard.RingGroup{AccountID: q.account.ID, Name: "Front Desk", Extension: "8100", Strategy: switchboard.RingSequential,
		RingTime: 20, Members: []switchboard.RingGroupMember{{UserID: q.agents[1].u.ID}, {UserID: q.agents[2].u.ID}}}
	if err := q.db.CreateRingGroup(ctx, rg); err != nil {
		t.Fatal(err)
	}
	qu := q.queue(func(qu *switchboard.Queue) {
		qu.MaxWait = 30
		qu.Overflow = switchboard.Target{Type: switchboard.TargetRingGroup, ID: rg.ID}
	})
	for _, a := range q.agents[1:] { // only agent 1 answers the queue
		if err := q.db.RemoveQueueMember(ctx, q.account.ID, qu.ID, a.u.ID); err != nil {
			t.Fatal(err)
		}
	}
	q.eng.InvalidateQueueMembers(qu.ID)
	c := q.callIn()
	n, in := q.ringing()
	if n != 1 {
		t.Fatalf("agent %d rang; want 1", n)
	}
	q.clk.Advance(31 * time.Second) // past max wait (and the 15 s timeout)
	endedWithin(t, in.dlg.Context(), "the queue's ringing at the timeout exit")
	in.finalSent()
	n, in2 := q.ringing()
	if n != 2 {
		t.Fatalf("ring group rang agent %d first; want 2", n)
	}
	q.clk.Advance(21 * time.Second)
	endedWithin(t, in2.dlg.Context(), "the first ring group member after its ring time")
	in2.finalSent()
	n, in3 := q.ringing()
	if n != 3 {
		t.Fatalf("ring group rang agent %d second; want 3", n)
	}
	q.talk(c, in3, 5*time.Second)
	evs := names(q.eventsOf(c))
	want := []string{switchboard.EventCallOutboundStarted, switchboard.EventQueueEntered, switchboard.EventQueueMemberRinging,
		switchboard.EventQueueMemberEnded, switchboard.EventQueueTimeout, switchboard.EventQueueLeft,
		switchboard.EventQueueCallSummary, switchboard.EventCallOutboundAnswered, switchboard.EventRingGroupCallSummary,
		switchboard.EventCallOutboundEnded}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	page, _ := q.db.ListGroupCalls(ctx, q.account.ID, switchboard.TargetRingGroup, switchboard.CallQuery{})
	if len(page.Calls) != 1 || page.Calls[0].Status != "answered" || page.Calls[0].UserID != q.agents[2].u.ID {
		t.Errorf("ring group calls = %+v; want one answered by agent 3", page.Calls)
	}
}

// Abandon: the caller hangs up while an agent rings; the agent's phone stops.
func TestQueueAbandon(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(nil)
	c := q.callIn()
	_, in := q.ringing()
	q.clk.Advance(25 * time.Second) // past the service level: counts against it
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the agent's ringing after the caller left")
	in.finalSent()
	q.waitIdle()
	evs := q.eventsOf(c)
	want := []string{switchboard.EventCallOutboundStarted, switchboard.EventQueueEntered, switchboard.EventQueueMemberRinging,
		switchboard.EventQueueMemberEnded, switchboard.EventQueueAbandoned, switchboard.EventQueueLeft,
		switchboard.EventQueueCallSummary, switchboard.EventCallOutboundEnded}
	if diff := cmp.Diff(want, names(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if evs[4].Data["wait_time"] != float64(25) {
		t.Errorf("abandoned = %v; want wait_time 25", evs[4].Data)
	}
	st := q.eng.QueueStats(q.account.ID, qu.ID)
	if st.Today.Abandoned != 1 || st.Today.AbandonedAfterSL != 1 || st.CallersWaiting != 0 {
		t.Errorf("stats = %+v; want 1 abandoned after the service level, nobody waiting", st)
	}
}

// Overflow targets that lead back to a queue already visited are cut: the caller is
// refused cleanly, never stuck.
func TestQueueOverflowLoopIsCut(t *testing.T) {
	q := newQueueEnv(t, 0)
	ctx := context.Background()
	a := q.queue(func(qu *switchboard.Queue) { qu.JoinEmpty = "strict" })
	b := &switchboard.Queue{AccountID: q.account.ID, QueueName: "B", Extension: "8002", JoinEmpty: "strict",
		Overflow: switchboard.Target{Type: switchboard.TargetQueue, ID: a.ID}}
	b.ApplyDefaults()
	if err := q.db.CreateQueue(ctx, b); err != nil {
		t.Fatal(err)
	}
	a.Overflow = switchboard.Target{Type: switchboard.TargetQueue, ID: b.ID}
	if err := q.db.UpdateQueue(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := q.alice.dial(q.env, "8001", "alice", "alice-pw-1", 0)
	if code := c.finalCode(t); code != 482 {
		t.Errorf("caller got %d; want 482 Loop Detected", code)
	}
	q.waitIdle()
}

// An agent on a call that did not come from the queue (dialled directly) is busy for the
// queue too (ringinuse=no): the queue rings the next agent, and the stats count the call.
func TestQueueSkipsAgentOnADirectCall(t *testing.T) {
	q := newQueueEnv(t, 2)
	qu := q.queue(func(qu *switchboard.Queue) { qu.Strategy = switchboard.StrategyLinear })
	direct := q.alice.dial(q.env, q.agents[0].u.Extension, "alice", "alice-pw-1", 0)
	n, in := q.ringing()
	if n != 1 {
		t.Fatalf("agent %d rang for the direct call; want 1", n)
	}
	in.answer(t, "127.0.0.1", 0)
	direct.answered(t)
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.AgentsOnCall != 1 || st.AgentsAvailable != 1 {
		t.Errorf("stats with agent 1 on a direct call = %+v; want 1 on a call, 1 available", st)
	}
	q.callIn()
	if n, _ := q.ringing(); n != 2 {
		t.Fatalf("agent %d rang for the queue call while agent 1 is on a direct call; want 2", n)
	}
	q.HangupAll()
}

// An extension that dials a queue keeps the call as its own: the record and every call
// event name the caller (user_id), and the ended event names the agent who answered
// (answered_by_user_id, Voice360's to_user_id). The agent's answer does not take the call
// over, as it did when the agent's user overwrote the caller's.
func TestQueueCallFromAnExtensionStaysTheCallers(t *testing.T) {
	q := newQueueEnv(t, 1)
	q.queue(nil)
	c := q.callIn()
	_, in := q.ringing()
	q.talk(c, in, 20*time.Second)
	r := q.endedRecord(switchboard.CallOutbound)
	alice, agent := fmt.Sprint(q.aliceUser.ID), fmt.Sprint(q.agents[0].u.ID)
	if fmt.Sprint(r.UserID) != alice || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record user %d, disposition %s; want the caller (%s), answered", r.UserID, r.Disposition, alice)
	}
	for _, ev := range q.callEvents(r.UniqueID) {
		switch ev.Name {
		case switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundAnswered, switchboard.EventCallOutboundEnded:
			if got := fmt.Sprint(ev.Data["user_id"]); got != alice {
				t.Errorf("%s user_id = %s; want the caller %s", ev.Name, got, alice)
			}
		}
		if ev.Name == switchboard.EventCallOutboundEnded {
			if got := fmt.Sprint(ev.Data["answered_by_user_id"]); got != agent {
				t.Errorf("%s answered_by_user_id = %s; want the agent %s", ev.Name, got, agent)
			}
		}
	}
}
