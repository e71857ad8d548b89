package pbx_test

import (
	"context"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/pbx"
)

// limitEvents returns the account's stored limit.tripped events.
func (e *env) limitEvents() []*switchboard.Event {
	e.t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == switchboard.EventLimitTripped {
			out = append(out, ev)
		}
	}
	return out
}

// callOut has the phone dial number through the carrier, which answers; it returns both
// ends of the established call.
func callOut(t *testing.T, e *env, phone *ua, user, password string, carrier *carrier, number string) (*call, *inbound) {
	t.Helper()
	c := phone.dial(e, number, user, password)
	in := carrier.next()
	if in.req.Recipient.User != number {
		t.Errorf("carrier asked for %q; want %s", in.req.Recipient.User, number)
	}
	in.answer(t, carrierIP, 0)
	c.answered(t)
	return c, in
}

func (e *env) setAccount(change func(a *switchboard.Account)) {
	e.t.Helper()
	if _, err := e.db.UpdateAccountFunc(context.Background(), e.account.ID, func(a *switchboard.Account) error {
		change(a)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// The account allows 2 concurrent outbound calls: two phone calls through the trunk are
// up, the third is refused 403 before the carrier sees it, and limit.tripped is
// stored. Once one call ends, the next goes out again.
func TestAccountOutboundCallLimit(t *testing.T) {
	e := newEnv(t)
	alice, _, ua1, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	e.setAccount(func(a *switchboard.Account) { a.MaxOutboundCalls = 2 })

	var calls []*call
	var far []*inbound
	for range 2 {
		c, in := callOut(t, e, alice, "alice", "alice-pw-1", carrier, "+15557654321")
		calls, far = append(calls, c), append(far, in)
	}
	third := alice.dial(e, "+15557654322", "alice", "alice-pw-1")
	if code := third.finalCode(t); code != 403 {
		t.Fatalf("third concurrent outbound call answered %d; want 403", code)
	}
	evs := e.limitEvents()
	if len(evs) != 1 {
		t.Fatalf("%d limit.tripped events; want 1", len(evs))
	}
	d := evs[0].Data
	if d["limit"] != "account_concurrent_calls" || d["to"] != "+15557654322" || d["max"] != float64(2) ||
		d["user_id"] != float64(ua1.ID) || d["extension"] != "1001" {
		t.Errorf("event data = %v", d)
	}

	// One call ends: a slot is free again.
	if err := far[0].dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, calls[0].dlg.Context(), "alice's first call")
	tstest.WaitFor(t, "the ended call's slot to be given back", func() bool { return e.eng.OutboundCalls(e.account.ID) == 1 })
	callOut(t, e, alice, "alice", "alice-pw-1", carrier, "+15557654323")
}

// A user's own limit applies to them only: alice (limit 1) is refused her second call
// while bob's goes out.
func TestUserOutboundCallLimit(t *testing.T) {
	e := newEnv(t)
	alice, bob, ua1, _ := twoPhones(t, e)
	if _, err := e.db.UpdateUserFunc(context.Background(), e.account.ID, ua1.ID, func(u *switchboard.User) error {
		u.MaxOutboundCalls = 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)

	callOut(t, e, alice, "alice", "alice-pw-1", carrier, "+15557654321")
	second := alice.dial(e, "+15557654322", "alice", "alice-pw-1")
	if code := second.finalCode(t); code != 403 {
		t.Fatalf("alice's second outbound call answered %d; want 403", code)
	}
	if evs := e.limitEvents(); len(evs) != 1 || evs[0].Data["limit"] != "user_concurrent_calls" {
		t.Errorf("events = %v; want one user_concurrent_calls", evs)
	}
	callOut(t, e, bob, "bob", "bob-pw-1", carrier, "+15557654329")
}

// An account created today calls its own country only: a UK number is refused 403 with an
// event, until the account allows +44.
func TestInternationalCallsOffForNewAccounts(t *testing.T) {
	e := newEnv(t)
	alice, _, _, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)

	c := alice.dial(e, "+442071234567", "alice", "alice-pw-1")
	if code := c.finalCode(t); code != 403 {
		t.Fatalf("a call to +44 from a new account answered %d; want 403", code)
	}
	evs := e.limitEvents()
	if len(evs) != 1 || evs[0].Data["limit"] != "destination_country" || evs[0].Data["country_code"] != "44" {
		t.Fatalf("events = %v; want one destination_country for 44", evs)
	}
	// Domestic calls go out.
	home := alice.dial(e, "+15557654321", "alice", "alice-pw-1")
	in := carrier.next()
	in.reject(t, 486, "Busy Here")
	home.finalCode(t)

	e.setAccount(func(a *switchboard.Account) { a.AllowedCountries = []string{"44"} })
	callOut(t, e, alice, "alice", "alice-pw-1", carrier, "+442071234567")
}

// Click-to-call is guarded the same way: over the limit it is refused before any phone
// rings, with the event.
func TestClickToCallOutboundLimit(t *testing.T) {
	e := newEnv(t)
	alice, _, ua1, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	e.setAccount(func(a *switchboard.Account) { a.MaxOutboundCalls = 1 })

	callOut(t, e, alice, "alice", "alice-pw-1", carrier, "+15557654321")

	_, err := e.eng.PlaceCall(context.Background(), switchboard.OutboundCallRequest{AccountID: e.account.ID,
		FromUser: ua1, To: "+15557654399"})
	if switchboard.ErrorCode(err) != switchboard.EAUTHINVALID {
		t.Fatalf("PlaceCall over the limit: %v; want AUTH_INVALID (403)", err)
	}
	if evs := e.limitEvents(); len(evs) != 1 || evs[0].Data["to"] != "+15557654399" {
		t.Errorf("events = %v; want one for +15557654399", evs)
	}
}

// The account may use 10 outbound minutes in any hour: after a 6-minute call and 5 minutes
// of a second, a third call is refused with the event; an hour later calls go out again.
func TestOutboundMinutesPerHour(t *testing.T) {
	clock := tstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *pbx.Config) { c.Now = clock.Now })
	alice, _, _, _ := twoPhones(t, e)
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	e.setAccount(func(a *switchboard.Account) { a.MaxOutMinutes = 10 })

	talk := func(number string) (*call, *inbound) {
		return callOut(t, e, alice, "alice", "alice-pw-1", carrier, number)
	}
	hangUp := func(c *call, in *inbound) {
		if err := in.dlg.Bye(context.Background()); err != nil {
			t.Fatal(err)
		}
		endedWithin(t, c.dlg.Context(), "alice's call")
		tstest.WaitFor(t, "the call's slot to be given back", func() bool { return e.eng.OutboundCalls(e.account.ID) == 0 })
	}
	c1, in1 := talk("+15557654321")
	clock.Advance(6 * time.Minute)
	hangUp(c1, in1)
	c2, in2 := talk("+15557654322")
	clock.Advance(5 * time.Minute) // 11 minutes in the last hour, with this call still up

	refused := alice.dial(e, "+15557654323", "alice", "alice-pw-1")
	if code := refused.finalCode(t); code != 403 {
		t.Fatalf("a call after 11 of 10 minutes answered %d; want 403", code)
	}
	if evs := e.limitEvents(); len(evs) != 1 || evs[0].Data["limit"] != "account_minutes_per_hour" || evs[0].Data["max"] != float64(10) {
		t.Fatalf("events = %v; want one account_minutes_per_hour", evs)
	}
	hangUp(c2, in2)
	clock.Advance(time.Hour)
	c4, in4 := talk("+15557654324")
	hangUp(c4, in4)
}
