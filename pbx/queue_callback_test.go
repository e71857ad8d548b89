package pbx_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pion/rtp"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
)

// sendDigit sends one RFC 4733 key press from the peer, as a phone does: three packets of
// the event with the same timestamp, the last ones with the end bit.
func sendDigit(t *testing.T, p *rtpPeer, key byte) {
	t.Helper()
	code, err := media.EventForDigit(media.Digit(key))
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	ts, remote := p.ts, p.remote
	p.mu.Unlock()
	for i := range 4 {
		ev := media.TelephoneEvent{Event: code, Volume: 10, Duration: uint16(160 * (i + 1)), End: i >= 2}
		p.mu.Lock()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: p.seq, Timestamp: ts,
			SSRC: p.ssrc, Marker: i == 0}, Payload: ev.Marshal()}
		p.seq++
		p.mu.Unlock()
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.conn.WriteToUDPAddrPort(b, remote); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	p.ts += 640
	p.mu.Unlock()
}

// pauseAgents pauses (or unpauses) every member of the queue, telling the engine at once.
func (q *qenv) pauseAgents(qu *switchboard.Queue, paused bool) {
	q.t.Helper()
	for _, a := range q.agents {
		if err := q.db.SetQueueMember(context.Background(), q.account.ID,
			switchboard.QueueMember{QueueID: qu.ID, UserID: a.u.ID, Paused: paused}); err != nil {
			q.t.Fatal(err)
		}
	}
	q.eng.InvalidateQueueMembers(qu.ID)
}

// accountEvents returns the account's stored events named name.
func (q *qenv) accountEvents(name string) []*switchboard.Event {
	q.t.Helper()
	evs, err := q.db.ListEvents(context.Background(), q.account.ID, 0, 10000)
	if err != nil {
		q.t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// agentTakes answers the agent's INVITE, checks the caller's audio reaches the agent, and
// has the far end (the caller's phone) hang up, waiting for the agent's leg to end.
func (q *qenv) agentTakes(in *inbound, farRTP *rtpPeer, hangup func() error) {
	q.t.Helper()
	in.answer(q.t, "127.0.0.1", 0)
	expectAudio(q.t, farRTP, in.rtp, ulawFrame(11), ulawFrame(11))
	expectAudio(q.t, in.rtp, farRTP, ulawFrame(12), ulawFrame(12))
	if err := hangup(); err != nil {
		q.t.Fatal(err)
	}
	endedWithin(q.t, in.dlg.Context(), "the agent's leg after the caller hung up")
}

// TestQueueCallbackKeepsThePlace: three external callers wait in a queue whose agent is
// paused; the middle one presses 1 and is hung up after a confirmation. Their callback
// keeps their place: the agent gets the first caller, then the callback — the middle
// caller's phone is dialled back through the trunk and bridged to the agent — and only
// then the caller who entered last. The events arrive in order, the stats count the
// callback among the waiting, and the callback call's record says it is one.
func TestQueueCallbackKeepsThePlace(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(func(qu *switchboard.Queue) { qu.CallbackEnabled, qu.CallbackKey, qu.Retry = true, "1", 1 })
	q.pauseAgents(qu, true)
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	const first, middle, last = "+15551110001", "+15551110002", "+15551110003"
	c1 := cr.dial(q.env, "+15559876543", first, "")
	c1.answered(t)
	q.clk.Advance(time.Second)
	c2 := cr.dial(q.env, "+15559876543", middle, "")
	c2.answered(t)
	q.clk.Advance(time.Second)
	c3 := cr.dial(q.env, "+15559876543", last, "")
	c3.answered(t)
	tstest.WaitFor(t, "three callers in the queue", func() bool {
		return q.eng.QueueStats(q.account.ID, qu.ID).CallersWaiting == 3
	})

	// The middle caller presses 1: a confirmation, then the PBX hangs up.
	q.clk.Advance(20 * time.Second)
	sendDigit(t, c2.rtp, '1')
	heard := false
	for deadline := time.Now().Add(tstest.DefaultWait); !heard && time.Now().Before(deadline); {
		pkt := c2.rtp.recv(100 * time.Millisecond)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		pcm := make([]int16, len(pkt.Payload))
		for i, b := range pkt.Payload {
			pcm[i] = media.UlawDecode(b)
		}
		heard = media.Goertzel(pcm, 1100) > 10*media.Goertzel(pcm, 523.25) && media.Goertzel(pcm, 1100) > 1e6
	}
	if !heard {
		t.Error("the caller did not hear the confirmation tone's 1100 Hz beep")
	}
	endedWithin(t, c2.dlg.Context(), "the caller who asked for a callback")
	st := q.eng.QueueStats(q.account.ID, qu.ID)
	if st.CallersWaiting != 3 || st.CallbacksPending != 1 || st.LongestWaitSeconds != 22 {
		t.Errorf("stats after the callback request = %+v; want 3 waiting (the callback keeps its place), 1 callback, longest 22 s", st)
	}
	req := q.accountEvents(switchboard.EventQueueCallbackRequested)
	if len(req) != 1 || req[0].Data["callback_number"] != middle || req[0].Data["position"] != float64(2) ||
		req[0].Data["wait_time"] != float64(21) {
		t.Fatalf("queue.callback.requested = %+v; want one for %s at position 2 after 21 s", req, middle)
	}
	originalID := req[0].CallID
	stayID := req[0].Data["queue_call_id"]

	// The agent comes back: the first caller, then the callback, then the last caller.
	q.pauseAgents(qu, false)
	agent := q.agents[0]
	in := agent.ua.next()
	if got := in.req.From().Address.User; got != first {
		t.Fatalf("the agent was offered %s first; want the first caller %s", got, first)
	}
	q.agentTakes(in, c1.rtp, func() error { return c1.dlg.Bye(context.Background()) })

	in = agent.ua.next()
	if got, name := in.req.From().Address.User, in.req.From().DisplayName; got != middle || name != "Callback" {
		t.Fatalf("the agent was offered %s (%q) second; want the callback to %s shown as \"Callback\"", got, name, middle)
	}
	in.answer(t, "127.0.0.1", 0)
	out := cr.next() // the PBX dials the middle caller back through the trunk
	if got := out.req.Recipient.User; got != middle {
		t.Fatalf("the trunk was asked for %s; want the caller %s", got, middle)
	}
	if got := out.req.From().Address.User; got != "+15559876543" {
		t.Errorf("the callback presents %s; want the number the caller dialled", got)
	}
	out.answer(t, carrierIP, 0)
	expectAudio(t, out.rtp, in.rtp, ulawFrame(13), ulawFrame(13))
	expectAudio(t, in.rtp, out.rtp, ulawFrame(14), ulawFrame(14))
	if err := out.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the agent's leg after the called-back caller hung up")

	in = agent.ua.next()
	if got := in.req.From().Address.User; got != last {
		t.Fatalf("the agent was offered %s third; want the last caller %s", got, last)
	}
	q.agentTakes(in, c3.rtp, func() error { return c3.dlg.Bye(context.Background()) })
	q.waitIdle()

	// Events: the asking call ends after the request; the callback call is a queue call
	// with the callback placed between the agent's answer and the caller's.
	if diff := cmp.Diff([]string{switchboard.EventCallInboundStarted, switchboard.EventQueueEntered,
		switchboard.EventQueueCallbackRequested, switchboard.EventCallInboundEnded}, names(q.callEvents(originalID))); diff != "" {
		t.Errorf("the asking call's events (-want +got):\n%s", diff)
	}
	placed := q.accountEvents(switchboard.EventQueueCallbackPlaced)
	if len(placed) != 1 || placed[0].Data["queue_call_id"] != stayID || placed[0].Data["original_call_id"] != originalID ||
		placed[0].Data["attempt"] != float64(1) || placed[0].Data["user_id"] != float64(agent.u.ID) {
		t.Fatalf("queue.callback.placed = %+v; want one, first attempt, by the agent, for the stay %v", placed, stayID)
	}
	callbackID := placed[0].CallID
	if diff := cmp.Diff([]string{switchboard.EventCallInboundStarted, switchboard.EventQueueMemberRinging,
		switchboard.EventCallInboundRinging, switchboard.EventQueueMemberAnswered, switchboard.EventQueueCallbackPlaced,
		switchboard.EventQueueLeft, switchboard.EventCallInboundAnswered, switchboard.EventQueueMemberEnded,
		switchboard.EventQueueCallSummary, switchboard.EventCallInboundEnded}, names(q.callEvents(callbackID))); diff != "" {
		t.Errorf("the callback call's events (-want +got):\n%s", diff)
	}
	if n := len(q.accountEvents(switchboard.EventQueueCallbackFailed)); n != 0 {
		t.Errorf("%d queue.callback.failed; want none", n)
	}
	r, err := q.db.GetCallRecord(context.Background(), q.account.ID, callbackID)
	if err != nil {
		t.Fatal(err)
	}
	if r.CallerName != "Callback" || r.From != middle || r.UserID != agent.u.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("the callback's record = %+v; want caller name Callback, from %s, the agent's, answered", r, middle)
	}
	page, err := q.db.ListGroupCalls(context.Background(), q.account.ID, switchboard.TargetQueue, switchboard.CallQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range page.Calls {
		if g.StayID == stayID && (g.Status != switchboard.GroupCallAnswered || g.UserID != agent.u.ID || g.UniqueID != originalID) {
			t.Errorf("the callback's stay = %+v; want the asking call's stay, answered by the agent", g)
		}
	}
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.CallbacksPending != 0 || st.CallersWaiting != 0 || st.Today.Answered != 3 {
		t.Errorf("stats at the end = %+v; want nobody waiting, 3 answered", st)
	}
}

// TestQueueCallbackUnansweredIsRetriedThenGivenUp: the called-back caller does not answer;
// the entry is offered again (callback_retries 1) and then given up with
// queue.callback.failed, its stay ending unanswered.
func TestQueueCallbackUnansweredIsRetriedThenGivenUp(t *testing.T) {
	q := newQueueEnv(t, 1)
	// No retry pause: the second attempt follows the first at once (a pause would be a race
	// between the test moving the clock and the engine starting to wait).
	qu := q.queue(func(qu *switchboard.Queue) { qu.CallbackEnabled, qu.CallbackRetries, qu.Retry = true, 1, 0 })
	q.pauseAgents(qu, true)
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	const caller = "+15551110009"
	c := cr.dial(q.env, "+15559876543", caller, "")
	c.answered(t)
	sendDigit(t, c.rtp, '1')
	endedWithin(t, c.dlg.Context(), "the caller who asked for a callback")
	q.pauseAgents(qu, false)
	for attempt := 1; attempt <= 2; attempt++ {
		in := q.agents[0].ua.next()
		in.answer(t, "127.0.0.1", 0)
		out := cr.next()
		if out.req.Recipient.User != caller {
			t.Fatalf("attempt %d dialled %s; want %s", attempt, out.req.Recipient.User, caller)
		}
		out.reject(t, 486, "Busy Here")
		endedWithin(t, in.dlg.Context(), "the agent's leg after the caller did not answer")
	}
	tstest.WaitFor(t, "queue.callback.failed", func() bool {
		return len(q.accountEvents(switchboard.EventQueueCallbackFailed)) == 1
	})
	failed := q.accountEvents(switchboard.EventQueueCallbackFailed)[0]
	if failed.Data["reason"] != "no_answer" || failed.Data["attempt"] != float64(2) {
		t.Errorf("queue.callback.failed data = %v; want reason no_answer after 2 attempts", failed.Data)
	}
	q.quiet("a given-up callback")
	q.waitIdle()
	if st := q.eng.QueueStats(q.account.ID, qu.ID); st.CallersWaiting != 0 || st.CallbacksPending != 0 {
		t.Errorf("stats = %+v; want the given-up callback gone", st)
	}
	page, err := q.db.ListGroupCalls(context.Background(), q.account.ID, switchboard.TargetQueue, switchboard.CallQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 1 || page.Calls[0].Status != switchboard.GroupCallNoAnswer {
		t.Errorf("stays = %+v; want the one stay ended no-answer", page.Calls)
	}
}

// TestQueueCallbackNotOfferedToUndialableCallers: a caller whose number is withheld
// (anonymous) or not a phone number presses the key and goes on waiting; nothing is stored,
// and when the agent is back they are put through as usual.
func TestQueueCallbackNotOfferedToUndialableCallers(t *testing.T) {
	for _, from := range []string{"anonymous", "unavailable"} {
		t.Run(from, func(t *testing.T) {
			q := newQueueEnv(t, 1)
			qu := q.queue(func(qu *switchboard.Queue) { qu.CallbackEnabled = true })
			q.pauseAgents(qu, true)
			cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
			c := cr.dial(q.env, "+15559876543", from, "")
			c.answered(t)
			sendDigit(t, c.rtp, '1')
			tstest.Never(t, quietFor, "a callback for a caller who cannot be called back", func() bool {
				return c.dlg.Context().Err() != nil || len(q.accountEvents(switchboard.EventQueueCallbackRequested)) > 0
			})
			q.pauseAgents(qu, false)
			in := q.agents[0].ua.next()
			q.agentTakes(in, c.rtp, func() error { return c.dlg.Bye(context.Background()) })
		})
	}
}

// TestQueueCallbackRules: the key is taken only after callback_after_s, only the queue's
// key, and not beyond callback_max pending callbacks.
func TestQueueCallbackRules(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(func(qu *switchboard.Queue) {
		qu.CallbackEnabled, qu.CallbackKey, qu.CallbackAfter, qu.CallbackMax = true, "*", 30, 1
	})
	q.pauseAgents(qu, true)
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	c1 := cr.dial(q.env, "+15559876543", "+15551110001", "")
	c1.answered(t)
	c2 := cr.dial(q.env, "+15559876543", "+15551110002", "")
	c2.answered(t)
	// A callback taken is stored at once (the hangup follows the confirmation).
	requested := func() int { return len(q.accountEvents(switchboard.EventQueueCallbackRequested)) }
	noCallback := func(c *call, what string) {
		t.Helper()
		before := requested()
		tstest.Never(t, quietFor, what, func() bool { return c.dlg.Context().Err() != nil || requested() != before })
	}
	sendDigit(t, c1.rtp, '*') // too early: 0 s of the 30
	noCallback(c1, "the key before callback_after_s")
	q.clk.Advance(30 * time.Second)
	sendDigit(t, c1.rtp, '1') // not the queue's key
	noCallback(c1, "another key than callback_key")
	sendDigit(t, c1.rtp, '*')
	endedWithin(t, c1.dlg.Context(), "the first caller's callback")
	sendDigit(t, c2.rtp, '*') // over callback_max
	noCallback(c2, "a callback over callback_max")
	if n := requested(); n != 1 {
		t.Errorf("%d callbacks requested; want 1", n)
	}
}

// TestQueueCallbackSurvivesARestart: a pending callback outlives the engine that took it;
// the next engine on the same store puts it back in its queue and calls the caller back
// when the agent is there.
func TestQueueCallbackSurvivesARestart(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(func(qu *switchboard.Queue) { qu.CallbackEnabled = true })
	q.pauseAgents(qu, true)
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	const caller = "+15551110007"
	c := cr.dial(q.env, "+15559876543", caller, "")
	c.answered(t)
	sendDigit(t, c.rtp, '1')
	endedWithin(t, c.dlg.Context(), "the caller who asked for a callback")
	stayID := q.accountEvents(switchboard.EventQueueCallbackRequested)[0].Data["queue_call_id"]

	// The engine stops (the SIP server and the phones' registrations stay) and a new one
	// starts on the same store.
	q.stopEngine()
	eng, err := pbx.New(pbx.Config{Store: q.db, SIP: q.srv, Sealer: q.sealer, Logger: quietLogger(),
		RTPPortMin: rtpPortMin, RTPPortMax: rtpPortMax, Now: q.clk.Now, SweepInterval: time.Hour, QueuePoll: queuePoll})
	if err != nil {
		t.Fatal(err)
	}
	eng.Attach()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	q.eng = eng
	tstest.WaitFor(t, "the callback back in its queue", func() bool {
		st := eng.QueueStats(q.account.ID, qu.ID)
		return st.CallbacksPending == 1 && st.CallersWaiting == 1
	})

	q.pauseAgents(qu, false)
	in := q.agents[0].ua.next()
	if got := in.req.From().Address.User; got != caller {
		t.Fatalf("the agent was offered %s; want the callback to %s", got, caller)
	}
	in.answer(t, "127.0.0.1", 0)
	out := cr.next()
	if out.req.Recipient.User != caller {
		t.Fatalf("the trunk was asked for %s; want %s", out.req.Recipient.User, caller)
	}
	out.answer(t, carrierIP, 0)
	expectAudio(t, out.rtp, in.rtp, ulawFrame(15), ulawFrame(15))
	if err := in.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, out.dlg.Context(), "the called-back caller after the agent hung up")
	placed := q.accountEvents(switchboard.EventQueueCallbackPlaced)
	if len(placed) != 1 || placed[0].Data["queue_call_id"] != stayID {
		t.Errorf("queue.callback.placed = %+v; want one for the stay %v", placed, stayID)
	}
	q.waitIdle()
	page, err := q.db.ListGroupCalls(context.Background(), q.account.ID, switchboard.TargetQueue, switchboard.CallQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 1 || page.Calls[0].Status != switchboard.GroupCallAnswered {
		t.Errorf("stays = %+v; want the one stay, answered after the restart", page.Calls)
	}
}
