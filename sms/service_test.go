package sms_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/sms"
	"switchboard/store"
)

type env struct {
	t          *testing.T
	ctx        context.Context
	db         *store.DB
	acc        *switchboard.Account
	john, jane *switchboard.User
	main, supp *switchboard.Number // main: John's; support: SMS-assigned to Jane
	noSMS      *switchboard.Number
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: db, acc: &switchboard.Account{Name: "Acme"}}
	must(t, db.CreateAccount(ctx, e.acc))
	e.john = &switchboard.User{AccountID: e.acc.ID, Extension: "1001", FirstName: "John", LastName: "Doe"}
	e.jane = &switchboard.User{AccountID: e.acc.ID, Extension: "1002", FirstName: "Jane", LastName: "Roe"}
	must(t, db.CreateUser(ctx, e.john))
	must(t, db.CreateUser(ctx, e.jane))
	e.main = &switchboard.Number{AccountID: e.acc.ID, Number: "+15551234567", SMSEnabled: true, OwnerUserID: e.john.ID, Status: "active"}
	e.supp = &switchboard.Number{AccountID: e.acc.ID, Number: "+15559876543", SMSEnabled: true, SMSAssignedUserID: e.jane.ID, Status: "active"}
	e.noSMS = &switchboard.Number{AccountID: e.acc.ID, Number: "+15551112222", Status: "active"}
	for _, n := range []*switchboard.Number{e.main, e.supp, e.noSMS} {
		must(t, db.CreateNumber(ctx, n))
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// service starts a service with its worker; it stops with the test.
func (e *env) service(cfg sms.Config) *sms.Service {
	cfg.Store = e.db
	if cfg.SimulatorDelay == 0 {
		cfg.SimulatorDelay = 5 * time.Millisecond
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	s := sms.New(cfg)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
	return s
}

func (e *env) send(s *sms.Service, from, to, body string, user int64) (*switchboard.SMSMessage, error) {
	return s.SendSMS(e.ctx, switchboard.SMSRequest{AccountID: e.acc.ID, FromNumber: from, To: to, Message: body,
		SentBy: user, UserKey: user != 0})
}

func (e *env) message(id string) *switchboard.Message {
	m, err := e.db.GetMessage(e.ctx, e.acc.ID, id)
	must(e.t, err)
	return m
}

func (e *env) waitStatus(id, status string) *switchboard.Message {
	e.t.Helper()
	var m *switchboard.Message
	tstest.WaitFor(e.t, "message "+id+" "+status, func() bool { m = e.message(id); return m.Status == status })
	return m
}

// history is the message's statuses in the order they were written, space-separated.
func (e *env) history(id string) string {
	e.t.Helper()
	h, err := e.db.MessageHistory(e.ctx, e.acc.ID, id)
	must(e.t, err)
	var statuses []string
	for _, c := range h {
		statuses = append(statuses, c.Status)
	}
	return strings.Join(statuses, " ")
}

func (e *env) events(name string) []*switchboard.Event {
	all, err := e.db.ListEvents(e.ctx, e.acc.ID, 0, 1000)
	must(e.t, err)
	var out []*switchboard.Event
	for _, ev := range all {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func code(err error) string { return switchboard.ErrorCode(err) }

func detail(err error, field string) string {
	if e, ok := err.(*switchboard.Error); ok {
		return e.Details[field]
	}
	return ""
}

// The whole path on the simulator: sms/send with a user key queues the message, the worker
// sends it (sms.sent with who sent it), the simulator reports it delivered (sms.delivered,
// same message_id), Unicode and GSM-7 extension characters come through unchanged, and the
// history shows every status.
func TestSendThroughTheSimulator(t *testing.T) {
	e := newEnv(t)
	s := e.service(sms.Config{DefaultCarrier: "simulator"})
	for _, body := range []string{"Γειά σου 😀 你好", "Price: 5€ [code] {x} ~ ^ | \\"} {
		res, err := e.send(s, "(555) 123-4567", "+1 555 000 1111", body, e.john.ID)
		must(t, err)
		if !strings.HasPrefix(res.MessageID, "msg_") || len(res.MessageID) != 36 || res.Status != "queued" ||
			res.From != "+15551234567" || res.To != "+15550001111" {
			t.Fatalf("answer %+v", res)
		}
		m := e.waitStatus(res.MessageID, switchboard.SMSDelivered)
		if m.Body != body || m.Carrier != "simulator" || m.CarrierRef == "" || m.SentByUserID != e.john.ID || m.Attempts != 1 {
			t.Fatalf("delivered message %+v", m)
		}
		if got := e.history(m.ID); got != "queued sending sent delivered" {
			t.Errorf("history %q", got)
		}
	}
	if e.message(e.events(switchboard.EventSMSSent)[0].Data["message_id"].(string)).Encoding != sms.UCS2 {
		t.Error("the Greek/emoji message is not UCS-2")
	}
	sent, delivered := e.events(switchboard.EventSMSSent), e.events(switchboard.EventSMSDelivered)
	if len(sent) != 2 || len(delivered) != 2 {
		t.Fatalf("events: %d sent, %d delivered", len(sent), len(delivered))
	}
	if sent[0].Data["message_id"] != delivered[0].Data["message_id"] || sent[0].Data["user_id"] != float64(e.john.ID) ||
		delivered[0].Data["status"] != "delivered" || delivered[0].Data["carrier_status"] != "DELIVRD" ||
		sent[0].Data["body"] != "Γειά σου 😀 你好" {
		t.Errorf("sent %v delivered %v", sent[0].Data, delivered[0].Data)
	}
	if to, _ := sent[0].Data["to"].([]any); len(to) != 1 || to[0] != "+15550001111" {
		t.Errorf("sms.sent to = %v, want a list of one", sent[0].Data["to"])
	}
}

// Every bad request is a 400 naming its field, before any 503; nothing is stored.
func TestSendRefusesBadRequests(t *testing.T) {
	e := newEnv(t)
	s := e.service(sms.Config{DefaultCarrier: "simulator"})
	for _, tc := range []struct {
		name, from, to, body string
		user                 int64
		field, says          string
	}{
		{"malformed from", "12ab", "+15550001111", "hi", 0, "from", "valid phone number"},
		{"from not the account's", "+16661234567", "+15550001111", "hi", 0, "from", "this account's numbers"},
		{"from without SMS", "+15551112222", "+15550001111", "hi", 0, "from", "SMS enabled"},
		{"another user's number", "+15551234567", "+15550001111", "hi", 0, "from", "you own"},
		{"malformed to", "+15551234567", "12ab", "hi", 0, "to", "valid phone number"},
		{"short code", "+15551234567", "73822", "hi", 0, "to", "short code"},
		{"premium", "+15551234567", "+19005551234", "hi", 0, "to", "premium"},
		{"empty", "+15551234567", "+15550001111", "", 0, "message", "required"},
		{"161 GSM-7", "+15551234567", "+15550001111", strings.Repeat("a", 161), 0, "message", "at most 160"},
		{"71 UCS-2", "+15551234567", "+15550001111", strings.Repeat("你", 71), 0, "message", "at most 70"},
		{"invalid UTF-8", "+15551234567", "+15550001111", "a\xffb", 0, "message", "UTF-8"},
	} {
		user := tc.user
		if tc.name == "another user's number" {
			user = e.jane.ID
		}
		_, err := e.send(s, tc.from, tc.to, tc.body, user)
		if code(err) != switchboard.EBADREQUEST || !strings.Contains(detail(err, tc.field), tc.says) {
			t.Errorf("%s: %v (details.%s %q)", tc.name, err, tc.field, detail(err, tc.field))
		}
	}
	if list, _, _ := e.db.PageMessages(e.ctx, e.acc.ID, switchboard.MessageFilter{}); len(list) != 0 {
		t.Fatalf("refused requests stored %d messages", len(list))
	}

	// The account's settings allow two parts, short codes and premium numbers.
	two, yes := 2, true
	_, err := s.UpdateSettings(e.ctx, e.acc.ID, sms.SettingsChange{MaxParts: &two, AllowPremium: &yes})
	must(t, err)
	res, err := e.send(s, "+15551234567", "+15550001111", strings.Repeat("a", 161), 0)
	must(t, err)
	if m := e.message(res.MessageID); m.Segments != 2 {
		t.Errorf("161 chars with sms_max_parts 2: %d segments", m.Segments)
	}
	_, err = e.send(s, "+15551234567", "73822", "hi", 0)
	must(t, err)
	_, err = e.send(s, "+15551234567", "+15550001111", strings.Repeat("a", 307), 0)
	if !strings.Contains(detail(err, "message"), "at most 306") {
		t.Errorf("307 chars in 2 parts: %v", err)
	}

	// No carrier for the account: 503, but only after the request is valid.
	bare := e.service(sms.Config{})
	_, err = e.send(bare, "+15551234567", "+15550001111", strings.Repeat("a", 400), 0)
	if code(err) != switchboard.EBADREQUEST {
		t.Errorf("invalid request without a carrier: %v", err)
	}
	_, err = e.send(bare, "+15551234567", "+15550001111", "hi", 0)
	if code(err) != switchboard.EUNAVAILABLE || !strings.Contains(err.Error(), "sms_carrier") {
		t.Errorf("valid request without a carrier: %v", err)
	}
}

// STOP from a recipient refuses further messages to them from that number (and only that
// number) with a clear 400; START lets them through again. Both are stored as received.
func TestOptOutKeywords(t *testing.T) {
	e := newEnv(t)
	s := e.service(sms.Config{DefaultCarrier: "simulator"})
	_, err := s.Receive(e.ctx, "simulator", "+15550001111", "+15551234567", " stop ", "")
	must(t, err)
	_, err = e.send(s, "+15551234567", "+15550001111", "hi", 0)
	if code(err) != switchboard.EBADREQUEST || !strings.Contains(detail(err, "to"), "opted out") || !strings.Contains(detail(err, "to"), "START") {
		t.Fatalf("send to an opted-out recipient: %v %v", err, detail(err, "to"))
	}
	_, err = e.send(s, "+15559876543", "+15550001111", "hi", 0) // another number of the account
	must(t, err)
	_, err = s.Receive(e.ctx, "simulator", "+15550001111", "+15551234567", "START", "")
	must(t, err)
	_, err = e.send(s, "+15551234567", "+15550001111", "hi again", 0)
	must(t, err)
}

// The simulator's magic numbers: one is reported undelivered after it was sent, one is
// refused at once; both end failed with sms.failed, the first after its sms.sent.
func TestSimulatorMagicNumbers(t *testing.T) {
	e := newEnv(t)
	s := e.service(sms.Config{DefaultCarrier: "simulator"})
	undeliv, err := e.send(s, "+15551234567", sms.SimulatorFailNumber, "hi", 0)
	must(t, err)
	refused, err := e.send(s, "+15551234567", sms.SimulatorRefuseNumber, "hi", 0)
	must(t, err)
	m := e.waitStatus(undeliv.MessageID, switchboard.SMSUndelivered)
	r := e.waitStatus(refused.MessageID, switchboard.SMSFailed)
	if !strings.Contains(m.Error, "UNDELIV") || !strings.Contains(r.Error, "refuses") || r.Attempts != 1 {
		t.Errorf("undelivered %q, refused %q after %d attempts", m.Error, r.Error, r.Attempts)
	}
	failed := e.events(switchboard.EventSMSFailed)
	if len(failed) != 2 || len(e.events(switchboard.EventSMSSent)) != 1 {
		t.Fatalf("%d sms.failed, %d sms.sent", len(failed), len(e.events(switchboard.EventSMSSent)))
	}
	// Reports are idempotent and unknown ids are NOT_FOUND.
	must(t, s.Report(e.ctx, e.acc.ID, "simulator", undeliv.MessageID, switchboard.SMSDelivered, "late"))
	if e.message(undeliv.MessageID).Status != switchboard.SMSUndelivered || len(e.events(switchboard.EventSMSDelivered)) != 0 {
		t.Error("a late report changed a final status")
	}
	if err := s.Report(e.ctx, e.acc.ID, "simulator", "msg_nope", switchboard.SMSDelivered, ""); code(err) != switchboard.ENOTFOUND {
		t.Errorf("report of an unknown id: %v", err)
	}
	if err := s.Report(e.ctx, e.acc.ID+1, "simulator", undeliv.MessageID, switchboard.SMSDelivered, ""); code(err) != switchboard.ENOTFOUND {
		t.Errorf("report naming another account: %v", err)
	}
	if err := s.Report(e.ctx, e.acc.ID, "kannel", undeliv.MessageID, switchboard.SMSDelivered, ""); code(err) != switchboard.ENOTFOUND {
		t.Errorf("report from a carrier that did not send it: %v", err)
	}
}

// countingCarrier counts every Send per message and dedupes nothing: a message it sees
// twice was sent twice.
type countingCarrier struct {
	mu    sync.Mutex
	count map[string]int
	block chan struct{} // when set, Send waits on it (or ctx) and fails: a worker that hangs
}

func (c *countingCarrier) Name() string { return "counting" }

func (c *countingCarrier) Send(ctx context.Context, m *switchboard.Message) (string, error) {
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
		}
		return "", &switchboard.CarrierError{Reason: "hung"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count[m.ID]++
	return "c-" + m.ID, nil
}

// A worker dies between claiming a batch and sending it (its carrier hangs, its process is
// stopped): after its lease runs out, a new worker sends every message, each exactly once.
func TestOutboxCrashSendsEachMessageOnce(t *testing.T) {
	e := newEnv(t)
	hung := &countingCarrier{block: make(chan struct{})}
	reg := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return hung, nil }}
	first := sms.New(sms.Config{Store: e.db, DefaultCarrier: "kannel", Carriers: reg, Lease: 200 * time.Millisecond})
	const n = 30
	var ids []string
	for range n {
		res, err := e.send(first, "+15551234567", "+15550001111", "hi", 0)
		must(t, err)
		ids = append(ids, res.MessageID)
	}
	ctx, crash := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = first.Drain(ctx) }()
	tstest.WaitFor(t, "the first worker to claim the batch", func() bool { return e.message(ids[0]).Status == switchboard.SMSSending })
	crash() // the worker stops mid-batch: its claims stay "sending"
	<-done
	if m := e.message(ids[n-1]); m.Status != switchboard.SMSSending || m.Attempts != 1 {
		t.Fatalf("after the crash the last message is %s after %d attempts", m.Status, m.Attempts)
	}

	counting := &countingCarrier{count: map[string]int{}}
	reg2 := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return counting, nil }}
	// The new worker's own lease is the default: its sends must not outlast it, whatever the
	// machine's load (a claim that runs out while its send is recorded is claimed again).
	e.service(sms.Config{DefaultCarrier: "kannel", Carriers: reg2})
	for _, id := range ids {
		e.waitStatus(id, switchboard.SMSSent)
	}
	counting.mu.Lock()
	defer counting.mu.Unlock()
	if len(counting.count) != n {
		t.Fatalf("the carrier saw %d messages, want %d", len(counting.count), n)
	}
	for id, c := range counting.count {
		if c != 1 {
			t.Errorf("%s sent %d times", id, c)
		}
	}
	if got := len(e.events(switchboard.EventSMSSent)); got != n {
		t.Errorf("%d sms.sent events, want %d", got, n)
	}
}

// A carrier that is down: the message is queued again with a growing wait and its error,
// then sent once the carrier is back.
func TestTemporaryFailuresRetry(t *testing.T) {
	e := newEnv(t)
	c := &flakyCarrier{fails: 1}
	reg := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return c, nil }}
	s := sms.New(sms.Config{Store: e.db, DefaultCarrier: "kannel", Carriers: reg})
	res, err := e.send(s, "+15551234567", "+15550001111", "hi", 0)
	must(t, err)
	_, err = s.Drain(e.ctx)
	must(t, err)
	m := e.message(res.MessageID)
	if m.Status != switchboard.SMSQueued || !strings.Contains(m.Error, "connection refused") || !m.NextAttemptAt.After(time.Now()) {
		t.Fatalf("after a temporary failure: %+v", m)
	}
	if sms.Backoff(1) >= sms.Backoff(2) || sms.Backoff(20) != 10*time.Minute {
		t.Errorf("backoff %v %v %v", sms.Backoff(1), sms.Backoff(2), sms.Backoff(20))
	}
}

type flakyCarrier struct{ fails int }

func (c *flakyCarrier) Name() string { return "kannel" }
func (c *flakyCarrier) Send(context.Context, *switchboard.Message) (string, error) {
	if c.fails > 0 {
		c.fails--
		return "", &switchboard.CarrierError{Reason: "smsbox: connection refused"}
	}
	return "k1", nil
}

// A number's send rate holds back what is over it: queued again, the attempt not counted.
func TestNumberRate(t *testing.T) {
	e := newEnv(t)
	c := &countingCarrier{count: map[string]int{}}
	reg := map[string]sms.CarrierFactory{"kannel": func(sms.CarrierConfig) (switchboard.SMSCarrier, error) { return c, nil }}
	s := sms.New(sms.Config{Store: e.db, DefaultCarrier: "kannel", Carriers: reg})
	six := 6 // a bucket of one message
	_, err := s.UpdateSettings(e.ctx, e.acc.ID, sms.SettingsChange{NumberID: e.main.ID, RatePerMinute: &six})
	must(t, err)
	var ids []string
	for range 3 {
		res, err := e.send(s, "+15551234567", "+15550001111", "hi", 0)
		must(t, err)
		ids = append(ids, res.MessageID)
	}
	_, err = s.Drain(e.ctx)
	must(t, err)
	sent, held := 0, 0
	for _, id := range ids {
		switch m := e.message(id); {
		case m.Status == switchboard.SMSSent:
			sent++
		case m.Status == switchboard.SMSQueued && m.Attempts == 0 && m.NextAttemptAt.After(time.Now()):
			held++
		}
	}
	if sent != 1 || held != 2 {
		t.Fatalf("at 6 a minute: %d sent, %d held back", sent, held)
	}
}

// phones is a PhoneMessenger whose users are online or not.
type phones struct {
	mu     sync.Mutex
	online map[int64]bool
	got    map[int64][]string
}

func (p *phones) DeliverToUser(_ context.Context, _, userID int64, from, body string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.online[userID] {
		return 0, nil
	}
	p.got[userID] = append(p.got[userID], from+": "+body)
	return 1, nil
}

// Inbound SMS reach the number's SMS user's phones (and sms.received); phone-to-phone
// messages to an offline user wait for their REGISTER; a phone's message to a number goes
// out from the user's SMS number.
func TestPhones(t *testing.T) {
	e := newEnv(t)
	s := e.service(sms.Config{DefaultCarrier: "simulator"})
	p := &phones{online: map[int64]bool{e.jane.ID: true}, got: map[int64][]string{}}
	s.SetPhoneMessenger(p)

	in, err := s.Receive(e.ctx, "simulator", "+15550001111", "+15559876543", "Καλημέρα 👋", "")
	must(t, err)
	if in.Status != switchboard.SMSReceived || e.message(in.ID).PhonePending || len(p.got[e.jane.ID]) != 1 ||
		p.got[e.jane.ID][0] != "+15550001111: Καλημέρα 👋" {
		t.Fatalf("inbound to Jane's line: %+v, phones got %v", e.message(in.ID), p.got)
	}
	rec := e.events(switchboard.EventSMSReceived)
	if len(rec) != 1 || rec[0].Data["message_id"] != in.ID || rec[0].Data["body"] != "Καλημέρα 👋" {
		t.Fatalf("sms.received %v", rec)
	}
	// The same message delivered twice under the carrier's reference (and without the +) is
	// stored once.
	r1, err := s.Receive(e.ctx, "kannel", "15550001111", "15559876543", "again", "smsc-42")
	must(t, err)
	r2, err := s.Receive(e.ctx, "kannel", "15550001111", "15559876543", "again", "smsc-42")
	must(t, err)
	if r1.ID != r2.ID || r1.From != "+15550001111" || len(e.events(switchboard.EventSMSReceived)) != 2 {
		t.Errorf("a repeated delivery: %s / %s, %d sms.received", r1.ID, r2.ID, len(e.events(switchboard.EventSMSReceived)))
	}
	if _, err := s.Receive(e.ctx, "simulator", "+15550001111", "+15551112222", "hi", ""); code(err) != switchboard.ENOTFOUND {
		t.Errorf("inbound to a number without SMS: %v", err)
	}

	// Jane texts John's extension while John is offline: stored, delivered at his REGISTER.
	m, err := s.FromPhone(e.ctx, e.acc.ID, e.jane.ID, "1001", "lunch?")
	must(t, err)
	if !m.PhonePending || m.Status != switchboard.SMSSent {
		t.Fatalf("to an offline phone: %+v", m)
	}
	p.mu.Lock()
	p.online[e.john.ID] = true
	p.mu.Unlock()
	s.UserRegistered(e.ctx, e.acc.ID, e.john.ID)
	if got := e.message(m.ID); got.PhonePending || got.Status != switchboard.SMSDelivered || len(p.got[e.john.ID]) != 1 {
		t.Fatalf("after REGISTER: %+v, John's phones got %v", got, p.got[e.john.ID])
	}

	// Jane texts a number: it goes from her SMS-assigned line.
	out, err := s.FromPhone(e.ctx, e.acc.ID, e.jane.ID, "+15550001111", "on my way")
	must(t, err)
	if out.From != "+15559876543" || out.SentByUserID != e.jane.ID {
		t.Fatalf("from Jane's phone: %+v", out)
	}
	e.waitStatus(out.ID, switchboard.SMSDelivered)
}
