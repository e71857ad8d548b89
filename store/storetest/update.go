package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// testUpdateFuncRoundTrip checks the read-modify-write methods: change sees the stored row,
// what it sets is saved and returned, an error of change or an invalid result writes
// nothing, and a row of another account is NOT_FOUND.
func testUpdateFuncRoundTrip(t *testing.T, f *fixture) {
	u, err := f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ua.ID, func(u *switchboard.User) error {
		if u.Extension != "100" {
			t.Errorf("change sees extension %q, want the stored 100", u.Extension)
		}
		u.FirstName = "Changed"
		return nil
	})
	mustOK(t, err)
	got, err := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(u, got); d != "" || got.FirstName != "Changed" {
		t.Errorf("returned and stored user differ (-returned +stored):\n%s", d)
	}

	refused := errors.New("refused")
	if _, err := f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ua.ID, func(u *switchboard.User) error {
		u.FirstName = "Lost"
		return refused
	}); !errors.Is(err, refused) {
		t.Errorf("change's error = %v, want it returned", err)
	}
	_, err = f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ua.ID, func(u *switchboard.User) error {
		u.FirstName, u.Extension = "Lost", "x"
		return nil
	})
	wantField(t, err, switchboard.EBADREQUEST, "presence_id")
	if got, _ := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID); got.FirstName != "Changed" {
		t.Errorf("a refused change was written: first name %q", got.FirstName)
	}
	_, err = f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ub.ID, func(*switchboard.User) error {
		t.Error("change called for another account's user")
		return nil
	})
	wantCode(t, err, switchboard.ENOTFOUND)
}

// testUpdateFuncContactEvent checks that a contact changed through UpdateContactFunc stores
// contact.updated naming exactly the fields whose values changed.
func testUpdateFuncContactEvent(t *testing.T, f *fixture) {
	c := &switchboard.Contact{AccountID: f.a.ID, Phone: "+14155550100", FirstName: "Ada", Company: "Analytical"}
	mustOK(t, f.db.CreateContact(f.ctx, c))
	_, err := f.db.UpdateContactFunc(f.ctx, f.a.ID, c.ID, func(c *switchboard.Contact) error {
		c.FirstName, c.Company, c.Email = "Ada", "Engines Ltd", "ada@example.com" // first name unchanged
		return nil
	})
	mustOK(t, err)
	evs := f.events(t, f.a.ID)
	last := evs[len(evs)-1]
	if last.Name != switchboard.EventContactUpdated {
		t.Fatalf("last event %s, want %s", last.Name, switchboard.EventContactUpdated)
	}
	data := jsonData(t, last.Data)
	if d := cmp.Diff([]any{"email", "company"}, data["updated_fields"]); d != "" {
		t.Errorf("updated_fields (-want +got):\n%s", d)
	}
}

// testConcurrentChangesBothSurvive is two PATCHes of different fields of one user at once:
// the first holds its transaction open while the second starts, and both changes must be
// in the row afterwards. A read outside the write transaction (read, then write) loses one.
func testConcurrentChangesBothSurvive(t *testing.T, f *fixture) {
	firstInside, releaseFirst, secondRead := make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
	var wg sync.WaitGroup
	var firstErr, secondErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, firstErr = f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ua.ID, func(u *switchboard.User) error {
			close(firstInside)
			<-releaseFirst
			u.FirstName = "First"
			return nil
		})
	}()
	<-firstInside
	go func() {
		defer wg.Done()
		_, secondErr = f.db.UpdateUserFunc(f.ctx, f.a.ID, f.ua.ID, func(u *switchboard.User) error {
			secondRead <- struct{}{}
			u.LastName = "Second"
			return nil
		})
	}()
	// A correct store keeps the second waiting for the first's lock, so it never reads here;
	// a store that reads outside the transaction does, and then writes what it read.
	select {
	case <-secondRead:
	case <-time.After(200 * time.Millisecond):
	}
	close(releaseFirst)
	wg.Wait()
	mustOK(t, firstErr)
	mustOK(t, secondErr)
	got, err := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if got.FirstName != "First" || got.LastName != "Second" {
		t.Errorf("after two concurrent changes: first name %q, last name %q; want First and Second", got.FirstName, got.LastName)
	}
}

// testUpdateQueueMemberFunc checks the member's read-modify-write: only a member of a queue
// of the account is found, and an invalid penalty writes nothing.
func testUpdateQueueMemberFunc(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "200")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID, Penalty: 2}))
	got, err := f.db.UpdateQueueMemberFunc(f.ctx, f.a.ID, q.ID, f.ua.ID, func(m *switchboard.QueueMember) error {
		m.Paused = true
		return nil
	})
	mustOK(t, err)
	want := switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID, Penalty: 2, Paused: true}
	if d := diff(&want, got); d != "" {
		t.Errorf("returned member (-want +got):\n%s", d)
	}
	_, err = f.db.UpdateQueueMemberFunc(f.ctx, f.a.ID, q.ID, f.ua.ID, func(m *switchboard.QueueMember) error {
		m.Penalty, m.Paused = 1001, false
		return nil
	})
	wantField(t, err, switchboard.EBADREQUEST, "penalty")
	members, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{want}, members); d != "" {
		t.Errorf("stored members after a refused change (-want +got):\n%s", d)
	}
	unchanged := func(*switchboard.QueueMember) error { return nil }
	_, err = f.db.UpdateQueueMemberFunc(f.ctx, f.a.ID, q.ID, f.ub.ID, unchanged)
	wantCode(t, err, switchboard.ENOTFOUND) // not a member
	_, err = f.db.UpdateQueueMemberFunc(f.ctx, f.b.ID, q.ID, f.ua.ID, unchanged)
	wantCode(t, err, switchboard.ENOTFOUND) // another account's queue
}
