package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard"
	"switchboard/api"
	"switchboard/blob"
	"switchboard/pbx"
	"switchboard/prompt"
	"switchboard/provision"
	"switchboard/recording"
	"switchboard/redislimit"
	"switchboard/sip"
	"switchboard/sms"
	"switchboard/store"
	"switchboard/stream"
	"switchboard/transcribe"
	"switchboard/web"
	"switchboard/webhook"
)

// Main is one `switchboard serve`: newMain opens the database, builds every part and
// listens for HTTP; Run serves until its context ends and stops the parts in order; Close
// then closes the database. Tests start it in process and read its addresses from it.
type Main struct {
	cfg    *serveConfig
	logger *slog.Logger

	db       *store.DB
	limiter  *redislimit.Limiter // nil without --redis
	webhooks *webhook.Service
	stream   *stream.Hub // the live event stream (stream.go)
	sip      *sip.Server // nil with --sip off
	stopACME func()      // ends --sip-tls-acme's renewals; nil until SIP is built
	engine   *pbx.Engine // nil with --sip off
	// blobs keeps prompt audio under DATA/blobs; prompts plays prompts to calls; speaker
	// is espeak-ng (--espeak). promptsDone is closed when the system prompts' generation
	// (started by Run) has returned.
	blobs       *blob.Dir
	prompts     *prompt.Library
	speaker     *prompt.Speaker
	promptsDone chan struct{}
	// recordings stores call recordings (recording.go); the engine's recorder writes through it.
	recordings *recording.Service

	http       *http.Server
	httpLn     net.Listener
	baseURL    string
	redirect   *http.Server // nil without --http-redirect
	redirectLn net.Listener

	ready chan struct{}

	// transcriber works the transcription queue (runs nothing without an engine).
	transcriber *transcribe.Service
	// sms is the SMS service and its outbox worker (sms.go).
	sms *sms.Service
	// kannel is the Kannel carrier and its callbacks (kannel.go); forgetKannel drops it.
	kannel       *kannelWiring
	forgetKannel func()
	// portal is the web portal (web/); its Authenticate tells the live stream who a session
	// cookie belongs to.
	portal *web.Handler
}

// newMain builds the server from its flags. It applies the migrations, seeds the demo with
// --demo and listens on the HTTP addresses, so that their ports are known before Run.
func newMain(ctx context.Context, c *serveConfig, stdout, stderr io.Writer) (_ *Main, err error) {
	logger, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: c, logger: logger, ready: make(chan struct{})}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()

	if m.db, err = openStore(ctx, c.storage); err != nil {
		return nil, err
	}
	logger.Info("database ready", "db", c.storage.describe(), "dialect", m.db.Dialect())

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// One server key seals every secret at rest: webhook signing secrets, trunk passwords.
	secretKey, err := loadSecretKey(c.secretKey, c.storage.dataDir)
	if err != nil {
		return nil, err
	}
	if m.webhooks, err = newWebhookService(c, m.db, secretKey, logger, registry); err != nil {
		return nil, err
	}
	if m.sip, m.stopACME, err = newSIPServer(c, m.db, logger, registry); err != nil {
		return nil, err
	}
	// Prompt audio is kept before the engine is built, so that the engine can play it.
	if m.blobs, err = newBlobStore(c.storage.dataDir); err != nil {
		return nil, err
	}
	m.speaker = &prompt.Speaker{Path: c.prompts.espeak}
	m.prompts = prompt.NewLibrary(m.db, m.blobs, 0, logger)

	if m.engine, err = newCallEngine(c, m.db, secretKey, m.sip, logger); err != nil {
		return nil, err
	}
	// The engine runs whenever SIP does; without it (--sip off) nobody is online and the API
	// answers 503 to placing calls.
	var live switchboard.LiveState = switchboard.Offline{}
	var calls switchboard.CallPlacer
	var callControl switchboard.CallController
	var conferences switchboard.ConferenceController
	var callRecording switchboard.CallRecorder // 503 until the engine has a recording service (SetRecordings)
	if m.engine != nil {
		calls = m.engine
		callControl = m.engine
		callRecording = m.engine
		conferences = m.engine
		live = m.engine // presence and queue stats need the engine's channels and callers
	}

	// Provisioning goes through one service. The call engine caches queue members and trunks,
	// so it is told of their changes; trunks are provisioned only where an engine uses them.
	// Secrets provisioned (trunk passwords, flows' webhook tokens) are sealed with the key.
	sealer, err := webhook.NewSealer(secretKey)
	if err != nil {
		return nil, err
	}
	flowRefs := provision.StoreFlowRefs(m.db)
	provisioning := provision.New(provision.Config{Store: m.db, Sealer: sealer, Logger: logger, Blobs: m.blobs, Speaker: m.speaker,
		FlowRefs: flowRefs})
	var trunks switchboard.TrunkService
	if m.engine != nil {
		provisioning = provision.New(provision.Config{Store: m.db, Sealer: sealer, Engine: m.engine, Logger: logger,
			Blobs: m.blobs, Speaker: m.speaker, FlowRefs: flowRefs})
		trunks = provisioning
		m.engine.SetUserService(provisioning)     // feature codes (*78…) change users as the API does
		m.engine.SetCallFlowService(provisioning) // *60 flips a flow's hours as PUT …/override does
		m.engine.SetPromptLibrary(m.prompts)      // flows play the account's and the system prompts
		m.engine.SetAgentService(provisioning)    // *45 and *46 change agent states as the API does
	}
	m.sms = wireSMS(c, m.db, sealer, logger)
	if m.kannel, m.forgetKannel, err = wireKannel(c.kannel, secretKey, m.db, m.sms, logger); err != nil {
		return nil, err
	}
	wireSIPMessage(m.sip, m.sms, m.db, sealer) // sipmsg.go: SIP MESSAGE <-> the SMS service
	vmLinks, err := wireVoicemail(c.voicemail, m.blobs, secretKey, m.db, provisioning, m.engine, m.sip, logger)
	if err != nil {
		return nil, err
	}

	recordings, recordingBlobs, err := wireRecording(ctx, c.recording, c.storage.dataDir, m.blobs, secretKey, m.db, registry, logger)
	if err != nil {
		return nil, err
	}
	m.recordings = recordings
	// Transcription reads the recordings where they are stored (the data directory or S3);
	// a recording that becomes available queues its job in the same transaction. Enabling
	// transcription on an account is refused while no engine is configured.
	if m.transcriber, err = newTranscriber(c.transcribe, m.db, recordingBlobs, logger); err != nil {
		return nil, err
	}
	recordings.OnAvailable = m.transcriber.RecordingHook(m.db)
	provisioning.SetTranscriptionCheck(m.transcriber.Missing)
	// Recordings the last process was writing when it died are kept (and transcribed) now.
	if err := recordings.Repair(ctx); err != nil {
		logger.Warn("repairing recordings left by the last run failed", "error", err)
	}
	if m.engine != nil {
		m.engine.SetRecordings(recordings) // calls are recorded by policy, click-to-call and the API
	}

	var shared api.RequestCounter
	if c.redisURL != "" {
		if m.limiter, err = redislimit.Open(ctx, c.redisURL, "switchboard:ratelimit:"); err != nil {
			return nil, fmt.Errorf("--redis: %w (start Redis, or leave --redis out to count rate limits per process)", err)
		}
		shared = m.limiter
	}

	m.stream = newStreamHub(c, m.db, logger)
	handler := api.New(api.Config{
		Store:                m.db,
		Live:                 live,
		Calls:                calls,
		CallControl:          callControl,
		CallRecording:        callRecording,
		Conferences:          conferences,
		Logger:               logger,
		Registry:             registry,
		Ready:                m.db.Ping,
		TrustProxyHeaders:    c.trustProxy,
		KeyRequestsPerMinute: c.keyRateLimit,
		IPRequestsPerMinute:  c.ipRateLimit,
		SharedRateLimits:     shared,
		CacheTTL:             c.cacheTTL,
		Forget:               m.sms.ForgetAccount,
		Webhooks:             m.webhooks,
		Provision:            provisioning,
		Trunks:               trunks,
		Voicemail:            provisioning,
		VoicemailLinks:       vmLinks,
		Recordings:           recordings,
		SMS:                  m.sms,
		Messages:             m.sms,
		EventStream:          m.stream,
		Agents:               provisioning,
		Transcripts:          m.db,
	})
	// The portal serves / and hands every other path (/v3, /docs …) to the API.
	portal := web.New(web.Config{Store: m.db, Provision: provisioning, Webhooks: m.webhooks, Live: live, Sealer: sealer, Events: m.stream,
		Recordings: recordings, Messages: m.sms,
		API: handler, Secure: c.tlsCert != "", TrustProxyHeaders: c.trustProxy, Logger: logger,
		SIPServer: func() string {
			if a := m.SIPUDPAddr(); a != nil {
				return a.String()
			}
			return ""
		}})
	m.portal = portal
	if m.httpLn, err = net.Listen("tcp", c.httpAddr); err != nil {
		return nil, fmt.Errorf("cannot listen on --http %s: %w", c.httpAddr, err)
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	m.baseURL = scheme + "://" + m.httpLn.Addr().String()
	if vmLinks.BaseURL == "" {
		vmLinks.BaseURL = m.baseURL
	}
	recordings.Links.BaseURL = vmLinks.BaseURL // --public-url, else the listener
	m.sms.SetPublicURL(m.baseURL)              // unless --public-url set it

	m.http = &http.Server{Handler: withKannel(portal, m.kannel.handler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	if c.httpRedirect != "" {
		if m.redirectLn, err = net.Listen("tcp", c.httpRedirect); err != nil {
			return nil, fmt.Errorf("cannot listen on --http-redirect %s: %w", c.httpRedirect, err)
		}
		m.redirect = &http.Server{Handler: redirectToHTTPS(m.httpLn.Addr().String()), ReadHeaderTimeout: 10 * time.Second}
	}

	if c.demo {
		demo, err := seedDemo(ctx, m.db, c.storage.dataDir)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		printDemoSummary(stdout, demo, c.storage.dataDir, m.baseURL)
	}
	return m, nil
}

// HTTPURL is the API's base URL, e.g. http://127.0.0.1:8080.
func (m *Main) HTTPURL() string { return m.baseURL }

// RedirectAddr is the plain-HTTP address that redirects to HTTPS, or nil.
func (m *Main) RedirectAddr() net.Addr {
	if m.redirectLn == nil {
		return nil
	}
	return m.redirectLn.Addr()
}

// Ready is closed once Run serves on every address, SIP included.
func (m *Main) Ready() <-chan struct{} { return m.ready }

// SIPUDPAddr is the address SIP listens on for UDP once Ready, or nil with --sip off.
func (m *Main) SIPUDPAddr() net.Addr {
	if m.sip == nil {
		return nil
	}
	return m.sip.UDPAddr()
}

// SIPTLSAddr is the address SIP listens on for TLS once Ready, or nil without --sip-tls.
func (m *Main) SIPTLSAddr() net.Addr {
	if m.sip == nil {
		return nil
	}
	return m.sip.TLSAddr()
}

// SIPTCPAddr is the address SIP listens on for TCP once Ready, or nil with --sip off.
func (m *Main) SIPTCPAddr() net.Addr {
	if m.sip == nil {
		return nil
	}
	return m.sip.TCPAddr()
}

// Run serves until ctx ends or a part stops on its own. It then stops the parts one at a
// time and waits for each: SIP first, so that no new call or in-dialog request reaches the
// engine; then the call engine, which hangs up its calls; then the webhook workers; then
// HTTP, which answers API requests until then. Every goroutine has returned when Run does,
// so Close may close the database. Run returns the failure of the part that stopped on its
// own, or else the HTTP shutdown's error.
func (m *Main) Run(ctx context.Context) error {
	c := m.cfg
	ended := make(chan error, 16) // each task sends once, when it returns: room for every task below
	httpTask := goTask(ended, func() error {
		if c.tlsCert != "" {
			return m.http.ServeTLS(m.httpLn, c.tlsCert, c.tlsKey)
		}
		return m.http.Serve(m.httpLn)
	})
	var redirectTask *task
	if m.redirect != nil {
		redirectTask = goTask(ended, func() error { return m.redirect.Serve(m.redirectLn) })
	}
	webhookTask := ctxTask(ctx, ended, m.webhooks.Run)
	go m.recordings.RunRetention(ctx, c.recording.retentionInterval) // ends with ctx
	transcribeTask := ctxTask(ctx, ended, m.transcriber.Run)
	smsTask := ctxTask(ctx, ended, m.sms.Run)
	streamTask := ctxTask(ctx, ended, m.stream.Run)
	m.promptsDone = make(chan struct{})
	promptsCtx, stopPrompts := context.WithCancel(ctx)
	go func() {
		defer close(m.promptsDone)
		generateSystemPrompts(promptsCtx, m.blobs, m.speaker, m.logger)
	}()
	var engineTask, sipTask *task
	if m.engine != nil {
		engineTask = ctxTask(ctx, ended, m.engine.Run)
	}
	sipReady := closedChannel() // nothing to wait for with SIP off
	if m.sip != nil {
		sipReady = m.sip.Ready()
		sipTask = ctxTask(ctx, ended, func(ctx context.Context) error {
			if err := m.sip.Run(ctx); err != nil {
				return fmt.Errorf("SIP on %s: %w (choose another address with --sip ADDR, or --sip off)", c.sip.addr, err)
			}
			return nil
		})
	}

	failure := func() error {
		select {
		case <-sipReady:
		case err := <-ended:
			return err
		case <-ctx.Done():
			return nil
		}
		close(m.ready)
		m.logger.Info("switchboard serving", "url", m.baseURL, "docs", m.baseURL+"/docs")
		m.logPhoneAddresses()
		select {
		case <-ctx.Done():
			return nil
		case err := <-ended:
			return err
		}
	}()
	if failure != nil {
		m.logger.Error("server stopped", "err", failure)
	} else {
		m.logger.Info("shutting down")
	}

	// The engine stops first: from then on it refuses new calls and in-dialog work (503),
	// hangs up the live calls and waits for them, while SIP still carries their BYEs. Then
	// SIP stops, then the webhook workers deliver what is claimed and stop.
	engineTask.halt()
	sipTask.halt()
	transcribeTask.halt() // before the webhook workers, which deliver its events
	smsTask.halt()
	webhookTask.halt()
	shutdownCtx, done := context.WithTimeout(context.Background(), c.shutdownWait)
	defer done()
	if redirectTask != nil {
		redirectTask.haltWith(func() { m.redirect.Shutdown(shutdownCtx) })
	}
	streamTask.halt() // ends the event streams, which HTTP's shutdown would otherwise wait for
	var shutdownErr error
	httpTask.haltWith(func() { shutdownErr = m.http.Shutdown(shutdownCtx) })
	stopPrompts() // a generation still running kills its espeak-ng and returns
	<-m.promptsDone
	if failure != nil {
		return failure
	}
	return shutdownErr
}

// Close closes what newMain opened and Run does not: the HTTP listeners when Run never
// served them, the Redis client and, last, the database. Call it after Run has returned, or
// instead of Run.
func (m *Main) Close() error {
	for _, ln := range []net.Listener{m.httpLn, m.redirectLn} {
		if ln != nil {
			ln.Close() // already closed when Run served it
		}
	}
	if m.limiter != nil {
		m.limiter.Close()
	}
	if m.forgetKannel != nil {
		m.forgetKannel()
	}
	if m.stopACME != nil {
		m.stopACME()
	}
	if m.db == nil {
		return nil
	}
	return m.db.Close()
}

// task is one part of the server running in its own goroutine, stopped on its own so that
// Run can stop the parts in order and wait for each.
type task struct {
	cancel context.CancelFunc // stops a part that runs until its context ends; nil for HTTP
	done   chan struct{}      // closed when the goroutine has returned
}

// goTask runs run in a goroutine and sends its error to ended when it returns; the errors
// of a server that was asked to stop count as nil.
func goTask(ended chan<- error, run func() error) *task {
	t := &task{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		err := run()
		if errors.Is(err, http.ErrServerClosed) || errors.Is(err, context.Canceled) {
			err = nil
		}
		ended <- err
	}()
	return t
}

// ctxTask runs run with a context of its own (keeping ctx's values), ended by halt.
func ctxTask(ctx context.Context, ended chan<- error, run func(context.Context) error) *task {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := goTask(ended, func() error { return run(ctx) })
	t.cancel = cancel
	return t
}

// halt cancels t's context and waits for its goroutine. A nil task is a part that is off.
func (t *task) halt() {
	if t != nil {
		t.haltWith(t.cancel)
	}
}

// haltWith asks t to stop with stop and waits for its goroutine.
func (t *task) haltWith(stop func()) {
	stop()
	<-t.done
}

func closedChannel() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
