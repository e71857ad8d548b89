package webhook_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/events"
	"switchboard/internal/tstest"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// received is one request a receiver got.
type received struct {
	Method    string
	MessageID string
	Header    http.Header
	Body      string
	Query     string
}

// receiver is a real HTTP server whose answers a test scripts.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request, w http.ResponseWriter) // n counts requests from 0
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request, w http.ResponseWriter)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{r.Method, r.Header.Get("webhook-id"), r.Header.Clone(), string(body), r.URL.RawQuery})
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, r, w)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) ids() []string {
	var ids []string
	for _, r := range rc.requests() {
		ids = append(ids, r.MessageID)
	}
	return ids
}

func status(code int) func(int, *http.Request, http.ResponseWriter) {
	return func(_ int, _ *http.Request, w http.ResponseWriter) { w.WriteHeader(code) }
}

type fixture struct {
	db  *store.DB
	svc *webhook.Service
	// clock is the injected time: retries, Retry-After and leases are decided on it, so no
	// test sleeps to see what happens next.
	clock     *tstest.Clock
	accountID int64
	registry  *prometheus.Registry
}

func newFixture(t *testing.T, tweak ...func(*webhook.Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.NewSQLite(t), tweak...)
}

// newFixtureOn is newFixture on a store the test opened itself.
func newFixtureOn(t *testing.T, db *store.DB, tweak ...func(*webhook.Config)) *fixture {
	t.Helper()
	acc := &switchboard.Account{Name: "Acme"}
	if err := db.CreateAccount(context.Background(), acc); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	// The store dates new deliveries by the wall clock; the test clock starts a minute ahead
	// of it so that every delivery the test makes is due at once, and then moves only when
	// the test says so.
	start := time.Now().UTC().Truncate(time.Millisecond).Add(time.Minute)
	f := &fixture{db: db, clock: tstest.NewClock(start), accountID: acc.ID,
		registry: prometheus.NewRegistry()}
	cfg := webhook.Config{
		Store:     db,
		Policy:    webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Key:       key,
		Now:       f.clock.Now,
		Registry:  f.registry,
		Timeout:   5 * time.Second,
		RetryBase: 5 * time.Second,
		Rand:      func() float64 { return 0.5 }, // jitter factor exactly 1
		// Wired as cmd wires them for a store of its own.
		SingleNode:        db.Dialect() == store.DialectSQLite,
		DeliveriesCreated: db.DeliveriesCreated(),
	}
	for _, fn := range tweak {
		fn(&cfg)
	}
	svc, err := webhook.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) subscribe(t *testing.T, url, format string, retries *int, events ...string) (*switchboard.Webhook, string) {
	t.Helper()
	w, secret, err := f.svc.CreateWebhook(context.Background(), f.accountID, switchboard.WebhookChange{
		URL: ptr(url), Format: ptr(format), Events: events, Retries: retries})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w, secret
}

// event stores an event the way the rest of the server does: through the store, which
// fans it out to the subscriptions in the same transaction.
func (f *fixture) event(t *testing.T, name, callID string) *switchboard.Event {
	t.Helper()
	ex := events.Example(name, f.accountID, f.clock.Now())
	if ex == nil {
		t.Fatalf("no example event %q", name)
	}
	ev := switchboard.NewEvent(f.accountID, name, ex.Data)
	ev.CallID, ev.CRMID = callID, ex.CRMID
	ev.OccurredAt = f.clock.Now()
	if err := f.db.AppendEvents(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// runOnce runs one dispatcher round and returns how many deliveries it attempted.
func (f *fixture) runOnce(t *testing.T) int {
	t.Helper()
	n, err := f.svc.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) deliveries(t *testing.T, webhookID int64) []*switchboard.Delivery {
	t.Helper()
	list, _, err := f.svc.ListDeliveries(context.Background(), switchboard.DeliveryFilter{AccountID: f.accountID, WebhookID: webhookID})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestRetryScheduleBacksOffExponentially(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, status(500))
	w, _ := f.subscribe(t, rc.URL, "standard", ptr(3), "contact.created")
	ev := f.event(t, switchboard.EventContactCreated, "")

	// Attempts at 0, then retries after 5 s, 10 s and 20 s (base 5 s, doubling).
	for i, wait := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 20 * time.Second} {
		if wait > 0 {
			f.clock.Advance(wait - time.Millisecond)
			if n := f.runOnce(t); n != 0 {
				t.Fatalf("retry %d was sent %v early", i, time.Millisecond)
			}
			f.clock.Advance(time.Millisecond)
		}
		if n := f.runOnce(t); n != 1 {
			t.Fatalf("attempt %d: %d deliveries attempted, want 1", i+1, n)
		}
	}
	f.clock.Advance(time.Hour)
	if n := f.runOnce(t); n != 0 {
		t.Fatalf("a fifth attempt was made with retries 3")
	}
	for i, id := range rc.ids() {
		if id != ev.ID {
			t.Errorf("request %d carried webhook-id %q, want the event id %q on every retry", i, id, ev.ID)
		}
	}
	if len(rc.ids()) != 4 {
		t.Fatalf("receiver got %d requests, want 4", len(rc.ids()))
	}
	d, attempts, err := f.svc.GetDelivery(context.Background(), f.accountID, f.deliveries(t, w.ID)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != switchboard.DeliveryFailed || d.Attempts != 4 || len(attempts) != 4 {
		t.Errorf("delivery after retries: status %s, attempts %d, logs %d", d.Status, d.Attempts, len(attempts))
	}
	if a := attempts[3]; a.ResponseStatus != 500 || a.Error == "" || a.RequestBody == "" || a.RequestHeaders["Webhook-Id"] == nil {
		t.Errorf("attempt log = %+v", a)
	}
	if got := counterValue(t, f.registry, "switchboard_webhook_attempts_total", "failed"); got != 1 {
		t.Errorf("failed deliveries counted %v, want 1", got)
	}
}

func TestVoiceOverCloudKeepsItsRetryRule(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, status(503))
	f.subscribe(t, rc.URL, "voiceovercloud", nil, "call.inbound.started")
	f.event(t, switchboard.EventCallInboundStarted, "1704067200.1")

	if n := f.runOnce(t); n != 1 {
		t.Fatal("first attempt not made")
	}
	if n := f.runOnce(t); n != 1 {
		t.Fatal("voiceovercloud's immediate retry not made at once")
	}
	f.clock.Advance(999 * time.Millisecond)
	if n := f.runOnce(t); n != 0 {
		t.Fatal("the last retry came before 1 second")
	}
	f.clock.Advance(time.Millisecond)
	if n := f.runOnce(t); n != 1 {
		t.Fatal("the retry after 1 second was not made")
	}
	f.clock.Advance(time.Hour)
	if n := f.runOnce(t); n != 0 {
		t.Fatal("more than the documented three tries")
	}
	if got := len(rc.requests()); got != 3 {
		t.Errorf("receiver got %d requests, want 3", got)
	}
}

func TestEventsOfOneCallArriveInOrder(t *testing.T) {
	f := newFixture(t)
	// The call's first event fails once; everything else succeeds.
	var mu sync.Mutex
	failOnce := map[string]bool{}
	rc := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if id := r.Header.Get("webhook-id"); failOnce[id] {
			failOnce[id] = false
			w.WriteHeader(500)
		}
	})
	f.subscribe(t, rc.URL, "standard", ptr(2), "*")
	first := f.event(t, switchboard.EventContactCreated, "1704067200.7")
	mu.Lock()
	failOnce[first.ID] = true
	mu.Unlock()
	second := f.event(t, switchboard.EventContactUpdated, "1704067200.7")
	otherCall := f.event(t, switchboard.EventContactCreated, "1704067200.8")

	if n := f.runOnce(t); n != 2 {
		t.Fatalf("first round attempted %d, want 2 (the call's first event and the other call's)", n)
	}
	// The first failed and waits 5 s to retry; the second must not overtake it.
	f.clock.Advance(time.Second)
	if n := f.runOnce(t); n != 0 {
		t.Fatalf("the call's second event was sent while its first waits for a retry")
	}
	f.clock.Advance(4 * time.Second)
	f.runOnce(t)
	f.runOnce(t)
	want := map[string]int{} // message id -> position of its last request
	for i, id := range rc.ids() {
		want[id] = i
	}
	if len(rc.ids()) != 4 {
		t.Fatalf("requests %v, want 4", rc.ids())
	}
	if !(want[first.ID] < want[second.ID]) {
		t.Errorf("order %v: the call's second event arrived before its first succeeded", rc.ids())
	}
	if _, ok := want[otherCall.ID]; !ok {
		t.Errorf("another call's event was held back: %v", rc.ids())
	}
}

func TestALaterEventGoesOnceTheEarlierUsedUpItsRetries(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	failing := map[string]bool{}
	rc := newReceiver(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if failing[r.Header.Get("webhook-id")] {
			w.WriteHeader(500)
		}
	})
	f.subscribe(t, rc.URL, "standard", ptr(1), "*")
	first := f.event(t, switchboard.EventContactCreated, "1704067200.9")
	mu.Lock()
	failing[first.ID] = true
	mu.Unlock()
	second := f.event(t, switchboard.EventContactDeleted, "1704067200.9")
	f.runOnce(t) // first fails
	f.clock.Advance(5 * time.Second)
	f.runOnce(t) // first fails again: retries used up
	f.runOnce(t) // now the second may go
	if got := rc.ids(); len(got) != 3 || got[2] != second.ID {
		t.Errorf("requests %v, want first, first, second", got)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	w, _ := f.subscribe(t, rc.URL, "standard", nil, "*")
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	f.clock.Advance(119 * time.Second)
	if n := f.runOnce(t); n != 0 {
		t.Fatal("retried before the receiver's Retry-After")
	}
	f.clock.Advance(time.Second)
	if n := f.runOnce(t); n != 1 {
		t.Fatal("not retried when Retry-After was up")
	}
	if d := f.deliveries(t, w.ID)[0]; d.Status != switchboard.DeliverySucceeded {
		t.Errorf("delivery status %s, want succeeded", d.Status)
	}
}

func TestGoneDisablesTheSubscription(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, status(http.StatusGone))
	w, _ := f.subscribe(t, rc.URL, "standard", ptr(5), "*")
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	got, err := f.svc.GetWebhook(context.Background(), f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active || !strings.Contains(got.DisabledReason, "410") || !got.DisabledAt.Equal(f.clock.Now()) {
		t.Errorf("after 410: active %v, reason %q, at %v", got.Active, got.DisabledReason, got.DisabledAt)
	}
	if d := f.deliveries(t, w.ID)[0]; d.Status != switchboard.DeliveryFailed {
		t.Errorf("delivery %s, want failed without retries", d.Status)
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.clock.Advance(time.Hour)
	if n := f.runOnce(t); n != 0 || len(rc.requests()) != 1 {
		t.Errorf("a disabled subscription still receives")
	}
}

func TestConsecutiveFailuresDisableTheSubscription(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.DisableAfter = 3 })
	fail := true
	var mu sync.Mutex
	rc := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			w.WriteHeader(500)
		}
	})
	w, _ := f.subscribe(t, rc.URL, "standard", ptr(0), "*")
	active := func() bool {
		got, err := f.svc.GetWebhook(context.Background(), f.accountID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Active
	}
	// Two failures, a success (the run is broken), then three failures in a row.
	for i, ok := range []bool{false, false, true, false, false} {
		mu.Lock()
		fail = !ok
		mu.Unlock()
		f.event(t, switchboard.EventContactCreated, "")
		f.runOnce(t)
		if !active() {
			t.Fatalf("disabled after delivery %d; the failures were not consecutive", i+1)
		}
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	got, _ := f.svc.GetWebhook(context.Background(), f.accountID, w.ID)
	if got.Active || got.DisabledReason == "" || got.DisabledAt.IsZero() {
		t.Fatalf("after 3 failed deliveries in a row: active %v, reason %q", got.Active, got.DisabledReason)
	}
	// The user turns it back on: it works again.
	if _, err := f.svc.UpdateWebhook(context.Background(), f.accountID, w.ID, switchboard.WebhookChange{Active: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.GetWebhook(context.Background(), f.accountID, w.ID); !got.Active || got.DisabledReason != "" {
		t.Errorf("re-enabled: active %v, reason %q", got.Active, got.DisabledReason)
	}
}

func TestResendKeepsTheWebhookID(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	w, _ := f.subscribe(t, rc.URL, "standard", nil, "*")
	ev := f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	d := f.deliveries(t, w.ID)[0]
	n, err := f.svc.ResendDeliveries(context.Background(), f.accountID, []int64{d.ID})
	if err != nil || n != 1 {
		t.Fatalf("resend: %d, %v", n, err)
	}
	f.runOnce(t)
	if got := rc.ids(); len(got) != 2 || got[0] != ev.ID || got[1] != ev.ID {
		t.Errorf("webhook-ids %v, want the event id twice", got)
	}
}

func TestSecretIsSealedAndSignaturesVerify(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	w, secret := f.subscribe(t, rc.URL, "standard", nil, "*")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("secret %q, want a whsec_ secret", secret)
	}
	stored, err := f.db.GetWebhook(context.Background(), f.accountID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.SealedSecret) == 0 || strings.Contains(string(stored.SealedSecret), strings.TrimPrefix(secret, "whsec_")) {
		t.Fatalf("the secret is stored in plaintext")
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)

	// Rotation with a 60 s overlap: both the old and the new secret verify.
	_, newSecret, err := f.svc.RotateSecret(context.Background(), f.accountID, w.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)
	f.clock.Advance(61 * time.Second)
	f.event(t, switchboard.EventContactCreated, "")
	f.runOnce(t)

	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	verify := func(i int, s string) error {
		return webhook.VerifyStandard(s, reqs[i].Header, []byte(reqs[i].Body), time.Hour, f.clock.Now())
	}
	if err := verify(0, secret); err != nil {
		t.Errorf("first delivery does not verify with the secret: %v", err)
	}
	if err := verify(1, secret); err != nil {
		t.Errorf("during the overlap the old secret does not verify: %v", err)
	}
	if err := verify(1, newSecret); err != nil {
		t.Errorf("during the overlap the new secret does not verify: %v", err)
	}
	if err := verify(2, secret); err == nil {
		t.Errorf("after the overlap the old secret still verifies")
	}
	if err := verify(2, newSecret); err != nil {
		t.Errorf("after the overlap the new secret does not verify: %v", err)
	}
}

func TestReceiversMisbehavingMakeLoggedFailures(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.Timeout = 500 * time.Millisecond })
	huge := strings.Repeat("x", 8<<20)
	release := make(chan struct{})
	defer close(release)
	cases := map[string]http.HandlerFunc{
		"redirect": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
		"huge":     func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, huge) },
		"slow":     func(w http.ResponseWriter, r *http.Request) { <-release },
		"drop": func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		},
	}
	ids := map[string]int64{}
	for name, h := range cases {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		w, _ := f.subscribe(t, srv.URL, "standard", ptr(0), "*")
		ids[name] = w.ID
	}
	f.event(t, switchboard.EventContactCreated, "")
	if n := f.runOnce(t); n != 4 {
		t.Fatalf("attempted %d, want 4", n)
	}
	for name, id := range ids {
		ds := f.deliveries(t, id)
		d, attempts, err := f.svc.GetDelivery(context.Background(), f.accountID, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		a := attempts[0]
		switch name {
		case "redirect":
			if d.Status != switchboard.DeliveryFailed || a.ResponseStatus != 302 || !strings.Contains(a.Error, "redirect") {
				t.Errorf("redirect: status %s, logged %d %q", d.Status, a.ResponseStatus, a.Error)
			}
		case "huge":
			if d.Status != switchboard.DeliverySucceeded || len(a.ResponseBody) != 4096 {
				t.Errorf("huge answer: status %s, logged %d bytes of body, want succeeded and 4096", d.Status, len(a.ResponseBody))
			}
		case "slow", "drop":
			if d.Status != switchboard.DeliveryFailed || a.ResponseStatus != 0 || a.Error == "" {
				t.Errorf("%s: status %s, logged %d %q", name, d.Status, a.ResponseStatus, a.Error)
			}
		}
	}
}

func TestSlowReceiverDoesNotStallOthers(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) {
		c.Workers, c.PerEndpoint, c.Now = 8, 2, time.Now
		c.Timeout = time.Minute
	})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	fastGot := make(chan string, 100)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fastGot <- r.Header.Get("webhook-id")
	}))
	defer fast.Close()
	f.subscribe(t, slow.URL, "standard", nil, "contact.created")
	f.subscribe(t, fast.URL, "standard", nil, "contact.updated")
	for range 20 {
		f.event(t, switchboard.EventContactCreated, "") // a backlog at the slow receiver
	}
	want := map[string]bool{}
	for range 10 {
		want[f.event(t, switchboard.EventContactUpdated, "").ID] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.svc.Run(ctx) }()
	deadline := time.After(30 * time.Second) // a safety net for a hung test, not a measurement
	for len(want) > 0 {
		select {
		case id := <-fastGot:
			delete(want, id)
		case <-deadline:
			t.Fatalf("the fast receiver is still missing %d events while the slow one holds its requests", len(want))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// counterValue reads one series of a counter vector from the registry.
func counterValue(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s{outcome=%q} not registered", name, outcome)
	return 0
}
