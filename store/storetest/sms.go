package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
)

func runSMSTests(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Run("SMS/MessagesHistoryEventsAndIsolation", func(t *testing.T) { testSMSMessages(t, newFixture(t, open(t))) })
	t.Run("SMS/UpdateFromAClaimedCopy", func(t *testing.T) { testSMSUpdateFrom(t, newFixture(t, open(t))) })
	t.Run("SMS/PhonePendingInOrder", func(t *testing.T) { testSMSPhonePending(t, newFixture(t, open(t))) })
	t.Run("SMS/ClaimLeasesAndReclaims", func(t *testing.T) { testSMSClaim(t, newFixture(t, open(t))) })
	t.Run("SMS/ClaimOrderLapsedLeasesFirst", func(t *testing.T) { testSMSClaimOrder(t, newFixture(t, open(t))) })
	t.Run("SMS/ConcurrentClaimsNeverShare", func(t *testing.T) { testSMSConcurrentClaims(t, newFixture(t, open(t))) })
	t.Run("SMS/ConcurrentWritesEachAllOrNothing", func(t *testing.T) { testSMSConcurrentWrites(t, newFixture(t, open(t))) })
	t.Run("SMS/OptedOutPartyGetsNoMessage", func(t *testing.T) { testSMSOptOutRefused(t, newFixture(t, open(t))) })
	t.Run("SMS/SettingsOptOutsPagingConversations", func(t *testing.T) { testSMSSettingsAndPaging(t, newFixture(t, open(t))) })
}

func smsMsg(accountID int64, id, from, to string, at time.Time) *switchboard.Message {
	return &switchboard.Message{ID: id, AccountID: accountID, Direction: switchboard.SMSOutbound, From: from, To: to,
		Body: "Γειά σου 😀 € [", Encoding: "ucs2", Segments: 1, Status: switchboard.SMSQueued, Carrier: "simulator",
		NumberID: 7, NextAttemptAt: at, CreatedAt: at}
}

// A message comes back as stored (Unicode intact), its events are stored with it, its
// history grows with each change, and another account reads NOT_FOUND.
func testSMSMessages(t *testing.T, f *fixture) {
	at := time.Now().UTC().Truncate(time.Millisecond)
	m := smsMsg(f.a.ID, "msg_1", "+15551234567", "+15550001111", at)
	ev := switchboard.NewEvent(f.a.ID, switchboard.EventSMSReceived, map[string]any{"message_id": "msg_1"})
	mustOK(t, f.db.CreateMessage(f.ctx, m, switchboard.MessageStatusChange{Status: switchboard.SMSQueued}, []*switchboard.Event{ev}))
	got, err := f.db.GetMessage(f.ctx, f.a.ID, "msg_1")
	mustOK(t, err)
	if d := diff(m, got); d != "" {
		t.Fatalf("GetMessage (-want +got):\n%s", d)
	}
	_, err = f.db.GetMessage(f.ctx, f.b.ID, "msg_1")
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.MessageHistory(f.ctx, f.b.ID, "msg_1")
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, "msg_1", "a", "b", at), switchboard.MessageStatusChange{Status: "queued"}, nil), switchboard.ECONFLICT)
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	mustOK(t, err)
	if len(evs) != 1 || evs[0].Name != switchboard.EventSMSReceived {
		t.Fatalf("events after CreateMessage: %+v", evs)
	}

	_, err = f.db.UpdateMessageFunc(f.ctx, "msg_1", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.Status, m.CarrierRef = switchboard.SMSSent, "ref-1"
		return []switchboard.MessageStatusChange{{Status: switchboard.SMSSent, CarrierStatus: "ok"}},
			[]*switchboard.Event{switchboard.NewEvent(m.AccountID, switchboard.EventSMSSent, nil)}, nil
	})
	mustOK(t, err)
	// A failing change writes nothing: no status, no history, no event.
	_, err = f.db.UpdateMessageFunc(f.ctx, "msg_1", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.Status = switchboard.SMSFailed
		return nil, nil, switchboard.Errorf(switchboard.ECONFLICT, "no")
	})
	wantCode(t, err, switchboard.ECONFLICT)
	_, err = f.db.UpdateMessageFunc(f.ctx, "msg_404", func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		return nil, nil, nil
	})
	wantCode(t, err, switchboard.ENOTFOUND)
	got, err = f.db.GetMessageByID(f.ctx, "msg_1")
	mustOK(t, err)
	h, err := f.db.MessageHistory(f.ctx, f.a.ID, "msg_1")
	mustOK(t, err)
	evs, _ = f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	if got.Status != switchboard.SMSSent || got.CarrierRef != "ref-1" || len(h) != 2 || h[1].Status != "sent" ||
		h[1].CarrierStatus != "ok" || len(evs) != 2 {
		t.Fatalf("after updates: %+v history %+v events %d", got, h, len(evs))
	}
}

// UpdateMessageFrom saves the change made to the claimed copy while the message is as
// claimed; once something else changed it (a delivery report that overtook the worker), the
// change runs on the message as stored instead, and the other change is kept.
func testSMSUpdateFrom(t *testing.T, f *fixture) {
	at := time.Now().UTC().Truncate(time.Millisecond)
	for _, id := range []string{"msg_a", "msg_b"} {
		mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, id, "+15551234567", "+15550001111", at), switchboard.MessageStatusChange{Status: switchboard.SMSQueued}, nil))
	}
	claimed, err := f.db.ClaimMessages(f.ctx, at, time.Minute, 10)
	mustOK(t, err)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d", len(claimed))
	}
	// What the worker writes after the carrier accepted: sent, unless no longer sending.
	markSent := func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		if m.Status != switchboard.SMSSending {
			m.CarrierRef = "ref-late"
			return nil, nil, nil
		}
		m.Status, m.CarrierRef = switchboard.SMSSent, "ref-1"
		return []switchboard.MessageStatusChange{{Status: switchboard.SMSSent}},
			[]*switchboard.Event{switchboard.NewEvent(m.AccountID, switchboard.EventSMSSent, map[string]any{"message_id": m.ID})}, nil
	}
	byID := map[string]*switchboard.Message{}
	for _, m := range claimed {
		byID[m.ID] = m
	}
	saved, err := f.db.UpdateMessageFrom(f.ctx, byID["msg_a"], markSent)
	mustOK(t, err)
	got, err := f.db.GetMessageByID(f.ctx, "msg_a")
	mustOK(t, err)
	if d := diff(saved, got); d != "" || got.Status != switchboard.SMSSent || got.CarrierRef != "ref-1" || got.Attempts != 1 {
		t.Fatalf("msg_a saved %+v stored %+v (-saved +stored):\n%s", saved, got, d)
	}

	// msg_b is delivered by a report before the worker records its send.
	_, err = f.db.UpdateMessageFunc(f.ctx, "msg_b", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.Status = switchboard.SMSDelivered
		return []switchboard.MessageStatusChange{{Status: switchboard.SMSDelivered}}, nil, nil
	})
	mustOK(t, err)
	_, err = f.db.UpdateMessageFrom(f.ctx, byID["msg_b"], markSent)
	mustOK(t, err)
	got, err = f.db.GetMessageByID(f.ctx, "msg_b")
	mustOK(t, err)
	h, err := f.db.MessageHistory(f.ctx, f.a.ID, "msg_b")
	mustOK(t, err)
	if got.Status != switchboard.SMSDelivered || got.CarrierRef != "ref-late" || len(h) != 3 || h[2].Status != switchboard.SMSDelivered {
		t.Fatalf("msg_b after a stale UpdateMessageFrom: %+v history %+v", got, h)
	}
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 10)
	mustOK(t, err)
	if len(evs) != 1 || evs[0].Data["message_id"] != "msg_a" {
		t.Fatalf("events: %+v", evs)
	}
	// A change that leaves status and attempts as they were is a new version too, however
	// soon it follows (updated_at moves forward at every write): a copy from before it is
	// stale. Back-to-back writes share a millisecond often enough to show it.
	for i := range 20 {
		before, err := f.db.GetMessageByID(f.ctx, "msg_a")
		mustOK(t, err)
		ref := fmt.Sprintf("elsewhere-%d", i)
		_, err = f.db.UpdateMessageFunc(f.ctx, "msg_a", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
			m.CarrierRef = ref
			return nil, nil, nil
		})
		mustOK(t, err)
		_, err = f.db.UpdateMessageFrom(f.ctx, before, func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
			m.Error = "note"
			return nil, nil, nil
		})
		mustOK(t, err)
		after, err := f.db.GetMessageByID(f.ctx, "msg_a")
		mustOK(t, err)
		if after.CarrierRef != ref || after.Error != "note" || !after.UpdatedAt.After(before.UpdatedAt) {
			t.Fatalf("write %d on a stale copy: ref %q (want %q), error %q, updated_at %v after %v", i, after.CarrierRef, ref, after.Error, after.UpdatedAt, before.UpdatedAt)
		}
		_, err = f.db.UpdateMessageFunc(f.ctx, "msg_a", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
			m.Error = ""
			return nil, nil, nil
		})
		mustOK(t, err)
	}
	// A failing change writes nothing.
	_, err = f.db.UpdateMessageFrom(f.ctx, got, func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.Status = switchboard.SMSFailed
		return nil, nil, switchboard.Errorf(switchboard.ECONFLICT, "no")
	})
	wantCode(t, err, switchboard.ECONFLICT)
	if again, _ := f.db.GetMessageByID(f.ctx, "msg_b"); again.Status != switchboard.SMSDelivered {
		t.Fatalf("a failed change was written: %+v", again)
	}
}

// The messages waiting for a user's phones are that user's inbound ones still pending, oldest
// first; delivered to a phone (phone_pending cleared), a message is no longer among them.
func testSMSPhonePending(t *testing.T, f *fixture) {
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Minute)
	inbound := func(id string, user int64, at time.Time) {
		t.Helper()
		m := smsMsg(f.a.ID, id, "+15550001111", "+15551234567", at)
		m.Direction, m.Status, m.PhonePending, m.PhoneUserID = switchboard.SMSInbound, switchboard.SMSReceived, true, user
		mustOK(t, f.db.CreateMessage(f.ctx, m, switchboard.MessageStatusChange{Status: switchboard.SMSReceived}, nil))
	}
	inbound("msg_later", 5, base.Add(2*time.Second))
	inbound("msg_first", 5, base)
	inbound("msg_other_user", 6, base.Add(time.Second))
	out := smsMsg(f.a.ID, "msg_out", "+15551234567", "+15550001111", base)
	out.PhoneUserID = 5
	mustOK(t, f.db.CreateMessage(f.ctx, out, switchboard.MessageStatusChange{Status: switchboard.SMSQueued}, nil))
	ids := func() string {
		t.Helper()
		pending, err := f.db.PhonePending(f.ctx, f.a.ID, 5)
		mustOK(t, err)
		var got []string
		for _, m := range pending {
			got = append(got, m.ID)
		}
		return strings.Join(got, " ")
	}
	if got := ids(); got != "msg_first msg_later" {
		t.Fatalf("pending for user 5: %q", got)
	}
	_, err := f.db.UpdateMessageFunc(f.ctx, "msg_first", func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.PhonePending = false
		return nil, nil, nil
	})
	mustOK(t, err)
	if got := ids(); got != "msg_later" {
		t.Fatalf("pending for user 5 after one was delivered: %q", got)
	}
}

// Claiming marks due messages sending with a lease and counts the attempt; a message whose
// lease ran out (its worker died) is claimed again; one not due is left alone.
func testSMSClaim(t *testing.T, f *fixture) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, "msg_due", "+1", "+2", now.Add(-time.Second)), switchboard.MessageStatusChange{Status: "queued"}, nil))
	mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.b.ID, "msg_later", "+1", "+2", now.Add(time.Hour)), switchboard.MessageStatusChange{Status: "queued"}, nil))
	in := smsMsg(f.a.ID, "msg_in", "+1", "+2", now.Add(-time.Second))
	in.Direction, in.Status, in.CarrierRef = switchboard.SMSInbound, switchboard.SMSReceived, "smsc-1"
	mustOK(t, f.db.CreateMessage(f.ctx, in, switchboard.MessageStatusChange{Status: "received"}, nil))
	byRef, err := f.db.GetInboundByCarrierRef(f.ctx, f.a.ID, in.NumberID, "simulator", "smsc-1")
	mustOK(t, err)
	if byRef.ID != "msg_in" {
		t.Fatalf("by carrier ref: %+v", byRef)
	}
	_, err = f.db.GetInboundByCarrierRef(f.ctx, f.b.ID, in.NumberID, "simulator", "smsc-1")
	wantCode(t, err, switchboard.ENOTFOUND)

	got, err := f.db.ClaimMessages(f.ctx, now, time.Minute, 10)
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != "msg_due" || got[0].Status != switchboard.SMSSending || got[0].Attempts != 1 {
		t.Fatalf("first claim: %+v", got)
	}
	// What a claim returns is the message as stored: the worker's later write
	// (UpdateMessageFrom) is conditional on that version.
	stored, err := f.db.GetMessageByID(f.ctx, "msg_due")
	mustOK(t, err)
	if d := diff(stored, got[0]); d != "" {
		t.Fatalf("claimed copy differs from the stored message (-stored +claimed):\n%s", d)
	}
	again, err := f.db.ClaimMessages(f.ctx, now.Add(30*time.Second), time.Minute, 10)
	mustOK(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed while leased: %+v", again)
	}
	again, err = f.db.ClaimMessages(f.ctx, now.Add(61*time.Second), time.Minute, 10)
	mustOK(t, err)
	if len(again) != 1 || again[0].ID != "msg_due" || again[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v", again)
	}
	h, err := f.db.MessageHistory(f.ctx, f.a.ID, "msg_due")
	mustOK(t, err)
	if len(h) != 3 || h[2].Error == "" {
		t.Fatalf("history of a reclaimed message: %+v", h)
	}
}

// A claim takes messages whose lease ran out first, then queued ones oldest first (by due
// time, then id), never one not yet due, and no more than its limit.
func testSMSClaimOrder(t *testing.T, f *fixture) {
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	create := func(id string, due time.Time) {
		t.Helper()
		mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, id, "+1", "+2", due), switchboard.MessageStatusChange{Status: "queued"}, nil))
	}
	// msg_lapsed is claimed at base with a 5-minute lease, which has run out by now.
	create("msg_lapsed", base)
	first, err := f.db.ClaimMessages(f.ctx, base, 5*time.Minute, 1)
	mustOK(t, err)
	if len(first) != 1 || first[0].ID != "msg_lapsed" {
		t.Fatalf("first claim: %+v", first)
	}
	// Created out of order: the order claimed is the due time's, then the id's.
	create("msg_q3", base.Add(3*time.Minute))
	create("msg_q1b", base.Add(time.Minute))
	create("msg_later", base.Add(2*time.Hour))
	create("msg_q1a", base.Add(time.Minute))
	claimed := func(limit int) []string {
		t.Helper()
		got, err := f.db.ClaimMessages(f.ctx, time.Now(), time.Minute, limit)
		mustOK(t, err)
		var ids []string
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got, want := claimed(3), []string{"msg_lapsed", "msg_q1a", "msg_q1b"}; !slices.Equal(got, want) {
		t.Fatalf("claimed %v, want %v (the lapsed lease first, then by due time and id)", got, want)
	}
	if got, want := claimed(10), []string{"msg_q3"}; !slices.Equal(got, want) {
		t.Fatalf("claimed %v, want %v (msg_later is not due)", got, want)
	}
}

// Two claimers side by side never get the same message, and together get all.
func testSMSConcurrentClaims(t *testing.T, f *fixture) {
	now := time.Now().UTC().Add(-time.Second)
	const n = 40
	for i := range n {
		mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, fmt.Sprintf("msg_%02d", i), "+1", "+2", now), switchboard.MessageStatusChange{Status: "queued"}, nil))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := f.db.ClaimMessages(f.ctx, time.Now(), time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

// Many writers at once (the store commits them together): each message is created with its
// history row and event; each update that succeeds is stored with its history row and event,
// and one whose change fails (or whose message does not exist) stores nothing and does not
// undo the others.
func testSMSConcurrentWrites(t *testing.T, f *fixture) {
	const n = 40
	at := time.Now().UTC().Truncate(time.Millisecond)
	id := func(i int) string { return fmt.Sprintf("msg_w%02d", i) }
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := switchboard.NewEvent(f.a.ID, switchboard.EventSMSReceived, map[string]any{"message_id": id(i)})
			if err := f.db.CreateMessage(f.ctx, smsMsg(f.a.ID, id(i), "+1", "+2", at), switchboard.MessageStatusChange{Status: "queued"},
				[]*switchboard.Event{ev}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	errs := make([]error, n+1)
	for i := range n + 1 { // the last one updates a message that does not exist
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.db.UpdateMessageFunc(f.ctx, id(i), func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
				m.Status, m.CarrierRef = switchboard.SMSSent, "ref-"+m.ID
				if i%4 == 0 {
					return nil, nil, switchboard.Errorf(switchboard.ECONFLICT, "refused")
				}
				return []switchboard.MessageStatusChange{{Status: switchboard.SMSSent}},
					[]*switchboard.Event{switchboard.NewEvent(m.AccountID, switchboard.EventSMSSent, map[string]any{"message_id": m.ID})}, nil
			})
		}()
	}
	wg.Wait()
	wantCode(t, errs[n], switchboard.ENOTFOUND)
	evs, err := f.db.ListEvents(f.ctx, f.a.ID, 0, 1000)
	mustOK(t, err)
	sentEvents := map[string]int{}
	for _, ev := range evs {
		if ev.Name == switchboard.EventSMSSent {
			sentEvents[ev.Data["message_id"].(string)]++
		}
	}
	if len(evs) != n+n-n/4 {
		t.Errorf("%d events, want %d created and %d sent", len(evs), n, n-n/4)
	}
	for i := range n {
		m, err := f.db.GetMessage(f.ctx, f.a.ID, id(i))
		mustOK(t, err)
		h, err := f.db.MessageHistory(f.ctx, f.a.ID, id(i))
		mustOK(t, err)
		if i%4 == 0 {
			wantCode(t, errs[i], switchboard.ECONFLICT)
			if m.Status != switchboard.SMSQueued || m.CarrierRef != "" || len(h) != 1 || sentEvents[id(i)] != 0 {
				t.Errorf("%s, whose change failed: %s %q, history %d, sms.sent %d", id(i), m.Status, m.CarrierRef, len(h), sentEvents[id(i)])
			}
			continue
		}
		mustOK(t, errs[i])
		if m.Status != switchboard.SMSSent || m.CarrierRef != "ref-"+id(i) || len(h) != 2 || sentEvents[id(i)] != 1 {
			t.Errorf("%s: %s %q, history %d, sms.sent %d", id(i), m.Status, m.CarrierRef, len(h), sentEvents[id(i)])
		}
	}
}

func testSMSSettingsAndPaging(t *testing.T, f *fixture) {
	s, err := f.db.GetSMSSettings(f.ctx, f.a.ID, 0)
	mustOK(t, err)
	if s.MaxParts != 0 || s.Carrier != "" {
		t.Fatalf("default settings: %+v", s)
	}
	put := &switchboard.SMSSettings{AccountID: f.a.ID, NumberID: 5, MaxParts: 3, Carrier: "kannel", AllowPremium: true,
		RatePerMinute: 60, KannelURL: "http://127.0.0.1:13013/cgi-bin/sendsms", KannelUser: "u", KannelPassword: []byte{1, 2, 3}, KannelSMSC: "fake"}
	mustOK(t, f.db.PutSMSSettings(f.ctx, put))
	put.MaxParts = 4
	mustOK(t, f.db.PutSMSSettings(f.ctx, put))
	got, err := f.db.GetSMSSettings(f.ctx, f.a.ID, 5)
	mustOK(t, err)
	if d := diff(put, got); d != "" {
		t.Fatalf("settings (-want +got):\n%s", d)
	}
	if other, _ := f.db.GetSMSSettings(f.ctx, f.b.ID, 5); other.Carrier != "" {
		t.Fatalf("account B sees A's settings: %+v", other)
	}

	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	for i := range 5 {
		m := smsMsg(f.a.ID, fmt.Sprintf("msg_p%d", i), "+15551234567", fmt.Sprintf("+1555000000%d", i%2), base.Add(time.Duration(i)*time.Minute))
		mustOK(t, f.db.CreateMessage(f.ctx, m, switchboard.MessageStatusChange{Status: "queued"}, nil))
	}
	mustOK(t, f.db.CreateMessage(f.ctx, smsMsg(f.b.ID, "msg_b", "+1", "+2", base), switchboard.MessageStatusChange{Status: "queued"}, nil))
	var ids []string
	cursor := ""
	for range 10 {
		page, more, err := f.db.PageMessages(f.ctx, f.a.ID, switchboard.MessageFilter{Limit: 2, Before: cursor})
		mustOK(t, err)
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if !more {
			break
		}
		cursor = page[len(page)-1].ID
	}
	if d := diff([]string{"msg_p4", "msg_p3", "msg_p2", "msg_p1", "msg_p0"}, ids); d != "" {
		t.Fatalf("pages newest first (-want +got):\n%s", d)
	}
	party, _, err := f.db.PageMessages(f.ctx, f.a.ID, switchboard.MessageFilter{Party: "+15550000001"})
	mustOK(t, err)
	none, _, err := f.db.PageMessages(f.ctx, f.a.ID, switchboard.MessageFilter{NumberIDs: []int64{}})
	mustOK(t, err)
	dated, _, err := f.db.PageMessages(f.ctx, f.a.ID, switchboard.MessageFilter{From: base.Add(90 * time.Second), To: base.Add(4 * time.Minute)})
	mustOK(t, err)
	if len(party) != 2 || len(none) != 0 || len(dated) != 2 {
		t.Fatalf("filters: party %d, no numbers %d, dated %d", len(party), len(none), len(dated))
	}
	conv, err := f.db.Conversations(f.ctx, f.a.ID, switchboard.MessageFilter{})
	mustOK(t, err)
	if len(conv) != 2 || conv[0].Party != "+15550000000" || conv[0].Count != 3 || conv[0].Last.ID != "msg_p4" ||
		conv[0].Number != "+15551234567" || conv[1].Count != 2 {
		t.Fatalf("conversations: %+v %+v", conv[0], conv[1])
	}
}

// An outbound message to a party that opted out of the number is not stored (checked in the
// insert's transaction); from another number, from the same number id of another account,
// or inbound from the party, it is; after START it is.
func testSMSOptOutRefused(t *testing.T, f *fixture) {
	mustOK(t, f.db.SetSMSOptOut(f.ctx, f.a.ID, 5, "+15550001111", true))
	mustOK(t, f.db.SetSMSOptOut(f.ctx, f.a.ID, 5, "+15550001111", true)) // twice is once
	now := time.Now().UTC()
	toOptedOut := smsMsg(f.a.ID, "msg_stop", "+15551234567", "+15550001111", now)
	toOptedOut.NumberID = 5
	if err := f.db.CreateMessage(f.ctx, toOptedOut, switchboard.MessageStatusChange{Status: "queued"}, nil); !errors.Is(err, switchboard.ErrOptedOut) {
		t.Fatalf("a message to an opted-out party: %v", err)
	}
	if _, err := f.db.GetMessageByID(f.ctx, "msg_stop"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("the refused message was stored: %v", err)
	}
	fromOther := smsMsg(f.a.ID, "msg_other", "+15551234568", "+15550001111", now)
	fromOther.NumberID = 6
	mustOK(t, f.db.CreateMessage(f.ctx, fromOther, switchboard.MessageStatusChange{Status: "queued"}, nil))
	otherAccount := smsMsg(f.b.ID, "msg_b", "+15551234567", "+15550001111", now)
	otherAccount.NumberID = 5
	mustOK(t, f.db.CreateMessage(f.ctx, otherAccount, switchboard.MessageStatusChange{Status: "queued"}, nil))
	reply := smsMsg(f.a.ID, "msg_reply", "+15550001111", "+15551234567", now)
	reply.Direction, reply.NumberID = switchboard.SMSInbound, 5
	mustOK(t, f.db.CreateMessage(f.ctx, reply, switchboard.MessageStatusChange{Status: "received"}, nil))
	mustOK(t, f.db.SetSMSOptOut(f.ctx, f.a.ID, 5, "+15550001111", false))
	mustOK(t, f.db.CreateMessage(f.ctx, toOptedOut, switchboard.MessageStatusChange{Status: "queued"}, nil))
}
