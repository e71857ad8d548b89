package storetest

import (
	"testing"
	"time"

	"switchboard"
)

// testRegistrationChanges covers the registrar's group commit: several users' changes in
// one call are stored together with their events, a refresh rewrites its row in place and
// leaves the user's other bindings alone, a removal deletes only its binding, and one bad
// change in a batch stores nothing of the batch.
func testRegistrationChanges(t *testing.T, f *fixture) {
	phone := f.device(t, f.a.ID, f.ua.ID, "a-phone")
	desk := f.device(t, f.a.ID, f.ua.ID, "a-desk")
	other := f.user(t, f.a.ID, "101")
	otherPhone := f.device(t, f.a.ID, other.ID, "a-other")
	bPhone := f.device(t, f.b.ID, f.ub.ID, "b-phone")
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	reg := func(accountID, userID, deviceID int64, contact string, cseq uint32) switchboard.Registration {
		return switchboard.Registration{AccountID: accountID, UserID: userID, DeviceID: deviceID, Contact: contact,
			Expires: expires, CallID: "call-" + contact, CSeq: cseq, Source: "192.0.2.1:5060", Transport: "UDP"}
	}
	list := func() []switchboard.Registration {
		t.Helper()
		got, err := f.db.ListRegistrations(f.ctx)
		mustOK(t, err)
		return got
	}

	// Two users of two accounts in one call, each with its presence event.
	aOnline := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, map[string]any{"online": true})
	bOnline := switchboard.NewEvent(f.b.ID, switchboard.EventPresenceChanged, map[string]any{"online": true})
	phoneA, deskA := reg(f.a.ID, f.ua.ID, phone.ID, "sip:a@192.0.2.1:5060", 1), reg(f.a.ID, f.ua.ID, desk.ID, "sip:a@192.0.2.2:5060", 1)
	b := reg(f.b.ID, f.ub.ID, bPhone.ID, "sip:b@192.0.2.4", 1)
	mustOK(t, f.db.SaveRegistrationChanges(f.ctx, []switchboard.RegistrationChange{
		{AccountID: f.a.ID, UserID: f.ua.ID, Save: []switchboard.Registration{phoneA, deskA}, Events: []*switchboard.Event{aOnline}},
		{AccountID: f.b.ID, UserID: f.ub.ID, Save: []switchboard.Registration{b}, Events: []*switchboard.Event{bOnline}},
	}))
	if d := diff([]switchboard.Registration{phoneA, deskA, b}, list()); d != "" {
		t.Fatalf("stored registrations (-want +got):\n%s", d)
	}
	if evs := f.events(t, f.a.ID); len(evs) != 1 || evs[0].ID != aOnline.ID {
		t.Fatalf("account a's events: %+v, want its presence event", evs)
	}
	if evs := f.events(t, f.b.ID); len(evs) != 1 || evs[0].ID != bOnline.ID {
		t.Fatalf("account b's events: %+v, want its presence event", evs)
	}

	// A refresh of the phone: its row changes, the desk's stays as it was.
	refreshed := phoneA
	refreshed.Expires, refreshed.CSeq, refreshed.Source = expires.Add(time.Minute), 2, "192.0.2.1:5070"
	mustOK(t, f.db.SaveRegistrationChanges(f.ctx, []switchboard.RegistrationChange{
		{AccountID: f.a.ID, UserID: f.ua.ID, Save: []switchboard.Registration{refreshed}}}))
	if d := diff([]switchboard.Registration{refreshed, deskA, b}, list()); d != "" {
		t.Fatalf("after a refresh (-want +got):\n%s", d)
	}

	// A removal deletes that binding only.
	mustOK(t, f.db.SaveRegistrationChanges(f.ctx, []switchboard.RegistrationChange{
		{AccountID: f.a.ID, UserID: f.ua.ID, Remove: []switchboard.Registration{deskA}}}))
	if d := diff([]switchboard.Registration{refreshed, b}, list()); d != "" {
		t.Fatalf("after a removal (-want +got):\n%s", d)
	}

	// One bad change (a device of another user) refuses the batch: the good change beside
	// it and both events are not stored.
	good := reg(f.a.ID, other.ID, otherPhone.ID, "sip:o@192.0.2.3", 1)
	offline := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, map[string]any{"online": false})
	otherOnline := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, map[string]any{"online": true})
	wantField(t, f.db.SaveRegistrationChanges(f.ctx, []switchboard.RegistrationChange{
		{AccountID: f.a.ID, UserID: other.ID, Save: []switchboard.Registration{good}, Events: []*switchboard.Event{otherOnline}},
		{AccountID: f.a.ID, UserID: f.ua.ID, Save: []switchboard.Registration{reg(f.a.ID, f.ua.ID, bPhone.ID, "sip:x@192.0.2.9", 1)},
			Remove: []switchboard.Registration{refreshed}, Events: []*switchboard.Event{offline}},
	}), switchboard.EBADREQUEST, "device_id")
	wantCode(t, f.db.SaveRegistrationChanges(f.ctx, []switchboard.RegistrationChange{
		{AccountID: f.a.ID, UserID: f.ua.ID, Save: []switchboard.Registration{b}}}), switchboard.EBADREQUEST)
	if d := diff([]switchboard.Registration{refreshed, b}, list()); d != "" {
		t.Fatalf("a refused batch changed the registrations (-want +got):\n%s", d)
	}
	if evs := f.events(t, f.a.ID); len(evs) != 1 {
		t.Fatalf("a refused batch stored its events: %+v", evs)
	}
}
