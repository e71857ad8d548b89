package storetest

import (
	"fmt"
	"sync"
	"testing"

	"switchboard"
)

// testParallelWriters checks what several API requests at once rely on: writers wait for
// each other instead of failing (SQLite's one writer, PostgreSQL's row locks), and when they
// race for the same extension exactly one wins and the others get CONFLICT.
func testParallelWriters(t *testing.T, f *fixture) {
	const n = 8
	var wg sync.WaitGroup
	contactErrs := make([]error, n)
	queueErrs := make([]error, n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			contactErrs[i] = f.db.CreateContact(f.ctx, &switchboard.Contact{AccountID: f.a.ID, Phone: fmt.Sprintf("+1555888000%d", i)})
		}()
		go func() {
			defer wg.Done()
			kind := []func() error{
				func() error { return f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "800")) },
				func() error { return f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "800")) },
				func() error { return f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "800"}) },
			}[i%3]
			queueErrs[i] = kind()
		}()
	}
	wg.Wait()
	for i, err := range contactErrs {
		if err != nil {
			t.Errorf("parallel CreateContact %d: %v", i, err)
		}
	}
	won := 0
	for _, err := range queueErrs {
		switch switchboard.ErrorCode(err) {
		case "":
			won++
		case switchboard.ECONFLICT:
		default:
			t.Errorf("racing for extension 800: %v, want success or CONFLICT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers got extension 800, want exactly 1", won)
	}
	contacts, err := f.db.ListContacts(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(contacts) != n || len(f.events(t, f.a.ID)) != n {
		t.Errorf("after %d parallel creates: %d contacts, %d events", n, len(contacts), len(f.events(t, f.a.ID)))
	}
}
