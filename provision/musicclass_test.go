package provision_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/tstest"
)

// A queue's musiconhold names the default or a class of its own account: another
// account's class of that name does not count, and the error names the field.
func TestQueueMusicOnHoldMustNameAClassOfTheAccount(t *testing.T) {
	f := newFixture(t)
	wav := tstest.WAV(8000, 1, tstest.Sine(8000, 800, 5000, 440))
	if _, err := f.svc.CreateMusicClass(f.ctx, f.b, "jazz", switchboard.MusicUpload{ContentType: "audio/x-wav", Body: bytes.NewReader(wav)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		class, extension string
		details          map[string]string // nil: accepted
	}{
		{"default", "801", nil},
		{"jazz", "802", map[string]string{"musiconhold": "names no music class of this account: upload it first (POST /music_classes?name=jazz)"}},
	} {
		_, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Q " + tc.class), Extension: &tc.extension, MusicOnHold: &tc.class})
		var got map[string]string
		var e *switchboard.Error
		if errors.As(err, &e) {
			got = e.Details
		} else if err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		if d := cmp.Diff(tc.details, got); d != "" {
			t.Errorf("musiconhold %q (-want +got details):\n%s", tc.class, d)
		}
	}
	if _, err := f.svc.CreateMusicClass(f.ctx, f.a, "jazz", switchboard.MusicUpload{ContentType: "audio/wav", Body: bytes.NewReader(wav)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Jazz"), Extension: ptr("809"), MusicOnHold: ptr("jazz")}); err != nil {
		t.Fatalf("a queue naming the account's own class: %v", err)
	}
}
