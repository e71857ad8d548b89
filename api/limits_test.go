package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/api"
)

func TestKeyRateLimit(t *testing.T) {
	e := newSQLiteEnv(t)
	url := e.a.base(e.srv) + "/queues"
	for i := 1; i <= 1000; i++ {
		r := e.request("GET", url, e.a.devKey, nil)
		if r.status != 200 {
			t.Fatalf("request %d: status %d: %s", i, r.status, r.raw)
		}
		if r.header.Get("X-RateLimit-Limit") != "1000" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(1000-i) {
			t.Fatalf("request %d: limit headers %q %q", i, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
		if i == 500 {
			e.clock.Advance(30 * time.Second) // still the same minute
		}
	}
	r := e.request("GET", url, e.a.devKey, nil)
	expectError(t, r, 429, "RATE_LIMITED")
	if r.header.Get("X-RateLimit-Limit") != "1000" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("Retry-After") != "30" {
		t.Fatalf("429 headers: limit %q remaining %q retry-after %q", r.header.Get("X-RateLimit-Limit"),
			r.header.Get("X-RateLimit-Remaining"), r.header.Get("Retry-After"))
	}
	// Another key of the same account has its own budget.
	expectOK(t, e.request("GET", e.a.base(e.srv)+"/user/profile", e.a.userKey, nil), 200, "User profile details")

	e.clock.Advance(30 * time.Second)
	r = e.request("GET", url, e.a.devKey, nil)
	expectOK(t, r, 200, "List of queues")
	if r.header.Get("X-RateLimit-Remaining") != "999" {
		t.Errorf("after the minute: remaining %q, want 999", r.header.Get("X-RateLimit-Remaining"))
	}
}

func TestPublicIPRateLimit(t *testing.T) {
	e := newSQLiteEnv(t)
	e.a.account.PublicEndpoints = true
	must(t, e.store.UpdateAccount(context.Background(), e.a.account))
	url := e.a.base(e.srv) + "/availability"
	for i := 1; i <= 100; i++ {
		r := e.request("GET", url, "", nil)
		if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "100" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(100-i) {
			t.Fatalf("request %d: %d limit %q remaining %q", i, r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
	}
	r := e.request("GET", url, "", nil)
	expectError(t, r, 429, "RATE_LIMITED")
	if r.header.Get("Retry-After") != "60" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers: retry-after %q remaining %q", r.header.Get("Retry-After"), r.header.Get("X-RateLimit-Remaining"))
	}
	// Guessing keys counts against the same per-IP budget.
	expectError(t, e.request("GET", url, "guessed-key-123", nil), 429, "RATE_LIMITED")
	// A valid key is limited on its own.
	expectOK(t, e.request("GET", url, e.a.devKey, nil), 200, "User availability data")

	e.clock.Advance(time.Minute)
	expectOK(t, e.request("GET", url, "", nil), 200, "User availability data")
}

func TestBadInput(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	users := base + "/users"
	countUsers := func() int {
		list, err := e.store.ListUsers(context.Background(), e.a.account.ID)
		must(t, err)
		return len(list)
	}
	before := countUsers()

	send := func(contentType, body string) response {
		req, _ := http.NewRequest("POST", users, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("X-API-Key", e.a.devKey)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
		must(t, json.Unmarshal(raw, &r.body))
		return r
	}

	cases := []struct {
		name, contentType, body string
		status                  int
		code, field             string
	}{
		{"no content type", "", `{"presence_id":"1003"}`, 400, "BAD_REQUEST", ""},
		{"form content type", "application/x-www-form-urlencoded", `presence_id=1003`, 400, "BAD_REQUEST", ""},
		{"malformed JSON", "application/json", `{"presence_id":"1003",`, 400, "BAD_REQUEST", ""},
		{"not an object", "application/json", `["1003"]`, 400, "BAD_REQUEST", ""},
		{"empty body", "application/json", ``, 400, "BAD_REQUEST", ""},
		{"two objects", "application/json", `{"presence_id":"1003"}{"presence_id":"1004"}`, 400, "BAD_REQUEST", ""},
		{"wrong type", "application/json", `{"presence_id":1003}`, 400, "BAD_REQUEST", "presence_id"},
		{"unknown field", "application/json", `{"presence_id":"1003","is_admin":true}`, 400, "BAD_REQUEST", "is_admin"},
		{"invalid phone", "application/json", `{"presence_id":"1003","forward_number":"call me maybe"}`, 400, "BAD_REQUEST", "forward_number"},
		{"invalid values", "application/json", `{"presence_id":"1","email":"nope","time_zone":"Mars/Olympus"}`, 400, "BAD_REQUEST", "time_zone"},
		{"too large", "application/json", `{"first_name":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "PAYLOAD_TOO_LARGE", ""},
		{"taken extension", "application/json", `{"presence_id":"1001"}`, 409, "CONFLICT", "presence_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(c.contentType, c.body)
			expectError(t, r, c.status, c.code)
			if c.field != "" && detail(r, c.field) == "" {
				t.Errorf("details.%s missing: %s", c.field, r.raw)
			}
		})
	}
	if got := countUsers(); got != before {
		t.Fatalf("bad input changed the users: %d, want %d", got, before)
	}
	// Every field is reported at once.
	r := send("application/json", `{"presence_id":"1","email":"nope","time_zone":"Mars/Olympus"}`)
	for _, f := range []string{"presence_id", "email", "time_zone"} {
		if detail(r, f) == "" {
			t.Errorf("details.%s missing: %s", f, r.raw)
		}
	}

	// Ids: non-numeric is 400, missing or another account's is 404.
	expectError(t, e.request("GET", base+"/users/abc", e.a.devKey, nil), 400, "BAD_REQUEST")
	expectError(t, e.request("GET", base+"/users/-4", e.a.devKey, nil), 400, "BAD_REQUEST")
	expectError(t, e.request("GET", base+"/users/999999", e.a.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", base+"/users/"+itoa(e.b.john.ID), e.a.devKey, nil), 404, "NOT_FOUND")
	// A reference to another account's user is a bad field, and nothing is written.
	r = e.request("POST", base+"/queues/"+itoa(e.a.sales.ID)+"/members", e.a.devKey, map[string]any{"user_id": e.b.jane.ID})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "user_id") == "" {
		t.Errorf("details.user_id missing: %s", r.raw)
	}
	members, err := e.store.ListQueueMembers(context.Background(), e.a.account.ID, e.a.sales.ID)
	must(t, err)
	if len(members) != 1 {
		t.Errorf("members after a refused add: %v", members)
	}
}

// failingStore is a Store whose reads fail as a broken database would.
type failingStore struct{ switchboard.Store }

var errDiskOnFire = errors.New("disk on fire: /var/lib/secret/path")

func (failingStore) ListQueues(context.Context, int64) ([]*switchboard.Queue, error) {
	return nil, errDiskOnFire
}

func (failingStore) PageQueues(context.Context, int64, switchboard.Page) ([]*switchboard.Queue, bool, error) {
	return nil, false, errDiskOnFire
}

func TestInternalErrorHidesCause(t *testing.T) {
	var logs bytes.Buffer
	e := newSQLiteEnv(t)
	srv := api.New(api.Config{Store: failingStore{e.store}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	broken := httptest.NewServer(srv)
	defer broken.Close()
	r := e.request("GET", e.a.base(broken)+"/queues", e.a.devKey, nil)
	expectError(t, r, 500, "INTERNAL_ERROR")
	if strings.Contains(r.raw, "disk") || strings.Contains(r.raw, "secret") {
		t.Errorf("the cause leaked to the client: %s", r.raw)
	}
	if r.body["message"] != "Internal server error - please try again" {
		t.Errorf("message = %v", r.body["message"])
	}
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), r.header.Get("X-Request-Id")) {
		t.Errorf("the cause and request id were not logged: %s", logs.String())
	}
}

func TestClosedDatabaseIs500(t *testing.T) {
	e := newSQLiteEnv(t)
	must(t, e.store.Close())
	expectError(t, e.request("GET", e.a.base(e.srv)+"/queues", e.a.devKey, nil), 500, "INTERNAL_ERROR")
}

func TestOperationalEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	ready := errors.New("db down")
	var readyErr error
	e := newSQLiteEnv(t, func(c *api.Config) {
		c.Registry = reg
		c.Ready = func(context.Context) error { return readyErr }
	})
	r := e.request("GET", e.srv.URL+"/healthz", "", nil)
	expectOK(t, r, 200, "ok")
	expectOK(t, e.request("GET", e.srv.URL+"/readyz", "", nil), 200, "ready")
	readyErr = ready
	expectError(t, e.request("GET", e.srv.URL+"/readyz", "", nil), 503, "SERVICE_UNAVAILABLE")

	// Request ids: a sane incoming one is echoed, an insane one replaced.
	r = e.request("GET", e.srv.URL+"/healthz", "", nil, "X-Request-Id", "abc-123")
	if r.header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("X-Request-Id = %q, want abc-123", r.header.Get("X-Request-Id"))
	}
	r = e.request("GET", e.srv.URL+"/healthz", "", nil, "X-Request-Id", "bad id\twith tabs")
	if id := r.header.Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " \t") {
		t.Errorf("X-Request-Id = %q, want a generated one", id)
	}

	e.request("GET", e.a.base(e.srv)+"/queues", e.a.devKey, nil)
	e.request("GET", e.a.base(e.srv)+"/queues/"+itoa(e.a.sales.ID), e.a.devKey, nil)
	r = e.request("GET", e.srv.URL+"/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, want := range []string{
		`switchboard_http_requests_total{method="GET",route="GET /v3/voice/{account_id}/queues",status="200"} 1`,
		`switchboard_http_requests_total{method="GET",route="GET /v3/voice/{account_id}/queues/{queue_id}",status="200"} 1`,
		`switchboard_http_request_duration_seconds_count{method="GET",route="GET /v3/voice/{account_id}/queues"} 1`,
		`switchboard_http_requests_total{method="GET",route="GET /readyz",status="503"} 1`,
	} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
