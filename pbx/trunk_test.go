package pbx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// The carrier runs on 127.0.0.2: trunks are recognised by source address, so it must not
// share the phones' address.
const carrierIP = "127.0.0.2"

func TestInboundCallFromTrunkReachesUser(t *testing.T) {
	e := newEnv(t)
	bobUser := e.user("1002", func(u *switchboard.User) { u.FirstName, u.LastName = "Bob", "B" })
	e.device(bobUser, "bob", "bob-pw-1")
	bob := newUA(t, "127.0.0.1", "bob")
	bob.register(e, "bob", "bob-pw-1")
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	num := &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetUser, ID: bobUser.ID}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		t.Fatal(err)
	}

	// The carrier sends no credentials: it is not challenged, being a trunk's address.
	c := carrier.dial(e, "+15550001000", "+15557654321", "")
	in := bob.next()
	if got := in.req.From().Address.User; got != "+15557654321" {
		t.Errorf("bob sees caller %q; want the external caller", got)
	}
	in.ring(t)
	in.answer(t, "127.0.0.1", 8)
	c.answered(t)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(5), transcodeUlawToAlaw(ulawFrame(5)))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg after the carrier's BYE")
	r := e.endedRecord(switchboard.CallInbound)
	if r.From != "+15557654321" || r.To != "+15550001000" || r.UserID != bobUser.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v", r)
	}
	evs := e.callEvents(r.UniqueID)
	want := []string{switchboard.EventCallInboundStarted, switchboard.EventCallInboundRinging,
		switchboard.EventCallInboundAnswered, switchboard.EventCallInboundEnded}
	if diff := cmp.Diff(want, names(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, ev := range evs[1:] {
		if ev.Data["extension"] != "1002" || ev.Data["number"] != "+15550001000" {
			t.Errorf("%s data = %v; want bob's extension and the number", ev.Name, ev.Data)
		}
	}
}

func TestInviteFromUnknownAddressIsChallenged(t *testing.T) {
	e := newEnv(t)
	u := e.user("1002")
	num := &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetUser, ID: u.ID}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		t.Fatal(err)
	}
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	// Same number dialled from 127.0.0.3, not a trunk address, and claiming to be the
	// carrier in its headers: it must be challenged like any phone.
	impostor := newUA(t, "127.0.0.3", "carrier")
	c := impostor.dial(e, "+15550001000", "+15557654321", "")
	if code := c.finalCode(t); code != 407 {
		t.Errorf("INVITE from a non-trunk address answered %d; want 407", code)
	}
}

func TestOutboundCallThroughTrunkWithDigest(t *testing.T) {
	e := newEnv(t)
	alice, _, ua1, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)

	c := alice.dial(e, "+15557654321", "alice", "alice-pw-1")
	in := carrier.next()
	if in.req.Recipient.User != "+15557654321" {
		t.Errorf("carrier asked for %q", in.req.Recipient.User)
	}
	if got := in.req.From().Address.User; got != "+15550009999" {
		t.Errorf("caller id presented %q; want the trunk's default +15550009999", got)
	}
	in.answer(t, carrierIP, 0)
	c.answered(t)
	carrier.mu.Lock()
	authorized := carrier.authorized
	carrier.mu.Unlock()
	if authorized != 1 {
		t.Errorf("carrier accepted %d digest-authenticated INVITEs; want 1", authorized)
	}
	expectAudio(t, c.rtp, in.rtp, ulawFrame(6), ulawFrame(6))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(7), ulawFrame(7))
	if err := in.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg after the far end hung up")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.To != "+15557654321" || r.From != "+15550009999" || r.UserID != ua1.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v", r)
	}
}

func TestForwardingGoesOutThroughTrunk(t *testing.T) {
	e := newEnv(t)
	alice, _, _, _ := twoPhones(t, e, func(u *switchboard.User) {
		u.ForwardEnabled, u.ForwardNumber = true, "+15551112222"
	})
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	in := carrier.next()
	if in.req.Recipient.User != "+15551112222" {
		t.Errorf("forwarded to %q; want bob's forward number", in.req.Recipient.User)
	}
	in.answer(t, carrierIP, 0)
	c.answered(t)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(8), ulawFrame(8))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the forwarded leg")
}

func TestClickToCallEndToEnd(t *testing.T) {
	e := newRecEnv(t).env // recording: true needs a recording store (else 503)
	alice, _, ua1, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)

	out, err := e.eng.PlaceCall(context.Background(), switchboard.OutboundCallRequest{AccountID: e.account.ID,
		FromUser: ua1, To: "+15557654321", CRMID: "crm-42", Recording: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "initiating" || out.CallID == "" {
		t.Fatalf("PlaceCall = %+v", out)
	}
	// Alice's phone rings showing the number she is calling.
	mine := alice.next()
	if got := mine.req.From().Address.User; got != "+15557654321" {
		t.Errorf("alice's phone shows %q; want the number being called", got)
	}
	mine.answer(t, "127.0.0.1", 0)
	// Then the PBX dials the number through the trunk.
	far := carrier.next()
	far.answer(t, carrierIP, 8)
	expectAudio(t, mine.rtp, far.rtp, ulawFrame(9), transcodeUlawToAlaw(ulawFrame(9)))
	if err := far.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, mine.dlg.Context(), "alice's leg after the far end hung up")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.UniqueID != out.CallID || r.CRMID != "crm-42" || r.Disposition != switchboard.DispositionAnswered || !r.RecordingRequested {
		t.Errorf("record = %+v; want the call id, crm-42, answered, recording requested", r)
	}
	var evs []*switchboard.Event
	for _, ev := range e.callEvents(out.CallID) {
		if ev.Name != switchboard.EventRecordingAvailable && ev.Name != switchboard.EventRecordingFailed { // recording_test.go checks the recording
			evs = append(evs, ev)
		}
	}
	want := []string{switchboard.EventCallOutboundStarted, switchboard.EventCallOutboundAnswered, switchboard.EventCallOutboundEnded}
	if diff := cmp.Diff(want, names(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, ev := range evs {
		if ev.CRMID != "crm-42" {
			t.Errorf("%s carries crm_id %q", ev.Name, ev.CRMID)
		}
	}
}

// Click-to-call to an extension: alice's phone rings first, then bob's, and the two talk;
// no trunk is needed.
func TestClickToCallToAnExtension(t *testing.T) {
	e := newEnv(t)
	alice, bob, ua1, ub := twoPhones(t, e)
	out, err := e.eng.PlaceCall(context.Background(), switchboard.OutboundCallRequest{AccountID: e.account.ID,
		FromUser: ua1, To: "1002", CRMID: "crm-7"})
	if err != nil {
		t.Fatalf("PlaceCall to an extension: %v", err)
	}
	mine := alice.next()
	mine.answer(t, "127.0.0.1", 0)
	far := bob.next()
	far.answer(t, "127.0.0.1", 0)
	expectAudio(t, mine.rtp, far.rtp, ulawFrame(4), ulawFrame(4))
	if err := far.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, mine.dlg.Context(), "alice's leg after bob hung up")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.UniqueID != out.CallID || r.UserID != ua1.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v; want alice's answered call", r)
	}
	for _, ev := range e.callEvents(out.CallID) {
		if ev.Name == switchboard.EventCallOutboundEnded && fmt.Sprint(ev.Data["answered_by_user_id"]) != fmt.Sprint(ub.ID) {
			t.Errorf("ended event answered_by_user_id %v; want bob %d", ev.Data["answered_by_user_id"], ub.ID)
		}
	}
}

// A trunk that requires TLS vouches only for INVITEs that came over TLS: the same carrier
// address over UDP is challenged like anyone else, and no call reaches the number's user.
func TestTLSTrunkDoesNotVouchForUDP(t *testing.T) {
	e := newEnv(t)
	bobUser := e.user("1002")
	e.device(bobUser, "bob", "bob-pw-1")
	bob := newUA(t, "127.0.0.1", "bob")
	bob.register(e, "bob", "bob-pw-1")
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier, func(tr *switchboard.Trunk) { tr.Transport = switchboard.TransportTLS })
	num := &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetUser, ID: bobUser.ID}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		t.Fatal(err)
	}
	if code := carrier.dial(e, "+15550001000", "+15557654321", "").finalCode(t); code != 407 {
		t.Errorf("INVITE over UDP from a TLS trunk's address answered %d; want 407 (not vouched for)", code)
	}
	select {
	case in := <-bob.incoming:
		t.Errorf("bob's phone rang for a call the TLS trunk did not vouch for: %v", in.req.From())
	default:
	}
}
