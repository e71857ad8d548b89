package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/internal/tstest"
	"switchboard/provision"
	"switchboard/store"
	"switchboard/store/storetest"
)

// fakeLive is an in-test LiveState (the real one is the SIP core's): presence per (account,
// user) and queue figures per (account, queue), so that asking with the wrong account finds
// nothing, as the real one would.
type fakeLive struct {
	mu         sync.Mutex
	registered map[liveKey]bool
	channels   map[liveKey][]switchboard.Channel
	queues     map[liveKey]switchboard.QueueLiveStats
}

type liveKey struct{ accountID, id int64 }

func newFakeLive() *fakeLive {
	return &fakeLive{registered: map[liveKey]bool{}, channels: map[liveKey][]switchboard.Channel{}, queues: map[liveKey]switchboard.QueueLiveStats{}}
}

// setUser makes the user online with the calls given.
func (f *fakeLive) setUser(accountID, userID int64, channels ...switchboard.Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registered[liveKey{accountID, userID}] = true
	f.channels[liveKey{accountID, userID}] = channels
}

func (f *fakeLive) setQueue(accountID, queueID int64, stats switchboard.QueueLiveStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[liveKey{accountID, queueID}] = stats
}

func (f *fakeLive) UserPresence(accountID, userID int64) (bool, []switchboard.Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.registered[liveKey{accountID, userID}], f.channels[liveKey{accountID, userID}]
}

func (f *fakeLive) QueueStats(accountID, queueID int64) switchboard.QueueLiveStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queues[liveKey{accountID, queueID}]
}

// tenant is one seeded account: its ids and keys.
type tenant struct {
	account                  *switchboard.Account
	john, jane               *switchboard.User
	sales                    *switchboard.Queue
	mainLine, supportLine    *switchboard.Number
	group                    *switchboard.RingGroup
	device                   *switchboard.Device
	contact                  *switchboard.Contact
	devKey, userKey, janeKey string
	devKeyID, userKeyID      int64
}

func (tn *tenant) base(srv *httptest.Server) string {
	return srv.URL + "/v3/voice/" + strconv.FormatInt(tn.account.ID, 10)
}

// seedTenant creates an account like the seed's examples: John (1001) and Jane (1002), the
// Sales Queue with John as member, two numbers, a ring group, a device, a contact and keys.
// numberPrefix keeps the numbers of two tenants apart (numbers are unique server-wide), and
// tag is added to every name so that a test can tell whether another tenant's data leaked.
func seedTenant(t *testing.T, st switchboard.Store, id int64, numberPrefix, tag string) *tenant {
	t.Helper()
	ctx := context.Background()
	tn := &tenant{account: &switchboard.Account{ID: id, Name: "Account " + strconv.FormatInt(id, 10)}}
	must(t, st.CreateAccount(ctx, tn.account))
	tn.john = &switchboard.User{AccountID: id, Extension: "1001", FirstName: "John" + tag, LastName: "Smith" + tag,
		Email: "john.smith" + tag + "@company.com", TimeZone: "America/New_York", VoicemailEnabled: true, RingTimeSeconds: 30}
	must(t, st.CreateUser(ctx, tn.john))
	tn.jane = &switchboard.User{AccountID: id, Extension: "1002", FirstName: "Jane" + tag, LastName: "Doe" + tag,
		ForwardEnabled: true, ForwardNumber: "+15550001111", RingTimeSeconds: 30}
	must(t, st.CreateUser(ctx, tn.jane))
	tn.sales = &switchboard.Queue{AccountID: id, QueueName: "Sales Queue" + tag, Extension: "8001", Timeout: 20, Retry: 5, WrapUpTime: 10}
	tn.sales.ApplyDefaults()
	must(t, st.CreateQueue(ctx, tn.sales))
	must(t, st.SetQueueMember(ctx, id, switchboard.QueueMember{QueueID: tn.sales.ID, UserID: tn.john.ID, Penalty: 2}))
	tn.mainLine = &switchboard.Number{AccountID: id, Number: numberPrefix + "1234567", FriendlyName: "Main Business Line" + tag,
		SMSEnabled: true, MMSEnabled: true, OwnerUserID: tn.john.ID, Status: "active"}
	must(t, st.CreateNumber(ctx, tn.mainLine))
	tn.supportLine = &switchboard.Number{AccountID: id, Number: numberPrefix + "9876543", FriendlyName: "Support Line" + tag,
		SMSEnabled: true, Status: "inactive"}
	must(t, st.CreateNumber(ctx, tn.supportLine))
	tn.group = &switchboard.RingGroup{AccountID: id, Name: "Front Desk" + tag, Extension: "8100", Strategy: switchboard.RingSimultaneous,
		RingTime: 20, Members: []switchboard.RingGroupMember{{UserID: tn.john.ID}}}
	must(t, st.CreateRingGroup(ctx, tn.group))
	tn.device = &switchboard.Device{AccountID: id, UserID: tn.john.ID, Name: "Desk phone" + tag, SIPUsername: "desk" + strconv.FormatInt(id, 10) + tag}
	tn.device.SetSIPPassword("correct horse battery")
	must(t, st.CreateDevice(ctx, tn.device))
	tn.contact = &switchboard.Contact{AccountID: id, Phone: "+14155552671", FirstName: "Ada" + tag, LastName: "Lovelace" + tag}
	must(t, st.CreateContact(ctx, tn.contact))

	var k *switchboard.APIKey
	tn.devKey, k = switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.Name = id, "backend"
	must(t, st.CreateAPIKey(ctx, k))
	tn.devKeyID = k.ID
	tn.userKey, k = switchboard.NewAPIKey(switchboard.KeyUser)
	k.AccountID, k.UserID, k.Name = id, tn.john.ID, "john's app"
	must(t, st.CreateAPIKey(ctx, k))
	tn.userKeyID = k.ID
	tn.janeKey, k = switchboard.NewAPIKey(switchboard.KeyUser)
	k.AccountID, k.UserID, k.Name = id, tn.jane.ID, "jane's app"
	must(t, st.CreateAPIKey(ctx, k))
	return tn
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// env is a running server on a real store with two tenants.
type env struct {
	t     *testing.T
	store switchboard.Store
	srv   *httptest.Server
	clock *tstest.Clock
	live  *fakeLive
	a, b  *tenant
}

// envEpoch is where the tests' clock starts.
var envEpoch = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// newEnv serves the API on db with two tenants, the store's call records and a fake live
// state; mutate adds the other services a test needs.
func newEnv(t *testing.T, db *store.DB, mutate ...func(*api.Config)) *env {
	t.Helper()
	e := &env{t: t, store: db, clock: tstest.NewClock(envEpoch), live: newFakeLive()}
	e.a = seedTenant(t, db, 61, "+1555", "")
	e.b = seedTenant(t, db, 62, "+1666", "Bx")
	cfg := api.Config{Store: db, Live: e.live, CallRecords: db, Now: e.clock.Now, Provision: provision.New(provision.Config{Store: db})}
	for _, m := range mutate {
		m(&cfg)
	}
	e.srv = httptest.NewServer(api.New(cfg))
	t.Cleanup(e.srv.Close)
	return e
}

func newSQLiteEnv(t *testing.T, mutate ...func(*api.Config)) *env {
	return newEnv(t, storetest.NewSQLite(t), mutate...)
}

// response is an answer of the server, with the envelope decoded.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) result() map[string]any {
	m, _ := r.body["result"].(map[string]any)
	return m
}

func (r response) results() []any {
	l, _ := r.body["result"].([]any)
	return l
}

// request sends method url with the key (none when "") and body (JSON-encoded unless it is
// a string, sent as is with Content-Type application/json).
func (e *env) request(method, url, key string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, url, err, raw)
		}
	}
	return out
}

// expectOK checks a success envelope with the status and message.
func expectOK(t *testing.T, r response, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if r.body["error"] != false || r.body["message"] != message {
		t.Fatalf("envelope error=%v message=%q, want false %q", r.body["error"], r.body["message"], message)
	}
	ts, _ := r.body["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
		t.Fatalf("timestamp %q is not RFC 3339 UTC", ts)
	}
	if _, ok := r.body["error_code"]; ok {
		t.Fatalf("success envelope has error_code: %s", r.raw)
	}
}

// expectError checks an error envelope with the status and code.
func expectError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if r.body == nil {
		t.Fatalf("error answer is not a JSON envelope: %q", r.raw)
	}
	if r.body["error"] != true || r.body["error_code"] != code || r.body["result"] != nil {
		t.Fatalf("envelope error=%v error_code=%v result=%v, want true %s null: %s", r.body["error"], r.body["error_code"], r.body["result"], code, r.raw)
	}
	if msg, _ := r.body["message"].(string); msg == "" {
		t.Fatalf("error envelope without message: %s", r.raw)
	}
	ts, _ := r.body["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Fatalf("timestamp %q is not RFC 3339", ts)
	}
}

// detail returns details[field] of an error envelope.
func detail(r response, field string) string {
	d, _ := r.body["details"].(map[string]any)
	s, _ := d[field].(string)
	return s
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// expectFields checks that obj has exactly the fields, each of the JSON type given.
func expectFields(t *testing.T, what string, obj map[string]any, types map[string]string) {
	t.Helper()
	for field, want := range types {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: field %q missing in %v", what, field, obj)
			continue
		}
		if got := jsonType(v); got != want {
			t.Errorf("%s: field %q is %s (%v), want %s", what, field, got, v, want)
		}
	}
	for field := range obj {
		if _, ok := types[field]; !ok {
			t.Errorf("%s: unexpected field %q", what, field)
		}
	}
}
