package pbx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/events"
	"switchboard/internal/tstest"
	"switchboard/pbx"
)

// threePhones registers alice (1001), bob (1002) and carol (1003) as sipgo phones.
func threePhones(t *testing.T, e *env) (alice, bob, carol *ua, ua1, ub, uc *switchboard.User) {
	t.Helper()
	alice, bob, ua1, ub = twoPhones(t, e)
	uc = e.user("1003", func(u *switchboard.User) { u.FirstName, u.LastName = "Carol", "C" })
	e.device(uc, "carol", "carol-pw-1")
	carol = newUA(t, "127.0.0.1", "carol")
	carol.register(e, "carol", "carol-pw-1")
	return alice, bob, carol, ua1, ub, uc
}

// referFrom sends a REFER inside bob's dialog of the call (bob answered it: a UAS dialog)
// with the Refer-To given, and returns the status code.
func referIn(t *testing.T, dlg *sipgo.DialogServerSession, referTo string) int {
	t.Helper()
	req := sip.NewRequest(sip.REFER, dlg.InviteRequest.Contact().Address)
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := dlg.Do(ctx, req)
	if err != nil {
		t.Fatalf("REFER: %v", err)
	}
	return res.StatusCode
}

// sipfrags collects the NOTIFY bodies a phone receives until one is final (not 100).
func sipfrags(t *testing.T, u *ua) []string {
	t.Helper()
	var got []string
	for {
		select {
		case b := <-u.notifies:
			got = append(got, strings.TrimSpace(b))
			if !strings.HasPrefix(b, "SIP/2.0 100") {
				return got
			}
		case <-time.After(tstest.DefaultWait):
			t.Fatalf("no final NOTIFY; got %q", got)
		}
	}
}

func eventNamed(evs []*switchboard.Event, name string) *switchboard.Event {
	for _, ev := range evs {
		if ev.Name == name {
			return ev
		}
	}
	return nil
}

// A blind transfer by REFER between sipgo phones: alice calls bob, bob transfers her to
// carol; alice and carol talk, bob is told 100 then 200 and hung up; the record and the
// event name who transferred to whom.
func TestBlindTransferByREFER(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, ub, uc := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1))

	if code := referIn(t, in.dlg, "<sip:1003@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER answered %d; want 202", code)
	}
	cin := carol.next()
	if got := cin.req.From().Address.User; got != "1001" {
		t.Errorf("carol sees the call from %q; want alice's 1001", got)
	}
	cin.answer(t, "127.0.0.1", 0)
	if frags := sipfrags(t, bob); frags[0] != "SIP/2.0 100 Trying" || frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("bob's NOTIFYs = %q; want 100 Trying then 200 OK", frags)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg to be hung up")
	expectAudio(t, c.rtp, cin.rtp, ulawFrame(2), ulawFrame(2))
	expectAudio(t, cin.rtp, c.rtp, ulawFrame(3), ulawFrame(3))

	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "1003" || r.TransferredByUserID != ub.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v; want transferred to 1003 by bob, answered", r)
	}
	ev := eventNamed(e.callEvents(r.UniqueID), switchboard.EventCallTransferred)
	if ev == nil {
		t.Fatalf("no call.transferred among %v", names(e.callEvents(r.UniqueID)))
	}
	if events.String(ev.Data, events.FieldTransferType) != "blind" || events.String(ev.Data, events.FieldTransferTo) != "1003" ||
		dataInt(ev, events.FieldUserID) != ub.ID || dataInt(ev, events.FieldTransferToUserID) != uc.ID {
		t.Errorf("call.transferred data = %v", ev.Data)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// A blind transfer to a phone that is busy gives the call back to the transferor: bob
// hears 486 in the NOTIFY and alice and bob talk on.
func TestBlindTransferToBusyTargetGivesTheCallBack(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, _, _ := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:1003@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER answered %d; want 202", code)
	}
	carol.next().reject(t, 486, "Busy Here")
	if frags := sipfrags(t, bob); frags[len(frags)-1] != "SIP/2.0 486 Busy Here" {
		t.Errorf("bob's NOTIFYs = %q; want a final 486 Busy Here", frags)
	}
	expectAudio(t, c.rtp, in.rtp, ulawFrame(4), ulawFrame(4))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(5), ulawFrame(5))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "" {
		t.Errorf("record = %+v; a failed transfer is not one", r)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// Bad REFERs get their SIP answer and leave the call as it was: alice and bob still talk,
// no dialog, port or goroutine is left behind.
func TestBadREFERsAreRefusedAndDisturbNothing(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	other := &switchboard.Account{Name: "Beta", SIPDomain: "beta.test"}
	if err := e.db.CreateAccount(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	alice, bob, _, _, _, _ := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	ports := e.eng.Ports().InUse()

	for _, tc := range []struct {
		name, referTo string
		want          int
	}{
		{"a target in another account's domain", "<sip:1003@beta.test>", 403},
		{"a target in an unknown domain", "<sip:1003@nowhere.test>", 403},
		{"an unknown extension", "<sip:4999@" + e.sipAddr + ">", 404},
		{"Replaces naming no dialog", "<sip:1003@" + e.sipAddr + "?Replaces=nope%40x%3Bto-tag%3Da%3Bfrom-tag%3Db>", 481},
	} {
		if code := referIn(t, in.dlg, tc.referTo); code != tc.want {
			t.Errorf("REFER to %s answered %d; want %d", tc.name, code, tc.want)
		}
	}

	// A REFER from elsewhere carrying the dialog's identifiers: not a party.
	intruder := newUA(t, "127.0.0.2", "mallory")
	req := sip.NewRequest(sip.REFER, in.dlg.InviteRequest.Contact().Address)
	req.SetDestination(e.sipAddr)
	req.AppendHeader(in.dlg.InviteRequest.CallID())
	from := in.dlg.InviteRequest.To().AsFrom()
	from.Params.Add("tag", tagOf(in.dlg.InviteResponse.To().Params))
	to := in.dlg.InviteRequest.From().AsTo()
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 999, MethodName: sip.REFER})
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:1003@"+e.sipAddr+">"))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	res, err := intruder.cli.Do(ctx, req)
	cancel()
	if err != nil || res.StatusCode != 403 {
		t.Errorf("a REFER from a non-party: %v, %v; want 403", res, err)
	}
	// A REFER naming no dialog at all.
	req = sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1"})
	req.SetDestination(e.sipAddr)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:1003@"+e.sipAddr+">"))
	toh := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1"}, Params: sip.NewParams()}
	toh.Params.Add("tag", "nosuchtag")
	req.AppendHeader(toh)
	ctx, cancel = context.WithTimeout(context.Background(), tstest.DefaultWait)
	res, err = bob.cli.Do(ctx, req)
	cancel()
	if err != nil || res.StatusCode != 481 {
		t.Errorf("a REFER outside any dialog: %v, %v; want 481", res, err)
	}

	select {
	case b := <-bob.notifies:
		t.Errorf("a refused REFER got a NOTIFY %q", b)
	default:
	}
	expectAudio(t, c.rtp, in.rtp, ulawFrame(6), ulawFrame(6))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(7), ulawFrame(7))
	if got := e.eng.Ports().InUse(); got != ports {
		t.Errorf("RTP ports in use = %d; want %d as before the REFERs", got, ports)
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// An attended transfer: alice calls bob, bob calls carol, bob REFERs alice's dialog to
// carol with Replaces naming his dialog with carol. Alice and carol talk on carol's
// existing leg (no new INVITE), bob's two legs end, the consultation call's record ends.
func TestAttendedTransferJoinsBothCalls(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, ub, uc := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	consult := bob.dial(e, "1003", "bob", "bob-pw-1", 0)
	cin := carol.next()
	cin.answer(t, "127.0.0.1", 0)
	consult.answered(t)
	expectAudio(t, consult.rtp, cin.rtp, ulawFrame(1), ulawFrame(1))

	replaces := consult.dlg.InviteRequest.CallID().Value() + ";to-tag=" + tagOf(consult.dlg.InviteResponse.To().Params) +
		";from-tag=" + tagOf(consult.dlg.InviteRequest.From().Params)
	referTo := "<sip:1003@" + e.sipAddr + "?Replaces=" + strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D").Replace(replaces) + ">"
	if code := referIn(t, in.dlg, referTo); code != 202 {
		t.Fatalf("REFER with Replaces answered %d; want 202", code)
	}
	if frags := sipfrags(t, bob); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("bob's NOTIFYs = %q; want a final 200 OK", frags)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg of alice's call to end")
	endedWithin(t, consult.dlg.Context(), "bob's consultation leg to end")
	select {
	case extra := <-carol.incoming:
		t.Fatalf("carol got a new INVITE %v; her leg should have been joined", extra.req.StartLine())
	default:
	}
	expectAudio(t, c.rtp, cin.rtp, ulawFrame(2), ulawFrame(2))
	expectAudio(t, cin.rtp, c.rtp, ulawFrame(3), ulawFrame(3))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, cin.dlg.Context(), "carol's leg to end with alice's BYE")
	e.waitIdle()
	rs, err := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var transferred *switchboard.CallRecord
	for _, r := range rs {
		if r.TransferredTo != "" {
			transferred = r
		}
	}
	if len(rs) != 2 || transferred == nil || transferred.TransferredTo != "1003" || transferred.TransferredByUserID != ub.ID {
		t.Fatalf("records = %d, transferred = %+v; want alice's call transferred to 1003 by bob", len(rs), transferred)
	}
	ev := eventNamed(e.callEvents(transferred.UniqueID), switchboard.EventCallTransferred)
	if ev == nil || events.String(ev.Data, events.FieldTransferType) != "attended" || dataInt(ev, events.FieldTransferToUserID) != uc.ID {
		t.Errorf("call.transferred = %+v", ev)
	}
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// Park and retrieve: bob blind-transfers alice to 700 (the first free slot, 701); alice
// hears hold music, bob hears the slot and is released; carol dials 701 and talks to
// alice. A second park into 701, now taken, is refused 486; an empty slot answers 404.
func TestParkAndRetrieve(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, ub, uc := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:700@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER to 700 answered %d; want 202", code)
	}
	if frags := sipfrags(t, bob); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("bob's NOTIFYs = %q; want a final 200 OK", frags)
	}
	// Before he is released bob hears the slot: 7 as DTMF (852 Hz + 1209 Hz).
	heardSeven := false
	for pkt := in.rtp.recv(tstest.DefaultWait); pkt != nil && !heardSeven; pkt = in.rtp.recv(time.Second) {
		heardSeven = toneLevel(pkt.Payload, 852) > 0.2 && toneLevel(pkt.Payload, 1209) > 0.2
	}
	if !heardSeven {
		t.Error("bob did not hear the slot's first digit 7 before being released")
	}
	endedWithin(t, in.dlg.Context(), "bob's leg to be released")
	if heardTone(t, c.rtp) < 10 {
		t.Error("alice hears no hold music while parked")
	}
	if e.eng.ParkedCalls() != 1 {
		t.Fatalf("parked calls = %d; want 1", e.eng.ParkedCalls())
	}

	// Another call parked into the taken slot: 486, and that call goes on.
	c2, in2 := callBob(t, e, carol, bob)
	if code := referIn(t, in2.dlg, "<sip:701@"+e.sipAddr+">"); code != 486 {
		t.Errorf("REFER to the taken slot answered %d; want 486", code)
	}
	expectAudio(t, c2.rtp, in2.rtp, ulawFrame(8), ulawFrame(8))
	if err := c2.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in2.dlg.Context(), "carol's call with bob to end")

	if code := carol.dial(e, "702", "carol", "carol-pw-1", 0).finalCode(t); code != 404 {
		t.Errorf("dialling an empty slot: %d; want 404", code)
	}
	r := carol.dial(e, "701", "carol", "carol-pw-1", 0)
	r.answered(t)
	expectAudio(t, c.rtp, r.rtp, ulawFrame(9), ulawFrame(9))
	expectAudio(t, r.rtp, c.rtp, ulawFrame(10), ulawFrame(10))
	if e.eng.ParkedCalls() != 0 {
		t.Errorf("parked calls = %d after the retrieval; want 0", e.eng.ParkedCalls())
	}
	if err := r.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's call to end with carol's BYE")
	e.waitIdle()
	var parked *switchboard.CallRecord
	rs, _ := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
	for _, rec := range rs {
		if rec.TransferredTo == "701" {
			parked = rec
		}
	}
	if parked == nil || parked.TransferredByUserID != ub.ID {
		t.Fatalf("no record of the parked call: %+v", rs)
	}
	evs := e.callEvents(parked.UniqueID)
	pe, re := eventNamed(evs, switchboard.EventCallParked), eventNamed(evs, switchboard.EventCallRetrieved)
	if pe == nil || re == nil || events.String(pe.Data, events.FieldParkSlot) != "701" ||
		dataInt(re, events.FieldUserID) != uc.ID || dataBool(re, events.FieldReturned) {
		t.Errorf("park events = %v", names(evs))
	}
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// A parked call nobody takes rings the parker back once the park timeout passes on the
// engine's clock; the parker answering takes it (call.retrieved, returned).
func TestParkTimeoutRingsTheParkerBack(t *testing.T) {
	tstest.CheckGoroutines(t)
	clk := tstest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *pbx.Config) {
		c.Now = clk.Now
		c.SweepInterval = time.Hour
		c.QueuePoll = 10 * time.Millisecond
		c.ParkTimeout = 45 * time.Second
	})
	alice, bob, _, _, ub, _ := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:705@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER to 705 answered %d; want 202", code)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg to be released")
	tstest.Never(t, 100*time.Millisecond, "bob rung back before the timeout", func() bool { return len(bob.incoming) > 0 })
	clk.Advance(46 * time.Second)
	back := bob.next()
	back.answer(t, "127.0.0.1", 0)
	expectAudio(t, c.rtp, back.rtp, ulawFrame(11), ulawFrame(11))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	re := eventNamed(e.callEvents(r.UniqueID), switchboard.EventCallRetrieved)
	if re == nil || !dataBool(re, events.FieldReturned) || dataInt(re, events.FieldUserID) != ub.ID {
		t.Errorf("call.retrieved = %+v; want returned to bob", re)
	}
	e.waitIdle()
	if e.eng.ParkedCalls() != 0 {
		t.Errorf("parked calls = %d; want 0", e.eng.ParkedCalls())
	}
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// The API's transfer and hangup, on the engine: an unknown call is ENOTFOUND, an unknown
// target ENOTFOUND, a ringing call ECONFLICT; a transfer of bob's call puts alice through
// to carol; a hangup ends the call.
func TestTransferAndHangupCallAPI(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, _, _ := threePhones(t, e)
	ctx := context.Background()
	if err := e.eng.TransferCall(ctx, e.account.ID, "1.2", "1003"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("transferring an unknown call: %v; want NOT_FOUND", err)
	}
	if err := e.eng.HangupCall(ctx, e.account.ID, "1.2"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("hanging up an unknown call: %v; want NOT_FOUND", err)
	}
	ringing := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	rin := bob.next()
	rin.ring(t)
	id := liveCallID(t, e)
	if err := e.eng.TransferCall(ctx, e.account.ID, id, "1003"); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
		t.Errorf("transferring a ringing call: %v; want CONFLICT", err)
	}
	if err := e.eng.TransferCall(ctx, e.account.ID+1, id, "1003"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("transferring another account's call: %v; want NOT_FOUND", err)
	}
	rin.answer(t, "127.0.0.1", 0)
	ringing.answered(t)
	if err := e.eng.TransferCall(ctx, e.account.ID, id, "4999"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("transferring to an unknown extension: %v; want NOT_FOUND", err)
	}
	// Alice's outbound call is hers: the API transfer hands over the user the record names,
	// so alice leaves and bob is put through to carol.
	if err := e.eng.TransferCall(ctx, e.account.ID, id, "1003"); err != nil {
		t.Fatal(err)
	}
	cin := carol.next()
	cin.answer(t, "127.0.0.1", 0)
	endedWithin(t, ringing.dlg.Context(), "alice's leg to be hung up")
	expectAudio(t, rin.rtp, cin.rtp, ulawFrame(12), ulawFrame(12))
	if err := e.eng.HangupCall(ctx, e.account.ID, id); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, cin.dlg.Context(), "carol's leg to end")
	endedWithin(t, rin.dlg.Context(), "bob's leg to end")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "1003" || r.TransferredByUserID != 0 {
		t.Errorf("record = %+v; want transferred to 1003 through the API", r)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// liveCallID is the uniqueid of the one call in progress.
func liveCallID(t *testing.T, e *env) string {
	t.Helper()
	var id string
	tstest.WaitFor(t, "a call record to open", func() bool {
		rs, err := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.EndedAt.IsZero() {
				id = r.UniqueID
				return true
			}
		}
		return false
	})
	return id
}

func dataInt(ev *switchboard.Event, key string) int64 {
	n, _ := events.Int(ev.Data, key)
	return n
}

func dataBool(ev *switchboard.Event, key string) bool {
	b, _ := events.Bool(ev.Data, key)
	return b
}

func tagOf(p sip.HeaderParams) string {
	v, _ := p.Get("tag")
	return v
}

// A blind transfer to a ring group's extension: bob is released at once (200 OK) and alice
// walks the group as a caller dialling it would; carol, its member, answers and talks to
// her. The call's record credits the transfer and ends once.
func TestBlindTransferToRingGroup(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, ub, uc := threePhones(t, e)
	rg := &switchboard.RingGroup{AccountID: e.account.ID, Name: "Front Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20, Members: []switchboard.RingGroupMember{{UserID: uc.ID}}}
	if err := e.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:8100@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER to the ring group answered %d; want 202", code)
	}
	if frags := sipfrags(t, bob); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("bob's NOTIFYs = %q; want a final 200 OK", frags)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg to be released")
	cin := carol.next()
	cin.answer(t, "127.0.0.1", 0)
	expectAudio(t, c.rtp, cin.rtp, ulawFrame(13), ulawFrame(13))
	expectAudio(t, cin.rtp, c.rtp, ulawFrame(14), ulawFrame(14))
	if err := cin.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg to end with carol's BYE")
	e.waitIdle()
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "8100" || r.TransferredByUserID != ub.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("record = %+v", r)
	}
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// The attended transfer with the consultation call placed by the other party: carol calls
// bob (carol's leg is the engine's UAS leg of that call), bob REFERs alice's call with
// Replaces naming his dialog with carol as he sees it (his own tag as to-tag). Alice and
// carol talk on carol's existing leg.
func TestAttendedTransferToACallerJoinsHerLeg(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, ub, _ := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	cc := carol.dial(e, "1002", "carol", "carol-pw-1", 0)
	bin := bob.next()
	bin.answer(t, "127.0.0.1", 0)
	cc.answered(t)
	expectAudio(t, cc.rtp, bin.rtp, ulawFrame(1), ulawFrame(1))
	select { // bob's answer is written (and ACKed) before the test reads it
	case <-bin.final:
	case <-time.After(tstest.DefaultWait):
		t.Fatal("bob's answer was never acknowledged")
	}

	replaces := bin.dlg.InviteRequest.CallID().Value() + ";to-tag=" + tagOf(bin.dlg.InviteResponse.To().Params) +
		";from-tag=" + tagOf(bin.dlg.InviteRequest.From().Params)
	referTo := "<sip:1003@" + e.sipAddr + "?Replaces=" + strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D").Replace(replaces) + ">"
	if code := referIn(t, in.dlg, referTo); code != 202 {
		t.Fatalf("REFER with Replaces answered %d; want 202", code)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg of alice's call to end")
	endedWithin(t, bin.dlg.Context(), "bob's leg of carol's call to end")
	expectAudio(t, c.rtp, cc.rtp, ulawFrame(2), ulawFrame(2))
	expectAudio(t, cc.rtp, c.rtp, ulawFrame(3), ulawFrame(3))
	if err := cc.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg to end with carol's BYE")
	e.waitIdle()
	rs, _ := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
	n := 0
	for _, r := range rs {
		if r.TransferredTo == "1003" && r.TransferredByUserID == ub.ID {
			n++
		}
	}
	if len(rs) != 2 || n != 1 {
		t.Errorf("records = %+v; want two, alice's transferred to 1003 by bob", rs)
	}
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// A blind transfer to a phone number goes out through the account's trunk (with its
// digest) and the caller talks to the far end.
func TestBlindTransferToANumberThroughTheTrunk(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:+15557654321@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER to a number answered %d; want 202", code)
	}
	out := carrier.next()
	if out.req.Recipient.User != "+15557654321" {
		t.Errorf("carrier asked for %q", out.req.Recipient.User)
	}
	out.answer(t, carrierIP, 0)
	endedWithin(t, in.dlg.Context(), "bob's leg to be released")
	expectAudio(t, c.rtp, out.rtp, ulawFrame(15), ulawFrame(15))
	expectAudio(t, out.rtp, c.rtp, ulawFrame(16), ulawFrame(16))
	if err := out.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, c.dlg.Context(), "alice's leg after the far end hung up")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "+15557654321" {
		t.Errorf("record = %+v", r)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}

// Phones hold before they transfer: bob holds alice (she hears music on hold), then
// transfers her to carol. Once carol answers, the music stops and alice hears carol.
func TestBlindTransferAfterHoldStopsTheMusic(t *testing.T) {
	tstest.CheckGoroutines(t)
	e := newEnv(t)
	alice, bob, carol, _, _, _ := threePhones(t, e)
	c, in := callBob(t, e, alice, bob)
	reinviteIn(t, in.dlg, in.req.Contact().Address, in.rtp, "sendonly", "")
	hears(t, c.rtp, 523.25, 1000)
	if code := referIn(t, in.dlg, "<sip:1003@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER answered %d; want 202", code)
	}
	cin := carol.next()
	cin.answer(t, "127.0.0.1", 0)
	endedWithin(t, in.dlg.Context(), "bob's leg to be hung up")
	expectAudio(t, cin.rtp, c.rtp, ulawFrame(17), ulawFrame(17))
	expectAudio(t, c.rtp, cin.rtp, ulawFrame(18), ulawFrame(18))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port and dialog back", func() bool { return e.eng.Ports().InUse() == 0 && e.eng.OpenDialogs() == 0 })
}
