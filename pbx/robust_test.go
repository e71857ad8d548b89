package pbx_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/pbx"
)

func TestNoCommonCodecIs488AndMalformedSDPIs400(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	c := alice.dial(e, "1002", "alice", "alice-pw-1", 18) // G.729 only
	if code := c.finalCode(t); code != 488 {
		t.Errorf("offer with only G.729 answered %d; want 488", code)
	}

	// Malformed SDP: the body is not SDP at all.
	var recipient sip.Uri
	if err := sip.ParseUri("sip:1002@"+e.sipAddr, &recipient); err != nil {
		t.Fatal(err)
	}
	dlg, err := alice.dcc.Invite(context.Background(), recipient, []byte("this is not sdp"),
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	err = dlg.WaitAnswer(context.Background(), sipgoAuth("alice", "alice-pw-1"))
	if code := statusOf(err); code != 400 {
		t.Errorf("malformed SDP answered %d (%v); want 400", code, err)
	}
	select {
	case in := <-bob.incoming:
		t.Errorf("bob's phone rang for a refused call: %s", in.req.StartLine())
	default:
	}
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports held after refused calls", n)
	}
}

func TestRTPFromUnexpectedSourceIsNotRelayed(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	c, in := callBob(t, e, alice, bob)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1)) // latched on alice's socket

	// A stranger on another address sends to alice's leg port: bob must not hear it.
	stranger := newRTPPeer(t, "127.0.0.5")
	stranger.remote, stranger.codec = c.rtp.remote, 0
	injected := ulawFrame(99)
	for i := 0; i < 20; i++ {
		stranger.send(t, injected)
	}
	c.rtp.send(t, ulawFrame(2)) // a genuine packet after them
	for {
		pkt := in.rtp.recv(time.Second)
		if pkt == nil {
			t.Fatal("bob stopped receiving audio")
		}
		if string(pkt.Payload) == string(injected) {
			t.Fatal("RTP from an unexpected source was relayed")
		}
		if string(pkt.Payload) == string(ulawFrame(2)) {
			break
		}
	}
	_ = c.dlg.Bye(context.Background())
}

func TestRTPInactivityEndsTheCall(t *testing.T) {
	clk := tstest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *pbx.Config) { c.Now = clk.Now; c.SweepInterval = time.Hour })
	alice, bob, _, _ := twoPhones(t, e)
	c, in := callBob(t, e, alice, bob)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(2), ulawFrame(2))

	clk.Advance(30 * time.Second)
	e.eng.SweepInactive()
	if e.eng.ActiveCalls() != 1 {
		t.Fatal("call ended after 30 s of silence; the timeout is 60 s")
	}
	clk.Advance(31 * time.Second)
	e.eng.SweepInactive()
	endedWithin(t, c.dlg.Context(), "alice's leg after RTP stopped")
	endedWithin(t, in.dlg.Context(), "bob's leg after RTP stopped")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered || r.BillableSeconds != 61 {
		t.Errorf("record = %+v; want answered with 61 billable seconds on the injected clock", r)
	}
}

func TestOpenRecordsClosedAtStartup(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(-time.Minute).UTC()
	open := &switchboard.CallRecord{AccountID: e.account.ID, UniqueID: "1700000000.7", Direction: switchboard.CallInbound,
		From: "+15557654321", To: "+15550001000", StartedAt: start, AnsweredAt: start, CRMID: "crm-1"}
	if err := e.db.StartCallRecord(context.Background(), open); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := e.db.GetCallRecord(context.Background(), e.account.ID, open.UniqueID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Disposition != switchboard.DispositionFailed || r.EndedAt.IsZero() {
		t.Errorf("record after restart = %+v; want failed and ended", r)
	}
	evs := e.callEvents(open.UniqueID)
	if len(evs) != 1 || evs[0].Name != switchboard.EventCallInboundEnded || evs[0].CRMID != "crm-1" || evs[0].Data["hangup_cause"] != "failed" {
		t.Errorf("events after restart = %v; want one inbound ended, failed, with the crm id", names(evs))
	}
}

// Many calls, answered and cancelled and refused: afterwards every RTP port is back in the
// pool and the goroutines return to the baseline.
func TestNoLeakAfterLoad(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	tstest.CheckGoroutines(t)

	const calls = 20
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // bob answers half, rejects the others as busy
		defer wg.Done()
		for i := 0; i < calls; i++ {
			in := bob.next()
			if i%2 == 0 {
				in.answer(t, "127.0.0.1", 0)
			} else {
				in.reject(t, 486, "Busy Here")
			}
		}
	}()
	for i := 0; i < calls; i++ {
		c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
		if i%2 == 0 {
			c.answered(t)
			c.rtp.send(t, ulawFrame(i))
			if err := c.dlg.Bye(context.Background()); err != nil {
				t.Fatalf("BYE %d: %v", i, err)
			}
		} else if code := c.finalCode(t); code != 486 {
			t.Fatalf("call %d: %d", i, code)
		}
	}
	wg.Wait()
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use after every call ended", n)
	}
}

// A re-INVITE without SDP asks the PBX for an offer (RFC 3261 14.2): the 200 carries one,
// the ACK carries the answer, and media follows the answer — here the phone moved its RTP
// to a new port. An ACK without an answer leaves the media as it was.
func TestReinviteWithoutSDPGetsOurOfferAndTakesTheAnswerFromTheACK(t *testing.T) {
	e := newEnv(t)
	_, c, in := establishedCall(t, e)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1))

	offerless := func(ackBody []byte) *sip.Response {
		t.Helper()
		req := sip.NewRequest(sip.INVITE, c.dlg.InviteResponse.Contact().Address)
		res, err := c.dlg.Do(context.Background(), req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE without SDP: %v %v", res, err)
		}
		ack := sip.NewRequest(sip.ACK, c.dlg.InviteResponse.Contact().Address)
		if ackBody != nil {
			ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			ack.SetBody(ackBody)
		}
		if err := c.dlg.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
		return res
	}

	moved := newRTPPeer(t, "127.0.0.1")
	res := offerless(moved.offer(0))
	offer := string(res.Body())
	for _, want := range []string{"m=audio", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=sendrecv"} {
		if !strings.Contains(offer, want) {
			t.Fatalf("the 200 to a re-INVITE without SDP is no offer with %q:\n%s", want, offer)
		}
	}
	moved.setRemote(t, res.Body())
	expectAudio(t, in.rtp, moved, ulawFrame(2), ulawFrame(2)) // bob's audio reaches alice's new port
	expectAudio(t, moved, in.rtp, ulawFrame(3), ulawFrame(3))

	// No answer in the ACK: the call goes on with the media it had.
	offerless(nil)
	expectAudio(t, in.rtp, moved, ulawFrame(4), ulawFrame(4))
	if e.eng.ActiveCalls() != 1 {
		t.Fatal("the call ended")
	}
	_ = c.dlg.Bye(context.Background())
	endedWithin(t, in.dlg.Context(), "bob's leg")
}
