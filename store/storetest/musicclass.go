package storetest

import (
	"bytes"
	"testing"

	"switchboard"
)

// Music classes round-trip with their audio (large enough to matter: 2.4 MB, the most
// five minutes of 8 kHz µ-law take), names are unique per account only, one account
// never reads or changes another's, and a class a queue plays cannot be deleted (the
// default can: the generated default takes its place).
func testMusicClasses(t *testing.T, f *fixture) {
	audio := make([]byte, 8000*300)
	for i := range audio {
		audio[i] = byte(i * 7)
	}
	jazz := &switchboard.MusicClass{AccountID: f.a.ID, Name: "jazz", Format: "wav", Samples: len(audio)}
	mustOK(t, f.db.CreateMusicClass(f.ctx, jazz, audio))
	if jazz.ID == 0 || jazz.CreatedAt.IsZero() {
		t.Fatalf("created %+v", jazz)
	}
	got, err := f.db.GetMusicClass(f.ctx, f.a.ID, jazz.ID)
	mustOK(t, err)
	if d := diff(jazz, got); d != "" {
		t.Fatalf("GetMusicClass (-want +got):\n%s", d)
	}
	byName, err := f.db.GetMusicClassByName(f.ctx, f.a.ID, "jazz")
	mustOK(t, err)
	if d := diff(jazz, byName); d != "" {
		t.Fatalf("GetMusicClassByName (-want +got):\n%s", d)
	}
	stored, err := f.db.GetMusicClassAudio(f.ctx, f.a.ID, "jazz")
	mustOK(t, err)
	if !bytes.Equal(stored, audio) {
		t.Fatalf("audio came back %d bytes, differing", len(stored))
	}

	wantCode(t, f.db.CreateMusicClass(f.ctx, &switchboard.MusicClass{AccountID: f.a.ID, Name: "jazz", Format: "mp3", Samples: 1}, []byte{1}), switchboard.ECONFLICT)
	wantCode(t, f.db.CreateMusicClass(f.ctx, &switchboard.MusicClass{AccountID: f.a.ID, Name: "Bad Name", Format: "mp3", Samples: 1}, []byte{1}), switchboard.EBADREQUEST)
	bJazz := &switchboard.MusicClass{AccountID: f.b.ID, Name: "jazz", Format: "mp3", Samples: 2}
	mustOK(t, f.db.CreateMusicClass(f.ctx, bJazz, []byte{9, 9}))

	// Another account's class is not found, by id or name, for reading, replacing or deleting.
	_, err = f.db.GetMusicClass(f.ctx, f.a.ID, bJazz.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.ReplaceMusicClassAudio(f.ctx, f.a.ID, bJazz.ID, "wav", 1, []byte{0})
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteMusicClass(f.ctx, f.a.ID, bJazz.ID), switchboard.ENOTFOUND)
	_, err = f.db.GetMusicClassAudio(f.ctx, f.a.ID, "rock")
	wantCode(t, err, switchboard.ENOTFOUND)
	if b, err := f.db.GetMusicClassAudio(f.ctx, f.b.ID, "jazz"); err != nil || !bytes.Equal(b, []byte{9, 9}) {
		t.Fatalf("B's jazz: %v %v", b, err)
	}

	upd, err := f.db.ReplaceMusicClassAudio(f.ctx, f.a.ID, jazz.ID, "mp3", 3, []byte{1, 2, 3})
	mustOK(t, err)
	if upd.Format != "mp3" || upd.Samples != 3 || !upd.CreatedAt.Equal(jazz.CreatedAt) || upd.UpdatedAt.Before(jazz.UpdatedAt) {
		t.Fatalf("replaced: %+v", upd)
	}
	page, more, err := f.db.PageMusicClasses(f.ctx, f.a.ID, switchboard.Page{Limit: 10})
	mustOK(t, err)
	if more || len(page) != 1 || page[0].ID != jazz.ID {
		t.Fatalf("A's classes: %+v more %v", page, more)
	}

	// A queue playing jazz keeps it; the default goes whatever plays it.
	q := f.queue(t, f.a.ID, "501")
	q.MusicOnHold = "jazz"
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	wantCode(t, f.db.DeleteMusicClass(f.ctx, f.a.ID, jazz.ID), switchboard.ECONFLICT)
	def := &switchboard.MusicClass{AccountID: f.a.ID, Name: switchboard.DefaultMusicClass, Format: "wav", Samples: 1}
	mustOK(t, f.db.CreateMusicClass(f.ctx, def, []byte{0}))
	f.queue(t, f.a.ID, "502") // plays the default
	mustOK(t, f.db.DeleteMusicClass(f.ctx, f.a.ID, def.ID))
	q.MusicOnHold = "default"
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	mustOK(t, f.db.DeleteMusicClass(f.ctx, f.a.ID, jazz.ID))
	_, err = f.db.GetMusicClassByName(f.ctx, f.a.ID, "jazz")
	wantCode(t, err, switchboard.ENOTFOUND)
	if _, err := f.db.GetMusicClass(f.ctx, f.b.ID, bJazz.ID); err != nil {
		t.Fatalf("deleting A's jazz touched B's: %v", err)
	}
}
