package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"switchboard"
)

// The delivery log routes: every delivery of the account's subscriptions, their attempts,
// and resending.

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

// deliveryRoutes registers the delivery log's routes.
func (s *Server) deliveryRoutes() {
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhooks/{webhook_id}/deliveries",
		Summary: "List a subscription's deliveries", Description: "Newest first, a page at a time.",
		Message: "List of deliveries", Result: deliveryPageJSON{}, Query: deliveryQuery[1:]}, byID("webhook_id", s.listWebhookDeliveries))
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhook_deliveries",
		Summary: "List deliveries", Description: "Every delivery of the account, newest first, filtered by subscription, event, status and time.",
		Message: "List of deliveries", Result: deliveryPageJSON{}, Query: deliveryQuery}, s.listDeliveries)
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhook_deliveries/failures",
		Summary: "List failed deliveries", Description: "Deliveries that used up their retries or were refused with 410 Gone (status=failed).",
		Message: "List of failed deliveries", Result: deliveryPageJSON{}, Query: append([]queryParam{deliveryQuery[0], deliveryQuery[1]}, deliveryQuery[3:]...)}, s.listFailures)
	s.handleWebhookAPI(route{Method: "GET", Path: "/webhook_deliveries/{delivery_id}",
		Summary: "Get a delivery and its attempts", Description: "Each attempt's request (headers and body; secret tokens and custom header values redacted), response status, the first 4 KiB of the response body, latency and error.",
		Message: "Delivery details", Result: deliveryDetailJSON{}}, byID("delivery_id", s.getDelivery))
	s.handleWebhookAPI(route{Method: "POST", Path: "/webhook_deliveries/{delivery_id}/resend",
		Summary: "Resend a delivery", Description: "Sends it again now with a fresh retry budget and the same webhook-id.",
		Message: "Delivery queued", Result: resendResultJSON{}}, byID("delivery_id", s.resendDelivery))
	s.handleWebhookAPI(route{Method: "POST", Path: "/webhook_deliveries/resend",
		Summary: "Resend several deliveries", Description: fmt.Sprintf("Sends the deliveries named in ids (at most %d) again; resent counts the ones found.", maxResend),
		Message: "Deliveries queued", Request: resendRequestJSON{}, Result: resendResultJSON{}}, s.resendDeliveries)

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

// writeDeliveryPage answers a page of the account's deliveries, filtered by the query;
// narrow, when set, adds the route's own condition.
func (s *Server) writeDeliveryPage(w http.ResponseWriter, r *http.Request, c *caller, narrow func(*switchboard.DeliveryFilter), message string) error {
	f, err := deliveryFilter(r, c.accountID)
	if err != nil {
		return err
	}
	if narrow != nil {
		narrow(&f)
	}
	list, next, err := s.webhooks.ListDeliveries(r.Context(), f)
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
	return s.writeDeliveryPage(w, r, c, nil, "List of deliveries")
}

func (s *Server) listFailures(w http.ResponseWriter, r *http.Request, c *caller) error {
	failed := func(f *switchboard.DeliveryFilter) { f.Status = switchboard.DeliveryFailed }
	return s.writeDeliveryPage(w, r, c, failed, "List of failed deliveries")
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	if _, err := s.webhooks.GetWebhook(r.Context(), c.accountID, id); err != nil {
		return err // 404 for a subscription that is not the account's, rather than an empty list
	}
	toWebhook := func(f *switchboard.DeliveryFilter) { f.WebhookID = id }
	return s.writeDeliveryPage(w, r, c, toWebhook, "List of deliveries")
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	d, attempts, err := s.webhooks.GetDelivery(r.Context(), c.accountID, id)
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

func (s *Server) resendDelivery(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
	n, err := s.webhooks.ResendDeliveries(r.Context(), c.accountID, []int64{id})
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
	var body resendRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.IDs) == 0 || len(body.IDs) > maxResend {
		return badRequest("ids", "must list 1 to "+strconv.Itoa(maxResend)+" delivery ids")
	}
	n, err := s.webhooks.ResendDeliveries(r.Context(), c.accountID, body.IDs)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Deliveries queued to be sent again", resendResultJSON{Resent: n})
	return nil
}
