package storetest

import (
	"testing"

	"switchboard"
)

func newDevice(accountID, userID int64, username string) *switchboard.Device {
	d := &switchboard.Device{AccountID: accountID, UserID: userID, Name: "Desk " + username, SIPUsername: username}
	d.SetSIPPassword("secret-" + username)
	return d
}

func (f *fixture) device(t *testing.T, accountID, userID int64, username string) *switchboard.Device {
	t.Helper()
	d := newDevice(accountID, userID, username)
	mustOK(t, f.db.CreateDevice(f.ctx, d))
	return d
}

func testDevices(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	d1 := f.device(t, f.a.ID, f.ua.ID, "alice-desk")
	d2 := f.device(t, f.a.ID, u2.ID, "bob-desk")
	d3 := f.device(t, f.a.ID, f.ua.ID, "alice-soft")
	if d1.ID == 0 || d1.CreatedAt.IsZero() {
		t.Fatalf("created device: %+v", d1)
	}
	got, err := f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	mustOK(t, err)
	if d := diff(d1, got); d != "" {
		t.Fatalf("GetDevice (-want +got):\n%s", d)
	}
	got, err = f.db.GetDeviceBySIPUsername(f.ctx, "bob-desk")
	mustOK(t, err)
	if d := diff(d2, got); d != "" {
		t.Fatalf("GetDeviceBySIPUsername (-want +got):\n%s", d)
	}
	_, err = f.db.GetDeviceBySIPUsername(f.ctx, "nobody")
	wantCode(t, err, switchboard.ENOTFOUND)
	all, err := f.db.ListDevices(f.ctx, f.a.ID, 0)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{d1, d2, d3}, all); d != "" {
		t.Fatalf("ListDevices all (-want +got):\n%s", d)
	}
	mine, err := f.db.ListDevices(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{d1, d3}, mine); d != "" {
		t.Fatalf("ListDevices of a user (-want +got):\n%s", d)
	}

	if some, err := f.db.HasSHA256Devices(f.ctx); err != nil || some {
		t.Fatalf("HasSHA256Devices before any = %v, %v", some, err)
	}
	upd := *d1
	upd.UserID, upd.Name, upd.SIPUsername, upd.RequireSecure = u2.ID, "Moved", "bob-second", true
	upd.DigestAlgorithm = switchboard.DigestSHA256
	upd.SetSIPPassword("new password")
	mustOK(t, f.db.UpdateDevice(f.ctx, &upd))
	got, err = f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateDevice (-want +got):\n%s", d)
	}
	if some, err := f.db.HasSHA256Devices(f.ctx); err != nil || !some {
		t.Fatalf("HasSHA256Devices with one = %v, %v", some, err)
	}
	// The registrar's lookups see the same device, its security and digest policies included.
	byName, err := f.db.GetDeviceBySIPUsername(f.ctx, "bob-second")
	mustOK(t, err)
	if d := diff(&upd, byName); d != "" {
		t.Fatalf("GetDeviceBySIPUsername after UpdateDevice (-want +got):\n%s", d)
	}
	byName, err = f.db.GetAccountDeviceBySIPUsername(f.ctx, f.a.ID, "bob-second")
	mustOK(t, err)
	if d := diff(&upd, byName); d != "" {
		t.Fatalf("GetAccountDeviceBySIPUsername after UpdateDevice (-want +got):\n%s", d)
	}

	mustOK(t, f.db.DeleteDevice(f.ctx, f.a.ID, d1.ID))
	_, err = f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteDevice(f.ctx, f.a.ID, d1.ID), switchboard.ENOTFOUND)
	f.device(t, f.a.ID, f.ua.ID, "alice-desk") // a deleted device's username is free again
}

func testDeviceConflicts(t *testing.T, f *fixture) {
	da := f.device(t, f.a.ID, f.ua.ID, "shared-name")
	db := f.device(t, f.b.ID, f.ub.ID, "b-phone")
	// SIP usernames are global: B cannot take A's.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.b.ID, f.ub.ID, "shared-name")), switchboard.ECONFLICT, "sip_username")
	upd := *db
	upd.SIPUsername = "shared-name"
	wantField(t, f.db.UpdateDevice(f.ctx, &upd), switchboard.ECONFLICT, "sip_username")
	// A device of A cannot belong to B's user.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.a.ID, f.ub.ID, "cross-phone")), switchboard.EBADREQUEST, "user_id")
	move := *da
	move.UserID = f.ub.ID
	wantField(t, f.db.UpdateDevice(f.ctx, &move), switchboard.EBADREQUEST, "user_id")
	// B's device through A is not found and stays as it was.
	_, err := f.db.GetDevice(f.ctx, f.a.ID, db.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *db
	hijack.AccountID, hijack.UserID, hijack.Name = f.a.ID, f.ua.ID, "Hijacked"
	wantCode(t, f.db.UpdateDevice(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteDevice(f.ctx, f.a.ID, db.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetDevice(f.ctx, f.b.ID, db.ID)
	mustOK(t, err)
	if d := diff(db, got); d != "" {
		t.Fatalf("B's device changed through A (-want +got):\n%s", d)
	}
	listA, err := f.db.ListDevices(f.ctx, f.a.ID, f.ub.ID)
	mustOK(t, err)
	if len(listA) != 0 {
		t.Fatalf("ListDevices of A for B's user = %+v, want none", listA)
	}
	wantCode(t, f.db.CreateDevice(f.ctx, &switchboard.Device{AccountID: f.a.ID, UserID: f.ua.ID, SIPUsername: "x"}),
		switchboard.EBADREQUEST)
}
