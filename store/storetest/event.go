package storetest

import (
	"slices"
	"testing"
	"time"

	"switchboard"
)

// events returns every event of the account.
func (f *fixture) events(t *testing.T, accountID int64) []*switchboard.Event {
	t.Helper()
	evs, err := f.db.ListEvents(f.ctx, accountID, 0, 1000)
	mustOK(t, err)
	return evs
}

func testEvents(t *testing.T, f *fixture) {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	e1 := &switchboard.Event{AccountID: f.a.ID, Name: switchboard.EventCallInboundStarted, OccurredAt: at,
		CallID: "1772368200.1", CRMID: "crm-9", Data: map[string]any{"from": "+15550001111", "answered": false}}
	e2 := switchboard.NewEvent(f.b.ID, switchboard.EventSMSReceived, map[string]any{"message": "hi"})
	e3 := switchboard.NewEvent(f.a.ID, switchboard.EventCallInboundEnded, map[string]any{"duration": 42})
	e4 := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, nil)
	mustOK(t, f.db.AppendEvents(f.ctx, e1, e2))
	mustOK(t, f.db.AppendEvents(f.ctx, e3, e4))
	if e1.ID == "" || e1.Seq == 0 || !(e1.Seq < e2.Seq && e2.Seq < e3.Seq && e3.Seq < e4.Seq) {
		t.Fatalf("seqs %d %d %d %d, id %q: want increasing seqs in append order and an id", e1.Seq, e2.Seq, e3.Seq, e4.Seq, e1.ID)
	}
	if !e1.OccurredAt.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("OccurredAt = %v, want it to the millisecond as stored", e1.OccurredAt)
	}
	stored := func(e *switchboard.Event) *switchboard.Event {
		c := *e
		c.Data = jsonData(t, e.Data)
		if c.Data == nil {
			c.Data = map[string]any{}
		}
		return &c
	}

	got := f.events(t, f.a.ID)
	if d := diff([]*switchboard.Event{stored(e1), stored(e3), stored(e4)}, got); d != "" {
		t.Fatalf("ListEvents of A (-want +got):\n%s", d)
	}
	got, err := f.db.ListEvents(f.ctx, f.a.ID, e1.Seq, 1)
	mustOK(t, err)
	if d := diff([]*switchboard.Event{stored(e3)}, got); d != "" {
		t.Fatalf("ListEvents after e1, limit 1 (-want +got):\n%s", d)
	}
	got, err = f.db.ListEvents(f.ctx, f.a.ID, e4.Seq, 10)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatalf("ListEvents after the last: %+v", got)
	}
	got = f.events(t, f.b.ID)
	if d := diff([]*switchboard.Event{stored(e2)}, got); d != "" {
		t.Fatalf("ListEvents of B (-want +got):\n%s", d)
	}
	mustOK(t, f.db.AppendEvents(f.ctx)) // nothing to append is no error
}

func testAppendAllOrNothing(t *testing.T, f *fixture) {
	first := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 1})
	mustOK(t, f.db.AppendEvents(f.ctx, first))
	fresh := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 2})
	again := &switchboard.Event{ID: first.ID, AccountID: f.a.ID, Name: switchboard.EventSMSSent}
	wantCode(t, f.db.AppendEvents(f.ctx, fresh, again), switchboard.ECONFLICT) // an event id is stored once
	wantCode(t, f.db.AppendEvents(f.ctx, switchboard.NewEvent(f.a.ID, "", nil)), switchboard.EBADREQUEST)
	wantCode(t, f.db.AppendEvents(f.ctx, switchboard.NewEvent(f.a.ID, "x", map[string]any{"bad": func() {}})), switchboard.EBADREQUEST)
	got := f.events(t, f.a.ID)
	if len(got) != 1 || got[0].ID != first.ID {
		t.Fatalf("events after refused appends: %+v, want only the first", got)
	}
}

// testFollowEvents: a follower returns the account's events after its starting point in seq
// order, each once, page by page, and then the ones stored later.
func testFollowEvents(t *testing.T, f *fixture) {
	e1 := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 1})
	e2 := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 2})
	other := switchboard.NewEvent(f.b.ID, switchboard.EventSMSSent, map[string]any{"n": 3})
	e3 := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 4})
	mustOK(t, f.db.AppendEvents(f.ctx, e1, e2, other, e3))
	follow := f.db.FollowEvents(f.a.ID, e1.Seq)
	if got := followSeqs(t, f, follow, 2, 1); !slices.Equal(got, []int64{e2.Seq, e3.Seq}) {
		t.Fatalf("followed seqs %v, want e2, e3 = %d, %d", got, e2.Seq, e3.Seq)
	}
	e4 := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 5})
	mustOK(t, f.db.AppendEvents(f.ctx, e4))
	if got := followSeqs(t, f, follow, 1, 10); !slices.Equal(got, []int64{e4.Seq}) {
		t.Fatalf("followed seqs %v, want only e4 = %d", got, e4.Seq)
	}
	evs, err := follow.Next(f.ctx, 10)
	mustOK(t, err)
	if len(evs) != 0 {
		t.Fatalf("Next after every event: %+v", evs)
	}
}

// followSeqs calls Next (pages of limit) until the follower has returned n events — on
// PostgreSQL it returns none while other transactions that may hold smaller seqs run — and
// returns their seqs.
func followSeqs(t *testing.T, f *fixture, follow switchboard.EventFollower, n, limit int) []int64 {
	t.Helper()
	var seqs []int64
	deadline := time.Now().Add(30 * time.Second)
	for len(seqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the follower returned %v, want %d events", seqs, n)
		}
		evs, err := follow.Next(f.ctx, limit)
		mustOK(t, err)
		if len(evs) > limit {
			t.Fatalf("Next(%d) returned %d events", limit, len(evs))
		}
		for _, ev := range evs {
			seqs = append(seqs, ev.Seq)
		}
		if len(evs) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return seqs
}
