package provision_test

import (
	"slices"
	"sync"
	"testing"

	"switchboard"
)

// ringOrder is the group's members' user ids, in ring order.
func ringOrder(t *testing.T, f *fixture, accountID, groupID int64) []int64 {
	t.Helper()
	g, err := f.st.GetRingGroup(f.ctx, accountID, groupID)
	must(t, err)
	var ids []int64
	for _, m := range g.Members {
		ids = append(ids, m.UserID)
	}
	return ids
}

func TestRingGroupMemberEdits(t *testing.T) {
	f := newFixture(t)
	g, err := f.svc.CreateRingGroup(f.ctx, f.a, switchboard.RingGroupChange{Name: ptr("Desk"), Extension: ptr("700")})
	must(t, err)
	bob, err := f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("101")})
	must(t, err)
	other, err := f.svc.CreateUser(f.ctx, f.b, switchboard.UserChange{Extension: ptr("100")})
	must(t, err)

	_, err = f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: f.ann.ID})
	must(t, err)
	_, err = f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: bob.ID, RingTime: 10})
	must(t, err)
	// Adding a member again changes their ring time, not the order.
	got, err := f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: f.ann.ID, RingTime: 15})
	must(t, err)
	if len(got.Members) != 2 || got.Members[0] != (switchboard.RingGroupMember{UserID: f.ann.ID, RingTime: 15}) {
		t.Fatalf("after adding Ann again: %+v", got.Members)
	}
	if d := details(t, errOf(f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: bob.ID, RingTime: 601}))); d["members"] == "" {
		t.Fatalf("a ring time of 601 s: %v", d)
	}
	if d := details(t, errOf(f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: other.ID}))); d["members"] == "" {
		t.Fatalf("another account's user: %v", d)
	}
	if _, err := f.svc.AddRingGroupMember(f.ctx, f.b, g.ID, switchboard.RingGroupMember{UserID: other.ID}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("another account's group: %v", err)
	}

	// Moving: the first up and the last down stay; bob up swaps.
	for _, c := range []struct {
		user int64
		up   bool
		want []int64
	}{{f.ann.ID, true, []int64{f.ann.ID, bob.ID}}, {bob.ID, false, []int64{f.ann.ID, bob.ID}}, {bob.ID, true, []int64{bob.ID, f.ann.ID}}} {
		_, err := f.svc.MoveRingGroupMember(f.ctx, f.a, g.ID, c.user, c.up)
		must(t, err)
		if o := ringOrder(t, f, f.a, g.ID); !slices.Equal(o, c.want) {
			t.Fatalf("move %d up=%v: %v, want %v", c.user, c.up, o, c.want)
		}
	}
	_, err = f.svc.RemoveRingGroupMember(f.ctx, f.a, g.ID, bob.ID)
	must(t, err)
	if _, err := f.svc.RemoveRingGroupMember(f.ctx, f.a, g.ID, bob.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("removing a non-member: %v", err)
	}
	if o := ringOrder(t, f, f.a, g.ID); !slices.Equal(o, []int64{f.ann.ID}) {
		t.Fatalf("after remove: %v", o)
	}

	// Edits at once each keep the other's: every concurrent add is in the list.
	var users []int64
	for i := range 6 {
		u, err := f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("2" + string(rune('0'+i)) + "0")})
		must(t, err)
		users = append(users, u.ID)
	}
	var wg sync.WaitGroup
	for _, id := range users {
		wg.Go(func() {
			if _, err := f.svc.AddRingGroupMember(f.ctx, f.a, g.ID, switchboard.RingGroupMember{UserID: id}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if o := ringOrder(t, f, f.a, g.ID); len(o) != 1+len(users) {
		t.Fatalf("after concurrent adds: %v", o)
	}
}

// errOf is the error of a call that returns a value too.
func errOf[T any](_ T, err error) error { return err }
