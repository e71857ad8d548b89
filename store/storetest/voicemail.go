package storetest

import (
	"slices"
	"testing"

	"switchboard"
)

// Voicemail boxes and messages round-trip; a user has one box; a full box refuses a
// message (nothing stored, no event); read and delete store their events in the same
// transaction; the counts follow; one account never reads or changes another's.
func testVoicemail(t *testing.T, f *fixture) {
	box := switchboard.NewVoicemailBox(f.a.ID, f.ua.ID, "A's box")
	box.MaxMessages = 2
	mustOK(t, f.db.CreateVoicemailBox(f.ctx, box))
	got, err := f.db.GetUserVoicemailBox(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(box, got); d != "" {
		t.Fatalf("GetUserVoicemailBox (-want +got):\n%s", d)
	}
	wantCode(t, f.db.CreateVoicemailBox(f.ctx, switchboard.NewVoicemailBox(f.a.ID, f.ua.ID, "again")), switchboard.ECONFLICT)
	// A user of another account cannot own a box here.
	wantCode(t, f.db.CreateVoicemailBox(f.ctx, switchboard.NewVoicemailBox(f.a.ID, f.ub.ID, "theirs")), switchboard.EBADREQUEST)
	shared := switchboard.NewVoicemailBox(f.b.ID, 0, "B shared")
	mustOK(t, f.db.CreateVoicemailBox(f.ctx, shared))

	left := func(m *switchboard.VoicemailMessage) *switchboard.Event {
		return switchboard.NewEvent(m.AccountID, switchboard.EventVoicemailLeft, map[string]any{"voicemail_id": m.ID})
	}
	m1 := &switchboard.VoicemailMessage{AccountID: f.a.ID, BoxID: box.ID, CallID: "1.1", From: "+15551230000",
		CallerName: "Ada", DurationMS: 2500, AudioKey: "k1", AudioBytes: 40044}
	mustOK(t, f.db.CreateVoicemailMessage(f.ctx, m1, left))
	m2 := &switchboard.VoicemailMessage{AccountID: f.a.ID, BoxID: box.ID, CallID: "1.2", AudioKey: "k2"}
	mustOK(t, f.db.CreateVoicemailMessage(f.ctx, m2, left))
	full := &switchboard.VoicemailMessage{AccountID: f.a.ID, BoxID: box.ID, CallID: "1.3", AudioKey: "k3"}
	wantCode(t, f.db.CreateVoicemailMessage(f.ctx, full, left), switchboard.ECONFLICT)
	// Another account's box takes no message of this one.
	wantCode(t, f.db.CreateVoicemailMessage(f.ctx, &switchboard.VoicemailMessage{AccountID: f.a.ID, BoxID: shared.ID, AudioKey: "x"}, nil), switchboard.ENOTFOUND)

	gotM, err := f.db.GetVoicemailMessage(f.ctx, f.a.ID, m1.ID)
	mustOK(t, err)
	if d := diff(m1, gotM); d != "" {
		t.Fatalf("GetVoicemailMessage (-want +got):\n%s", d)
	}
	_, err = f.db.GetVoicemailMessage(f.ctx, f.b.ID, m1.ID)
	wantCode(t, err, switchboard.ENOTFOUND)

	read := func(m *switchboard.VoicemailMessage) *switchboard.Event {
		return switchboard.NewEvent(m.AccountID, switchboard.EventVoicemailRead, map[string]any{"voicemail_id": m.ID})
	}
	_, _, err = f.db.MarkVoicemailRead(f.ctx, f.b.ID, m1.ID, read)
	wantCode(t, err, switchboard.ENOTFOUND)
	r, changed, err := f.db.MarkVoicemailRead(f.ctx, f.a.ID, m1.ID, read)
	mustOK(t, err)
	if !changed || !r.Read || r.ReadAt.IsZero() {
		t.Fatalf("marked read: %+v %v", r, changed)
	}
	if _, changed, _ := f.db.MarkVoicemailRead(f.ctx, f.a.ID, m1.ID, read); changed {
		t.Fatal("a message already read was read again")
	}
	c, err := f.db.VoicemailCounts(f.ctx, f.a.ID, box.ID)
	mustOK(t, err)
	if c != (switchboard.VoicemailCounts{New: 1, Old: 1}) {
		t.Fatalf("counts %+v", c)
	}
	unread := false
	page, _, err := f.db.PageVoicemailMessages(f.ctx, f.a.ID, switchboard.VoicemailFilter{BoxID: box.ID, Read: &unread}, switchboard.Page{})
	mustOK(t, err)
	if len(page) != 1 || page[0].ID != m2.ID {
		t.Fatalf("unread page: %+v", page)
	}
	page, _, err = f.db.PageVoicemailMessages(f.ctx, f.b.ID, switchboard.VoicemailFilter{BoxID: box.ID}, switchboard.Page{})
	mustOK(t, err)
	if len(page) != 0 {
		t.Fatalf("B listed A's messages: %+v", page)
	}

	deleted := func(m *switchboard.VoicemailMessage) *switchboard.Event {
		return switchboard.NewEvent(m.AccountID, switchboard.EventVoicemailDeleted, map[string]any{"voicemail_id": m.ID})
	}
	_, err = f.db.DeleteVoicemailMessage(f.ctx, f.b.ID, m2.ID, deleted)
	wantCode(t, err, switchboard.ENOTFOUND)
	dm, err := f.db.DeleteVoicemailMessage(f.ctx, f.a.ID, m2.ID, deleted)
	mustOK(t, err)
	if dm.AudioKey != "k2" {
		t.Fatalf("deleted %+v", dm)
	}
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 100)
	mustOK(t, err)
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	want := []string{switchboard.EventVoicemailLeft, switchboard.EventVoicemailLeft, switchboard.EventVoicemailRead, switchboard.EventVoicemailDeleted}
	if d := diff(want, names); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}

	upd, err := f.db.UpdateVoicemailBoxFunc(f.ctx, f.a.ID, box.ID, func(b *switchboard.VoicemailBox) error {
		b.OnBusy, b.MaxMessages = false, 0
		return nil
	})
	wantCode(t, err, switchboard.EBADREQUEST) // 0 messages is not valid: nothing written
	if upd != nil {
		t.Fatalf("invalid update returned %+v", upd)
	}
	_, err = f.db.UpdateVoicemailBoxFunc(f.ctx, f.b.ID, box.ID, func(*switchboard.VoicemailBox) error { return nil })
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.DeleteVoicemailBox(f.ctx, f.b.ID, box.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	keys, err := f.db.DeleteVoicemailBox(f.ctx, f.a.ID, box.ID)
	mustOK(t, err)
	if d := diff([]string{"k1"}, keys); d != "" {
		t.Fatalf("deleted box's audio keys (-want +got):\n%s", d)
	}
	_, err = f.db.GetVoicemailMessage(f.ctx, f.a.ID, m1.ID)
	wantCode(t, err, switchboard.ENOTFOUND)

	// Deleting a user deletes their box and hands back its files (messages and greeting) for
	// the caller to remove; a flow that leaves messages in the box keeps the user.
	leaver := &switchboard.User{AccountID: f.a.ID, Extension: "1777", FirstName: "Leaving", LastName: "User"}
	mustOK(t, f.db.CreateUser(f.ctx, leaver))
	lbox := switchboard.NewVoicemailBox(f.a.ID, leaver.ID, "Leaving's box")
	lbox.GreetingKey = "g-leaver"
	mustOK(t, f.db.CreateVoicemailBox(f.ctx, lbox))
	mustOK(t, f.db.CreateVoicemailMessage(f.ctx, &switchboard.VoicemailMessage{AccountID: f.a.ID, BoxID: lbox.ID, CallID: "2.1", AudioKey: "k-leaver"}, left))
	keys, err = f.db.DeleteUser(f.ctx, f.a.ID, leaver.ID)
	mustOK(t, err)
	slices.Sort(keys)
	if d := diff([]string{"g-leaver", "k-leaver"}, keys); d != "" {
		t.Fatalf("deleted user's voicemail files (-want +got):\n%s", d)
	}
	_, err = f.db.GetVoicemailBox(f.ctx, f.a.ID, lbox.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
}

// errOnly drops a result that a test does not look at.
func errOnly[T any](_ T, err error) error { return err }
