// Package web is the portal: server-rendered pages (html/template, embedded), a little
// hand-written JavaScript from /assets, no framework and no build step. It signs in portal
// logins (auth.go) and changes the account only through the provisioning service and the
// webhook service, as the API does: no rule lives in a handler.
//
// Every page is sent with a strict Content-Security-Policy (scripts from /assets only, no
// inline script or style), and every form carries the session's CSRF token.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"switchboard"
	"switchboard/provision"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Store is what the portal reads: the domain store with portal logins and call records.
type Store interface {
	switchboard.Store
	switchboard.PortalStore
	ListCallRecords(ctx context.Context, accountID int64, f switchboard.CallRecordFilter) ([]*switchboard.CallRecord, error)
	ListGroupCalls(ctx context.Context, accountID int64, groupType switchboard.TargetType, q switchboard.CallQuery) (*switchboard.GroupCallPage, error)
	GetCallTranscripts(ctx context.Context, accountID int64, callID string) ([]*switchboard.Transcript, error)
}

// WebhookService is the part of webhook.Service the portal uses.
type WebhookService interface {
	CreateWebhook(ctx context.Context, accountID int64, c switchboard.WebhookChange) (*switchboard.Webhook, string, error)
	GetWebhook(ctx context.Context, accountID, id int64) (*switchboard.Webhook, error)
	ListWebhooks(ctx context.Context, accountID int64) ([]*switchboard.Webhook, error)
	DeleteWebhook(ctx context.Context, accountID, id int64) error
	SendTest(ctx context.Context, accountID, id int64, event string) (*switchboard.DeliveryAttempt, error)
	ListDeliveries(ctx context.Context, f switchboard.DeliveryFilter) ([]*switchboard.Delivery, int64, error)
	GetDelivery(ctx context.Context, accountID, id int64) (*switchboard.Delivery, []*switchboard.DeliveryAttempt, error)
	ResendDeliveries(ctx context.Context, accountID int64, ids []int64) (int, error)
}

// Config names what the portal uses. Store and Provision are required; Webhooks nil hides
// the webhook pages (they answer 503), Live nil shows everyone offline.
type Config struct {
	Store     Store
	Provision *provision.Service
	Webhooks  WebhookService
	Live      switchboard.LiveState
	Sealer    Sealer // opens TOTP secrets; nil = TOTP cannot be turned on
	// Recordings plays and deletes call recordings (recording.Service); nil = the
	// recording pages say recording is not configured.
	Recordings RecordingService
	// Messages lists and sends SMS (sms.Service); nil = the Messages page says SMS is not
	// available.
	Messages MessageService
	// API serves every path the portal does not (/v3, /docs, /healthz …).
	API http.Handler
	// Secure marks the session cookie Secure (the server speaks TLS).
	Secure bool
	// TrustProxyHeaders takes the client IP (sign-in throttling) from X-Forwarded-For.
	TrustProxyHeaders bool
	// SIPServer returns the registrar address shown in softphone configurations, e.g.
	// 192.0.2.10:5060 (an unspecified host is replaced by the portal's host); nil or ""
	// shows the portal's host.
	SIPServer func() string
	// Events serves the live event stream (stream.Hub) that the wallboard follows through
	// /wallboard/events with the session cookie; nil = the wallboard re-reads every few seconds.
	Events EventStreamer
	Logger *slog.Logger
	Now    func() time.Time
}

// EventStreamer serves the account's live events as Server-Sent Events to a caller the
// portal has authenticated: userID 0 for an administrator (every event), else only that
// user's events.
type EventStreamer interface {
	ServeEventStream(w http.ResponseWriter, r *http.Request, accountID, userID int64) error
}

// Handler serves the portal and hands every other path to the API.
type Handler struct {
	events     EventStreamer
	store      Store
	provision  *provision.Service
	webhooks   WebhookService
	live       switchboard.LiveState
	sealer     Sealer
	recordings RecordingService
	messages   MessageService
	api        http.Handler
	secure     bool
	trustProxy bool
	sipServer  func() string
	logger     *slog.Logger
	now        func() time.Time

	mux           *http.ServeMux
	pages         map[string]*template.Template
	loginThrottle *throttle // failed sign-ins per login name
	ipThrottle    *throttle // failed sign-ins per client IP
}

// Sign-in throttling: 5 failures per login, 30 per IP, in 15 minutes.
const (
	throttleWindow   = 15 * time.Minute
	maxLoginFailures = 5
	maxIPFailures    = 30
)

// maxFormBytes bounds every form body: the portal's forms are small.
const maxFormBytes = 64 << 10

// New returns the portal handler.
func New(cfg Config) *Handler {
	h := &Handler{events: cfg.Events, store: cfg.Store, provision: cfg.Provision, webhooks: cfg.Webhooks, live: cfg.Live, sealer: cfg.Sealer,
		recordings: cfg.Recordings, messages: cfg.Messages,
		api: cfg.API, secure: cfg.Secure, trustProxy: cfg.TrustProxyHeaders, sipServer: cfg.SIPServer, logger: cfg.Logger, now: cfg.Now,
		mux: http.NewServeMux(), pages: map[string]*template.Template{},
		loginThrottle: newThrottle(maxLoginFailures, throttleWindow), ipThrottle: newThrottle(maxIPFailures, throttleWindow)}
	if h.live == nil {
		h.live = switchboard.Offline{}
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.api == nil {
		h.api = http.NotFoundHandler()
	}
	h.parseTemplates()
	h.routes()
	return h
}

func (h *Handler) parseTemplates() {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	// Files starting with _ hold blocks several pages share; each page is parsed with them
	// and the layout.
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		h.pages[strings.TrimSuffix(base, ".html")] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n))
	}
}

// ServeHTTP serves the portal's own paths and hands the rest to the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.api.ServeHTTP(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title   string
	S       *session
	CSRF    string
	Error   string
	Details map[string]string
	Notice  string
	Data    any
}

// render writes the named page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t := h.pages[name]
	if t == nil {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if p.S != nil {
		p.CSRF = p.S.CSRF
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.Execute(w, p); err != nil {
		h.logger.Error("portal template", "page", name, "err", err)
	}
}

// fail renders err on the page it came from: a domain error with its status and field
// problems, anything else as a 500 without detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, name string, p page, err error) {
	status := statusOf(err)
	p.Error = switchboard.ErrorMessage(err)
	var e *switchboard.Error
	if errors.As(err, &e) {
		p.Details = e.Details
	}
	if status >= 500 {
		h.logger.Error("portal", "path", r.URL.Path, "err", err)
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			p.Error = "Something went wrong on our side; it has been logged."
		}
	}
	if status == http.StatusNotFound {
		name = "notfound"
	}
	h.render(w, r, status, name, p)
}

func statusOf(err error) int {
	switch switchboard.ErrorCode(err) {
	case switchboard.EBADREQUEST:
		return http.StatusBadRequest
	case switchboard.ENOTFOUND:
		return http.StatusNotFound
	case switchboard.ECONFLICT:
		return http.StatusConflict
	case switchboard.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case switchboard.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case switchboard.EAUTHINVALID:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// clientIP is the peer's address, or the proxy's X-Forwarded-For when trusted.
func (h *Handler) clientIP(r *http.Request) string {
	if h.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return ip.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return host
}

// handler kinds: pages for anyone signed in, pages for administrators, and form posts
// (which also check the CSRF token and bound the body).
type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session)

func (h *Handler) signedIn(adminOnly bool, post bool, fn sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.sessionOf(r)
		if s == nil {
			if post {
				h.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "Your session has ended: sign in again."})
				return
			}
			http.Redirect(w, r, "/login?next="+urlPath(r), http.StatusSeeOther)
			return
		}
		if adminOnly && !s.Admin() {
			h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", S: s})
			return
		}
		if post {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				status, msg := http.StatusBadRequest, "The form could not be read."
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					status, msg = http.StatusRequestEntityTooLarge, "The form is too large (at most 64 KiB): nothing was changed."
				}
				h.render(w, r, status, "error", page{Title: "Refused", S: s, Error: msg})
				return
			}
			if !h.checkCSRF(r, s) {
				h.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", S: s,
					Error: "This form did not come from this portal (or it is too old): nothing was changed. Reload the page and try again."})
				return
			}
		}
		fn(w, r, s)
	}
}

// urlPath is the request's path and query, for the redirect back after sign-in.
func urlPath(r *http.Request) string {
	return template.URLQueryEscaper(r.URL.RequestURI())
}

func (h *Handler) get(pattern string, adminOnly bool, fn sessionHandler) {
	h.mux.Handle("GET "+pattern, h.signedIn(adminOnly, false, fn))
}

func (h *Handler) post(pattern string, adminOnly bool, fn sessionHandler) {
	h.mux.Handle("POST "+pattern, h.signedIn(adminOnly, true, fn))
}
