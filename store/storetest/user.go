package storetest

import (
	"testing"

	"switchboard"
)

func (f *fixture) user(t *testing.T, accountID int64, extension string) *switchboard.User {
	t.Helper()
	u := &switchboard.User{AccountID: accountID, Extension: extension, FirstName: "User", LastName: extension,
		Email: "u" + extension + "@example.com", TimeZone: "America/New_York", RingTimeSeconds: 30}
	mustOK(t, f.db.CreateUser(f.ctx, u))
	return u
}

func testUsers(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "10") // created after "100" but listed before it: users are listed by extension
	got, err := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(f.ua, got); d != "" {
		t.Fatalf("GetUser (-want +got):\n%s", d)
	}
	got, err = f.db.GetUserByExtension(f.ctx, f.a.ID, "10")
	mustOK(t, err)
	if d := diff(u2, got); d != "" {
		t.Fatalf("GetUserByExtension (-want +got):\n%s", d)
	}
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{u2, f.ua}, list); d != "" {
		t.Fatalf("ListUsers (-want +got):\n%s", d)
	}

	upd := *f.ua
	upd.Extension, upd.FirstName, upd.CallerIDName = "101", "Ann", "Sales Ann"
	upd.VoicemailEnabled, upd.ForwardEnabled, upd.ForwardNumber, upd.RingTimeSeconds = true, true, "+15551230000", 45
	mustOK(t, f.db.UpdateUser(f.ctx, &upd))
	got, err = f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateUser (-want +got):\n%s", d)
	}
	if !got.CreatedAt.Equal(f.ua.CreatedAt) {
		t.Fatalf("UpdateUser changed CreatedAt: %v -> %v", f.ua.CreatedAt, got.CreatedAt)
	}
	// Do not disturb and call waiting round-trip both ways (each has a column default the
	// store must not fall back to).
	for _, flags := range [][2]bool{{true, true}, {false, false}, {true, false}} {
		upd.DoNotDisturb, upd.CallWaitingOff = flags[0], flags[1]
		mustOK(t, f.db.UpdateUser(f.ctx, &upd))
		got, err = f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
		mustOK(t, err)
		if d := diff(&upd, got); d != "" {
			t.Fatalf("after UpdateUser with DoNotDisturb=%v CallWaitingOff=%v (-want +got):\n%s", flags[0], flags[1], d)
		}
	}
	dnd := &switchboard.User{AccountID: f.a.ID, Extension: "11", DoNotDisturb: true, CallWaitingOff: true}
	mustOK(t, f.db.CreateUser(f.ctx, dnd))
	got, err = f.db.GetUser(f.ctx, f.a.ID, dnd.ID)
	mustOK(t, err)
	if d := diff(dnd, got); d != "" {
		t.Fatalf("CreateUser with do not disturb and no call waiting (-want +got):\n%s", d)
	}
	mustOK(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, dnd.ID)))
	// The old extension is free again, the new one is taken.
	f.user(t, f.a.ID, "100")
	wantField(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "101"}), switchboard.ECONFLICT, "presence_id")

	_, err = f.db.GetUserByExtension(f.ctx, f.a.ID, "999")
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, u2.ID)), "")
	_, err = f.db.GetUser(f.ctx, f.a.ID, u2.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, u2.ID)), switchboard.ENOTFOUND)
}

func testUserExtensionConflicts(t *testing.T, f *fixture) {
	err := f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "100"})
	wantField(t, err, switchboard.ECONFLICT, "presence_id")
	u2 := f.user(t, f.a.ID, "200")
	upd := *u2
	upd.Extension = "100"
	wantField(t, f.db.UpdateUser(f.ctx, &upd), switchboard.ECONFLICT, "presence_id")
	got, err := f.db.GetUser(f.ctx, f.a.ID, u2.ID)
	mustOK(t, err)
	if got.Extension != "200" {
		t.Fatalf("failed update changed the extension to %q", got.Extension)
	}
	// Account B has its own 100 already (the fixture): extensions are per account.
	if f.ub.Extension != f.ua.Extension {
		t.Fatal("fixture should give both accounts extension 100")
	}
}

func testUserIsolation(t *testing.T, f *fixture) {
	before, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID)
	mustOK(t, err)
	_, err = f.db.GetUser(f.ctx, f.a.ID, f.ub.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *f.ub
	hijack.AccountID, hijack.FirstName = f.a.ID, "Hijacked"
	hijack.Extension = "555"
	wantCode(t, f.db.UpdateUser(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, f.ub.ID)), switchboard.ENOTFOUND)
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{f.ua}, list); d != "" {
		t.Fatalf("ListUsers of A (-want +got):\n%s", d)
	}
	after, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID)
	mustOK(t, err)
	if d := diff(before, after); d != "" {
		t.Fatalf("B's user changed through A (-before +after):\n%s", d)
	}
	// The hijack's extension was not claimed in A either.
	f.user(t, f.a.ID, "555")
}

func testUserInvalid(t *testing.T, f *fixture) {
	bad := &switchboard.User{AccountID: f.a.ID, Extension: "1", Email: "not an email"}
	wantField(t, f.db.CreateUser(f.ctx, bad), switchboard.EBADREQUEST, "presence_id")
	upd := *f.ua
	upd.Extension, upd.TimeZone = "300", "Mars/Olympus"
	wantField(t, f.db.UpdateUser(f.ctx, &upd), switchboard.EBADREQUEST, "time_zone")
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{f.ua}, list); d != "" {
		t.Fatalf("users after rejected writes (-want +got):\n%s", d)
	}
	f.user(t, f.a.ID, "300") // the rejected update did not take it
	wantCode(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: 999999, Extension: "100"}), switchboard.ENOTFOUND)
}

func testDeleteUser(t *testing.T, f *fixture) {
	keep := f.user(t, f.a.ID, "101")
	f.device(t, f.a.ID, f.ua.ID, "gone-phone")
	keptDevice := f.device(t, f.a.ID, keep.ID, "kept-phone")
	_, goneKey := f.apiKey(t, f.a.ID, switchboard.KeyUser, f.ua.ID)
	_, keptKey := f.apiKey(t, f.a.ID, switchboard.KeyUser, keep.ID)
	q := f.queue(t, f.a.ID, "500")
	q.Overflow = switchboard.Target{Type: switchboard.TargetUser, ID: f.ua.ID}
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID}))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: keep.ID, Penalty: 2}))
	g := f.ringGroup(t, f.a.ID, "600", keep.ID, f.ua.ID)
	n := newNumber(f.a.ID, "+15551110001")
	n.OwnerUserID, n.SMSAssignedUserID = f.ua.ID, f.ua.ID
	n.Target = switchboard.Target{Type: switchboard.TargetUser, ID: f.ua.ID}
	f.number(t, n)
	kept := newNumber(f.a.ID, "+15551110002")
	kept.OwnerUserID, kept.Target = keep.ID, switchboard.Target{Type: switchboard.TargetUser, ID: keep.ID}
	f.number(t, kept)

	mustOK(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, f.ua.ID)))

	devices, err := f.db.ListDevices(f.ctx, f.a.ID, 0)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{keptDevice}, devices); d != "" {
		t.Fatalf("devices after DeleteUser (-want +got):\n%s", d)
	}
	keys, err := f.db.ListAPIKeys(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.APIKey{keptKey}, keys); d != "" {
		t.Fatalf("API keys after DeleteUser (-want +got):\n%s", d)
	}
	_, err = f.db.GetAPIKeyByHash(f.ctx, goneKey.Hash)
	wantCode(t, err, switchboard.ENOTFOUND)
	members, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: q.ID, UserID: keep.ID, Penalty: 2}}, members); d != "" {
		t.Fatalf("queue members after DeleteUser (-want +got):\n%s", d)
	}
	gotQ, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if gotQ.Overflow != (switchboard.Target{}) {
		t.Fatalf("queue overflow still leads to the deleted user: %+v", gotQ.Overflow)
	}
	gotG, err := f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff([]switchboard.RingGroupMember{{UserID: keep.ID}}, gotG.Members); d != "" {
		t.Fatalf("ring group members after DeleteUser (-want +got):\n%s", d)
	}
	gotN, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if gotN.OwnerUserID != 0 || gotN.SMSAssignedUserID != 0 || gotN.Target != (switchboard.Target{}) {
		t.Fatalf("number still refers to the deleted user: %+v", gotN)
	}
	gotKept, err := f.db.GetNumber(f.ctx, f.a.ID, kept.ID)
	mustOK(t, err)
	if d := diff(kept, gotKept); d != "" {
		t.Fatalf("another user's number changed (-want +got):\n%s", d)
	}
	f.user(t, f.a.ID, "100") // the extension is free again
	if _, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID); err != nil {
		t.Fatalf("B's user with the same extension: %v", err)
	}
}
