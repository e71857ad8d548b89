package storetest

import (
	"testing"

	"switchboard"
)

// walk reads a list page by page, size rows at a time, through page (given the page asked
// for) and next (the cursor after a row), and returns every row it saw. It fails on a
// page larger than size, or on more pages than the rows could fill.
func walk[T any](t *testing.T, size, most int, page func(switchboard.Page) ([]T, bool, error),
	next func(p *switchboard.Page, last T)) []T {
	t.Helper()
	var out []T
	p := switchboard.Page{Limit: size}
	for range most + 2 {
		rows, more, err := page(p)
		mustOK(t, err)
		if len(rows) > size {
			t.Fatalf("page of %d rows with limit %d", len(rows), size)
		}
		out = append(out, rows...)
		if !more {
			return out
		}
		if len(rows) == 0 {
			t.Fatalf("an empty page says more rows follow")
		}
		next(&p, rows[len(rows)-1])
	}
	t.Fatalf("more than %d pages for %d rows", most+2, most)
	return nil
}

// wantBadPage checks that a page out of bounds is refused, naming the parameter.
func wantBadPage[T any](t *testing.T, page func(switchboard.Page) ([]T, bool, error)) {
	t.Helper()
	for p, field := range map[switchboard.Page]string{{Limit: -1}: "limit", {Limit: switchboard.MaxPageLimit + 1}: "limit",
		{Offset: -1}: "offset", {After: -1}: "after"} {
		_, _, err := page(p)
		wantField(t, err, switchboard.EBADREQUEST, field)
	}
}

// Users are paged by extension, not by id: the cursor is the last user's extension with
// its id, and the walk gives back ListUsers' order. Account B's users never show.
func testPageUsers(t *testing.T, f *fixture) {
	for _, ext := range []string{"105", "101", "2000", "103", "099", "102"} { // ids out of extension order
		f.user(t, f.a.ID, ext)
	}
	f.user(t, f.b.ID, "104")
	whole, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	page := func(p switchboard.Page) ([]*switchboard.User, bool, error) { return f.db.PageUsers(f.ctx, f.a.ID, p) }
	for _, size := range []int{1, 2, 3, 1000} {
		got := walk(t, size, len(whole), page, func(p *switchboard.Page, u *switchboard.User) { p.AfterKey, p.After = u.Extension, u.ID })
		if d := diff(whole, got); d != "" {
			t.Errorf("users in pages of %d (-ListUsers +pages):\n%s", size, d)
		}
	}
	if len(whole) != 7 {
		t.Fatalf("ListUsers has %d users of A; want 7", len(whole))
	}
	// Offset skips rows of the order; a cursor of the middle starts after it.
	got, more, err := page(switchboard.Page{Limit: 2, Offset: 3})
	mustOK(t, err)
	if d := diff(whole[3:5], got); d != "" || !more {
		t.Errorf("offset 3 limit 2 (more %v; -want +got):\n%s", more, d)
	}
	got, more, err = page(switchboard.Page{AfterKey: whole[4].Extension, After: whole[4].ID})
	mustOK(t, err)
	if d := diff(whole[5:], got); d != "" || more {
		t.Errorf("after the 5th user (more %v; -want +got):\n%s", more, d)
	}
	wantBadPage(t, page)
}

func testPageQueues(t *testing.T, f *fixture) {
	for _, ext := range []string{"503", "501", "502"} {
		f.queue(t, f.a.ID, ext)
	}
	f.queue(t, f.b.ID, "500")
	whole, err := f.db.ListQueues(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(whole) != 3 {
		t.Fatalf("ListQueues has %d queues of A; want 3", len(whole))
	}
	page := func(p switchboard.Page) ([]*switchboard.Queue, bool, error) { return f.db.PageQueues(f.ctx, f.a.ID, p) }
	for _, size := range []int{1, 2, 1000} {
		got := walk(t, size, len(whole), page, func(p *switchboard.Page, q *switchboard.Queue) { p.After = q.ID })
		if d := diff(whole, got); d != "" {
			t.Errorf("queues in pages of %d (-ListQueues +pages):\n%s", size, d)
		}
	}
	wantBadPage(t, page)
}

// A queue's members are paged by user id; another account's queue is NOT_FOUND.
func testPageQueueMembers(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	for _, ext := range []string{"103", "101", "102"} {
		u := f.user(t, f.a.ID, ext)
		mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID, Penalty: 1}))
	}
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID}))
	other := f.queue(t, f.a.ID, "501")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: other.ID, UserID: f.ua.ID}))
	qb := f.queue(t, f.b.ID, "500")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.b.ID, switchboard.QueueMember{QueueID: qb.ID, UserID: f.ub.ID}))
	whole, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if len(whole) != 4 {
		t.Fatalf("ListQueueMembers has %d members; want 4", len(whole))
	}
	page := func(p switchboard.Page) ([]switchboard.QueueMember, bool, error) {
		return f.db.PageQueueMembers(f.ctx, f.a.ID, q.ID, p)
	}
	for _, size := range []int{1, 3, 1000} {
		got := walk(t, size, len(whole), page, func(p *switchboard.Page, m switchboard.QueueMember) { p.After = m.UserID })
		if d := diff(whole, got); d != "" {
			t.Errorf("members in pages of %d (-ListQueueMembers +pages):\n%s", size, d)
		}
	}
	wantBadPage(t, page)
	_, _, err = f.db.PageQueueMembers(f.ctx, f.a.ID, qb.ID, switchboard.Page{})
	wantCode(t, err, switchboard.ENOTFOUND)
	_, _, err = f.db.PageQueueMembers(f.ctx, f.b.ID, q.ID, switchboard.Page{})
	wantCode(t, err, switchboard.ENOTFOUND)
}

// Numbers are paged by id within the filter: a page holds only matching numbers.
func testPageNumbers(t *testing.T, f *fixture) {
	for i, e164 := range []string{"+15551230001", "+15551230002", "+15551230003", "+15551230004", "+15551230005"} {
		n := newNumber(f.a.ID, e164)
		if i%2 == 0 {
			n.Status = "porting"
		}
		f.number(t, n)
	}
	f.number(t, newNumber(f.b.ID, "+15551230009"))
	for _, filter := range []switchboard.NumberFilter{{}, {Status: "porting"}, {Status: "active"}} {
		whole, err := f.db.ListNumbers(f.ctx, f.a.ID, filter)
		mustOK(t, err)
		if len(whole) < 2 {
			t.Fatalf("filter %+v: %d numbers; the test needs 2", filter, len(whole))
		}
		page := func(p switchboard.Page) ([]*switchboard.Number, bool, error) {
			return f.db.PageNumbers(f.ctx, f.a.ID, filter, p)
		}
		for _, size := range []int{1, 2, 1000} {
			got := walk(t, size, len(whole), page, func(p *switchboard.Page, n *switchboard.Number) { p.After = n.ID })
			if d := diff(whole, got); d != "" {
				t.Errorf("filter %+v in pages of %d (-ListNumbers +pages):\n%s", filter, size, d)
			}
		}
		wantBadPage(t, page)
	}
}
