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
	"os"
	"runtime/debug"
	"strings"
	"time"
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
	prompts      promptFlags
	voicemail    voicemailFlags
	recording    recordingFlags
	transcribe   transcribeFlags
	kannel       kannelFlags
	stream       streamFlags
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
	fs.DurationVar(&c.cacheTTL, "api-cache-ttl", time.Second, "how long API keys, user lists and the numbers and SMS settings sms/send checks are served from memory; changes made by other processes (admin, other nodes) show within it; 0 disables")
	fs.DurationVar(&c.shutdownWait, "shutdown-timeout", 10*time.Second, "how long to let requests finish on SIGINT/SIGTERM")
	addWebhookFlags(fs, &c.webhooks)
	addSIPFlags(fs, &c.sip)
	addPBXFlags(fs, &c.pbx)
	addPromptFlags(fs, &c.prompts)
	addVoicemailFlags(fs, &c.voicemail)
	addRecordingFlags(fs, &c.recording)
	addTranscribeFlags(fs, &c.transcribe)
	addKannelFlags(fs, &c.kannel)
	addStreamFlags(fs, &c.stream)
	return c
}

// serve runs `switchboard serve` until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	m, err := newMain(ctx, c, stdout, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

// serveGCPercent is the garbage collector's GOGC for serve unless the environment sets
// GOGC. The server's live heap is small (about 10 MB for the demo) and its requests
// allocate briefly, so at Go's default of 100 it collected many times a second under load:
// in perf of the registrar under SIPp the collector and its allocation assists took about
// 9 % of the CPU. At 400 the heap may grow to five times the live data (tens of MB) before
// a collection.
const serveGCPercent = 400

// parseServeFlags reads serve's command line and environment, and refuses flags that
// contradict each other.
func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	fs := newFlagSet("serve", stderr, "Usage: switchboard serve [flags]\n\nRuns the REST API, the webhook workers, the SIP registrar and the call engine until\nSIGINT or SIGTERM.\n\nFlags:\n")
	c := serveFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.httpRedirect != "" && c.tlsCert == "" {
		return nil, errors.New("--http-redirect needs --tls-cert and --tls-key: it redirects to the HTTPS listener")
	}
	return c, nil
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
