package storetest

import (
	"testing"

	"switchboard"
)

// Conference rooms round-trip; a room number is an extension like any other (a user's
// or queue's extension is refused to a room and the other way round, a renumbered room
// frees its old number, a deleted one its number), per account only; one account never
// reads, changes or deletes another's rooms.
func testConferenceRooms(t *testing.T, f *fixture) {
	r := &switchboard.ConferenceRoom{AccountID: f.a.ID, Name: "Board room", Extension: "800",
		PINHash: switchboard.HashConferencePIN("4321"), MaxParticipants: 10, MuteOnJoin: true, AnnounceJoinLeave: true}
	mustOK(t, f.db.CreateConferenceRoom(f.ctx, r))
	if r.ID == 0 || r.CreatedAt.IsZero() {
		t.Fatalf("created %+v", r)
	}
	got, err := f.db.GetConferenceRoom(f.ctx, f.a.ID, r.ID)
	mustOK(t, err)
	if d := diff(r, got); d != "" {
		t.Fatalf("GetConferenceRoom (-want +got):\n%s", d)
	}
	if !got.CheckPIN("4321") || got.CheckPIN("4322") {
		t.Fatal("the stored PIN hash does not check the PIN")
	}
	byExt, err := f.db.GetConferenceRoomByExtension(f.ctx, f.a.ID, "800")
	mustOK(t, err)
	if d := diff(r, byExt); d != "" {
		t.Fatalf("GetConferenceRoomByExtension (-want +got):\n%s", d)
	}

	// What an extension reaches, in the account's one extension space; another account's
	// extensions reach nothing.
	q := f.queue(t, f.a.ID, "500")
	g := f.ringGroup(t, f.a.ID, "600")
	u := f.user(t, f.a.ID, "101")
	for ext, want := range map[string]switchboard.Target{
		"800": {Type: switchboard.TargetConference, ID: r.ID}, "500": {Type: switchboard.TargetQueue, ID: q.ID},
		"600": {Type: switchboard.TargetRingGroup, ID: g.ID}, "101": {Type: switchboard.TargetUser, ID: u.ID}, "999": {},
	} {
		got, err := f.db.ExtensionTarget(f.ctx, f.a.ID, ext)
		mustOK(t, err)
		if got != want {
			t.Errorf("ExtensionTarget(%s) = %+v; want %+v", ext, got, want)
		}
		if other, err := f.db.ExtensionTarget(f.ctx, f.b.ID, ext); err != nil || other.Type != switchboard.TargetNone {
			t.Errorf("another account's ExtensionTarget(%s) = %+v, %v; want nothing", ext, other, err)
		}
	}

	// One extension space: users, queues and rooms.
	wantCode(t, f.db.CreateConferenceRoom(f.ctx, &switchboard.ConferenceRoom{AccountID: f.a.ID, Name: "x", Extension: "100",
		MaxParticipants: 5}), switchboard.ECONFLICT) // user 100's
	wantCode(t, f.db.CreateConferenceRoom(f.ctx, &switchboard.ConferenceRoom{AccountID: f.a.ID, Name: "x", Extension: "800",
		MaxParticipants: 5}), switchboard.ECONFLICT)
	wantCode(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "800", FirstName: "U", LastName: "V",
		Email: "uv@example.com", TimeZone: "UTC", RingTimeSeconds: 30}), switchboard.ECONFLICT)
	wantCode(t, f.db.CreateQueue(f.ctx, &switchboard.Queue{AccountID: f.a.ID, QueueName: "Q", Extension: "800",
		Strategy: switchboard.StrategyRingAll, Timeout: 15, JoinEmpty: "yes", LeaveWhenEmpty: "no", RingInUse: "no"}), switchboard.ECONFLICT)
	wantCode(t, f.db.CreateConferenceRoom(f.ctx, &switchboard.ConferenceRoom{AccountID: f.a.ID, Name: "", Extension: "801",
		MaxParticipants: 1}), switchboard.EBADREQUEST)

	// B may use the same number; A's room is not B's.
	rb := &switchboard.ConferenceRoom{AccountID: f.b.ID, Name: "B's room", Extension: "800", MaxParticipants: 5}
	mustOK(t, f.db.CreateConferenceRoom(f.ctx, rb))
	_, err = f.db.GetConferenceRoom(f.ctx, f.a.ID, rb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.UpdateConferenceRoomFunc(f.ctx, f.a.ID, rb.ID, func(r *switchboard.ConferenceRoom) error { r.Name = "mine"; return nil })
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteConferenceRoom(f.ctx, f.a.ID, rb.ID), switchboard.ENOTFOUND)
	if b, err := f.db.GetConferenceRoomByExtension(f.ctx, f.b.ID, "800"); err != nil || b.ID != rb.ID {
		t.Fatalf("B's room 800: %+v %v", b, err)
	}

	// Renumbering frees the old number and takes the new one.
	upd, err := f.db.UpdateConferenceRoomFunc(f.ctx, f.a.ID, r.ID, func(r *switchboard.ConferenceRoom) error {
		r.Extension, r.PINHash, r.MuteOnJoin = "801", "", false
		return nil
	})
	mustOK(t, err)
	if upd.Extension != "801" || upd.HasPIN() || upd.MuteOnJoin || !upd.CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("updated: %+v", upd)
	}
	f.queue(t, f.a.ID, "800")
	_, err = f.db.UpdateConferenceRoomFunc(f.ctx, f.a.ID, r.ID, func(r *switchboard.ConferenceRoom) error { r.Extension = "100"; return nil })
	wantCode(t, err, switchboard.ECONFLICT)
	page, more, err := f.db.PageConferenceRooms(f.ctx, f.a.ID, switchboard.Page{Limit: 10})
	mustOK(t, err)
	if more || len(page) != 1 || page[0].ID != r.ID || page[0].Extension != "801" {
		t.Fatalf("A's rooms: %+v more %v", page, more)
	}

	mustOK(t, f.db.DeleteConferenceRoom(f.ctx, f.a.ID, r.ID))
	_, err = f.db.GetConferenceRoomByExtension(f.ctx, f.a.ID, "801")
	wantCode(t, err, switchboard.ENOTFOUND)
	f.user(t, f.a.ID, "801") // the number is free again
	if _, err := f.db.GetConferenceRoom(f.ctx, f.b.ID, rb.ID); err != nil {
		t.Fatalf("deleting A's room touched B's: %v", err)
	}
}
