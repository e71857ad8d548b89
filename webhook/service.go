package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/events"
)

// Config configures the webhook service. Store is required; zero values of the rest get the
// defaults named on each field.
type Config struct {
	Store  switchboard.WebhookStore // *store.DB
	Policy URLPolicy                // which URLs and addresses subscriptions may use
	Key    []byte                   // 32 bytes: seals subscription secrets at rest (AES-256-GCM)
	Now    func() time.Time         // default time.Now
	Logger *slog.Logger             // default slog.Default()
	// Registry receives the webhook metrics; nil = no metrics.
	Registry *prometheus.Registry

	Timeout      time.Duration  // one attempt; default 10 s
	Workers      int            // deliveries in flight at once (per node); default 32
	PerEndpoint  int            // deliveries in flight at once to one subscription (all nodes); default 8
	DisableAfter int            // consecutive failed deliveries that turn a subscription off; 0 = never
	Retention    time.Duration  // how long finished deliveries and their logs are kept; default 30 days
	RetryBase    time.Duration  // first retry's delay, doubled for each next one; default 5 s
	PollInterval time.Duration  // how often an idle node looks for due deliveries; default 25 ms
	Rand         func() float64 // jitter source in [0, 1); default math/rand
	// SingleNode says no other process claims deliveries from this database (SQLite): Run
	// then releases every lease at start instead of waiting for a crashed run's leases to
	// expire. The caller knows the database; false is always safe, only slower after a crash.
	SingleNode bool
	// DeliveriesCreated signals that events created deliveries (the store's channel of that
	// name), so that an idle node need not wait for its next poll; nil = poll only.
	DeliveriesCreated <-chan struct{}
}

// DefaultFormat is the format of a subscription created without one. The REST API is
// Voice360's, and integrations written for it expect its payloads.
const DefaultFormat = "voice360"

// Service manages subscriptions for the API and delivers the outbox.
type Service struct {
	cfg     Config
	sealer  *Sealer
	client  *http.Client
	metrics *metrics
}

// NewService checks cfg and fills its defaults.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhook: Config.Store is required")
	}
	sealer, err := NewSealer(cfg.Key)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.PerEndpoint <= 0 {
		// Half the workers: one slow receiver holds at most half of them, and one fast
		// receiver still gets batches big enough for the single SQLite writer.
		cfg.PerEndpoint = max(1, cfg.Workers/2)
	}
	if cfg.DisableAfter < 0 {
		cfg.DisableAfter = 0
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 5 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 25 * time.Millisecond
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	// Every worker may talk to the same receiver: keep that many connections warm.
	client := NewHTTPClientConns(cfg.Policy, cfg.Timeout, cfg.Workers)
	s := &Service{cfg: cfg, sealer: sealer, client: client, metrics: newMetrics(cfg.Registry)}
	return s, nil
}

// Run delivers until ctx ends: the dispatcher, the pending-delivery gauges and the pruning
// of old logs. It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if s.cfg.SingleNode {
		if err := s.cfg.Store.ReleaseDeliveryLeases(ctx); err != nil {
			return fmt.Errorf("webhook: releasing the previous run's claims: %w", err)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); s.housekeeping(ctx) }()
	err := s.dispatch(ctx)
	<-done
	return err
}

// housekeeping refreshes the pending gauges every few seconds and prunes old logs hourly.
func (s *Service) housekeeping(ctx context.Context) {
	stats := time.NewTicker(5 * time.Second)
	defer stats.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	s.refreshStats(ctx)
	s.Prune(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-stats.C:
			s.refreshStats(ctx)
		case <-prune.C:
			s.Prune(ctx)
		}
	}
}

func (s *Service) refreshStats(ctx context.Context) {
	n, oldest, err := s.cfg.Store.PendingDeliveryStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Warn("webhook: counting pending deliveries failed", "err", err)
		}
		return
	}
	age := time.Duration(0)
	if !oldest.IsZero() {
		age = max(0, s.cfg.Now().Sub(oldest))
	}
	s.metrics.setPending(n, age)
}

// Prune deletes finished deliveries older than the retention, and returns how many.
func (s *Service) Prune(ctx context.Context) int64 {
	n, err := s.cfg.Store.PruneDeliveries(ctx, s.cfg.Now().Add(-s.cfg.Retention))
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Warn("webhook: pruning delivery logs failed", "err", err)
		}
		return 0
	}
	if n > 0 {
		s.cfg.Logger.Info("webhook: pruned delivery logs", "deliveries", n, "retention", s.cfg.Retention)
	}
	return n
}

// --- Subscriptions, as the API asks for them ---

// Reserved header names a subscription may not set: the transport's own, and the ones that
// carry signatures and tokens (a receiver must be able to trust them).
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "keep-alive": true, "te": true, "trailer": true, "upgrade": true,
	"proxy-authorization": true, "proxy-connection": true,
	"x-voice360-signature": true, "x-voxpria-signature": true, "x-pbx-token": true,
}

const (
	maxHeaders      = 20
	maxHeaderValue  = 1024
	maxURLLength    = 2048
	maxNameLength   = 100
	maxOverlap      = 7 * 24 * time.Hour
	minTokenLength  = 8
	maxTokenLength  = 200
	maxEventsPerSub = 100
)

// validHeaderName reports whether s is an HTTP token (RFC 9110 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters (CR/LF would split the request).
func validHeaderValue(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// apply validates change against w (the current subscription, or a fresh one on create) and
// writes it into w. It collects every problem, so the user sees them all at once.
func (s *Service) apply(w *switchboard.Webhook, c switchboard.WebhookChange, creating bool) error {
	v := switchboard.ValidationErrors{}
	if c.Name != nil {
		if len(*c.Name) > maxNameLength {
			v.Add("name", fmt.Sprintf("must be at most %d characters", maxNameLength))
		}
		w.Name = strings.TrimSpace(*c.Name)
	}
	if c.Format != nil {
		if !slices.Contains(events.Formats, *c.Format) {
			v.Add("format", "must be one of "+strings.Join(events.Formats, ", "))
		}
		w.Format = *c.Format
	}
	if c.URL != nil {
		u := strings.TrimSpace(*c.URL)
		if len(u) > maxURLLength {
			v.Add("url", fmt.Sprintf("must be at most %d characters", maxURLLength))
		} else if err := s.cfg.Policy.CheckURL(u); err != nil {
			v.Add("url", err.Error())
		}
		w.URL = u
	} else if creating {
		v.Add("url", "is required")
	}
	if c.FallbackURL != nil {
		u := strings.TrimSpace(*c.FallbackURL)
		if len(u) > maxURLLength {
			v.Add("fallback_url", fmt.Sprintf("must be at most %d characters", maxURLLength))
		} else if u != "" {
			if err := s.cfg.Policy.CheckURL(u); err != nil { // the same SSRF rules as url
				v.Add("fallback_url", err.Error())
			}
		}
		w.FallbackURL = u
	}
	if c.Events != nil {
		w.Events = c.Events
	} else if creating {
		v.Add("events", "is required: a list of event names, or [\"*\"] for all")
	}
	if c.Events != nil || c.Format != nil {
		s.checkEvents(w, v)
	}
	if c.Method != nil {
		m := strings.ToUpper(*c.Method)
		if m != http.MethodPost && m != http.MethodGet {
			v.Add("method", "must be POST or GET")
		}
		w.Method = m
	}
	if c.Retries != nil {
		if *c.Retries < 0 || *c.Retries > switchboard.MaxWebhookRetries {
			v.Add("retries", fmt.Sprintf("must be between 0 and %d", switchboard.MaxWebhookRetries))
		}
		w.Retries = *c.Retries
	}
	if c.Headers != nil {
		if len(c.Headers) > maxHeaders {
			v.Add("headers", fmt.Sprintf("at most %d headers", maxHeaders))
		}
		names := make([]string, 0, len(c.Headers))
		for name := range c.Headers {
			names = append(names, name)
		}
		slices.Sort(names)
		stored := byCanonicalName(w.Headers)
		clean := make(map[string]string, len(c.Headers))
		for _, name := range names {
			value := c.Headers[name]
			lower := strings.ToLower(name)
			canonical := http.CanonicalHeaderKey(name)
			_, twice := clean[canonical]
			switch {
			case !validHeaderName(name):
				v.Add("headers", fmt.Sprintf("%q is not a valid header name", name))
			case reservedHeaders[lower] || strings.HasPrefix(lower, "webhook-"):
				v.Add("headers", fmt.Sprintf("%q is reserved: the server sets it", name))
			case twice:
				v.Add("headers", fmt.Sprintf("%q is given twice (header names ignore case)", canonical))
			case value == RedactedHeaderValue:
				// The placeholder the API showed, sent back: keep what is stored.
				kept, ok := stored[canonical]
				if !ok {
					v.Add("headers", fmt.Sprintf("%q has no stored value to keep: %q stands for a value already set; send the value itself", name, RedactedHeaderValue))
				}
				clean[canonical] = kept
				continue
			case !validHeaderValue(value) || len(value) > maxHeaderValue:
				v.Add("headers", fmt.Sprintf("the value of %q must be at most %d characters without control characters", name, maxHeaderValue))
			}
			clean[canonical] = s.sealer.sealHeader(value)
		}
		w.Headers = clean
	}
	if c.Active != nil {
		w.Active = *c.Active
	}
	if c.Secret != nil {
		switch {
		case w.Format != "voipline":
			v.Add("secret", "can be chosen only for the voipline format (its X-Pbx-Token); other formats get a generated secret")
		case len(*c.Secret) < minTokenLength || len(*c.Secret) > maxTokenLength || !validToken(*c.Secret):
			v.Add("secret", fmt.Sprintf("must be %d to %d printable characters without spaces", minTokenLength, maxTokenLength))
		}
	}
	return v.Err()
}

// invalid is the error of one bad field. It keeps the message of apply's ValidationErrors,
// so that a client reads one wording from this service whatever the number of bad fields.
func invalid(field, problem string) error {
	err := switchboard.FieldError(switchboard.EBADREQUEST, field, problem)
	err.Message = "Some fields are invalid; see details"
	return err
}

func validToken(s string) bool {
	for _, c := range []byte(s) {
		if c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// checkEvents resolves the subscription's event names and refuses names the format never
// sends, so that a subscription cannot silently receive nothing.
func (s *Service) checkEvents(w *switchboard.Webhook, v switchboard.ValidationErrors) {
	if len(w.Events) == 0 {
		v.Add("events", "must name at least one event, or \"*\" for all")
		return
	}
	if len(w.Events) > maxEventsPerSub {
		v.Add("events", fmt.Sprintf("at most %d names", maxEventsPerSub))
		return
	}
	canonical, err := events.ResolveEventFilter(w.Events)
	if err != nil {
		v.Add("events", err.Error())
		return
	}
	w.EventFilter = canonical
	if !slices.Contains(events.Formats, w.Format) || slices.Contains(canonical, "*") {
		return
	}
	sent := false
	for _, name := range canonical {
		ex := events.Example(name, w.AccountID, s.cfg.Now())
		if ex != nil && len(events.WireNames(w.Format, ex)) > 0 {
			sent = true
			break
		}
	}
	if !sent {
		v.Add("events", fmt.Sprintf("the %s format sends none of these events", w.Format))
	}
}

// CreateWebhook validates and stores a new subscription. It returns the subscription and
// its secret, which is shown only now.
func (s *Service) CreateWebhook(ctx context.Context, accountID int64, c switchboard.WebhookChange) (*switchboard.Webhook, string, error) {
	w := &switchboard.Webhook{AccountID: accountID, Format: DefaultFormat, Method: http.MethodPost,
		Retries: switchboard.RetriesFormatDefault, Headers: map[string]string{}, Active: true}
	if c.Format == nil {
		c.Format = &w.Format
	}
	if err := s.apply(w, c, true); err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	if c.Secret != nil {
		secret = *c.Secret
	}
	w.SealedSecret = s.sealer.Seal(secret)
	if err := s.cfg.Store.CreateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	return redacted(w), secret, nil
}

// The subscriptions the service hands out (to the API) show header names with their values
// redacted (RedactedHeaderValue): values are write-only, like the secret.

// GetWebhook returns one subscription of the account.
func (s *Service) GetWebhook(ctx context.Context, accountID, id int64) (*switchboard.Webhook, error) {
	w, err := s.cfg.Store.GetWebhook(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	return redacted(w), nil
}

// PageWebhooks returns one page of the account's subscriptions by id (secrets removed), and
// whether more follow.
func (s *Service) PageWebhooks(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Webhook, bool, error) {
	list, more, err := s.cfg.Store.PageWebhooks(ctx, accountID, p)
	if err != nil {
		return nil, false, err
	}
	for i, w := range list {
		list[i] = redacted(w)
	}
	return list, more, nil
}

// ListWebhooks returns the account's subscriptions.
func (s *Service) ListWebhooks(ctx context.Context, accountID int64) ([]*switchboard.Webhook, error) {
	list, err := s.cfg.Store.ListWebhooks(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i, w := range list {
		list[i] = redacted(w)
	}
	return list, nil
}

// UpdateWebhook applies a PATCH. Turning a subscription active again clears why the server
// had disabled it.
func (s *Service) UpdateWebhook(ctx context.Context, accountID, id int64, c switchboard.WebhookChange) (*switchboard.Webhook, error) {
	w, err := s.cfg.Store.GetWebhook(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if err := s.apply(w, c, false); err != nil {
		return nil, err
	}
	if c.Secret != nil {
		w.SealedSecret = s.sealer.Seal(*c.Secret)
		w.SealedPreviousSecret, w.PreviousSecretUntil = nil, time.Time{}
	}
	s.sealer.sealStoredHeaders(w.Headers) // a row from before sealing is sealed now
	if err := s.cfg.Store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return s.GetWebhook(ctx, accountID, id)
}

// DeleteWebhook removes a subscription, its deliveries and their logs.
func (s *Service) DeleteWebhook(ctx context.Context, accountID, id int64) error {
	return s.cfg.Store.DeleteWebhook(ctx, accountID, id)
}

// RotateSecret gives the subscription a new secret, shown only now. With overlap > 0 the
// old secret stays valid that long: deliveries then carry both signatures.
func (s *Service) RotateSecret(ctx context.Context, accountID, id int64, overlap time.Duration) (*switchboard.Webhook, string, error) {
	if overlap < 0 || overlap > maxOverlap {
		return nil, "", invalid("overlap_seconds", fmt.Sprintf("must be between 0 and %d", int(maxOverlap.Seconds())))
	}
	w, err := s.cfg.Store.GetWebhook(ctx, accountID, id)
	if err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	if overlap > 0 {
		w.SealedPreviousSecret, w.PreviousSecretUntil = w.SealedSecret, s.cfg.Now().Add(overlap)
	} else {
		w.SealedPreviousSecret, w.PreviousSecretUntil = nil, time.Time{}
	}
	w.SealedSecret = s.sealer.Seal(secret)
	s.sealer.sealStoredHeaders(w.Headers) // a row from before sealing is sealed now
	if err := s.cfg.Store.UpdateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	return redacted(w), secret, nil
}

// SendTest sends the catalog's example of one event, dated now, to this subscription only,
// at once and once, and returns the attempt's log. Nothing is stored: a test is no event.
// event may be a canonical name or one of the format's provider names.
func (s *Service) SendTest(ctx context.Context, accountID, id int64, event string) (*switchboard.DeliveryAttempt, error) {
	w, err := s.cfg.Store.GetWebhook(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	bad := func(problem string) error { return invalid("event", problem) }
	if event == "" || event == "*" {
		return nil, bad("is required: one event name")
	}
	canonical, err := events.ResolveEventFilter([]string{event})
	if err != nil {
		return nil, bad(err.Error())
	}
	now := s.cfg.Now()
	for _, name := range canonical {
		ex := events.Example(name, accountID, now)
		if ex == nil {
			continue
		}
		wire := events.WireNames(w.Format, ex)
		if len(wire) == 0 {
			continue
		}
		pick := wire[0]
		if slices.Contains(wire, event) {
			pick = event // the user named a provider event: send that one
		}
		attempt := &switchboard.DeliveryAttempt{Number: 1, At: now}
		status, _, err := s.attempt(ctx, w, ex, pick, ex.ID, now, attempt, false)
		s.metrics.observeAttempt(attempt.Latency)
		if err == nil && (status < 200 || status >= 300) {
			attempt.Error = fmt.Sprintf("the receiver answered %d", status)
		}
		return attempt, nil
	}
	return nil, bad(fmt.Sprintf("the %s format has no event for %q", w.Format, event))
}

// ListDeliveries lists the account's deliveries, newest first.
// The event filter takes a canonical or a provider name; an unknown name is a 400, not an
// empty list.
func (s *Service) ListDeliveries(ctx context.Context, f switchboard.DeliveryFilter) ([]*switchboard.Delivery, int64, error) {
	if f.EventName != "" {
		if _, err := events.ResolveEventFilter([]string{f.EventName}); err != nil || f.EventName == "*" {
			return nil, 0, invalid("event", "is not a known event name")
		}
	}
	return s.cfg.Store.ListDeliveries(ctx, f)
}

// GetDelivery returns a delivery and its attempts' logs.
func (s *Service) GetDelivery(ctx context.Context, accountID, id int64) (*switchboard.Delivery, []*switchboard.DeliveryAttempt, error) {
	return s.cfg.Store.GetDelivery(ctx, accountID, id)
}

// ResendDeliveries sends the deliveries again, now, with their original webhook-id and a
// fresh retry budget.
func (s *Service) ResendDeliveries(ctx context.Context, accountID int64, ids []int64) (int, error) {
	return s.cfg.Store.ResendDeliveries(ctx, accountID, ids, s.cfg.Now())
}
