package pbx_test

import (
	"context"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/blfwatch"
	"switchboard/internal/tstest"
)

// watchLamp has carol's phone (user 1003) subscribe to ext's busy lamp, and checks the
// first NOTIFY shows the user idle.
func watchLamp(t *testing.T, e *env, ext string) (*blfwatch.Watcher, *blfwatch.Subscription) {
	t.Helper()
	w := blfwatch.New(t, "127.0.0.1")
	sub := w.Subscribe(blfwatch.Request{Server: e.sipAddr, Ext: ext, Username: "carol", Password: "carol-pw-1", Expires: 3600})
	if sub.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE %s: %d %s", ext, sub.Res.StatusCode, sub.Res.Reason)
	}
	if n := w.Next(); n.Doc.Version != 0 || n.Doc.Lamp() != "idle" || !strings.HasPrefix(n.Doc.Entity, "sip:"+ext+"@") {
		t.Fatalf("first NOTIFY of %s: version %d, %s, entity %s", ext, n.Doc.Version, n.Doc.Lamp(), n.Doc.Entity)
	}
	return w, sub
}

func lampIs(lamp string) func(blfwatch.Notify) bool {
	return func(n blfwatch.Notify) bool { return n.Doc.Lamp() == lamp }
}

// A colleague's lamps follow a real call: both users ring (the callee as recipient, the
// caller as initiator, each showing the other party), both are busy once the callee
// answers, and both are idle again after the BYE, the ended dialog reported terminated.
func TestBLFLampsFollowACall(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	e.device(e.user("1003"), "carol", "carol-pw-1")
	bobLamp, bobSub := watchLamp(t, e, "1002")
	aliceLamp, _ := watchLamp(t, e, "1001")

	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	ringing := bobLamp.Until("1002 ringing", lampIs("ringing"))
	d := ringing.Doc.Dialogs[0]
	if d.Direction != "recipient" || !strings.HasPrefix(d.Remote.Identity.URI, "sip:1001@") ||
		d.Remote.Identity.Display != "Alice A" || d.CallID != in.req.CallID().Value() {
		t.Errorf("1002 ringing: %+v; want recipient of sip:1001@… \"Alice A\", the Call-ID of bob's INVITE", d)
	}
	outgoing := aliceLamp.Until("1001 ringing out", lampIs("ringing")).Doc.Dialogs[0]
	if outgoing.Direction != "initiator" || !strings.HasPrefix(outgoing.Remote.Identity.URI, "sip:1002@") ||
		outgoing.CallID != c.dlg.InviteRequest.CallID().Value() {
		t.Errorf("1001 calling: %+v; want initiator to sip:1002@…, the Call-ID of alice's INVITE", outgoing)
	}

	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	busy := bobLamp.Until("1002 busy", lampIs("busy"))
	if len(busy.Doc.Dialogs) != 1 || busy.Doc.Dialogs[0].ID != d.ID || busy.Doc.Dialogs[0].State != "confirmed" {
		t.Errorf("1002 on the call: %+v; want dialog %s confirmed", busy.Doc.Dialogs, d.ID)
	}
	aliceLamp.Until("1001 busy", lampIs("busy"))

	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	idle := bobLamp.Until("1002 idle", lampIs("idle"))
	if len(idle.Doc.Dialogs) != 1 || idle.Doc.Dialogs[0].ID != d.ID || idle.Doc.Dialogs[0].State != "terminated" {
		t.Errorf("1002 after the call: %+v; want dialog %s terminated", idle.Doc.Dialogs, d.ID)
	}
	aliceLamp.Until("1001 idle", lampIs("idle"))
	e.waitIdle()

	if res := bobSub.Refresh(0); res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", res.StatusCode)
	}
	if n := bobLamp.Next(); n.SubscriptionState != "terminated;reason=timeout" || n.Doc.Lamp() != "idle" {
		t.Errorf("final NOTIFY: %q, %s", n.SubscriptionState, n.Doc.Lamp())
	}
	if got := e.srv.UserDialogs(e.account.ID, 0); len(got) != 0 {
		t.Errorf("dialogs of no user: %+v", got)
	}
}

// A call nobody answers leaves no lamp lit: the callee's phone rings (early), then the
// caller gives up and both users are idle, with no dialog left in the hub.
func TestBLFLampGoesOutWhenTheCallerGivesUp(t *testing.T) {
	e := newEnv(t)
	alice, bob, ua, ub := twoPhones(t, e)
	e.device(e.user("1003"), "carol", "carol-pw-1")
	bobLamp, _ := watchLamp(t, e, "1002")

	ctx, cancel := context.WithCancel(context.Background())
	c := alice.dialCtx(ctx, e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.ring(t)
	bobLamp.Until("1002 ringing", lampIs("ringing"))
	cancel() // alice hangs up before bob answers: CANCEL
	if code := c.finalCode(t); code != 487 {
		t.Errorf("cancelled call ended %d; want 487", code)
	}
	bobLamp.Until("1002 idle", lampIs("idle"))
	e.waitIdle()
	for _, u := range []*switchboard.User{ua, ub} {
		tstest.WaitFor(t, "the hub to forget the call", func() bool { return len(e.srv.UserDialogs(e.account.ID, u.ID)) == 0 })
	}
}

// A ring group rings its members' phones at once: both members' lamps blink; when one
// answers, that one's lamp is busy and the other's goes out (its cancelled leg reported
// terminated).
func TestBLFRingGroupMembersLightAsTheyAreRung(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, ub := twoPhones(t, e)
	e.device(e.user("1003"), "carol", "carol-pw-1")
	ud := e.user("1004")
	e.device(ud, "dave", "dave-pw-1")
	dave := newUA(t, "127.0.0.1", "dave")
	dave.register(e, "dave", "dave-pw-1")
	rg := &switchboard.RingGroup{AccountID: e.account.ID, Name: "Front Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20,
		Members: []switchboard.RingGroupMember{{UserID: ub.ID}, {UserID: ud.ID}}}
	if err := e.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	bobLamp, _ := watchLamp(t, e, "1002")
	daveLamp, _ := watchLamp(t, e, "1004")

	c := alice.dial(e, "8100", "alice", "alice-pw-1", 0)
	in := bob.next()
	daveIn := dave.next()
	bobLamp.Until("1002 ringing", lampIs("ringing"))
	daveRinging := daveLamp.Until("1004 ringing", lampIs("ringing"))
	if d := daveRinging.Doc.Dialogs[0]; d.Direction != "recipient" || d.CallID != daveIn.req.CallID().Value() {
		t.Errorf("1004 ringing: %+v", d)
	}

	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	bobLamp.Until("1002 busy", lampIs("busy"))
	out := daveLamp.Until("1004 idle", lampIs("idle"))
	if len(out.Doc.Dialogs) != 1 || out.Doc.Dialogs[0].State != "terminated" {
		t.Errorf("1004 after bob answered: %+v; want its dialog terminated", out.Doc.Dialogs)
	}

	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	bobLamp.Until("1002 idle", lampIs("idle"))
	e.waitIdle()
}
