package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard"
	"switchboard/api"
	"switchboard/redislimit"
)

type serveConfig struct {
	storage      *storageFlags
	httpAddr     string
	demo         bool
	tlsCert      string
	tlsKey       string
	httpRedirect string
	secretKey    string
	logLevel     string
	logFormat    string
	trustProxy   bool
	shutdownWait time.Duration
	keyRateLimit int
	cacheTTL     time.Duration
	ipRateLimit  int
	redisURL     string
	webhooks     webhookFlags
	sip          sipFlags
	pbx          pbxFlags
}

func serveFlags(fs *flag.FlagSet) *serveConfig {
	c := &serveConfig{storage: addStorageFlags(fs)}
	fs.StringVar(&c.httpAddr, "http", "127.0.0.1:8080", "address the HTTP API listens on (HTTPS when --tls-cert is set)")
	fs.BoolVar(&c.demo, "demo", false, "on first start, seed the documents' example account 61 and write DATA/demo.json; also allows webhooks to http and loopback URLs")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key the API is served over HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.httpRedirect, "http-redirect", "", "with TLS: plain-HTTP address that redirects every request to HTTPS (e.g. :80)")
	fs.StringVar(&c.secretKey, "secret-key", "", "64 hex digits sealing secrets at rest (webhook secrets, trunk passwords); default: DATA/secret.key, created on first start; nodes sharing a database need the same key")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "take the client IP from X-Forwarded-For (only behind a proxy you run)")
	fs.IntVar(&c.keyRateLimit, "rate-limit-per-key", 1000, "API requests per minute per API key")
	fs.IntVar(&c.ipRateLimit, "rate-limit-per-ip", 100, "API requests per minute per client IP without a key")
	fs.StringVar(&c.redisURL, "redis", "", "redis://host:port/db URL: nodes behind one load balancer share the API rate limits through it; empty = each process counts its own")
	fs.DurationVar(&c.cacheTTL, "api-cache-ttl", time.Second, "how long API keys and user lists are served from memory; changes made by other processes (admin, other nodes) show within it; 0 disables")
	fs.DurationVar(&c.shutdownWait, "shutdown-timeout", 10*time.Second, "how long to let requests finish on SIGINT/SIGTERM")
	addWebhookFlags(fs, &c.webhooks)
	addSIPFlags(fs, &c.sip)
	addPBXFlags(fs, &c.pbx)
	return c
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := serveFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: switchboard serve [flags]\n\nRuns the REST API, the webhook workers, the SIP registrar and the call engine until\nSIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.httpRedirect != "" && c.tlsCert == "" {
		return errors.New("--http-redirect needs --tls-cert and --tls-key: it redirects to the HTTPS listener")
	}
	logger, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}

	db, err := openStore(ctx, c.storage)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database ready", "db", c.storage.describe(), "dialect", db.Dialect())

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// One server key seals every secret at rest: webhook signing secrets, trunk passwords.
	secretKey, err := loadSecretKey(c.secretKey, c.storage.dataDir)
	if err != nil {
		return err
	}
	webhooks, err := newWebhookService(c, db, secretKey, logger, registry)
	if err != nil {
		return err
	}

	sipServer, err := newSIPServer(c, db, logger, registry)
	if err != nil {
		return err
	}
	var live switchboard.LiveState = switchboard.Offline{}
	engine, err := newCallEngine(c, db, secretKey, sipServer, logger)
	if err != nil {
		return err
	}
	var calls switchboard.CallPlacer = switchboard.Offline{}
	if engine != nil {
		calls = engine
		live = engine // queue stats need the engine's callers, wrap-ups and today's counts
	}

	var shared api.RequestCounter
	if c.redisURL != "" {
		limiter, err := redislimit.Open(ctx, c.redisURL, "switchboard:ratelimit:")
		if err != nil {
			return fmt.Errorf("--redis: %w (start Redis, or leave --redis out to count rate limits per process)", err)
		}
		defer limiter.Close()
		shared = limiter
	}

	handler := api.New(api.Config{
		Store:                db,
		Live:                 live,
		Calls:                calls,
		Logger:               logger,
		Registry:             registry,
		Ready:                db.Ping,
		TrustProxyHeaders:    c.trustProxy,
		KeyRequestsPerMinute: c.keyRateLimit,
		IPRequestsPerMinute:  c.ipRateLimit,
		SharedRateLimits:     shared,
		CacheTTL:             c.cacheTTL,
		Webhooks:             webhooks,
	})

	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on --http %s: %w", c.httpAddr, err)
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	baseURL := scheme + "://" + ln.Addr().String()

	if c.demo {
		demo, err := seedDemo(ctx, db, c.storage.dataDir)
		if err != nil {
			ln.Close()
			return fmt.Errorf("demo: %w", err)
		}
		printDemoSummary(stdout, demo, c.storage.dataDir, baseURL)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		var err error
		if c.tlsCert != "" {
			err = srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	var redirect *http.Server
	if c.httpRedirect != "" {
		redirect = &http.Server{Addr: c.httpRedirect, Handler: redirectToHTTPS(ln.Addr().String()), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- redirect.ListenAndServe() }()
	}
	go func() { errc <- webhooks.Run(ctx) }()
	if engine != nil {
		go func() { errc <- engine.Run(ctx) }()
	}
	if sipServer != nil {
		go func() {
			if err := sipServer.Run(ctx); err != nil {
				errc <- fmt.Errorf("SIP on %s: %w (choose another address with --sip ADDR, or --sip off)", c.sip.addr, err)
			}
		}()
	}
	logger.Info("switchboard serving", "url", baseURL, "docs", baseURL+"/docs")

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			logger.Error("server stopped", "err", err)
			cancel()
			return err
		}
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), c.shutdownWait)
	defer done()
	if redirect != nil {
		redirect.Shutdown(shutdownCtx)
	}
	return srv.Shutdown(shutdownCtx)
}

// redirectToHTTPS answers every plain-HTTP request with a permanent redirect to the same
// path on the HTTPS listener. 308 keeps the method and body, so a POST stays a POST.
func redirectToHTTPS(tlsAddr string) http.Handler {
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if tlsPort != "443" {
			host = net.JoinHostPort(host, tlsPort)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
