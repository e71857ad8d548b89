package api

import (
	"net/http"
	"strconv"
	"strings"

	"switchboard"
)

// VoxPria's webhook API, for integrations written for it: subscriptions made here are
// ordinary ones in the voxpria format, visible in the v3 API too.

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

// voxpriaRoutes registers VoxPria's own shape of the webhook routes: no account in the path,
// the developer key as a bearer token.
func (s *Server) voxpriaRoutes() {
	s.voxpriaRoute("POST /api/v1/webhooks", "Create a webhook (VoxPria's shape)", s.voxpriaCreate)
	s.voxpriaRoute("GET /api/v1/webhooks", "List webhooks (VoxPria's shape)", s.voxpriaList)
}

// voxpriaRoute registers a route of VoxPria's API: the developer key comes as a bearer
// token and names the account; answers use VoxPria's envelope.
func (s *Server) voxpriaRoute(pattern, summary string, h func(w http.ResponseWriter, r *http.Request, accountID int64) error) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, &route{Method: method, Path: path, Operational: true, Tag: "Webhooks (VoxPria)",
		Summary: summary, Description: "Authorization: Bearer <developer key>. Answers {success, data} as VoxPria does. Subscriptions made here use the voxpria format."})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		accountID, err := s.voxpriaAuth(w, r)
		if err == nil {
			err = s.unavailable(needsWebhooks)
		}
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
	status, answer := s.answerOf(r, err)
	writeJSON(w, status, voxpriaEnvelope{Success: false, Error: &voxpriaErrorJSON{Code: answer.Code, Message: answer.Message, Details: answer.Details}})
}

func (s *Server) voxpriaCreate(w http.ResponseWriter, r *http.Request, accountID int64) error {
	var body voxpriaCreateJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	format := "voxpria"
	hook, secret, err := s.webhooks.CreateWebhook(r.Context(), accountID, switchboard.WebhookChange{
		URL: body.URL, Events: body.Events, Active: body.Active, Format: &format})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, voxpriaEnvelope{Success: true,
		Data: voxpriaWebhookJSON{WebhookID: voxpriaID(hook.ID), URL: hook.URL, Events: hook.Events, Secret: secret, Active: hook.Active}})
	return nil
}

func (s *Server) voxpriaList(w http.ResponseWriter, r *http.Request, accountID int64) error {
	hooks, err := s.webhooks.ListWebhooks(r.Context(), accountID)
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
