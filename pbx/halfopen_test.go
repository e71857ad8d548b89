package pbx_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/pbx"
)

// The callee answers, the PBX sends the caller its 200 OK, and the caller never ACKs (it
// vanished, or every ACK is lost): once the ACK timeout passes the call ends cleanly.
func TestCallerThatNeverAcksIsHungUpOnBothLegs(t *testing.T) {
	e := newEnv(t, func(c *pbx.Config) { c.AckTimeout = 300 * time.Millisecond })
	alice, bob, _, _ := twoPhones(t, e)
	tstest.CheckGoroutines(t)

	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	c.answeredUnacked(t)
	// alice deliberately never ACKs the 200.

	endedWithin(t, in.dlg.Context(), "bob's leg (BYE after the caller never ACKed)")
	endedWithin(t, c.dlg.Context(), "alice's half-open leg (BYE)")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionFailed || r.AnsweredAt.IsZero() || r.BillableSeconds != 0 {
		t.Errorf("record = %+v; want failed, answered at the callee's answer, 0 billable seconds", r)
	}
	evs := e.callEvents(r.UniqueID)
	want := []string{switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundAnswered, switchboard.EventCallOutboundEnded}
	if got := names(evs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events = %v; want %v", got, want)
	}
	if ended := evs[2].Data; ended["hangup_cause"] != "failed" {
		t.Errorf("ended event data = %v; want hangup_cause failed", ended)
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use after the half-open call ended", n)
	}
	if got := e.eng.CallsEnded()[switchboard.DispositionFailed]; got != 1 {
		t.Errorf("failed calls counted: %d; want 1", got)
	}
}

// A caller that vanishes after the call is up (no BYE, no more RTP) while the callee keeps
// talking: the inactivity check on the injected clock ends the call and frees everything.
func TestCallerThatVanishesMidCallIsHungUp(t *testing.T) {
	clk := tstest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *pbx.Config) { c.Now = clk.Now; c.SweepInterval = time.Hour })
	alice, bob, _, _ := twoPhones(t, e)
	tstest.CheckGoroutines(t)

	c, in := callBob(t, e, alice, bob)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(2), ulawFrame(2))

	// alice is gone: nothing more from her. bob still sends.
	clk.Advance(61 * time.Second)
	in.rtp.send(t, ulawFrame(3))
	e.eng.SweepInactive()
	endedWithin(t, in.dlg.Context(), "bob's leg after the caller vanished")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered || !r.EndedAt.Equal(clk.Now()) || r.BillableSeconds != 61 {
		t.Errorf("record = %+v; want answered, ended at %v with 61 billable seconds", r, clk.Now())
	}
	if evs := e.callEvents(r.UniqueID); len(evs) == 0 || evs[len(evs)-1].Name != switchboard.EventCallOutboundEnded {
		t.Errorf("events = %v; want the ended event last", names(evs))
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

// An INVITE without SDP (late offer): the PBX's 200 carries its offer, the caller's ACK
// the answer, and audio flows both ways.
func TestLateOfferInviteGetsOurOfferAndTakesTheAnswerFromTheACK(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	peer := newRTPPeer(t, "127.0.0.1")
	var recipient sip.Uri
	if err := sip.ParseUri("sip:1002@"+e.sipAddr, &recipient); err != nil {
		t.Fatal(err)
	}
	dlg, err := alice.dcc.Invite(context.Background(), recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() { answered <- dlg.WaitAnswer(context.Background(), sipgoAuth("alice", "alice-pw-1")) }()

	in := bob.next() // bob is offered media as usual
	in.answer(t, "127.0.0.1", 8)
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("late-offer INVITE not answered: %v", err)
		}
	case <-time.After(tstest.DefaultWait):
		t.Fatal("late-offer INVITE not answered in time")
	}
	offer := string(dlg.InviteResponse.Body())
	if !strings.Contains(offer, "m=audio") || !strings.Contains(offer, "PCMU/8000") || !strings.Contains(offer, "PCMA/8000") {
		t.Fatalf("the 200 to a late-offer INVITE carries no offer of PCMU and PCMA:\n%s", offer)
	}
	peer.setRemote(t, dlg.InviteResponse.Body()) // PCMU, the offer's first codec
	peer.codec = 0
	ack := sip.NewRequest(sip.ACK, dlg.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(peer.offer(0)) // our answer: PCMU
	if err := dlg.WriteAck(context.Background(), ack); err != nil {
		t.Fatal(err)
	}
	endedOrConfirmed(t, in)

	// alice speaks PCMU, bob PCMA: the relay transcodes both ways.
	expectAudio(t, peer, in.rtp, ulawFrame(5), transcodeUlawToAlaw(ulawFrame(5)))
	alaw := transcodeUlawToAlaw(ulawFrame(6))
	want := make([]byte, len(alaw))
	for i, b := range alaw {
		want[i] = mediaUlaw(b)
	}
	expectAudio(t, in.rtp, peer, alaw, want)

	if err := dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg")
	if r := e.endedRecord(switchboard.CallOutbound); r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v; want answered", r)
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

// A late-offer caller whose ACK brings no answer cannot have media: the call is ended.
func TestLateOfferWithoutAnswerInACKEndsTheCall(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	var recipient sip.Uri
	if err := sip.ParseUri("sip:1002@"+e.sipAddr, &recipient); err != nil {
		t.Fatal(err)
	}
	dlg, err := alice.dcc.Invite(context.Background(), recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() { answered <- dlg.WaitAnswer(context.Background(), sipgoAuth("alice", "alice-pw-1")) }()
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if err := dlg.Ack(context.Background()); err != nil { // no body
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg")
	endedWithin(t, dlg.Context(), "alice's leg")
	if r := e.endedRecord(switchboard.CallOutbound); r.Disposition != switchboard.DispositionFailed {
		t.Errorf("record = %+v; want failed", r)
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}

// resending reports whether a goroutine is retransmitting a 200 to a re-INVITE.
func resending() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "resendUntilAck")
}

// The 200 to a hold re-INVITE is retransmitted until its ACK arrives: the first ACK is
// "lost" (not sent), a retransmission arrives, and the ACK then stops them.
func TestReinvite200IsRetransmittedUntilACK(t *testing.T) {
	e := newEnv(t)
	_, c, in := establishedCall(t, e)

	offer := string(c.rtp.offer(0))
	hold := []byte(strings.TrimSuffix(offer, "a=sendrecv\r\n") + "a=sendonly\r\n")
	req := sip.NewRequest(sip.INVITE, c.dlg.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(hold)
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	tx, err := c.dlg.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	retransmitted := make(chan *sip.Response, 8)
	tx.OnRetransmission(func(r *sip.Response) {
		select {
		case retransmitted <- r:
		default:
		}
	})
	select {
	case res := <-tx.Responses():
		if res.StatusCode != 200 {
			t.Fatalf("hold re-INVITE answered %d", res.StatusCode)
		}
	case <-ctx.Done():
		t.Fatal("hold re-INVITE not answered")
	}
	// The ACK is lost: the PBX must send the 200 again.
	select {
	case res := <-retransmitted:
		if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
			t.Fatalf("retransmission = %d\n%s", res.StatusCode, res.Body())
		}
	case <-ctx.Done():
		t.Fatal("the 200 to the re-INVITE was not retransmitted without an ACK")
	}
	ack := sip.NewRequest(sip.ACK, c.dlg.InviteResponse.Contact().Address)
	if err := c.dlg.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	tstest.WaitFor(t, "the PBX to stop retransmitting the 200 after the ACK", func() bool { return !resending() })
	if e.eng.ActiveCalls() != 1 {
		t.Fatal("the call ended")
	}
	_ = c.dlg.Bye(context.Background())
	endedWithin(t, in.dlg.Context(), "bob's leg")
}

// A ring group call whose caller never ACKs the answer ends the same way: both legs get a
// BYE and the record is failed, not answered.
func TestRingGroupCallerThatNeverAcksIsRecordedFailed(t *testing.T) {
	e := newEnv(t, func(c *pbx.Config) { c.AckTimeout = 300 * time.Millisecond })
	alice, bob, _, ub := twoPhones(t, e)
	rg := &switchboard.RingGroup{AccountID: e.account.ID, Name: "Front Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20, Members: []switchboard.RingGroupMember{{UserID: ub.ID}}}
	if err := e.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	c := alice.dial(e, "8100", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	c.answeredUnacked(t)
	endedWithin(t, in.dlg.Context(), "bob's leg")
	endedWithin(t, c.dlg.Context(), "alice's half-open leg")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionFailed || r.BillableSeconds != 0 {
		t.Errorf("record = %+v; want failed with 0 billable seconds", r)
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}
