package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"switchboard"
)

// The webhook subscription routes; the delivery log's are in webhook_deliveries.go and
// VoxPria's own shape of them in webhooks_voxpria.go.

// WebhookService is what the webhook routes need: *webhook.Service implements it.
type WebhookService interface {
	// CreateWebhook returns the new subscription and its secret, shown only now.
	CreateWebhook(ctx context.Context, accountID int64, c switchboard.WebhookChange) (*switchboard.Webhook, string, error)
	GetWebhook(ctx context.Context, accountID, id int64) (*switchboard.Webhook, error)
	ListWebhooks(ctx context.Context, accountID int64) ([]*switchboard.Webhook, error)
	PageWebhooks(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Webhook, bool, error)
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
	FallbackURL              *string           `json:"fallback_url" doc:"Gets one attempt of a delivery once url has used up its retries; null when none"`
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
		PreviousSecretValidUntil: nullableTime(w.PreviousSecretUntil), Secret: secret, FallbackURL: nullableString(w.FallbackURL),
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
	// FallbackURL: "" removes it.
	FallbackURL *string `json:"fallback_url,omitempty" doc:"A second URL that gets one attempt of a delivery once url has used up its retries (the same URL rules); \"\" removes it"`
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
		Retries: b.Retries, Headers: b.Headers, Active: b.Active, Secret: b.Secret, FallbackURL: b.FallbackURL}
}

type rotateRequestJSON struct {
	OverlapSeconds int `json:"overlap_seconds"`
}

type testRequestJSON struct {
	Event string `json:"event"`
}

// webhookRoutes registers the subscription and delivery-log routes, and VoxPria's. All of
// them need the webhook service.
func (s *Server) webhookRoutes() {
	s.handleWebhookAPI(route{Method: "POST", Path: "/webhooks", Status: http.StatusCreated,
		Summary: "Create a webhook subscription",
		Description: "Subscribes a URL to events (canonical names, the format's provider names, or \"*\"). format is voice360 (default), " +
			"voxpria, voiceovercloud, voipline or standard; method POST (default) or GET; retries 0-10 (absent: the format's rule); " +
			"headers are sent with every delivery; their values are stored sealed and shown only in this answer (afterwards as \"[redacted]\"). " +
			"The answer holds the signing secret: it is shown only now. " +
			"For the voipline format you may choose the secret (the X-Pbx-Token).",
		Message: "Webhook created", Request: webhookRequestJSON{}, Result: webhookJSON{}}, s.createWebhook)
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhooks",
		Summary: "List webhook subscriptions (paged)", Message: "List of webhooks", Result: []webhookJSON{}, Query: pageQuery}, s.listWebhooks)
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhooks/{webhook_id}",
		Summary: "Get a webhook subscription", Description: "active is false with disabled_reason and disabled_at when the server turned it off (410 Gone, or too many failures in a row). " +
			"Header values are shown as \"[redacted]\".",
		Message: "Webhook details", Result: webhookJSON{}}, byID("webhook_id", s.getWebhook))
	s.handleWebhookAPI(route{Method: "PATCH", Path: "/webhooks/{webhook_id}",
		Summary: "Update a webhook subscription", Description: "Changes the fields given. Setting active to true re-enables a subscription the server disabled. " +
			"headers, when given, replace all the stored headers; a header sent with the value \"[redacted]\" keeps its stored value.",
		Message: "Webhook updated", Request: webhookRequestJSON{}, Result: webhookJSON{}}, byID("webhook_id", s.updateWebhook))
	s.handleWebhookAPI(route{Method: "DELETE", Path: "/webhooks/{webhook_id}",
		Summary: "Delete a webhook subscription", Description: "Also deletes its pending deliveries and delivery logs.",
		Message: "Webhook deleted", Result: struct{}{}}, byID("webhook_id", s.deleteWebhook))
	s.handleWebhookAPI(route{Method: "POST", Path: "/webhooks/{webhook_id}/rotate",
		Summary: "Rotate the signing secret",
		Description: "Returns a new secret, shown only now. With overlap_seconds (0-604800, default 0) the old secret stays valid that long " +
			"and deliveries carry signatures by both; with 0 the old secret stops at once.",
		Message: "Secret rotated", Request: rotateRequestJSON{}, Result: webhookJSON{}}, byID("webhook_id", s.rotateWebhook))
	s.handleWebhookAPI(route{Method: "POST", Path: "/webhooks/{webhook_id}/test",
		Summary:     "Send a test event",
		Description: "Sends the catalog's example of the event, dated now, to this subscription only, once, and returns what happened. Nothing is stored.",
		Message:     "Test sent", Request: testRequestJSON{}, Result: attemptJSON{}}, byID("webhook_id", s.testWebhook))
	s.deliveryRoutes()
	s.voxpriaRoutes()
}

// handleWebhookAPI registers a route of the account's webhooks: developer keys only, and the
// webhook service needed.
func (s *Server) handleWebhookAPI(rt route, h apiHandler) {
	rt.Access, rt.Needs, rt.Tag = accessDeveloper, needsWebhooks, "Webhooks"
	s.handleAPI(rt, h)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body webhookRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	// No format given: the webhook service's default, the documented one.
	hook, secret, err := s.webhooks.CreateWebhook(r.Context(), c.accountID, body.change())
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Webhook created; save the secret: it is shown only now", showSentHeaders(toWebhookJSON(hook, secret), body.Headers))
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *caller) error {
	out, err := listPaged(&s.webhooks, WebhookService.PageWebhooks, func(h *switchboard.Webhook) int64 { return h.ID },
		func(h *switchboard.Webhook) webhookJSON { return toWebhookJSON(h, "") })(w, r, c)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "List of webhooks", out)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	hook, err := s.webhooks.GetWebhook(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook details", toWebhookJSON(hook, ""))
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	var body webhookRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	hook, err := s.webhooks.UpdateWebhook(r.Context(), c.accountID, id, body.change())
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook updated", showSentHeaders(toWebhookJSON(hook, ""), body.Headers))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	if err := s.webhooks.DeleteWebhook(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Webhook deleted", struct{}{})
	return nil
}

// hasBody reports whether the request carries a body; rotate's is optional.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Header.Get("Content-Type") != "")
}

func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	var body rotateRequestJSON
	if hasBody(r) {
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
	}
	if body.OverlapSeconds < 0 || body.OverlapSeconds > 7*24*3600 {
		return badRequest("overlap_seconds", "must be between 0 and 604800 (7 days)")
	}
	hook, secret, err := s.webhooks.RotateSecret(r.Context(), c.accountID, id, time.Duration(body.OverlapSeconds)*time.Second)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Secret rotated; save the new secret: it is shown only now", toWebhookJSON(hook, secret))
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	var body testRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Event) == "" {
		return badRequest("event", "is required: the name of the event to send")
	}
	attempt, err := s.webhooks.SendTest(r.Context(), c.accountID, id, body.Event)
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
