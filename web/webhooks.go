package web

import (
	"net/http"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/events"
)

type webhookForm struct {
	Formats []string
	Events  []string
}

type webhooksData struct {
	Hooks []*switchboard.Webhook
	Form  webhookForm
}

type webhookData struct {
	Hook       *switchboard.Webhook
	Secret     string // shown once, right after creation
	Events     []string
	Test       *switchboard.DeliveryAttempt
	Deliveries []*switchboard.Delivery
	Delivery   *switchboard.Delivery
	Attempts   []*switchboard.DeliveryAttempt
}

func newWebhookForm() webhookForm {
	return webhookForm{Formats: events.Formats, Events: switchboard.EventNames}
}

// needWebhooks answers 503 while the server runs without the webhook service.
func (h *Handler) needWebhooks(w http.ResponseWriter, r *http.Request, s *session) bool {
	if h.webhooks == nil {
		h.fail(w, r, "error", page{Title: "Webhooks", S: s}, switchboard.Errorf(switchboard.EUNAVAILABLE, "Webhooks are not available on this server"))
		return false
	}
	return true
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	hooks, err := h.webhooks.ListWebhooks(r.Context(), s.Login.AccountID)
	p := page{Title: "Webhooks", S: s, Data: webhooksData{Hooks: hooks, Form: newWebhookForm()}}
	if err != nil {
		h.fail(w, r, "webhooks", p, err)
		return
	}
	h.render(w, r, http.StatusOK, "webhooks", p)
}

func (h *Handler) webhookCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	c := switchboard.WebhookChange{Name: formString(r, "name"), URL: formString(r, "url"), Format: formString(r, "format"),
		Events: r.PostForm["events"]}
	if len(c.Events) == 0 {
		c.Events = []string{"*"} // the form says: none ticked is every event
	}
	hook, secret, err := h.webhooks.CreateWebhook(r.Context(), s.Login.AccountID, c)
	if err != nil {
		hooks, _ := h.webhooks.ListWebhooks(r.Context(), s.Login.AccountID)
		h.fail(w, r, "webhooks", page{Title: "Webhooks", S: s, Data: webhooksData{Hooks: hooks, Form: newWebhookForm()}}, err)
		return
	}
	h.showWebhook(w, r, s, hook.ID, func(d *webhookData) { d.Secret = secret }, "Webhook created. Its signing secret is shown only now.")
}

// showWebhook renders a subscription with its delivery log; edit fills in what an action
// adds (the secret once, a test's answer, a delivery's attempts).
func (h *Handler) showWebhook(w http.ResponseWriter, r *http.Request, s *session, id int64, edit func(*webhookData), notice string) {
	hook, err := h.webhooks.GetWebhook(r.Context(), s.Login.AccountID, id)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Webhook", S: s}, err)
		return
	}
	deliveries, _, err := h.webhooks.ListDeliveries(r.Context(), switchboard.DeliveryFilter{AccountID: s.Login.AccountID, WebhookID: id, Limit: 50})
	d := &webhookData{Hook: hook, Events: hook.Events, Deliveries: deliveries}
	if len(d.Events) == 0 || (len(d.Events) == 1 && strings.Contains(d.Events[0], "*")) {
		d.Events = switchboard.EventNames
	}
	p := page{Title: "Webhook " + hook.Name, S: s, Data: d, Notice: notice}
	if err != nil {
		h.fail(w, r, "webhook", p, err)
		return
	}
	if edit != nil {
		edit(d)
	}
	h.render(w, r, http.StatusOK, "webhook", p)
}

func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request, s *session) {
	if h.needWebhooks(w, r, s) {
		h.showWebhook(w, r, s, pathID(r, "id"), nil, "")
	}
}

// webhookTest sends one event's example now and shows the receiver's answer.
func (h *Handler) webhookTest(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	id := pathID(r, "id")
	att, err := h.webhooks.SendTest(r.Context(), s.Login.AccountID, id, r.PostForm.Get("event"))
	if err != nil {
		hook, gerr := h.webhooks.GetWebhook(r.Context(), s.Login.AccountID, id)
		if gerr != nil {
			h.fail(w, r, "error", page{Title: "Webhook", S: s}, gerr)
			return
		}
		h.fail(w, r, "webhook", page{Title: "Webhook " + hook.Name, S: s, Data: &webhookData{Hook: hook, Events: switchboard.EventNames}}, err)
		return
	}
	h.showWebhook(w, r, s, id, func(d *webhookData) { d.Test = att }, "Test sent.")
}

func (h *Handler) deliveryPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	del, attempts, err := h.webhooks.GetDelivery(r.Context(), s.Login.AccountID, pathID(r, "id"))
	if err != nil {
		h.fail(w, r, "error", page{Title: "Delivery", S: s}, err)
		return
	}
	h.showWebhook(w, r, s, del.WebhookID, func(d *webhookData) { d.Delivery, d.Attempts = del, attempts }, "")
}

func (h *Handler) deliveryResend(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	del, _, err := h.webhooks.GetDelivery(r.Context(), s.Login.AccountID, pathID(r, "id"))
	if err == nil {
		_, err = h.webhooks.ResendDeliveries(r.Context(), s.Login.AccountID, []int64{del.ID})
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Resend", S: s}, err)
		return
	}
	h.showWebhook(w, r, s, del.WebhookID, nil, "Delivery "+strconv.FormatInt(del.ID, 10)+" queued again.")
}

func (h *Handler) webhookDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.needWebhooks(w, r, s) {
		return
	}
	if err := h.webhooks.DeleteWebhook(r.Context(), s.Login.AccountID, pathID(r, "id")); err != nil {
		h.fail(w, r, "error", page{Title: "Delete webhook", S: s}, err)
		return
	}
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
}
