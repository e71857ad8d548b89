package tstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// HookReceiver is a real HTTP server that keeps the webhook requests it receives and
// answers them 200.
type HookReceiver struct {
	URL  string // its base URL
	mu   sync.Mutex
	reqs []Hook
}

// Hook is one request a HookReceiver received.
type Hook struct {
	Header http.Header
	Query  url.Values
	Body   string
}

// NewHookReceiver starts a receiver; it stops with the test.
func NewHookReceiver(t testing.TB) *HookReceiver {
	h := &HookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, Hook{Header: r.Header.Clone(), Query: r.URL.Query(), Body: string(b)})
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// Received is the requests received so far, in order.
func (h *HookReceiver) Received() []Hook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Hook(nil), h.reqs...)
}

// Named is the requests that carry the event name — as a JSON string in the body (the
// JSON formats), as the event query parameter (Voice Over Cloud) or as X-Event — in order.
func (h *HookReceiver) Named(name string) []Hook {
	var out []Hook
	for _, r := range h.Received() {
		if strings.Contains(r.Body, `"`+name+`"`) || r.Query.Get("event") == name || r.Header.Get("X-Event") == name {
			out = append(out, r)
		}
	}
	return out
}

// First is the first request that carries the event name (see Named), or nil.
func (h *HookReceiver) First(name string) *Hook {
	if hs := h.Named(name); len(hs) > 0 {
		return &hs[0]
	}
	return nil
}
