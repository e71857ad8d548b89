package switchboard

import (
	"context"
	"time"
)

// Webhook is a subscription: events of an account, rendered in one provider's format and
// sent to one URL. Its signing secret is held only sealed (AES-GCM with the server key);
// the plaintext is shown once, on create and on rotate.
type Webhook struct {
	ID        int64
	AccountID int64
	Name      string
	URL       string
	// Events are the names the user gave (canonical, the format's provider names, or "*"),
	// kept to show them back; EventFilter holds the canonical names they resolve to, which
	// is what the fan-out matches on ("*" stays "*").
	Events      []string
	EventFilter []string
	Format      string            // voice360, voxpria, voiceovercloud, voipline, standard
	Method      string            // POST, or GET with the payload in the query string
	Retries     int               // retries after the first attempt, 0-10; RetriesFormatDefault = the format's rule
	Headers     map[string]string // custom headers sent with every delivery
	Active      bool
	// DisabledReason and DisabledAt say why and when the server turned the subscription off
	// (410 Gone, or too many failed deliveries in a row); empty when the user did it or
	// when it is active.
	DisabledReason string
	DisabledAt     time.Time
	// SealedSecret is the current secret, sealed. SealedPreviousSecret is the one a rotation
	// with overlap replaced; it is still sent (both signatures) until PreviousSecretUntil.
	SealedSecret         []byte
	SealedPreviousSecret []byte
	PreviousSecretUntil  time.Time
	ConsecutiveFailures  int // deliveries that ended failed since the last success
	// FallbackURL, when set, gets one attempt of a delivery once URL has used up its
	// retries (checked against the same URL policy); "" = none.
	FallbackURL string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RetriesFormatDefault in Webhook.Retries means "the format's own retry rule"
// (voiceovercloud: one immediate retry, then one after 1 second; the others: 5 retries with
// exponential backoff).
const RetriesFormatDefault = -1

// MaxWebhookRetries is the most retries a subscription may ask for.
const MaxWebhookRetries = 10

// WebhookChange is a create or a PATCH of a subscription as the API received it: a nil field
// is "not given" (left as it is on PATCH, defaulted on create).
type WebhookChange struct {
	Name    *string
	URL     *string
	Events  []string // nil = not given
	Format  *string
	Method  *string
	Retries *int
	Headers map[string]string // nil = not given; an empty map clears them
	Active  *bool
	// Secret is the voipline format's token (sent as X-Pbx-Token), which the user may choose.
	// Other formats always get a generated whsec_ secret.
	Secret *string
	// FallbackURL: "" removes it.
	FallbackURL *string
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its (next) attempt, or being sent
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx answer was received
	DeliveryFailed    DeliveryStatus = "failed"    // used up its retries, or the receiver said 410 Gone
)

// Delivery is one event sent (or to be sent) to one subscription under one provider event
// name. MessageID is the webhook-id header: stable across retries and resends. Where one
// canonical event maps to two provider events, the first delivery's MessageID is the event
// id and the second's the event id + "_2".
type Delivery struct {
	ID            int64
	AccountID     int64
	WebhookID     int64
	EventSeq      int64
	EventID       string
	EventName     string // canonical
	WireName      string // the provider's event name the format sends
	MessageID     string
	CallID        string // deliveries of one call to one subscription go out in order
	Status        DeliveryStatus
	Attempts      int // attempts made, over all rounds
	RoundAttempts int // attempts since the delivery was created or last resent; the retry budget
	NextAttemptAt time.Time
	LastStatus    int    // HTTP status of the last attempt; 0 when none was received
	LastError     string // why the last attempt failed; "" after a success
	CreatedAt     time.Time
	UpdatedAt     time.Time
	CompletedAt   time.Time // when it succeeded or failed for good; zero while pending
}

// DeliveryAttempt is the log of one HTTP request made for a delivery.
type DeliveryAttempt struct {
	ID             int64
	DeliveryID     int64
	Number         int // 1 for the first attempt of the delivery
	At             time.Time
	RequestMethod  string
	RequestURL     string
	RequestHeaders map[string][]string // secrets sent as headers (tokens, Authorization) are redacted
	RequestBody    string
	ResponseStatus int    // 0 when no answer was received
	ResponseBody   string // at most the first 4 KiB
	Latency        time.Duration
	Error          string // "" for a 2xx answer
}

// DeliveryFilter narrows ListDeliveries. Zero fields match everything. Results come newest
// first; Cursor is the NextCursor of the previous page.
type DeliveryFilter struct {
	AccountID int64
	WebhookID int64
	EventName string // canonical name, or the provider's name the delivery was sent under
	Status    DeliveryStatus
	Since     time.Time // created at or after
	Until     time.Time // created before
	Cursor    int64     // list deliveries with ID < Cursor
	Limit     int       // default 50, at most 500
}

// ClaimedDelivery is a delivery leased to one worker, with all it needs to be sent.
type ClaimedDelivery struct {
	Delivery *Delivery
	Webhook  *Webhook
	Event    *Event
}

// AttemptOutcome is what a worker learned from one attempt, and what happens next.
type AttemptOutcome struct {
	DeliveryID    int64
	WebhookID     int64
	Attempt       DeliveryAttempt
	Status        DeliveryStatus // succeeded, failed (for good) or pending (retry at NextAttemptAt)
	NextAttemptAt time.Time
	// DisableReason, when set, turns the subscription off (410 Gone). The store also turns it
	// off by itself once ConsecutiveFailures reaches the dispatcher's limit.
	DisableReason string
}

// WebhookStore persists subscriptions and the delivery outbox. store.DB implements it on
// SQLite and PostgreSQL. As for Store, an id of another account is NOT_FOUND.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, accountID, id int64) (*Webhook, error)
	ListWebhooks(ctx context.Context, accountID int64) ([]*Webhook, error)
	PageWebhooks(ctx context.Context, accountID int64, p Page) (hooks []*Webhook, more bool, err error)
	// UpdateWebhook writes every field the user may change (name, URL, events, format,
	// method, retries, headers, active, secrets); turning it active clears DisabledReason,
	// DisabledAt and ConsecutiveFailures.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	DeleteWebhook(ctx context.Context, accountID, id int64) error // also its deliveries and their logs

	ListDeliveries(ctx context.Context, f DeliveryFilter) (deliveries []*Delivery, nextCursor int64, err error)
	GetDelivery(ctx context.Context, accountID, id int64) (*Delivery, []*DeliveryAttempt, error)
	// ResendDeliveries puts the deliveries back to pending with a fresh retry budget, due at
	// now; they keep their MessageID. It returns how many it found.
	ResendDeliveries(ctx context.Context, accountID int64, ids []int64, now time.Time) (int, error)

	// ClaimDeliveries leases up to limit due deliveries of active subscriptions until
	// now+lease, skipping deliveries that wait behind an earlier pending delivery of the
	// same call to the same subscription, and taking at most perEndpoint leased deliveries
	// per subscription at a time.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perEndpoint int) ([]*ClaimedDelivery, error)
	// RecordAttempts stores the outcomes, their attempt logs, and the subscriptions'
	// failure counters in one transaction; a subscription whose consecutive failed
	// deliveries reach disableAfter (> 0) is turned off.
	RecordAttempts(ctx context.Context, outcomes []AttemptOutcome, disableAfter int, now time.Time) error
	// ReleaseDeliveryLeases makes every leased delivery claimable again: for a single node
	// (SQLite) restarting, whose earlier claims died with the old process.
	ReleaseDeliveryLeases(ctx context.Context) error
	// PendingDeliveryStats counts pending deliveries of active subscriptions and tells when
	// the oldest was created (zero when none).
	PendingDeliveryStats(ctx context.Context) (count int64, oldest time.Time, err error)
	// PruneDeliveries deletes finished deliveries (and their logs) created before cutoff.
	PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error)
}
