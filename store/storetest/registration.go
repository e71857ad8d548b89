package storetest

import (
	"testing"
	"time"

	"switchboard"
)

// testRegistrations covers the registrar's bindings: a replace stores them with their
// event, a refused replace changes nothing, users and accounts are apart, and a deleted
// device takes its bindings with it.
func testRegistrations(t *testing.T, f *fixture) {
	phone := f.device(t, f.a.ID, f.ua.ID, "a-phone")
	desk := f.device(t, f.a.ID, f.ua.ID, "a-desk")
	other := f.user(t, f.a.ID, "101")
	otherPhone := f.device(t, f.a.ID, other.ID, "a-other")
	bPhone := f.device(t, f.b.ID, f.ub.ID, "b-phone")
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	reg := func(accountID, userID, deviceID int64, contact string) switchboard.Registration {
		return switchboard.Registration{AccountID: accountID, UserID: userID, DeviceID: deviceID, Contact: contact,
			Expires: expires, CallID: "call-" + contact, CSeq: 4294967295, Source: "192.0.2.1:5060", Transport: "UDP"}
	}
	mine := []switchboard.Registration{
		reg(f.a.ID, f.ua.ID, phone.ID, "sip:a@192.0.2.1:5060"),
		reg(f.a.ID, f.ua.ID, phone.ID, "sip:a@192.0.2.1:5062"),
		reg(f.a.ID, f.ua.ID, desk.ID, "sip:a@192.0.2.2:5060"),
	}
	online := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, map[string]any{"online": true})
	mustOK(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, f.ua.ID, mine, online))
	mustOK(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, other.ID, []switchboard.Registration{reg(f.a.ID, other.ID, otherPhone.ID, "sip:o@192.0.2.3")}))
	mustOK(t, f.db.ReplaceUserRegistrations(f.ctx, f.b.ID, f.ub.ID, []switchboard.Registration{reg(f.b.ID, f.ub.ID, bPhone.ID, "sip:b@192.0.2.4")}))
	got, err := f.db.ListRegistrations(f.ctx)
	mustOK(t, err)
	want := append(append([]switchboard.Registration{}, mine...), reg(f.a.ID, other.ID, otherPhone.ID, "sip:o@192.0.2.3"),
		reg(f.b.ID, f.ub.ID, bPhone.ID, "sip:b@192.0.2.4"))
	if d := diff(want, got); d != "" {
		t.Fatalf("stored registrations (-want +got):\n%s", d)
	}
	if evs := f.events(t, f.a.ID); len(evs) != 1 || evs[0].ID != online.ID {
		t.Fatalf("events after the replace: %+v, want the presence event stored with it", evs)
	}

	// Refused: a device of another user, of another account, or a binding of another user.
	offline := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, map[string]any{"online": false})
	wantField(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, f.ua.ID,
		[]switchboard.Registration{reg(f.a.ID, f.ua.ID, otherPhone.ID, "sip:x@192.0.2.9")}, offline), switchboard.EBADREQUEST, "device_id")
	wantField(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, f.ua.ID,
		[]switchboard.Registration{reg(f.a.ID, f.ua.ID, bPhone.ID, "sip:x@192.0.2.9")}, offline), switchboard.EBADREQUEST, "device_id")
	wantCode(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, f.ua.ID,
		[]switchboard.Registration{reg(f.b.ID, f.ub.ID, bPhone.ID, "sip:x@192.0.2.9")}, offline), switchboard.EBADREQUEST)
	wantCode(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, f.ua.ID,
		[]switchboard.Registration{mine[0], mine[0]}, offline), switchboard.ECONFLICT)
	after, err := f.db.ListRegistrations(f.ctx)
	mustOK(t, err)
	if d := diff(want, after); d != "" {
		t.Fatalf("a refused replace changed the registrations (-want +got):\n%s", d)
	}
	if evs := f.events(t, f.a.ID); len(evs) != 1 {
		t.Fatalf("a refused replace stored its event: %+v", evs)
	}

	// Deleting a device drops its bindings; replacing with none clears the user's.
	mustOK(t, f.db.DeleteDevice(f.ctx, f.a.ID, desk.ID))
	mustOK(t, f.db.ReplaceUserRegistrations(f.ctx, f.a.ID, other.ID, nil, offline))
	after, err = f.db.ListRegistrations(f.ctx)
	mustOK(t, err)
	want = []switchboard.Registration{mine[0], mine[1], reg(f.b.ID, f.ub.ID, bPhone.ID, "sip:b@192.0.2.4")}
	if d := diff(want, after); d != "" {
		t.Fatalf("after deleting a device and clearing a user (-want +got):\n%s", d)
	}
}
