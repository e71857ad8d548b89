// Package api is Switchboard's HTTP door: the Voice360-compatible v3 API, the provisioning
// API, health, metrics and the OpenAPI reference. It knows the domain only through the
// interfaces of the root package, and nothing of SIP.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"switchboard"
)

// Config names every service a Server uses. Live nil means switchboard.Offline{}: nobody is
// registered, nothing is live. The other services are optional: while one is nil, the
// routes that need it answer 503 SERVICE_UNAVAILABLE saying so (see unavailable) — Calls
// POST /call/outbound, SMS POST /sms/send, Webhooks the webhook and delivery-log routes,
// VoxPria's too.
type Config struct {
	Store switchboard.Store
	Live  switchboard.LiveState
	Calls switchboard.CallPlacer
	// CallControl transfers and hangs up calls in progress; nil answers 503.
	CallControl switchboard.CallController
	// Conferences lists and acts on the parties in conference rooms; nil answers 503.
	Conferences switchboard.ConferenceController
	SMS         switchboard.SMSSender
	Webhooks    WebhookService
	Logger      *slog.Logger
	// CallRecords pages the call records of /calls/* and /user/calls; optional.
	CallRecords CallRecordReader
	// Now is the clock of the rate limits and of the envelopes' timestamps; default time.Now.
	Now func() time.Time
	// Registry receives the HTTP metrics and is served at /metrics; nil = a new registry.
	Registry *prometheus.Registry
	// Ready answers /readyz; nil = always ready.
	Ready func(ctx context.Context) error
	// TrustProxyHeaders makes the client IP (rate limits, key allowlists) come from
	// X-Forwarded-For / X-Real-IP. Only set it behind a proxy that overwrites them.
	TrustProxyHeaders bool
	// KeyRequestsPerMinute and IPRequestsPerMinute are the rate limits per API key and per
	// client IP without a key; 0 = the seed's 1000 and 100. Raising them is for benchmarks
	// and for operators who sell higher limits.
	KeyRequestsPerMinute int
	IPRequestsPerMinute  int
	// SharedRateLimits, when set, counts the rate limits across every node that shares it
	// (Redis); nil = each process counts its own.
	SharedRateLimits RequestCounter
	// CacheTTL is how long API keys and user lists are served from memory; writes through
	// this server drop an account's entries at once, changes by other processes show within
	// the TTL. 0 = no cache (every request reads the store).
	CacheTTL time.Duration
	// Forget is told the account of every write request this server served, so that caches
	// outside the API (the SMS service's numbers and settings) drop what may have changed.
	Forget func(accountID int64)

	// Provision changes accounts (users, devices, queues …: provision.Service); nil = the
	// provisioning routes answer 503.
	Provision ProvisioningService
	// Trunks provisions SIP trunks (provision.Service with the trunk password sealer and the
	// call engine); nil = the trunk routes answer 503.
	Trunks switchboard.TrunkService
	// Voicemail keeps boxes and messages (provision.Service with blob storage); nil answers
	// the voicemail routes 503. VoicemailLinks checks the signed audio links.
	Voicemail      switchboard.VoicemailService
	VoicemailLinks *switchboard.VoicemailLinks
	// CallRecording starts, stops, pauses and resumes the recordings of calls in progress
	// (the call engine, when it stores recordings); nil answers 503.
	CallRecording switchboard.CallRecorder
	// Recordings deletes recordings, serves their audio and checks their signed links
	// (recording.Service); nil answers the recording routes 503.
	Recordings RecordingService
	// Messages is the Messages API, the SMS settings and the simulator (sms.Service); nil
	// answers them 503.
	Messages MessageService
	// EventStream serves GET …/events/stream and …/events/ws (stream.Hub); nil answers 503.
	EventStream EventStreamer
	// Agents changes and reports agent states (provision.Service); nil answers 503.
	Agents AgentService
	// Transcripts reads calls' transcripts (store.DB); nil answers the transcript route 503.
	Transcripts TranscriptReader
}

// Server is the HTTP handler of the whole API.
type Server struct {
	store       switchboard.Store
	live        switchboard.LiveState
	calls       switchboard.CallPlacer
	callControl switchboard.CallController
	conferences switchboard.ConferenceController
	sms         switchboard.SMSSender
	webhooks    WebhookService
	provision   ProvisioningService
	trunks      switchboard.TrunkService
	voicemail   switchboard.VoicemailService
	vmLinks     *switchboard.VoicemailLinks
	recordings  RecordingService // Config.Recordings
	messages    MessageService
	logger      *slog.Logger
	now         func() time.Time
	registry    *prometheus.Registry
	ready       func(ctx context.Context) error
	trustProxy  bool

	callRecords CallRecordReader
	eventStream EventStreamer
	agents      AgentService
	transcripts TranscriptReader

	callRecording switchboard.CallRecorder

	mux     *http.ServeMux
	routes  []*route // every pattern registered, with its documentation (the OpenAPI source)
	metrics *httpMetrics

	keyLimiter *rateLimiter // per API key
	ipLimiter  *rateLimiter // per client IP, for requests without a valid key
	cache      *readCache
}

// Default rate limits of the v3 API (the seed's numbers).
const (
	defaultKeyRequestsPerMinute = 1000
	defaultIPRequestsPerMinute  = 100
)

// New returns the API server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:       cfg.Store,
		live:        cfg.Live,
		calls:       cfg.Calls,
		callControl: cfg.CallControl,
		conferences: cfg.Conferences,
		sms:         cfg.SMS,
		messages:    cfg.Messages,
		webhooks:    cfg.Webhooks,
		provision:   cfg.Provision,
		trunks:      cfg.Trunks,
		voicemail:   cfg.Voicemail,
		vmLinks:     cfg.VoicemailLinks,
		logger:      cfg.Logger,
		now:         cfg.Now,
		registry:    cfg.Registry,
		ready:       cfg.Ready,
		trustProxy:  cfg.TrustProxyHeaders,
		mux:         http.NewServeMux(),

		callRecords: cfg.CallRecords,

		callRecording: cfg.CallRecording,
		recordings:    cfg.Recordings,
		eventStream:   cfg.EventStream,
		agents:        cfg.Agents,
		transcripts:   cfg.Transcripts,
	}
	if s.live == nil {
		s.live = switchboard.Offline{}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	s.metrics = newHTTPMetrics(s.registry)
	keyLimit, ipLimit := cfg.KeyRequestsPerMinute, cfg.IPRequestsPerMinute
	if keyLimit <= 0 {
		keyLimit = defaultKeyRequestsPerMinute
	}
	if ipLimit <= 0 {
		ipLimit = defaultIPRequestsPerMinute
	}
	s.keyLimiter = newRateLimiter(keyLimit, time.Minute, maxLimiterEntries)
	s.ipLimiter = newRateLimiter(ipLimit, time.Minute, maxLimiterEntries)
	if cfg.SharedRateLimits != nil {
		failed := s.sharedLimitFailed()
		for _, l := range []*rateLimiter{s.keyLimiter, s.ipLimiter} {
			l.shared, l.sharedFailed = cfg.SharedRateLimits, failed
		}
	}
	s.cache = newReadCache(cfg.CacheTTL, s.now, cfg.Forget)
	s.registerRoutes()
	return s
}

// registerRoutes sets up every route. The v3 and provisioning routes are documented in their
// registration (see route); the rest are operational.
func (s *Server) registerRoutes() {
	s.v3Routes()
	s.provisioningRoutes()
	s.voicemailRoutes() // voicemail.go
	s.recordingRoutes() // recordings.go
	s.callRoutes()
	s.callControlRoutes()
	s.callRecordingRoutes() // call_recording.go
	s.callTraceRoutes()
	s.transcriptRoutes()
	s.webhookRoutes()
	s.trunkRoutes()
	s.messageRoutes()     // messages.go
	s.eventStreamRoutes() // events_stream.go
	s.agentRoutes()       // agents.go
	s.operational("GET /healthz", "Liveness: 200 while the process serves", s.handleHealthz)
	s.operational("GET /readyz", "Readiness: 200 when the database answers, else 503", s.handleReadyz)
	s.operational("GET /metrics", "Prometheus metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP)
	s.operational("GET /v3/openapi.json", "This API's OpenAPI 3.1 document", s.handleOpenAPI)
	s.operational("GET /docs", "The API reference, rendered from the OpenAPI document", s.handleDocs)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	s.writeResult(w, http.StatusOK, "ok", map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.logger.Warn("not ready", "err", err)
		s.writeError(w, r, switchboard.Errorf(switchboard.EUNAVAILABLE, "Not ready: the database does not answer"))
		return
	}
	s.writeResult(w, http.StatusOK, "ready", map[string]string{"status": "ready"})
}

// requestIDHeader carries the request id in and out.
const requestIDHeader = "X-Request-Id"

// sane request ids are short and printable, so that a client cannot inject log lines.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

type ctxKey int

const requestIDKey ctxKey = iota

func requestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP tags the request with an id, serves it, and logs and counts it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // wall clock on purpose: durations are measured, not rate-limited
	id := r.Header.Get(requestIDHeader)
	if !requestIDRE.MatchString(id) {
		id = newRequestID()
	}
	w.Header().Set(requestIDHeader, id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}

	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.serveUnmatched(sw, r)
	} else {
		s.mux.ServeHTTP(sw, r)
	}

	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	s.metrics.observe(route, r.Method, sw.status, elapsed)
	level := slog.LevelInfo
	if sw.status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "http request",
		slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("route", route), slog.Int("status", sw.status), slog.Duration("duration", elapsed),
		slog.String("client_ip", s.clientIP(r)))
}

// serveUnmatched answers a request no pattern matches: the mux's own 404 or 405 (with its
// Allow header), or its redirect to a cleaned path, in the API's envelope where it is an error.
func (s *Server) serveUnmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	c := &captureWriter{header: http.Header{}}
	h.ServeHTTP(c, r)
	switch c.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", c.header.Get("Allow"))
		s.writeError(w, r, switchboard.Errorf(switchboard.EMETHOD, "Method %s is not allowed here; allowed: %s", r.Method, c.header.Get("Allow")))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		w.Header().Set("Location", c.header.Get("Location"))
		w.WriteHeader(c.status)
	default:
		s.writeError(w, r, switchboard.Errorf(switchboard.ENOTFOUND, "No such endpoint: %s %s", r.Method, r.URL.Path))
	}
}

// statusWriter remembers the status a handler wrote, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter records what the mux's fallback handlers would answer.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
