package pbx_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/tstest"
)

// twoPhones provisions extensions 1001 (alice) and 1002 (bob), each with one registered phone.
func twoPhones(t *testing.T, e *env, bobMutate ...func(*switchboard.User)) (alice, bob *ua, ua1, ub *switchboard.User) {
	ua1 = e.user("1001", func(u *switchboard.User) { u.FirstName, u.LastName = "Alice", "A" })
	ub = e.user("1002", bobMutate...)
	e.device(ua1, "alice", "alice-pw-1")
	e.device(ub, "bob", "bob-pw-1")
	alice = newUA(t, "127.0.0.1", "alice")
	bob = newUA(t, "127.0.0.1", "bob")
	alice.register(e, "alice", "alice-pw-1")
	bob.register(e, "bob", "bob-pw-1")
	return alice, bob, ua1, ub
}

func TestExtensionCallAudioBothWaysAndBYEFromCaller(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bobCodecs []uint8
	}{
		{"same codec", []uint8{0}},
		{"transcoded PCMU to PCMA", []uint8{8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			alice, bob, ua1, ub := twoPhones(t, e)

			c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
			in := bob.next()
			if got := in.req.From().Address.User; got != "1001" {
				t.Errorf("bob sees caller %q; want 1001", got)
			}
			in.ring(t)
			in.answer(t, "127.0.0.1", tc.bobCodecs...)
			c.answered(t)

			// While the call is up, both users have a live channel.
			if _, ch := e.srv.UserPresence(e.account.ID, ua1.ID); len(ch) != 1 || ch[0].Direction != "outbound" || ch[0].To != "1002" {
				t.Errorf("alice's channels = %+v; want one outbound to 1002", ch)
			}
			if _, ch := e.srv.UserPresence(e.account.ID, ub.ID); len(ch) != 1 || ch[0].Direction != "inbound" {
				t.Errorf("bob's channels = %+v; want one inbound", ch)
			}

			frame := ulawFrame(1)
			want := frame
			if tc.bobCodecs[0] == 8 {
				want = transcodeUlawToAlaw(frame)
			}
			expectAudio(t, c.rtp, in.rtp, frame, want)
			back := ulawFrame(2)
			bobSends, aliceGets := back, back
			if tc.bobCodecs[0] == 8 {
				bobSends = transcodeUlawToAlaw(back) // bob speaks A-law; alice must get µ-law
				aliceGets = make([]byte, len(back))
				for i, b := range bobSends {
					aliceGets[i] = ulawOf(b)
				}
			}
			expectAudio(t, in.rtp, c.rtp, bobSends, aliceGets)

			if err := c.dlg.Bye(context.Background()); err != nil {
				t.Fatalf("BYE: %v", err)
			}
			endedWithin(t, in.dlg.Context(), "bob's leg after alice's BYE")
			r := e.endedRecord(switchboard.CallOutbound)
			if r.Disposition != switchboard.DispositionAnswered || r.From != "1001" || r.To != "1002" || r.UserID != ua1.ID {
				t.Errorf("record = %+v; want answered 1001 -> 1002 by alice", r)
			}
			want3 := []string{switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundAnswered, switchboard.EventCallOutboundEnded}
			if diff := cmp.Diff(want3, names(e.callEvents(r.UniqueID))); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			e.waitIdle()
			if _, ch := e.srv.UserPresence(e.account.ID, ua1.ID); len(ch) != 0 {
				t.Errorf("alice still has channels after the call: %+v", ch)
			}
		})
	}
}

func ulawOf(alaw byte) byte { return mediaUlaw(alaw) }

func TestBYEFromCallee(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	in := bob.next()
	in.answer(t, "127.0.0.1")
	c.answered(t)
	// Let the 200's ACK reach bob before he hangs up.
	endedOrConfirmed(t, in)
	if err := in.dlg.Bye(context.Background()); err != nil {
		t.Fatalf("bob's BYE: %v", err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg after bob's BYE")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("disposition %q; want answered", r.Disposition)
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	c := alice.dialCtx(ctx, e, "1002", "alice", "alice-pw-1")
	in := bob.next()
	in.ring(t)
	waitStatus(t, c, 180)
	cancel() // alice hangs up while bob's phone rings: CANCEL
	endedWithin(t, in.dlg.Context(), "bob's ringing leg after alice's CANCEL")
	in.finalSent()
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionCancelled || !r.AnsweredAt.IsZero() {
		t.Errorf("record = %+v; want cancelled, unanswered", r)
	}
	evs := e.callEvents(r.UniqueID)
	if diff := cmp.Diff([]string{switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundEnded}, names(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if cause := evs[len(evs)-1].Data["hangup_cause"]; cause != "cancelled" {
		t.Errorf("hangup_cause %v; want cancelled", cause)
	}
}

func TestBusyIsPassedBack(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	in := bob.next()
	in.reject(t, 486, "Busy Here")
	if code := c.finalCode(t); code != 486 {
		t.Errorf("alice got %d; want 486 Busy Here", code)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionBusy {
		t.Errorf("disposition %q; want busy", r.Disposition)
	}
}

func TestNoAnswerAfterRingTime(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e, func(u *switchboard.User) { u.RingTimeSeconds = 1 })
	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	in := bob.next()
	in.ring(t)
	// Nobody answers: after bob's ring time (1 s) the PBX cancels bob and answers alice 480.
	endedWithin(t, in.dlg.Context(), "bob's phone after the ring time")
	in.finalSent()
	if code := c.finalCode(t); code != 480 {
		t.Errorf("alice got %d; want 480", code)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionNoAnswer {
		t.Errorf("disposition %q; want no-answer", r.Disposition)
	}
}

func TestForkToTwoDevicesFirstAnswerWins(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, ub := twoPhones(t, e)
	e.device(ub, "bob-desk", "bob-pw-2")
	desk := newUA(t, "127.0.0.1", "bob-desk")
	desk.register(e, "bob-desk", "bob-pw-2")

	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	first, second := bob.next(), desk.next()
	first.ring(t)
	second.answer(t, "127.0.0.1")
	c.answered(t)
	endedWithin(t, first.dlg.Context(), "the phone that did not answer")
	first.finalSent()
	expectAudio(t, c.rtp, second.rtp, ulawFrame(3), ulawFrame(3))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, second.dlg.Context(), "the answering phone after BYE")
}

// waitStatus waits for a provisional or final response with the code.
func waitStatus(t *testing.T, c *call, code int) {
	t.Helper()
	deadline := time.After(tstest.DefaultWait)
	for {
		select {
		case r := <-c.res:
			if r.StatusCode == code {
				return
			}
		case <-deadline:
			t.Fatalf("no %d response", code)
		}
	}
}

// endedOrConfirmed waits until the answered dialog got its ACK (or ended).
func endedOrConfirmed(t *testing.T, in *inbound) {
	t.Helper()
	select {
	case <-in.final:
	case <-time.After(tstest.DefaultWait):
		t.Fatal("answer not acknowledged")
	}
}

// An answered internal call names both users: the caller as user_id on every event, the
// callee as answered_by_user_id on the answered and ended events (Voice360's CALL_ENDED
// to_user_id, which was null).
func TestInternalCallNamesTheCallee(t *testing.T) {
	e := newEnv(t)
	alice, bob, ua1, ub := twoPhones(t, e)
	c, in := callBob(t, e, alice, bob)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg after alice's BYE")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.UserID != ua1.ID {
		t.Errorf("record user %d; want the caller %d", r.UserID, ua1.ID)
	}
	seen := 0
	for _, ev := range e.callEvents(r.UniqueID) {
		if ev.Name != switchboard.EventCallOutboundAnswered && ev.Name != switchboard.EventCallOutboundEnded {
			continue
		}
		seen++
		if fmt.Sprint(ev.Data["user_id"]) != fmt.Sprint(ua1.ID) || fmt.Sprint(ev.Data["answered_by_user_id"]) != fmt.Sprint(ub.ID) {
			t.Errorf("%s user_id %v answered_by_user_id %v; want %d and %d", ev.Name, ev.Data["user_id"],
				ev.Data["answered_by_user_id"], ua1.ID, ub.ID)
		}
	}
	if seen != 2 {
		t.Errorf("%d answered/ended events; want 2", seen)
	}
}
