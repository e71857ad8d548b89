package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// WebhookService is what the webhook routes need: *webhook.Service implements it.
type WebhookService interface {
	// CreateWebhook returns the new subscription and its secret, shown only now.
	CreateWebhook(ctx context.Context, accountID int64, c switchboard.WebhookChange) (*switchboard.Webhook, string, error)
	GetWebhook(ctx context.Context, accountID, id int64) (*switchboard.Webhook, error)
	ListWebhooks(ctx context.Context, accountID int64) ([]*switchboard.Webhook, error)
	UpdateWebhook(ctx context.Context, accountID, id int64, c switchboard.WebhookChange) (*switchboard.Webhook, error)
	DeleteWebhook(ctx context.Context, accountID, id int64) error
	// RotateSecret returns the new secret, shown only now; the old one stays valid overlap long.
	RotateSecret(ctx context.Context, accountID, id int64, overlap time.Duration) (*switchboard.Webhook, string, error)
	// SendTest sends the example of one event to the subscription at once and returns the log.
	SendTest(ctx context.Context, accountID, id int64, event string) (*switchboard.DeliveryAttempt, error)
	ListDeliveries(ctx context.Context, f switchboard.DeliveryFilter) ([]*switchboard.Delivery, int64, error)
	GetDelivery(ctx context.Context, accountID, id int64) (*switchboard.Delivery, []*switchboard.DeliveryAttempt, error)
	ResendDeliveries(ctx context.Context, accountID int64, ids []int64) (int, error)
}

// --- JSON shapes ---

// webhookJSON is a subscription as the API shows it. The secret appears only in the answers
// to create and rotate; header values only in the answer to the request that set them.
type webhookJSON struct {
	ID                       int64             `json:"id"`
	Name                     string            `json:"name"`
	URL                      string            `json:"url"`
	Events                   []string          `json:"events"`
	Format                   string            `json:"format"`
	Method                   string            `json:"method"`
	Retries                  *int              `json:"retries"` // null: the format's own rule
	Headers                  map[string]string `json:"headers" doc:"Custom headers sent with every delivery. Values are stored sealed and shown as \"[redacted]\", except in the answer to the create or PATCH that set them"`
	Active                   bool              `json:"active"`
	DisabledReason           *string           `json:"disabled_reason"`
	DisabledAt               *string           `json:"disabled_at"`
	ConsecutiveFailures      int               `json:"consecutive_failures"`
	PreviousSecretValidUntil *string           `json:"previous_secret_valid_until"`
	Secret                   string            `json:"secret,omitempty"`
	CreatedAt                string            `json:"created_at"`
	UpdatedAt                string            `json:"updated_at"`
}

func toWebhookJSON(w *switchboard.Webhook, secret string) webhookJSON {
	var retries *int
	if w.Retries >= 0 {
		retries = &w.Retries
	}
	headers := w.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	events := w.Events
	if events == nil {
		events = []string{}
	}
	return webhookJSON{ID: w.ID, Name: w.Name, URL: w.URL, Events: events, Format: w.Format, Method: w.Method,
		Retries: retries, Headers: headers, Active: w.Active, DisabledReason: nullableString(w.DisabledReason),
		DisabledAt: nullableTime(w.DisabledAt), ConsecutiveFailures: w.ConsecutiveFailures,
		PreviousSecretValidUntil: nullableTime(w.PreviousSecretUntil), Secret: secret,
		CreatedAt: formatTime(w.CreatedAt), UpdatedAt: formatTime(w.UpdatedAt)}
}

// webhookRequestJSON is the body of create and PATCH: absent fields are not changed
// (PATCH) or take their defaults (create).
type webhookRequestJSON struct {
	Name    *string           `json:"name,omitempty"`
	URL     *string           `json:"url,omitempty"`
	Events  []string          `json:"events,omitempty"`
	Format  *string           `json:"format,omitempty"`
	Method  *string           `json:"method,omitempty"`
	Retries *int              `json:"retries,omitempty"`
	Headers map[string]string `json:"headers,omitempty" doc:"Custom headers sent with every delivery; given, they replace all the stored ones ({} clears them). The value \"[redacted]\" keeps that header's stored value"`
	Active  *bool             `json:"active,omitempty"`
	Secret  *string           `json:"secret,omitempty"`
}

// showSentHeaders puts the header values the request itself sent into the answer, in place
// of the placeholder the service returns: the caller already has them, and sees what was
// stored. Values kept with the placeholder stay redacted, and nothing else is ever shown.
func showSentHeaders(out webhookJSON, sent map[string]string) webhookJSON {
	for name, value := range sent {
		if _, ok := out.Headers[http.CanonicalHeaderKey(name)]; ok {
			out.Headers[http.CanonicalHeaderKey(name)] = value
		}
	}
	return out
}

func (b webhookRequestJSON) change() switchboard.WebhookChange {
	return switchboard.WebhookChange{Name: b.Name, URL: b.URL, Events: b.Events, Format: b.Format, Method: b.Method,
		Retries: b.Retries, Headers: b.Headers, Active: b.Active, Secret: b.Secret}
}

type rotateRequestJSON struct {
	OverlapSeconds int `json:"overlap_seconds"`
}

type testRequestJSON struct {
	Event string `json:"event"`
}

type requestLogJSON struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

type attemptJSON struct {
	Number         int            `json:"number"`
	At             string         `json:"at"`
	Succeeded      bool           `json:"succeeded"`
	Request        requestLogJSON `json:"request"`
	ResponseStatus *int           `json:"response_status"` // null when no answer came
	ResponseBody   string         `json:"response_body"`   // the first 4 KiB
	LatencyMS      float64        `json:"latency_ms"`
	Error          *string        `json:"error"`
}

func toAttemptJSON(a *switchboard.DeliveryAttempt) attemptJSON {
	var status *int
	if a.ResponseStatus != 0 {
		status = &a.ResponseStatus
	}
	headers := a.RequestHeaders
	if headers == nil {
		headers = map[string][]string{}
	}
	return attemptJSON{Number: a.Number, At: formatTime(a.At), Succeeded: a.Error == "" && a.ResponseStatus >= 200 && a.ResponseStatus < 300,
		Request:        requestLogJSON{Method: a.RequestMethod, URL: a.RequestURL, Headers: headers, Body: a.RequestBody},
		ResponseStatus: status, ResponseBody: a.ResponseBody,
		LatencyMS: float64(a.Latency.Microseconds()) / 1000, Error: nullableString(a.Error)}
}

type deliveryJSON struct {
	ID            int64   `json:"id"`
	WebhookID     int64   `json:"webhook_id"`
	EventID       string  `json:"event_id"`
	Event         string  `json:"event"`      // canonical name
	WireEvent     string  `json:"wire_event"` // the name the format sent
	MessageID     string  `json:"message_id"` // the webhook-id header
	CallID        *string `json:"call_id"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"` // while pending
	LastStatus    *int    `json:"last_response_status"`
	LastError     *string `json:"last_error"`
	CreatedAt     string  `json:"created_at"`
	CompletedAt   *string `json:"completed_at"`
}

func toDeliveryJSON(d *switchboard.Delivery) deliveryJSON {
	var next *string
	if d.Status == switchboard.DeliveryPending {
		next = nullableTime(d.NextAttemptAt)
	}
	var last *int
	if d.LastStatus != 0 {
		last = &d.LastStatus
	}
	return deliveryJSON{ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, Event: d.EventName, WireEvent: d.WireName,
		MessageID: d.MessageID, CallID: nullableString(d.CallID), Status: string(d.Status), Attempts: d.Attempts,
		NextAttemptAt: next, LastStatus: last, LastError: nullableString(d.LastError), CreatedAt: formatTime(d.CreatedAt),
		CompletedAt: nullableTime(d.CompletedAt)}
}

type deliveryDetailJSON struct {
	deliveryJSON
	AttemptLog []attemptJSON `json:"attempt_log"`
}

type deliveryPageJSON struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	NextCursor *string        `json:"next_cursor"` // pass as ?cursor= for the next page; null on the last
}

type resendRequestJSON struct {
	IDs []int64 `json:"ids"`
}

type resendResultJSON struct {
	Resent int `json:"resent"`
}

// maxResend bounds one resend request.
const maxResend = 1000

var deliveryQuery = []queryParam{
	{"webhook_id", "Only deliveries to this subscription"},
	{"event", "Only this event (canonical name, e.g. call.inbound.ended, or a provider name)"},
	{"status", "pending, succeeded or failed"},
	{"since", "Created at or after this time (RFC 3339, or unix seconds)"},
	{"until", "Created before this time (RFC 3339, or unix seconds)"},
	{"cursor", "The next_cursor of the previous page"},
	{"limit", "Page size, 1-500 (default 50)"},
}

// webhookRoutes registers the subscription and delivery-log routes, and VoxPria's.
func (s *Server) webhookRoutes() {
	const tag = "Webhooks"
	s.handleAPI(route{Method: "POST", Path: "/webhooks", Access: accessDeveloper, Tag: tag, Status: http.StatusCreated,
		Summary: "Create a webhook subscription",
		Description: "Subscribes a URL to events (canonical names, the format's provider names, or \"*\"). format is voice360 (default), " +
			"voxpria, voiceovercloud, voipline or standard; method POST (default) or GET; retries 0-10 (absent: the format's rule); " +
			"headers are sent with every delivery; their values are stored sealed and shown only in this answer (afterwards as \"[redacted]\"). " +
			"The answer holds the signing secret: it is shown only now. " +
			"For the voipline format you may choose the secret (the X-Pbx-Token).",
		Message: "Webhook created", Request: webhookRequestJSON{}, Result: webhookJSON{}}, s.createWebhook)
	s.handleAPI(route{Method: "GET", Path: "/webhooks", Access: accessDeveloper, Tag: tag,
		Summary: "List webhook subscriptions", Message: "List of webhooks", Result: []webhookJSON{}}, s.listWebhooks)
	s.handleAPI(route{Method: "GET", Path: "/webhooks/{webhook_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Get a webhook subscription", Description: "active is false with disabled_reason and disabled_at when the server turned it off (410 Gone, or too many failures in a row). " +
			"Header values are shown as \"[redacted]\".",
		Message: "Webhook details", Result: webhookJSON{}}, s.getWebhook)
	s.handleAPI(route{Method: "PATCH", Path: "/webhooks/{webhook_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Update a webhook subscription", Description: "Changes the fields given. Setting active to true re-enables a subscription the server disabled. " +
			"headers, when given, replace all the stored headers; a header sent with the value \"[redacted]\" keeps its stored value.",
		Message: "Webhook updated", Request: webhookRequestJSON{}, Result: webhookJSON{}}, s.updateWebhook)
	s.handleAPI(route{Method: "DELETE", Path: "/webhooks/{webhook_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Delete a webhook subscription", Description: "Also deletes its pending deliveries and delivery logs.",
		Message: "Webhook deleted", Result: struct{}{}}, s.deleteWebhook)
	s.handleAPI(route{Method: "POST", Path: "/webhooks/{webhook_id}/rotate", Access: accessDeveloper, Tag: tag,
		Summary: "Rotate the signing secret",
		Description: "Returns a new secret, shown only now. With overlap_seconds (0-604800, default 0) the old secret stays valid that long " +
			"and deliveries carry signatures by both; with 0 the old secret stops at once.",
		Message: "Secret rotated", Request: rotateRequestJSON{}, Result: webhookJSON{}}, s.rotateWebhook)
	s.handleAPI(route{Method: "POST", Path: "/webhooks/{webhook_id}/test", Access: accessDeveloper, Tag: tag,
		Summary:     "Send a test event",
		Description: "Sends the catalog's example of the event, dated now, to this subscription only, once, and returns what happened. Nothing is stored.",
		Message:     "Test sent", Request: testRequestJSON{}, Result: attemptJSON{}}, s.testWebhook)
	s.handleAPI(route{Method: "GET", Path: "/webhooks/{webhook_id}/deliveries", Access: accessDeveloper, Tag: tag,
		Summary: "List a subscription's deliveries", Description: "Newest first, a page at a time.",
		Message: "List of deliveries", Result: deliveryPageJSON{}, Query: deliveryQuery[1:]}, s.listWebhookDeliveries)
	s.handleAPI(route{Method: "GET", Path: "/webhook_deliveries", Access: accessDeveloper, Tag: tag,
		Summary: "List deliveries", Description: "Every delivery of the account, newest first, filtered by subscription, event, status and time.",
		Message: "List of deliveries", Result: deliveryPageJSON{}, Query: deliveryQuery}, s.listDeliveries)
	s.handleAPI(route{Method: "GET", Path: "/webhook_deliveries/failures", Access: accessDeveloper, Tag: tag,
		Summary: "List failed deliveries", Description: "Deliveries that used up their retries or were refused with 410 Gone (status=failed).",
		Message: "List of failed deliveries", Result: deliveryPageJSON{}, Query: append([]queryParam{deliveryQuery[0], deliveryQuery[1]}, deliveryQuery[3:]...)}, s.listFailures)
	s.handleAPI(route{Method: "GET", Path: "/webhook_deliveries/{delivery_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Get a delivery and its attempts", Description: "Each attempt's request (headers and body; secret tokens and custom header values redacted), response status, the first 4 KiB of the response body, latency and error.",
		Message: "Delivery details", Result: deliveryDetailJSON{}}, s.getDelivery)
	s.handleAPI(route{Method: "POST", Path: "/webhook_deliveries/{delivery_id}/resend", Access: accessDeveloper, Tag: tag,
		Summary: "Resend a delivery", Description: "Sends it again now with a fresh retry budget and the same webhook-id.",
		Message: "Delivery queued", Result: resendResultJSON{}}, s.resendDelivery)
	s.handleAPI(route{Method: "POST", Path: "/webhook_deliveries/resend", Access: accessDeveloper, Tag: tag,
		Summary: "Resend several deliveries", Description: fmt.Sprintf("Sends the deliveries named in ids (at most %d) again; resent counts the ones found.", maxResend),
		Message: "Deliveries queued", Request: resendRequestJSON{}, Result: resendResultJSON{}}, s.resendDeliveries)

	// VoxPria's own shape: no account in the path, the developer key as a bearer token.
	s.voxpriaRoute("POST /api/v1/webhooks", "Create a webhook (VoxPria's shape)", s.voxpriaCreate)
	s.voxpriaRoute("GET /api/v1/webhooks", "List webhooks (VoxPria's shape)", s.voxpriaList)
}

// webhookService answers 503 when the server runs without webhook delivery.
func (s *Server) webhookService() (WebhookService, error) {
	if s.webhooks == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Webhook delivery is not configured on this server")
	}
	return s.webhooks, nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	var body webhookRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	change := body.change()
	if change.Format == nil {
		voice360 := "voice360" // this is Voice360's API: its integrations expect its payloads
		change.Format = &voice360
	}
	hook, secret, err := svc.CreateWebhook(r.Context(), c.accountID, change)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Webhook created; save the secret: it is shown only now", showSentHeaders(toWebhookJSON(hook, secret), body.Headers))
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	hooks, err := svc.ListWebhooks(r.Context(), c.accountID)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, toWebhookJSON(h, ""))
	}
	s.writeResult(w, http.StatusOK, "List of webhooks", out)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	hook, err := svc.GetWebhook(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook details", toWebhookJSON(hook, ""))
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	var body webhookRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	hook, err := svc.UpdateWebhook(r.Context(), c.accountID, id, body.change())
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook updated", showSentHeaders(toWebhookJSON(hook, ""), body.Headers))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	if err := svc.DeleteWebhook(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook deleted", struct{}{})
	return nil
}

// hasBody reports whether the request carries a body; rotate's is optional.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Header.Get("Content-Type") != "")
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	var body rotateRequestJSON
	if hasBody(r) {
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
	}
	if body.OverlapSeconds < 0 || body.OverlapSeconds > 7*24*3600 {
		return badRequest("overlap_seconds", "must be between 0 and 604800 (7 days)")
	}
	hook, secret, err := svc.RotateSecret(r.Context(), c.accountID, id, time.Duration(body.OverlapSeconds)*time.Second)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Secret rotated; save the new secret: it is shown only now", toWebhookJSON(hook, secret))
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	var body testRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Event) == "" {
		return badRequest("event", "is required: the name of the event to send")
	}
	attempt, err := svc.SendTest(r.Context(), c.accountID, id, body.Event)
	if err != nil {
		return err
	}
	out := toAttemptJSON(attempt)
	msg := "Test delivered"
	if !out.Succeeded {
		msg = "Test sent, but the receiver did not accept it; see error"
	}
	s.writeResult(w, http.StatusOK, msg, out)
	return nil
}

// parseTimeParam reads RFC 3339 or unix seconds.
func parseTimeParam(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Unix(secs, 0).UTC(), nil
	}
	return time.Time{}, badRequest(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z, or unix seconds")
}

// deliveryFilter reads the list's query parameters.
func deliveryFilter(r *http.Request, accountID int64) (switchboard.DeliveryFilter, error) {
	q := r.URL.Query()
	v := switchboard.ValidationErrors{}
	f := switchboard.DeliveryFilter{AccountID: accountID, EventName: q.Get("event"), Status: switchboard.DeliveryStatus(q.Get("status"))}
	intParam := func(name string, min, max int64) int64 {
		raw := q.Get(name)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < min || n > max {
			v.Add(name, "must be an integer from "+strconv.FormatInt(min, 10)+" to "+strconv.FormatInt(max, 10))
		}
		return n
	}
	f.WebhookID = intParam("webhook_id", 1, 1<<62)
	f.Cursor = intParam("cursor", 1, 1<<62)
	f.Limit = int(intParam("limit", 1, 500))
	switch f.Status {
	case "", switchboard.DeliveryPending, switchboard.DeliverySucceeded, switchboard.DeliveryFailed:
	default:
		v.Add("status", "must be pending, succeeded or failed")
	}
	var err error
	if f.Since, err = parseTimeParam("since", q.Get("since")); err != nil {
		v.Add("since", "must be an RFC 3339 time or unix seconds")
	}
	if f.Until, err = parseTimeParam("until", q.Get("until")); err != nil {
		v.Add("until", "must be an RFC 3339 time or unix seconds")
	}
	return f, v.Err()
}

func (s *Server) writeDeliveryPage(w http.ResponseWriter, r *http.Request, f switchboard.DeliveryFilter, message string) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	list, next, err := svc.ListDeliveries(r.Context(), f)
	if err != nil {
		return err
	}
	page := deliveryPageJSON{Deliveries: make([]deliveryJSON, 0, len(list))}
	for _, d := range list {
		page.Deliveries = append(page.Deliveries, toDeliveryJSON(d))
	}
	if next != 0 {
		cursor := strconv.FormatInt(next, 10)
		page.NextCursor = &cursor
	}
	s.writeResult(w, http.StatusOK, message, page)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := deliveryFilter(r, c.accountID)
	if err != nil {
		return err
	}
	return s.writeDeliveryPage(w, r, f, "List of deliveries")
}

func (s *Server) listFailures(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := deliveryFilter(r, c.accountID)
	if err != nil {
		return err
	}
	f.Status = switchboard.DeliveryFailed
	return s.writeDeliveryPage(w, r, f, "List of failed deliveries")
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return err
	}
	if _, err := svc.GetWebhook(r.Context(), c.accountID, id); err != nil {
		return err // 404 for a subscription that is not the account's, rather than an empty list
	}
	f, err := deliveryFilter(r, c.accountID)
	if err != nil {
		return err
	}
	f.WebhookID = id
	return s.writeDeliveryPage(w, r, f, "List of deliveries")
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "delivery_id")
	if err != nil {
		return err
	}
	d, attempts, err := svc.GetDelivery(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	out := deliveryDetailJSON{deliveryJSON: toDeliveryJSON(d), AttemptLog: make([]attemptJSON, 0, len(attempts))}
	for _, a := range attempts {
		out.AttemptLog = append(out.AttemptLog, toAttemptJSON(a))
	}
	s.writeResult(w, http.StatusOK, "Delivery details", out)
	return nil
}

func (s *Server) resendDelivery(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "delivery_id")
	if err != nil {
		return err
	}
	n, err := svc.ResendDeliveries(r.Context(), c.accountID, []int64{id})
	if err != nil {
		return err
	}
	if n == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "No delivery with id %d in this account", id)
	}
	s.writeResult(w, http.StatusOK, "Delivery queued to be sent again", resendResultJSON{Resent: n})
	return nil
}

func (s *Server) resendDeliveries(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	var body resendRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.IDs) == 0 || len(body.IDs) > maxResend {
		return badRequest("ids", "must list 1 to "+strconv.Itoa(maxResend)+" delivery ids")
	}
	n, err := svc.ResendDeliveries(r.Context(), c.accountID, body.IDs)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Deliveries queued to be sent again", resendResultJSON{Resent: n})
	return nil
}

// --- VoxPria ---

// voxpriaWebhookJSON is VoxPria's webhook object; secret only in the create answer.
type voxpriaWebhookJSON struct {
	WebhookID string   `json:"webhookId"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	Active    bool     `json:"active"`
}

type voxpriaCreateJSON struct {
	URL    *string  `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active"`
}

// voxpriaEnvelope is VoxPria's answer shape: {success, data} or {success:false, error}.
type voxpriaEnvelope struct {
	Success bool              `json:"success"`
	Data    any               `json:"data,omitempty"`
	Error   *voxpriaErrorJSON `json:"error,omitempty"`
}

type voxpriaErrorJSON struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

func voxpriaID(id int64) string { return "webhook_" + strconv.FormatInt(id, 10) }

// voxpriaRoute registers a route of VoxPria's API: the developer key comes as a bearer
// token and names the account; answers use VoxPria's envelope.
func (s *Server) voxpriaRoute(pattern, summary string, h func(w http.ResponseWriter, r *http.Request, accountID int64) error) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, &route{Method: method, Path: path, Operational: true, Tag: "Webhooks (VoxPria)",
		Summary: summary, Description: "Authorization: Bearer <developer key>. Answers {success, data} as VoxPria does. Subscriptions made here use the voxpria format."})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		accountID, err := s.voxpriaAuth(w, r)
		if err == nil {
			err = h(w, r, accountID)
		}
		if err != nil {
			s.writeVoxpriaError(w, r, err)
		}
	})
}

func (s *Server) voxpriaAuth(w http.ResponseWriter, r *http.Request) (int64, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return 0, switchboard.Errorf(switchboard.EAUTHREQUIRED, "Authentication required: send Authorization: Bearer <your developer API key>")
	}
	key, err := s.lookupKey(r, strings.TrimSpace(token))
	if err != nil {
		return 0, err
	}
	var decision rateDecision
	if key != nil {
		decision = s.keyLimiter.allow("key:"+strconv.FormatInt(key.ID, 10), s.now())
	} else {
		decision = s.ipLimiter.allow("ip:"+s.clientIP(r), s.now())
	}
	if !decision.allowed {
		secs := max(1, int(decision.retryAfter.Seconds()+0.999))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return 0, switchboard.Errorf(switchboard.ERATELIMITED, "Too many requests; retry after %d seconds", secs)
	}
	if key == nil {
		return 0, switchboard.Errorf(switchboard.EAUTHINVALID, "Invalid API key provided")
	}
	if !ipAllowed(key.AllowedIPs, s.clientIP(r)) {
		return 0, switchboard.Errorf(switchboard.EAUTHREQUIRED, "Not authorised: this request comes from %s, which is not on the API key's IP allowlist", s.clientIP(r))
	}
	if key.Kind != switchboard.KeyDeveloper {
		return 0, switchboard.Errorf(switchboard.EAUTHINVALID, "This endpoint needs a developer API key")
	}
	return key.AccountID, nil
}

func (s *Server) writeVoxpriaError(w http.ResponseWriter, r *http.Request, err error) {
	code := switchboard.ErrorCode(err)
	status := statusOfCode(code)
	if status == http.StatusInternalServerError {
		code = switchboard.EINTERNAL
		s.logger.Error("internal error", "request_id", requestIDOf(r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	out := &voxpriaErrorJSON{Code: code, Message: switchboard.ErrorMessage(err)}
	var e *switchboard.Error
	if errors.As(err, &e) && code != switchboard.EINTERNAL {
		out.Details = e.Details
	}
	writeJSON(w, status, voxpriaEnvelope{Success: false, Error: out})
}

func (s *Server) voxpriaCreate(w http.ResponseWriter, r *http.Request, accountID int64) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	var body voxpriaCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	format := "voxpria"
	hook, secret, err := svc.CreateWebhook(r.Context(), accountID, switchboard.WebhookChange{
		URL: body.URL, Events: body.Events, Active: body.Active, Format: &format})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, voxpriaEnvelope{Success: true,
		Data: voxpriaWebhookJSON{WebhookID: voxpriaID(hook.ID), URL: hook.URL, Events: hook.Events, Secret: secret, Active: hook.Active}})
	return nil
}

func (s *Server) voxpriaList(w http.ResponseWriter, r *http.Request, accountID int64) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	hooks, err := svc.ListWebhooks(r.Context(), accountID)
	if err != nil {
		return err
	}
	out := []voxpriaWebhookJSON{}
	for _, h := range hooks {
		if h.Format == "voxpria" {
			out = append(out, voxpriaWebhookJSON{WebhookID: voxpriaID(h.ID), URL: h.URL, Events: h.Events, Active: h.Active})
		}
	}
	writeJSON(w, http.StatusOK, voxpriaEnvelope{Success: true, Data: out})
	return nil
}
