package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL run makes its own schema

	"switchboard/internal/tstest"
)

// TestWebhookDeliverySurvivesACrash runs the real binary: it creates contacts (each one a
// contact.created event) through the API while a receiver fails half of its requests,
// SIGKILLs the server in the middle, starts it again on the same data, and checks that the
// receiver accepted every acknowledged event at least once and that repeats of an event
// carried the same webhook-id. On SQLite and, when SWITCHBOARD_TEST_POSTGRES_URL is set, on
// PostgreSQL.
func TestWebhookDeliverySurvivesACrash(t *testing.T) {
	bin := buildServer(t)
	t.Run("sqlite", func(t *testing.T) { crashTest(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { crashTest(t, bin, freshSchema(t)) })
}

// buildServer builds the switchboard binary for tests that run it as a child process (and
// kill it); skipped with -short.
func buildServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freshSchema makes an empty schema for one run in the database named by
// SWITCHBOARD_TEST_POSTGRES_URL and returns the URL that uses it. Without the variable the
// test is skipped, except under CI, where .ci/run sets it.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SWITCHBOARD_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SWITCHBOARD_TEST_POSTGRES_URL is unset; .ci/run should have set it")
		}
		t.Skip("set SWITCHBOARD_TEST_POSTGRES_URL to run on PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "crash_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err == nil {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// flakyReceiver answers 500 to the first request of every event (by phone, so a repeat
// under another webhook-id would not be forgiven) and 200 to the next: half of the
// requests fail, and every event has to be retried, across the crash for some.
type flakyReceiver struct {
	mu           sync.Mutex
	requests     int
	ids          map[string]map[string]bool // phone -> webhook-ids seen
	tries        map[string]int             // phone -> requests received
	accepted     map[string]bool            // phones answered 200
	restarted    bool                       // set once the second server runs
	afterRestart map[string]bool            // phones accepted only after the restart
}

func (fr *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	phone := phoneRE.FindString(string(body))
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.requests++
	if phone == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if fr.ids[phone] == nil {
		fr.ids[phone] = map[string]bool{}
	}
	fr.ids[phone][r.Header.Get("webhook-id")] = true
	fr.tries[phone]++
	if fr.tries[phone]%2 == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if !fr.accepted[phone] && fr.restarted {
		fr.afterRestart[phone] = true
	}
	fr.accepted[phone] = true
}

var phoneRE = regexp.MustCompile(`\+1555700\d{4}`)

func (fr *flakyReceiver) missing(phones []string) []string {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	var out []string
	for _, p := range phones {
		if !fr.accepted[p] {
			out = append(out, p)
		}
	}
	return out
}

// server is one run of `switchboard serve`.
type server struct {
	cmd     *exec.Cmd
	baseURL string
	mu      sync.Mutex
	log     bytes.Buffer // its stderr
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// startServer starts the binary on a port of its own and returns once the API answers.
// SIP is off unless extra flags (given last, so they win) turn it on.
func startServer(t *testing.T, bin, dataDir, dbURL string, extra ...string) *server {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	args := []string{"serve", "--demo", "--data", dataDir, "--http", addr, "--webhook-timeout", "2s", "--sip", "off"}
	if dbURL != "" {
		args = append(args, "--db", dbURL)
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, baseURL: "http://" + addr}
	t.Cleanup(func() { s.kill() })
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	tstest.WaitForWithin(t, 30*time.Second, "the server's /healthz", func() bool {
		select {
		case <-exited:
			t.Fatalf("the server exited:\n%s", s.logs())
		default:
		}
		resp, err := http.Get(s.baseURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

func apiCall(method, url, key string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// createContacts creates contacts from number next on until count are acknowledged or a
// request fails (the server was killed). It returns the phones the server acknowledged.
func createContacts(base, key string, from, count int) (acked []string, next int) {
	for next = from; len(acked) < count; next++ {
		phone := fmt.Sprintf("+1555700%04d", next)
		code, _, err := apiCall("POST", base+"/v3/voice/61/contacts", key, map[string]any{
			"phone": phone, "first_name": "Crash", "last_name": fmt.Sprint(next)})
		if err != nil {
			return acked, next + 1
		}
		if code == http.StatusCreated || code == http.StatusOK {
			acked = append(acked, phone)
		}
	}
	return acked, next
}

func crashTest(t *testing.T, bin, dbURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	receiver := &flakyReceiver{ids: map[string]map[string]bool{}, tries: map[string]int{}, accepted: map[string]bool{},
		afterRestart: map[string]bool{}}
	rs := httptest.NewServer(receiver)
	defer rs.Close()

	dataDir := t.TempDir()
	first := startServer(t, bin, dataDir, dbURL)
	var demo struct {
		DeveloperKey string `json:"developer_key"`
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &demo); err != nil || demo.DeveloperKey == "" {
		t.Fatalf("demo.json: %v %s", err, b)
	}
	code, body, err := apiCall("POST", first.baseURL+"/v3/voice/61/webhooks", demo.DeveloperKey, map[string]any{
		"name": "crash test", "url": rs.URL + "/hook", "events": []string{"contact.created"}, "format": "standard", "retries": 10})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create webhook: %d %v %s", code, err, body)
	}

	// Contacts before the crash; the kill lands while more are being created and delivered.
	acked, next := createContacts(first.baseURL, demo.DeveloperKey, 0, 40)
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		time.Sleep(150 * time.Millisecond) // only picks the moment of the crash
		first.kill()
	}()
	more, next := createContacts(first.baseURL, demo.DeveloperKey, next, 1000)
	acked = append(acked, more...)
	<-killed
	beforeCrash := len(acked)
	receiver.mu.Lock()
	receiver.restarted = true
	receiver.mu.Unlock()

	second := startServer(t, bin, dataDir, dbURL)
	more, _ = createContacts(second.baseURL, demo.DeveloperKey, next, 20)
	acked = append(acked, more...)

	// Wait (bounded) until every acknowledged event was accepted.
	for {
		missing := receiver.missing(acked)
		if len(missing) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			_, pending, _ := apiCall("GET", second.baseURL+"/v3/voice/61/webhook_deliveries?status=pending", demo.DeveloperKey, nil)
			receiver.mu.Lock()
			seen := map[string]int{}
			for _, p := range missing {
				seen[p] = len(receiver.ids[p])
			}
			receiver.mu.Unlock()
			t.Fatalf("%d of %d acknowledged events never reached the receiver: %v (phone -> webhook-ids seen)\npending deliveries: %s",
				len(missing), len(acked), seen, pending)
		case <-time.After(200 * time.Millisecond):
		}
	}
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	for phone, ids := range receiver.ids {
		if len(ids) != 1 {
			t.Errorf("the event of %s came with %d different webhook-ids %v; repeats must keep theirs", phone, len(ids), ids)
		}
	}
	interrupted := 0
	for _, p := range acked[:beforeCrash] {
		if receiver.afterRestart[p] {
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Errorf("no event stored before the crash was delivered after it: the crash interrupted nothing, so the test proved nothing")
	}
	t.Logf("%d events acknowledged, %d requests received (the first of each refused); %d events stored before the crash were delivered by the restarted server",
		len(acked), receiver.requests, interrupted)
	if strings.Contains(second.logs(), "panic") {
		t.Errorf("the restarted server panicked:\n%s", second.logs())
	}
}
