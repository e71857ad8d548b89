package pbx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/internal/tstest"
	"switchboard/provision"
)

// withUsers gives the engine the provisioning service feature codes write through (as
// cmd/switchboard does) and returns it, for the tests' own API-side changes.
func withUsers(e *env) *provision.Service {
	svc := provision.New(provision.Config{Store: e.db, Engine: e.eng})
	e.eng.SetUserService(svc)
	return svc
}

// dialFeature dials a setting code from phone and checks what a phone user perceives as
// success: the PBX answers, plays the confirmation beeps and hangs up.
func dialFeature(t *testing.T, e *env, phone *ua, code, username, password string) {
	t.Helper()
	c := phone.dial(e, code, username, password, 0)
	c.answered(t)
	heard := false
	for deadline := time.Now().Add(tstest.DefaultWait); !heard && time.Now().Before(deadline); {
		c.rtp.send(t, ulawFrame(0)) // like a phone: media both ways
		if pkt := c.rtp.recv(20 * time.Millisecond); pkt != nil && !silent(pkt.Payload) {
			heard = true
		}
	}
	if !heard {
		t.Fatalf("%s: no confirmation tone", code)
	}
	endedWithin(t, c.dlg.Context(), code+": the PBX's BYE after the tone")
}

func (e *env) userNow(id int64) *switchboard.User {
	e.t.Helper()
	u, err := e.db.GetUser(context.Background(), e.account.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// eventsNamed returns the account's stored events of one name, oldest first.
func (e *env) eventsNamed(name string) []*switchboard.Event {
	e.t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// noInvite checks that phone was offered no call (the refusal came before any ringing).
func noInvite(t *testing.T, phone *ua, who string) {
	t.Helper()
	if len(phone.incoming) > 0 {
		t.Fatalf("%s's phone was offered a call", who)
	}
}

// Do not disturb, switched by *78/*79 from the phone and through the provisioning service
// (the API's), refuses direct calls with 486 without ringing the phone; off, calls ring.
func TestDoNotDisturbRefusesDirectCalls(t *testing.T) {
	e := newEnv(t)
	svc := withUsers(e)
	alice, bob, _, ub := twoPhones(t, e)

	dialFeature(t, e, bob, "*78", "bob", "bob-pw-1")
	if !e.userNow(ub.ID).DoNotDisturb {
		t.Fatal("*78 did not turn do not disturb on")
	}
	if code := alice.dial(e, "1002", "alice", "alice-pw-1", 0).finalCode(t); code != 486 {
		t.Errorf("call to a user on do not disturb: %d; want 486 Busy Here", code)
	}
	noInvite(t, bob, "bob (do not disturb)")

	dialFeature(t, e, bob, "*79", "bob", "bob-pw-1")
	if e.userNow(ub.ID).DoNotDisturb {
		t.Fatal("*79 did not turn do not disturb off")
	}
	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	bob.next().reject(t, 486, "Busy Here")
	c.finalCode(t)

	if _, err := svc.UpdateUser(context.Background(), e.account.ID, ub.ID,
		switchboard.UserChange{DoNotDisturb: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	if code := alice.dial(e, "1002", "alice", "alice-pw-1", 0).finalCode(t); code != 486 {
		t.Errorf("call to a user put on do not disturb by the API: %d; want 486", code)
	}
	noInvite(t, bob, "bob (do not disturb by the API)")
	// A feature code is no call: it leaves no record, and nothing is left running.
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
	if evs := e.eventsNamed(switchboard.EventCallOutboundStarted); len(evs) != 1 {
		t.Errorf("%d call.outbound.started events; want 1 (the call bob refused, not the codes)", len(evs))
	}
}

func ptrTo[T any](v T) *T { return &v }

// With call waiting off (*71) a user on a call gets no second one (486, their phone not
// offered it); back on (*70) the second call rings as before.
func TestCallWaitingOffRefusesASecondCall(t *testing.T) {
	e := newEnv(t)
	withUsers(e)
	alice, bob, _, ub := twoPhones(t, e)
	uc := e.user("1003")
	e.device(uc, "carol", "carol-pw-1")
	carol := newUA(t, "127.0.0.1", "carol")
	carol.register(e, "carol", "carol-pw-1")

	dialFeature(t, e, bob, "*71", "bob", "bob-pw-1")
	if !e.userNow(ub.ID).CallWaitingOff {
		t.Fatal("*71 did not turn call waiting off")
	}
	first, in := callBob(t, e, alice, bob)
	if code := carol.dial(e, "1002", "carol", "carol-pw-1", 0).finalCode(t); code != 486 {
		t.Errorf("second call with call waiting off: %d; want 486 Busy Here", code)
	}
	noInvite(t, bob, "bob (call waiting off)")
	// The first call is not disturbed.
	expectAudio(t, first.rtp, in.rtp, ulawFrame(1), ulawFrame(1))

	dialFeature(t, e, bob, "*70", "bob", "bob-pw-1")
	second := carol.dial(e, "1002", "carol", "carol-pw-1", 0)
	waiting := bob.next() // call waiting on: the second call rings
	waiting.reject(t, 486, "Busy Here")
	second.finalCode(t)
	if err := first.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
}

// A ring group and a queue skip a member on do not disturb: only the other member rings.
func TestDoNotDisturbMembersAreSkippedByRingGroupsAndQueues(t *testing.T) {
	q := newQueueEnv(t, 2)
	svc := withUsers(q.env)
	dnd, free := q.agents[0], q.agents[1]
	if _, err := svc.UpdateUser(context.Background(), q.account.ID, dnd.u.ID,
		switchboard.UserChange{DoNotDisturb: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	rg := &switchboard.RingGroup{AccountID: q.account.ID, Name: "Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20,
		Members: []switchboard.RingGroupMember{{UserID: dnd.u.ID}, {UserID: free.u.ID}}}
	if err := q.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	c := q.alice.dial(q.env, "8100", "alice", "alice-pw-1", 0)
	n, in := q.ringing()
	if n != 2 {
		t.Fatalf("ring group rang agent %d; want only agent 2 (agent 1 is on do not disturb)", n)
	}
	q.quiet("ring group with a member on do not disturb")
	in.reject(t, 486, "Busy Here")
	c.finalCode(t)
	q.waitIdle()

	// linear: agent 1 would ring first were it not on do not disturb. The queue does not
	// even try agent 1: that would cost the caller a retry pause (on a clock that stands
	// still here) before agent 2 rings.
	q.queue(func(qu *switchboard.Queue) { qu.Strategy, qu.Retry = switchboard.StrategyLinear, 5 })
	c = q.callIn()
	n, in = q.ringing()
	if n != 2 {
		t.Fatalf("queue offered agent %d; want agent 2 (agent 1 is on do not disturb)", n)
	}
	in.reject(t, 486, "Busy Here")
	tstest.Never(t, quietFor, "the queue offering agent 1 (on do not disturb)", func() bool { return len(dnd.ua.incoming) > 0 })
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.waitIdle()
}

// pickupPhones is alice (1001) calling, bob (1002) ringing, and carol (1003) picking up;
// carol and bob are the members of ring group 8100.
func pickupPhones(t *testing.T, e *env) (alice, bob, carol *ua, ub, uc *switchboard.User) {
	alice, bob, _, ub = twoPhones(t, e)
	uc = e.user("1003", func(u *switchboard.User) { u.FirstName, u.LastName = "Carol", "C" })
	e.device(uc, "carol", "carol-pw-1")
	carol = newUA(t, "127.0.0.1", "carol")
	carol.register(e, "carol", "carol-pw-1")
	rg := &switchboard.RingGroup{AccountID: e.account.ID, Name: "Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20,
		Members: []switchboard.RingGroupMember{{UserID: ub.ID}, {UserID: uc.ID}}}
	if err := e.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	return alice, bob, carol, ub, uc
}

// pickUp has picker dial code while the caller's call rings bob (in): the picker is
// answered, bob's ringing phone is cancelled, the caller is answered, and audio flows
// between caller and picker both ways.
func pickUp(t *testing.T, e *env, caller *call, in *inbound, picker *ua, code, username, password string) *call {
	t.Helper()
	pc := picker.dial(e, code, username, password, 0)
	pc.answered(t)
	endedWithin(t, in.dlg.Context(), "the ringing phone's INVITE after the pickup")
	in.finalSent()
	caller.answered(t)
	expectAudio(t, caller.rtp, pc.rtp, ulawFrame(1), ulawFrame(1))
	expectAudio(t, pc.rtp, caller.rtp, ulawFrame(2), ulawFrame(2))
	return pc
}

// Directed pickup (*8 and the extension): carol takes alice's call ringing bob. The call
// is credited to carol, and call.picked_up says who took whose call.
func TestDirectedPickupBridgesTheCallerToThePicker(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, ub, uc := pickupPhones(t, e)
	tstest.CheckGoroutines(t)

	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.ring(t)
	pc := pickUp(t, e, c, in, carol, "*81002", "carol", "carol-pw-1")

	picked := e.eventsNamed(switchboard.EventCallPickedUp)
	if len(picked) != 1 {
		t.Fatalf("%d call.picked_up events; want 1", len(picked))
	}
	d := picked[0].Data
	if events.String(d, events.FieldPickup) != events.PickupDirected || events.String(d, events.FieldUserID) != itoa(uc.ID) ||
		events.String(d, events.FieldRingingUserID) != itoa(ub.ID) || events.String(d, events.FieldRingingExtension) != "1002" ||
		picked[0].CallID == "" {
		t.Errorf("call.picked_up = %+v (call %q)", d, picked[0].CallID)
	}
	// carol is on the call now, bob is not.
	if ch := e.eng.Channels(e.account.ID, uc.ID); len(ch) != 1 {
		t.Errorf("carol's channels = %v; want the picked up call", ch)
	}
	if ch := e.eng.Channels(e.account.ID, ub.ID); len(ch) != 0 {
		t.Errorf("bob's channels = %v; want none (carol took his call)", ch)
	}
	if err := pc.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg after the picker's BYE")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered || r.UniqueID != picked[0].CallID {
		t.Errorf("record = %+v; want the answered call", r)
	}
	ended := e.callEvents(r.UniqueID)
	last := ended[len(ended)-1]
	if last.Name != switchboard.EventCallOutboundEnded || events.String(last.Data, events.FieldAnsweredByUserID) != itoa(uc.ID) {
		t.Errorf("ended event %s answered_by_user_id = %v; want carol (%d)", last.Name, last.Data[events.FieldAnsweredByUserID], uc.ID)
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

func itoa(n int64) string { return events.String(map[string]any{"n": n}, "n") }

// Group pickup (*8 alone): carol takes a call ringing a fellow member of her ring group,
// here a queue call offered to bob: the queue credits carol as the agent who answered.
func TestGroupPickupTakesAQueueCallRingingAFellowMember(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, ub, uc := pickupPhones(t, e)
	qu := &switchboard.Queue{AccountID: e.account.ID, QueueName: "Sales", Extension: "8001", Timeout: 15}
	qu.ApplyDefaults()
	ctx := context.Background()
	if err := e.db.CreateQueue(ctx, qu); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetQueueMember(ctx, e.account.ID, switchboard.QueueMember{QueueID: qu.ID, UserID: ub.ID}); err != nil {
		t.Fatal(err)
	}
	c := alice.dial(e, "8001", "alice", "alice-pw-1", 0)
	c.answered(t) // the queue answers: music on hold
	in := bob.next()
	in.ring(t)
	pc := carol.dial(e, "*8", "carol", "carol-pw-1", 0)
	pc.answered(t)
	endedWithin(t, in.dlg.Context(), "bob's ringing INVITE after the group pickup")
	in.finalSent()
	expectAudio(t, c.rtp, pc.rtp, ulawFrame(3), ulawFrame(3))
	expectAudio(t, pc.rtp, c.rtp, ulawFrame(4), ulawFrame(4))

	picked := e.eventsNamed(switchboard.EventCallPickedUp)
	if len(picked) != 1 || events.String(picked[0].Data, events.FieldPickup) != events.PickupGroup ||
		events.String(picked[0].Data, events.FieldUserID) != itoa(uc.ID) ||
		events.String(picked[0].Data, events.FieldRingingUserID) != itoa(ub.ID) {
		t.Fatalf("call.picked_up = %v", picked)
	}
	// The queue stores its answer once the caller is bridged.
	tstest.WaitFor(t, "queue.member.answered", func() bool { return len(e.eventsNamed(switchboard.EventQueueMemberAnswered)) > 0 })
	answered := e.eventsNamed(switchboard.EventQueueMemberAnswered)
	if len(answered) != 1 || events.String(answered[0].Data, events.FieldUserID) != itoa(uc.ID) {
		t.Errorf("queue.member.answered = %v; want carol", answered)
	}
	if err := c.dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, pc.dlg.Context(), "carol's leg after the caller's BYE")
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

// Pickups with nothing to take get a clear answer and disturb nothing: a call answered
// meanwhile stays up with its audio, and no goroutine, port or dialog is left behind.
func TestPickupWithNothingToTakeIsRefused(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, _, _ := pickupPhones(t, e)
	ud := e.user("1004")
	e.device(ud, "dave", "dave-pw-1")
	dave := newUA(t, "127.0.0.1", "dave")
	dave.register(e, "dave", "dave-pw-1")
	tstest.CheckGoroutines(t)

	for _, tc := range []struct {
		name, code string
		picker     *ua
		user, pw   string
	}{
		{"nothing rings", "*81002", carol, "carol", "carol-pw-1"},
		{"group, nothing rings", "*8", carol, "carol", "carol-pw-1"},
		{"no such extension", "*89999", carol, "carol", "carol-pw-1"},
		{"not an extension", "*8x", carol, "carol", "carol-pw-1"},
		{"group, picker in no ring group", "*8", dave, "dave", "dave-pw-1"},
		{"unknown feature code", "*99", carol, "carol", "carol-pw-1"},
	} {
		if code := tc.picker.dial(e, tc.code, tc.user, tc.pw, 0).finalCode(t); code != 404 {
			t.Errorf("%s (%s): %d; want 404", tc.name, tc.code, code)
		}
	}

	// bob answered before carol dialled: the call is no longer ringing.
	c, in := callBob(t, e, alice, bob)
	if code := carol.dial(e, "*81002", "carol", "carol-pw-1", 0).finalCode(t); code != 404 {
		t.Errorf("pickup of an answered call: %d; want 404", code)
	}
	if code := carol.dial(e, "*8", "carol", "carol-pw-1", 0).finalCode(t); code != 404 {
		t.Errorf("group pickup of an answered call: %d; want 404", code)
	}
	expectAudio(t, c.rtp, in.rtp, ulawFrame(5), ulawFrame(5))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(6), ulawFrame(6))
	if c.dlg.Context().Err() != nil || in.dlg.Context().Err() != nil {
		t.Fatal("a refused pickup ended the answered call")
	}
	if len(e.eventsNamed(switchboard.EventCallPickedUp)) != 0 {
		t.Error("a refused pickup stored call.picked_up")
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg")
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

// A call from a number picked up (*8 and the extension): the inbound call's record and its
// answered and ended events are the picker's; its events are in order with call.picked_up
// before the answer. A user on do not disturb refuses such calls too (486 to the carrier).
func TestPickupOfAnInboundCallCreditsThePicker(t *testing.T) {
	e := newEnv(t)
	svc := withUsers(e)
	_, bob, carol, ub, uc := pickupPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	num := &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetUser, ID: ub.ID}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		t.Fatal(err)
	}
	c := carrier.dial(e, "+15550001000", "+15557654321", "")
	in := bob.next()
	in.ring(t)
	pc := pickUp(t, e, c, in, carol, "*81002", "carol", "carol-pw-1")
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, pc.dlg.Context(), "carol's leg after the carrier's BYE")
	r := e.endedRecord(switchboard.CallInbound)
	if r.UserID != uc.ID || r.Extension != "1003" || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v; want carol's answered call", r)
	}
	evs := e.callEvents(r.UniqueID)
	want := []string{switchboard.EventCallInboundStarted, switchboard.EventCallInboundRinging, switchboard.EventCallPickedUp,
		switchboard.EventCallInboundAnswered, switchboard.EventCallInboundEnded}
	if got := names(evs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events = %v; want %v", got, want)
	}
	for _, ev := range evs[2:] {
		if events.String(ev.Data, events.FieldUserID) != itoa(uc.ID) {
			t.Errorf("%s user_id = %v; want carol (%d)", ev.Name, ev.Data[events.FieldUserID], uc.ID)
		}
	}

	if _, err := svc.UpdateUser(context.Background(), e.account.ID, ub.ID,
		switchboard.UserChange{DoNotDisturb: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	if code := carrier.dial(e, "+15550001000", "+15557654321", "").finalCode(t); code != 486 {
		t.Errorf("call from a number to a user on do not disturb: %d; want 486", code)
	}
	noInvite(t, bob, "bob (do not disturb)")
	e.waitIdle()
}

// A pickup racing the ringing phone's answer: exactly one of them gets the call, the other
// a clear answer (the picker 404 or 481; the phone's late 200 an ACK and a BYE), the caller
// talks to the winner, and nothing is left behind.
func TestPickupRacingTheAnswer(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, _, _ := pickupPhones(t, e)
	tstest.CheckGoroutines(t)
	for i := range 5 {
		c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
		in := bob.next()
		in.ring(t)
		in.answer(t, "127.0.0.1", 0)
		pc := carol.dial(e, "*81002", "carol", "carol-pw-1", 0)
		var err error
		select {
		case err = <-pc.err:
		case <-time.After(tstest.DefaultWait):
			t.Fatalf("round %d: the pickup got no final answer", i)
		}
		if err == nil { // carol won: bob's 200 was acknowledged and hung up
			// The caller is answered once the picker's ACK came.
			if aerr := pc.dlg.Ack(context.Background()); aerr != nil {
				t.Fatal(aerr)
			}
			pc.rtp.setRemote(t, pc.dlg.InviteResponse.Body())
			c.answered(t)
			endedWithin(t, in.dlg.Context(), "bob's late answer after the pickup won")
			expectAudio(t, c.rtp, pc.rtp, ulawFrame(i), ulawFrame(i))
			t.Logf("round %d: the pickup won", i)
		} else {
			if code := statusOf(err); code != 404 && code != 481 {
				t.Fatalf("round %d: the pickup that lost got %v; want 404 or 481", i, err)
			}
			c.answered(t)
			expectAudio(t, c.rtp, in.rtp, ulawFrame(i), ulawFrame(i))
			t.Logf("round %d: bob's answer won; the pickup got %d", i, statusOf(err))
		}
		if err := c.dlg.Bye(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.waitIdle()
	}
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}
