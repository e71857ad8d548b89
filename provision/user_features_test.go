package provision_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// Do not disturb and call waiting: off and on by default, each changed alone by a PATCH
// (the API's call_waiting is the negation of what the user stores).
func TestUserDoNotDisturbAndCallWaiting(t *testing.T) {
	f := newFixture(t)
	if f.ann.DoNotDisturb || f.ann.CallWaitingOff {
		t.Fatalf("a new user has DoNotDisturb=%v CallWaitingOff=%v; want do not disturb off, call waiting on",
			f.ann.DoNotDisturb, f.ann.CallWaitingOff)
	}
	type flags struct{ DND, WaitingOff bool }
	steps := []struct {
		name   string
		change switchboard.UserChange
		want   flags
	}{
		{"do not disturb on", switchboard.UserChange{DoNotDisturb: ptr(true)}, flags{true, false}},
		{"call waiting off keeps do not disturb", switchboard.UserChange{CallWaiting: ptr(false)}, flags{true, true}},
		{"another field keeps both", switchboard.UserChange{FirstName: ptr("Anna")}, flags{true, true}},
		{"both back", switchboard.UserChange{DoNotDisturb: ptr(false), CallWaiting: ptr(true)}, flags{false, false}},
	}
	for _, s := range steps {
		u, err := f.svc.UpdateUser(f.ctx, f.a, f.ann.ID, s.change)
		must(t, err)
		stored, err := f.st.GetUser(f.ctx, f.a, f.ann.ID)
		must(t, err)
		for _, got := range []*switchboard.User{u, stored} {
			if d := cmp.Diff(s.want, flags{got.DoNotDisturb, got.CallWaitingOff}); d != "" {
				t.Errorf("%s (-want +got):\n%s", s.name, d)
			}
		}
	}
	created, err := f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("102"), DoNotDisturb: ptr(true),
		CallWaiting: ptr(false)})
	must(t, err)
	if !created.DoNotDisturb || !created.CallWaitingOff {
		t.Errorf("created with do_not_disturb and no call waiting: DoNotDisturb=%v CallWaitingOff=%v", created.DoNotDisturb, created.CallWaitingOff)
	}
}
