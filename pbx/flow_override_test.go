package pbx_test

import (
	"context"
	"strconv"
	"testing"

	"switchboard"
	"switchboard/provision"
)

// *60 by the number's owner closes the flow's hours (callers hear the closed announcement
// in open hours), *60 again reopens them; a user who owns no number of the flow is
// refused (403) and changes nothing.
func TestFlowOverrideFeatureCode(t *testing.T) {
	fe := newFlowEnv(t)
	fe.eng.SetCallFlowService(provision.New(provision.Config{Store: fe.db, Engine: fe.eng}))
	f := fe.mainFlow(nil)
	fe.carrier = fe.fromTrunk(switchboard.Target{Type: switchboard.TargetCallFlow, ID: f.ID})
	ctx := context.Background()
	num, err := fe.db.GetNumberByE164(ctx, "+15559876543")
	if err != nil {
		t.Fatal(err)
	}
	manager := fe.user("1005", func(u *switchboard.User) { u.FirstName, u.LastName = "Mary", "Manager" })
	fe.device(manager, "mary", "mary-pw-1")
	mary := newUA(t, "127.0.0.1", "mary")
	mary.register(fe.env, "mary", "mary-pw-1")
	clerk := fe.user("1006")
	fe.device(clerk, "carl", "carl-pw-1")
	carl := newUA(t, "127.0.0.1", "carl")
	carl.register(fe.env, "carl", "carl-pw-1")
	owner := manager.ID
	if _, err := provision.New(provision.Config{Store: fe.db}).UpdateNumber(ctx, fe.account.ID, num.ID,
		switchboard.NumberChange{OwnerUserID: &owner}); err != nil {
		t.Fatal(err)
	}
	override := func() string {
		t.Helper()
		got, err := fe.db.GetCallFlow(ctx, fe.account.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Nodes["hours"].Override
	}

	if code := carl.dial(fe.env, "*60"+strconv.FormatInt(f.ID, 10), "carl", "carl-pw-1").finalCode(t); code != 403 {
		t.Fatalf("*60<id> by a user who owns no number of the flow answered %d; want 403", code)
	}
	if o := override(); o != "" {
		t.Fatalf("override after the refused *60 = %q", o)
	}

	c := mary.dial(fe.env, "*60", "mary", "mary-pw-1")
	c.answered(t)
	c.byeWithin(t, "the manager after the confirmation")
	if o := override(); o != switchboard.OverrideClosed {
		t.Fatalf("override after *60 = %q; want closed", o)
	}
	call := fe.callNumber(f)
	call.answered(t)
	if !hearsPrompt(t, call.rtp, promptFreq[promptClosed]) {
		t.Fatal("in open hours with the override closed, the caller did not hear the closed announcement")
	}
	call.byeWithin(t, "the caller after the announcement")
	fe.waitIdle()

	c = mary.dial(fe.env, "*60"+strconv.FormatInt(f.ID, 10), "mary", "mary-pw-1")
	c.answered(t)
	c.byeWithin(t, "the manager after the second confirmation")
	if o := override(); o != "" {
		t.Fatalf("override after the second *60 = %q; want cleared", o)
	}
}
