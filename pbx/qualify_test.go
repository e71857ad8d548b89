package pbx_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	sbsip "switchboard/sip"
)

// vanish makes the phone disappear without un-registering: its socket is closed, so the
// PBX's requests to it go unanswered (a phone unplugged, a laptop closed).
func (u *ua) vanish() {
	u.pc.Close()
}

// blackhole makes the phone vanish, and returns what is sent to its address from then on
// (read by a socket that never answers): the test sees the PBX's INVITEs go unanswered.
func (u *ua) blackhole() <-chan string {
	u.t.Helper()
	u.pc.Close()
	pc, err := net.ListenPacket("udp", u.addr)
	if err != nil {
		u.t.Fatal(err)
	}
	u.t.Cleanup(func() { pc.Close() })
	got := make(chan string, 100)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case got <- string(buf[:n]):
			default:
			}
		}
	}()
	return got
}

// awaitSilentInvite waits until the PBX has sent the vanished phone its INVITE three times
// (the first and two retransmissions, 1.5 s apart): long enough unanswered that the PBX
// gives the phone up instead of waiting to send a CANCEL (pbx.silentPhoneAfter), so the
// test's end does not wait out the INVITE's 32 s.
func awaitSilentInvite(t *testing.T, got <-chan string) {
	t.Helper()
	timeout := time.After(tstest.DefaultWait)
	for n := 0; n < 3; {
		select {
		case msg := <-got:
			if strings.HasPrefix(msg, "INVITE ") {
				n++
			}
		case <-timeout:
			t.Fatalf("%d INVITEs reached the vanished phone; want 3", n)
		}
	}
}

// waitEvent waits for the call's event name and returns it.
func (q *qenv) waitEvent(c *call, name string) *switchboard.Event {
	q.t.Helper()
	var found *switchboard.Event
	tstest.WaitFor(q.t, "the call's "+name+" event", func() bool {
		for _, ev := range q.eventsOf(c) {
			if ev.Name == name {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// A queue's max_wait ends the wait while a member's phone is being rung, even one that
// never answers the INVITE at all (it vanished): the INVITE cannot be cancelled before the
// phone answers, and its transaction runs 32 s (timer B), which the queue must not wait
// for. The timeout event carries the wait the caller really had.
func TestQueueMaxWaitEndsTheWaitWhileAVanishedPhoneRings(t *testing.T) {
	q := newQueueEnv(t, 1)
	q.queue(func(qu *switchboard.Queue) { qu.MaxWait = 3 })
	hole := q.agents[0].ua.blackhole()
	c := q.callIn()
	awaitSilentInvite(t, hole)
	q.clk.Advance(3 * time.Second)
	ev := q.waitEvent(c, switchboard.EventQueueTimeout)
	if ev.Data["wait_time"] != float64(3) {
		t.Errorf("queue.timeout = %v; want wait_time 3", ev.Data)
	}
	// No overflow target: the caller is hung up.
	endedWithin(t, c.dlg.Context(), "the caller after the queue's max wait")
	q.waitIdle()
}

// A caller who hangs up while a vanished phone is being rung abandons at once, with the
// true wait.
func TestQueueAbandonWhileAVanishedPhoneRings(t *testing.T) {
	q := newQueueEnv(t, 1)
	qu := q.queue(nil)
	hole := q.agents[0].ua.blackhole()
	c := q.callIn()
	awaitSilentInvite(t, hole)
	q.clk.Advance(10 * time.Second)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := q.waitEvent(c, switchboard.EventQueueAbandoned)
	if ev.Data["wait_time"] != float64(10) {
		t.Errorf("queue.abandoned = %v; want wait_time 10", ev.Data)
	}
	tstest.WaitFor(t, "the caller to leave the queue's stats", func() bool {
		st := q.eng.QueueStats(q.account.ID, qu.ID)
		return st.Today.Abandoned == 1 && st.CallersWaiting == 0
	})
	q.waitIdle()
}

// Qualify: a registered phone that vanished without un-registering stops answering the
// registrar's OPTIONS and is no longer rung; a phone that answers them (with anything: the
// test UA says 405 to OPTIONS) still is. A queue whose only reachable member is that phone
// rings it alone.
func TestVanishedPhoneIsQualifiedOutAndNotRung(t *testing.T) {
	q := newQueueEnvSIP(t, 2, func(c *sbsip.Config) {
		c.QualifyInterval, c.QualifyTimeout = 50*time.Millisecond, 300*time.Millisecond
	})
	q.queue(func(qu *switchboard.Queue) { qu.Strategy = switchboard.StrategyRingAll })
	gone, here := q.agents[0], q.agents[1]
	gone.ua.vanish()
	tstest.WaitFor(t, "the vanished phone to be qualified out", func() bool {
		return len(q.srv.Contacts(q.account.ID, gone.u.ID)) == 0
	})
	// The phone that answers stays reachable through further qualify rounds.
	tstest.Never(t, 10*50*time.Millisecond, "the answering phone qualified out", func() bool {
		return len(q.srv.Contacts(q.account.ID, here.u.ID)) == 0
	})
	if on, _ := q.srv.UserPresence(q.account.ID, gone.u.ID); !on {
		t.Errorf("the vanished phone's user is offline; its registration stands until it expires")
	}

	c := q.callIn()
	n, in := q.ringing()
	if n != 2 {
		t.Fatalf("agent %d rang; want 2 (agent 1's phone is unreachable)", n)
	}
	in.answer(t, "127.0.0.1", 0)
	q.waitAnswered(c)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the agent's leg after the caller's BYE")
	q.waitIdle()
	for _, ev := range q.eventsOf(c) {
		if ev.Name == switchboard.EventQueueMemberRinging && ev.Data["user_id"] == float64(gone.u.ID) {
			t.Errorf("the unreachable member was offered the call: %+v", ev)
		}
	}
}
