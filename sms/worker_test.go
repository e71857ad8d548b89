package sms_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/sms"
)

// gatedCarrier holds every send to one recipient until released (whatever the worker's
// context says, as a carrier answering late does); it accepts the others at once.
type gatedCarrier struct {
	hold              string
	holding, released chan struct{}
	holdOnce, relOnce sync.Once
	mu                sync.Mutex
	sent              map[string]int
}

func newGated(hold string) *gatedCarrier {
	return &gatedCarrier{hold: hold, holding: make(chan struct{}), released: make(chan struct{}), sent: map[string]int{}}
}

func (c *gatedCarrier) release() { c.relOnce.Do(func() { close(c.released) }) }

func (c *gatedCarrier) registry() map[string]sms.CarrierFactory {
	return map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return c, nil }}
}

func (c *gatedCarrier) Name() string { return "kannel" }

func (c *gatedCarrier) Send(_ context.Context, m *switchboard.Message) (string, error) {
	if m.To == c.hold {
		c.holdOnce.Do(func() { close(c.holding) })
		<-c.released
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.ID]++
	return "g-" + m.ID, nil
}

func waitClosed(t *testing.T, what string, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("still waiting for %s", what)
	}
}

// A carrier that is slow to answer one message holds up only that message: messages queued
// meanwhile are claimed and sent while it waits.
func TestWorkerSendsPastASlowAnswer(t *testing.T) {
	e := newEnv(t)
	c := newGated("+15550009999")
	defer c.release() // a failing test does not leave the worker waiting
	s := e.service(sms.Config{DefaultCarrier: "kannel", Carriers: c.registry()})
	slow, err := e.send(s, "+15551234567", "+15550009999", "slow", 0)
	must(t, err)
	waitClosed(t, "the carrier to get the slow message", c.holding)
	e.sendUntilSent(s, 20, "+1555000%04d")
	if m := e.message(slow.MessageID); m.Status != switchboard.SMSSending {
		t.Fatalf("the slow message is %s before its carrier answered", m.Status)
	}
	c.release()
	e.waitStatus(slow.MessageID, switchboard.SMSSent)
}

// sendUntilSent sends n messages from the main number, to the numbers toFormat makes of
// 0…n-1, and waits until they are all sent; it returns their ids.
func (e *env) sendUntilSent(s *sms.Service, n int, toFormat string) []string {
	e.t.Helper()
	var ids []string
	for i := range n {
		res, err := e.send(s, "+15551234567", fmt.Sprintf(toFormat, i), "hi", 0)
		must(e.t, err)
		ids = append(ids, res.MessageID)
	}
	for _, id := range ids {
		e.waitStatus(id, switchboard.SMSSent)
	}
	return ids
}

// A worker that is stopped while a carrier is taking a message still records the carrier's
// acceptance: otherwise the message would be sent again after the restart.
func TestStoppingWorkerRecordsWhatTheCarrierAccepted(t *testing.T) {
	e := newEnv(t)
	c := newGated("+15550009999")
	defer c.release()
	s := sms.New(sms.Config{Store: e.db, DefaultCarrier: "kannel", Carriers: c.registry(), PollInterval: 20 * time.Millisecond})
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	res, err := e.send(s, "+15551234567", "+15550009999", "accepted while the server stops", 0)
	must(t, err)
	waitClosed(t, "the carrier to get the message", c.holding)
	stop()
	c.release() // the carrier answers "accepted" after the server began to stop
	waitClosed(t, "the worker to stop", done)
	if m := e.message(res.MessageID); m.Status != switchboard.SMSSent || m.CarrierRef != "g-"+res.MessageID {
		t.Fatalf("after the worker stopped: %s %q", m.Status, m.CarrierRef)
	}
	if got := len(e.events(switchboard.EventSMSSent)); got != 1 {
		t.Fatalf("%d sms.sent events, want 1", got)
	}
}

// settingsReads counts the store's reads of SMS settings.
type settingsReads struct {
	sms.Store
	mu sync.Mutex
	n  int
}

func (s *settingsReads) GetSMSSettings(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Store.GetSMSSettings(ctx, accountID, numberID)
}

// The worker reads the settings of a claimed batch once per account and number, not per
// message.
func TestWorkerReadsSettingsOncePerClaim(t *testing.T) {
	e := newEnv(t)
	c := newGated("")
	st := &settingsReads{Store: e.db}
	s := sms.New(sms.Config{Store: st, DefaultCarrier: "kannel", Carriers: c.registry()})
	for range 10 {
		_, err := e.send(s, "+15551234567", "+15550001111", "hi", 0)
		must(t, err)
	}
	st.mu.Lock()
	st.n = 0
	st.mu.Unlock()
	n, err := s.Drain(e.ctx)
	must(t, err)
	if n != 10 || len(c.sent) != 10 {
		t.Fatalf("claimed %d, sent %d, want 10", n, len(c.sent))
	}
	if st.n != 2 {
		t.Fatalf("%d settings reads for 10 messages of one number, want 2 (the account's and the number's)", st.n)
	}
}

// A delivery report that comes while the worker still waits for the carrier's answer records
// "sent" (with sms.sent) and then the report, in that order; the worker's late answer then
// only adds the carrier's reference.
func TestReportOvertakingTheWorker(t *testing.T) {
	e := newEnv(t)
	c := newGated("+15550009999")
	defer c.release()
	s := e.service(sms.Config{DefaultCarrier: "kannel", Carriers: c.registry()})
	res, err := e.send(s, "+15551234567", "+15550009999", "quick report", 0)
	must(t, err)
	waitClosed(t, "the carrier to get the message", c.holding)
	must(t, s.Report(e.ctx, e.acc.ID, "kannel", res.MessageID, switchboard.SMSDelivered, "DELIVRD"))
	c.release()
	tstest.WaitFor(t, "the worker to record the carrier's reference", func() bool { return e.message(res.MessageID).CarrierRef != "" })
	if got := e.history(res.MessageID); got != "queued sending sent delivered" || e.message(res.MessageID).Status != switchboard.SMSDelivered {
		t.Fatalf("history %q, status %s", got, e.message(res.MessageID).Status)
	}
	sent, delivered := e.events(switchboard.EventSMSSent), e.events(switchboard.EventSMSDelivered)
	if len(sent) != 1 || len(delivered) != 1 || sent[0].Seq > delivered[0].Seq {
		t.Fatalf("%d sms.sent and %d sms.delivered events, in the wrong order or not once each", len(sent), len(delivered))
	}
}

// countingStore counts the message updates the worker writes.
type countingStore struct {
	sms.Store
	updates atomic.Int64
}

func (c *countingStore) UpdateMessageFunc(ctx context.Context, id string,
	change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	c.updates.Add(1)
	return c.Store.UpdateMessageFunc(ctx, id, change)
}

// A backlog over a number's rate waits in line: each message held back is given its own turn,
// one token apart, and is written once for it, rather than claimed and held back again, all
// of them, every time a token comes.
func TestRateBacklogWaitsInLine(t *testing.T) {
	e := newEnv(t)
	c := &countingCarrier{count: map[string]int{}}
	reg := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return c, nil }}
	cs := &countingStore{Store: e.db}
	s := sms.New(sms.Config{Store: cs, DefaultCarrier: "kannel", Carriers: reg})
	// One every 10 s, a bucket of one: the first turn comes long after the backlog is handled,
	// however slow the run.
	perMinute := 6
	_, err := s.UpdateSettings(e.ctx, e.acc.ID, sms.SettingsChange{NumberID: e.main.ID, RatePerMinute: &perMinute})
	must(t, err)
	const n = 100
	for range n {
		_, err := e.send(s, "+15551234567", "+15550001111", "hi", 0)
		must(t, err)
	}
	// The worker runs until every message is sent or waiting for its turn.
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var queued []*switchboard.Message
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not settle in 30 s: %d of %d messages queued", len(queued), n)
		}
		time.Sleep(20 * time.Millisecond)
		queued, _, err = e.db.PageMessages(e.ctx, e.acc.ID, switchboard.MessageFilter{Status: switchboard.SMSQueued, Limit: n})
		must(t, err)
		if len(queued) == n-1 {
			break
		}
	}
	c.mu.Lock()
	sent := len(c.count)
	c.mu.Unlock()
	if sent != 1 {
		t.Fatalf("sent %d with a bucket of one", sent)
	}
	// Each message is written once: sent, or held back until its turn.
	if got := cs.updates.Load(); got > n+5 {
		t.Fatalf("%d message updates for %d messages: the held-back backlog was claimed and held back again", got, n)
	}
	var first, last time.Time
	for _, m := range queued {
		if m.Attempts != 0 {
			t.Fatalf("a message held back by the rate counts %d attempts", m.Attempts)
		}
		if first.IsZero() || m.NextAttemptAt.Before(first) {
			first = m.NextAttemptAt
		}
		if m.NextAttemptAt.After(last) {
			last = m.NextAttemptAt
		}
	}
	// Their turns are a token apart: 10 s, whatever the time the run took.
	want := time.Duration(len(queued)-1) * 10 * time.Second
	if spread := last.Sub(first); spread < want*9/10 || spread > want*11/10 {
		t.Fatalf("the %d messages held back have turns spread over %v: want about %v, a token apart", len(queued), spread, want)
	}
}

// One number's backlog over its rate does not hold back the account's other numbers: a
// message waiting for its number's token does not take the account's tokens until it goes.
func TestNumberBacklogLeavesTheAccountsOtherNumbers(t *testing.T) {
	e := newEnv(t)
	c := &countingCarrier{count: map[string]int{}}
	reg := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return c, nil }}
	s := sms.New(sms.Config{Store: e.db, DefaultCarrier: "kannel", Carriers: reg})
	accountRate, numberRate := 60, 6 // buckets of 10 and 1
	_, err := s.UpdateSettings(e.ctx, e.acc.ID, sms.SettingsChange{RatePerMinute: &accountRate})
	must(t, err)
	_, err = s.UpdateSettings(e.ctx, e.acc.ID, sms.SettingsChange{NumberID: e.main.ID, RatePerMinute: &numberRate})
	must(t, err)
	for range 30 {
		_, err := e.send(s, "+15551234567", "+15550001111", "hi", 0)
		must(t, err)
	}
	_, err = s.Drain(e.ctx)
	must(t, err)
	other, err := e.send(s, "+15559876543", "+15550002222", "from the other number", 0)
	must(t, err)
	_, err = s.Drain(e.ctx)
	must(t, err)
	if m := e.message(other.MessageID); m.Status != switchboard.SMSSent {
		t.Fatalf("the other number's message is %s (next attempt in %v): held back by the first number's backlog",
			m.Status, time.Until(m.NextAttemptAt).Round(time.Second))
	}
}

// funcUpdates counts the store's UpdateMessageFunc calls (the writes that read the message
// first).
type funcUpdates struct {
	sms.Store
	n atomic.Int64
}

func (s *funcUpdates) UpdateMessageFunc(ctx context.Context, id string, change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	s.n.Add(1)
	return s.Store.UpdateMessageFunc(ctx, id, change)
}

// A delivery report for a message this process recorded as sent changes the copy it kept,
// without reading the message; one for a message changed since (here by another writer)
// reads it and keeps that change.
func TestReportOnTheRememberedCopy(t *testing.T) {
	e := newEnv(t)
	c := newGated("")
	st := &funcUpdates{Store: e.db}
	s := sms.New(sms.Config{Store: st, DefaultCarrier: "kannel", Carriers: c.registry(), PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ids := e.sendUntilSent(s, 2, "+155500011%02d")
	before := st.n.Load()
	must(t, s.Report(e.ctx, e.acc.ID, "kannel", ids[0], switchboard.SMSDelivered, "DELIVRD"))
	if st.n.Load() != before {
		t.Error("the report for a message just sent read it first")
	}
	// Another writer changes the second message after it was sent.
	_, err := e.db.UpdateMessageFunc(e.ctx, ids[1], func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		m.CarrierRef = "changed elsewhere"
		return nil, nil, nil
	})
	must(t, err)
	must(t, s.Report(e.ctx, e.acc.ID, "kannel", ids[1], switchboard.SMSUndelivered, "UNDELIV"))
	for i, want := range []string{switchboard.SMSDelivered, switchboard.SMSUndelivered} {
		m := e.message(ids[i])
		h, err := e.db.MessageHistory(e.ctx, e.acc.ID, ids[i])
		must(t, err)
		if m.Status != want || m.CarrierRef != map[int]string{0: "g-" + ids[0], 1: "changed elsewhere"}[i] || h[len(h)-1].Status != want {
			t.Errorf("message %d after its report: %s ref %q, history %+v", i, m.Status, m.CarrierRef, h)
		}
	}
	if got := len(e.events(switchboard.EventSMSDelivered)) + len(e.events(switchboard.EventSMSFailed)); got != 2 {
		t.Errorf("%d report events, want 2", got)
	}
	// A second report for the same message changes nothing.
	must(t, s.Report(e.ctx, e.acc.ID, "kannel", ids[0], switchboard.SMSUndelivered, "LATE"))
	if m := e.message(ids[0]); m.Status != switchboard.SMSDelivered {
		t.Errorf("a late second report changed a delivered message to %s", m.Status)
	}
}

// heldRecords holds the worker's record of a carrier's answer until released, and counts the
// writes that read the message first.
type heldRecords struct {
	funcUpdates
	holding, released chan struct{}
	once              sync.Once
}

func (h *heldRecords) UpdateMessageFrom(ctx context.Context, known *switchboard.Message, change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	if known.Status == switchboard.SMSSending {
		h.once.Do(func() { close(h.holding) })
		<-h.released
	}
	return h.Store.UpdateMessageFrom(ctx, known, change)
}

// A delivery report that comes after the carrier took the message and before the worker's
// record of it is written waits for that record and then changes its copy: it reads nothing,
// and the record does not find the message changed under it.
func TestReportWaitsForTheRecordOfTheSend(t *testing.T) {
	e := newEnv(t)
	st := &heldRecords{funcUpdates: funcUpdates{Store: e.db}, holding: make(chan struct{}), released: make(chan struct{})}
	s := sms.New(sms.Config{Store: st, DefaultCarrier: "kannel", Carriers: newGated("").registry(), PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	res, err := e.send(s, "+15551234567", "+15550001234", "hi", 0)
	must(t, err)
	waitClosed(t, "the worker to record the carrier's answer", st.holding)
	reported := make(chan error, 1)
	go func() {
		reported <- s.Report(e.ctx, e.acc.ID, "kannel", res.MessageID, switchboard.SMSDelivered, "DELIVRD")
	}()
	time.Sleep(50 * time.Millisecond)
	close(st.released)
	must(t, <-reported)
	if n := st.n.Load(); n != 0 {
		t.Errorf("%d writes read the message first, want none", n)
	}
	if got := e.history(res.MessageID); got != "queued sending sent delivered" {
		t.Errorf("history %q", got)
	}
	if len(e.events(switchboard.EventSMSSent)) != 1 || len(e.events(switchboard.EventSMSDelivered)) != 1 {
		t.Error("want one sms.sent and one sms.delivered")
	}
}
