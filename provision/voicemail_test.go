package provision_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/provision"
	"switchboard/store/storetest"
)

// Deleting a user removes their voicemail box's files from the blob store with the rows:
// no recording of a caller outlives the user it was left for.
func TestDeleteUserRemovesTheirVoicemailFiles(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewSQLite(t)
	blobs, err := blob.NewDir(t.TempDir())
	must(t, err)
	svc := provision.New(provision.Config{Store: db, Blobs: blobs})
	acct := &switchboard.Account{Name: "Account"}
	must(t, db.CreateAccount(ctx, acct))
	u, err := svc.CreateUser(ctx, acct.ID, switchboard.UserChange{Extension: ptr("100"), FirstName: ptr("Ann")})
	must(t, err)
	box, err := svc.UserVoicemailBox(ctx, acct.ID, u.ID)
	must(t, err)
	m := &switchboard.VoicemailMessage{AccountID: acct.ID, BoxID: box.ID, CallID: "1.1", From: "+14155550100", DurationMS: 1000}
	must(t, svc.LeaveVoicemail(ctx, m, tstest.WAV(8000, 1, make([]int16, 8000)), nil))
	if _, err := blobs.Stat(ctx, m.AudioKey); err != nil {
		t.Fatalf("the message's file is not stored: %v", err)
	}
	must(t, svc.DeleteUser(ctx, acct.ID, u.ID))
	if _, err := blobs.Stat(ctx, m.AudioKey); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("the deleted user's voicemail file is still stored (%v)", err)
	}
}
