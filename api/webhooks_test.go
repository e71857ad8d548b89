package api_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/api"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// The webhook service is what the server wires in.
var _ api.WebhookService = (*webhook.Service)(nil)

// webhookEnv is a server with the real webhook service on a SQLite store, and a receiver.
type webhookEnv struct {
	*env
	db       *store.DB // the same store, for reading rows as they are stored
	svc      *webhook.Service
	mu       sync.Mutex
	received []*http.Request
	bodies   []string
	recv     *httptest.Server
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	t.Helper()
	db := storetest.NewSQLite(t)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := webhook.NewService(webhook.Config{Store: db, Key: key,
		Policy: webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	we := &webhookEnv{db: db, svc: svc}
	we.env = newEnv(t, db, func(c *api.Config) { c.Webhooks = svc })
	we.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		we.mu.Lock()
		we.received = append(we.received, r)
		we.bodies = append(we.bodies, string(b))
		we.mu.Unlock()
	}))
	t.Cleanup(we.recv.Close)
	return we
}

func (we *webhookEnv) deliver() {
	we.t.Helper()
	if _, err := we.svc.RunOnce(context.Background()); err != nil {
		we.t.Fatal(err)
	}
}

func (we *webhookEnv) requests() []*http.Request {
	we.mu.Lock()
	defer we.mu.Unlock()
	return append([]*http.Request(nil), we.received...)
}

func idOf(t *testing.T, obj map[string]any) string {
	t.Helper()
	id, ok := obj["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", obj)
	}
	return strconv.FormatInt(int64(id), 10)
}

func TestWebhookSubscriptionLifecycle(t *testing.T) {
	e := newWebhookEnv(t)
	base := e.a.base(e.srv)
	key := e.a.devKey

	r := e.request("POST", base+"/webhooks", key, map[string]any{
		"name": "CRM", "url": e.recv.URL + "/hook", "events": []string{"CONTACT_CREATED", "contact.deleted"},
		"headers": map[string]string{"X-Team": "sales"}})
	expectOK(t, r, http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	hook := r.result()
	expectFields(t, "webhook", hook, map[string]string{"id": "integer", "name": "string", "url": "string", "events": "array",
		"format": "string", "method": "string", "retries": "null", "headers": "object", "active": "boolean",
		"disabled_reason": "null", "disabled_at": "null", "consecutive_failures": "integer",
		"previous_secret_valid_until": "null", "fallback_url": "null", "secret": "string", "created_at": "string", "updated_at": "string"})
	if hook["format"] != "voice360" || hook["method"] != "POST" || !strings.HasPrefix(hook["secret"].(string), "whsec_") {
		t.Errorf("defaults: format %v, method %v, secret %v", hook["format"], hook["method"], hook["secret"])
	}
	id := idOf(t, hook)

	// The secret is never shown again.
	r = e.request("GET", base+"/webhooks/"+id, key, nil)
	expectOK(t, r, http.StatusOK, "Webhook details")
	if _, ok := r.result()["secret"]; ok {
		t.Errorf("GET shows the secret")
	}
	r = e.request("GET", base+"/webhooks", key, nil)
	expectOK(t, r, http.StatusOK, "List of webhooks")
	if len(r.results()) != 1 || strings.Contains(r.raw, "whsec_") {
		t.Errorf("list: %s", r.raw)
	}

	// An event is delivered, logged, listed and resent with the same webhook-id.
	must(t, e.store.CreateContact(context.Background(), &switchboard.Contact{AccountID: e.a.account.ID, Phone: "+14155550100", FirstName: "Grace"}))
	e.deliver()
	reqs := e.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Voice360-Signature") == "" || reqs[0].Header.Get("X-Team") != "sales" {
		t.Fatalf("receiver got %d requests; headers %v", len(reqs), reqs[0].Header)
	}
	r = e.request("GET", base+"/webhooks/"+id+"/deliveries", key, nil)
	expectOK(t, r, http.StatusOK, "List of deliveries")
	list := r.result()["deliveries"].([]any)
	if len(list) != 1 || r.result()["next_cursor"] != nil {
		t.Fatalf("deliveries: %s", r.raw)
	}
	d := list[0].(map[string]any)
	if d["status"] != "succeeded" || d["event"] != "contact.created" || d["wire_event"] != "CONTACT_CREATED" ||
		d["message_id"] != reqs[0].Header.Get("webhook-id") {
		t.Errorf("delivery: %v", d)
	}
	did := idOf(t, d)
	r = e.request("GET", base+"/webhook_deliveries/"+did, key, nil)
	expectOK(t, r, http.StatusOK, "Delivery details")
	log := r.result()["attempt_log"].([]any)
	if len(log) != 1 || log[0].(map[string]any)["response_status"] != float64(200) || log[0].(map[string]any)["succeeded"] != true {
		t.Errorf("attempt log: %s", r.raw)
	}
	r = e.request("POST", base+"/webhook_deliveries/"+did+"/resend", key, nil)
	expectOK(t, r, http.StatusOK, "Delivery queued to be sent again")
	e.deliver()
	if reqs := e.requests(); len(reqs) != 2 || reqs[1].Header.Get("webhook-id") != reqs[0].Header.Get("webhook-id") {
		t.Errorf("resend: %d requests, ids %q and %q", len(reqs), reqs[0].Header.Get("webhook-id"), reqs[len(reqs)-1].Header.Get("webhook-id"))
	}
	r = e.request("POST", base+"/webhook_deliveries/resend", key, map[string]any{"ids": []int64{999999}})
	expectOK(t, r, http.StatusOK, "Deliveries queued to be sent again")
	if r.result()["resent"] != float64(0) {
		t.Errorf("resend of an unknown id: %s", r.raw)
	}
	r = e.request("GET", base+"/webhook_deliveries/failures", key, nil)
	expectOK(t, r, http.StatusOK, "List of failed deliveries")
	if n := len(r.result()["deliveries"].([]any)); n != 0 {
		t.Errorf("%d failures, want 0", n)
	}
	r = e.request("GET", base+"/webhook_deliveries?event=contact.created&status=succeeded", key, nil)
	expectOK(t, r, http.StatusOK, "List of deliveries")
	if n := len(r.result()["deliveries"].([]any)); n != 1 {
		t.Errorf("filtered list: %d, want 1", n)
	}

	// Test send: only this subscription, nothing stored.
	r = e.request("POST", base+"/webhooks/"+id+"/test", key, map[string]any{"event": "contact.deleted"})
	expectOK(t, r, http.StatusOK, "Test delivered")
	if got := e.requests(); len(got) != 3 || !strings.Contains(e.bodies[2], "CONTACT_DELETED") {
		t.Errorf("test send: %d requests, body %q", len(got), e.bodies[len(e.bodies)-1])
	}

	// PATCH, rotate with overlap, delete.
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{"name": "CRM 2", "active": false, "retries": 3})
	expectOK(t, r, http.StatusOK, "Webhook updated")
	if h := r.result(); h["name"] != "CRM 2" || h["active"] != false || h["retries"] != float64(3) || h["url"] != e.recv.URL+"/hook" {
		t.Errorf("after PATCH: %v", h)
	}
	r = e.request("POST", base+"/webhooks/"+id+"/rotate", key, map[string]any{"overlap_seconds": 3600})
	expectOK(t, r, http.StatusOK, "Secret rotated; save the new secret: it is shown only now")
	if h := r.result(); !strings.HasPrefix(h["secret"].(string), "whsec_") || h["secret"] == hook["secret"] || h["previous_secret_valid_until"] == nil {
		t.Errorf("rotate: %v", h)
	}
	r = e.request("POST", base+"/webhooks/"+id+"/rotate", key, nil) // no body: overlap 0
	expectOK(t, r, http.StatusOK, "Secret rotated; save the new secret: it is shown only now")
	if r.result()["previous_secret_valid_until"] != nil {
		t.Errorf("rotate without overlap kept the old secret: %v", r.result())
	}
	r = e.request("DELETE", base+"/webhooks/"+id, key, nil)
	expectOK(t, r, http.StatusOK, "Webhook deleted")
	expectError(t, e.request("GET", base+"/webhooks/"+id, key, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("GET", base+"/webhook_deliveries/"+did, key, nil), http.StatusNotFound, switchboard.ENOTFOUND)
}

func TestWebhookHeaderValuesAreWriteOnly(t *testing.T) {
	e := newWebhookEnv(t)
	base := e.a.base(e.srv)
	key := e.a.devKey
	const credential = "Bearer rcv-5e1f0a-credential"

	r := e.request("POST", base+"/webhooks", key, map[string]any{
		"url": e.recv.URL, "events": []string{"*"}, "format": "standard",
		"headers": map[string]string{"authorization": credential, "X-Team": "sales"}})
	expectOK(t, r, http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	// The answer to the request that set them shows the values it sent.
	if h := r.result()["headers"].(map[string]any); h["Authorization"] != credential || h["X-Team"] != "sales" || len(h) != 2 {
		t.Errorf("create answer headers: %v", h)
	}
	id := idOf(t, r.result())
	wid, _ := strconv.ParseInt(id, 10, 64)

	// Stored sealed.
	raw, err := e.db.GetWebhook(context.Background(), e.a.account.ID, wid)
	if err != nil {
		t.Fatal(err)
	}
	if v := raw.Headers["Authorization"]; v == "" || strings.Contains(v, credential) || strings.Contains(v, "rcv-5e1f0a") {
		t.Errorf("stored Authorization = %q, want it sealed", v)
	}

	// Afterwards: names, and the placeholder for every value; never the value or its sealed form.
	redacted := map[string]any{"Authorization": "[redacted]", "X-Team": "[redacted]"}
	r = e.request("GET", base+"/webhooks/"+id, key, nil)
	expectOK(t, r, http.StatusOK, "Webhook details")
	if h := r.result()["headers"].(map[string]any); !sameMap(h, redacted) {
		t.Errorf("GET headers: %v, want %v", h, redacted)
	}
	r2 := e.request("GET", base+"/webhooks", key, nil)
	expectOK(t, r2, http.StatusOK, "List of webhooks")
	for _, raw := range []string{r.raw, r2.raw} {
		if strings.Contains(raw, "rcv-5e1f0a") || strings.Contains(raw, "sales") || strings.Contains(raw, "sealed:") {
			t.Errorf("an answer shows a header value: %s", raw)
		}
	}

	// The receiver gets the values in clear; the delivery log shows them redacted.
	must(t, e.store.CreateContact(context.Background(), &switchboard.Contact{AccountID: e.a.account.ID, Phone: "+14155550102", FirstName: "Kay"}))
	e.deliver()
	reqs := e.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != credential || reqs[0].Header.Get("X-Team") != "sales" {
		t.Fatalf("receiver got %d requests, headers %v", len(reqs), reqs[0].Header)
	}
	r = e.request("GET", base+"/webhooks/"+id+"/deliveries", key, nil)
	did := idOf(t, r.result()["deliveries"].([]any)[0].(map[string]any))
	r = e.request("GET", base+"/webhook_deliveries/"+did, key, nil)
	expectOK(t, r, http.StatusOK, "Delivery details")
	if strings.Contains(r.raw, "rcv-5e1f0a") || strings.Contains(r.raw, "sales") {
		t.Errorf("the delivery log shows a header value: %s", r.raw)
	}

	// The GET answer's headers sent back in a PATCH, with one value changed: the placeholder
	// keeps the stored credential, and the answer shows only the value this PATCH sent.
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{
		"headers": map[string]string{"Authorization": "[redacted]", "X-Team": "support"}})
	expectOK(t, r, http.StatusOK, "Webhook updated")
	if h := r.result()["headers"].(map[string]any); !sameMap(h, map[string]any{"Authorization": "[redacted]", "X-Team": "support"}) {
		t.Errorf("PATCH answer headers: %v", h)
	}
	r = e.request("POST", base+"/webhooks/"+id+"/test", key, map[string]any{"event": "contact.created"})
	expectOK(t, r, http.StatusOK, "Test delivered")
	if reqs := e.requests(); len(reqs) != 2 || reqs[1].Header.Get("Authorization") != credential || reqs[1].Header.Get("X-Team") != "support" {
		t.Errorf("after PATCH the receiver got Authorization %q, X-Team %q", reqs[len(reqs)-1].Header.Get("Authorization"), reqs[len(reqs)-1].Header.Get("X-Team"))
	}
	if strings.Contains(r.raw, "rcv-5e1f0a") {
		t.Errorf("the test answer shows the credential: %s", r.raw)
	}

	// The placeholder where nothing is stored is the user's mistake: 400, nothing changed.
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{"headers": map[string]string{"X-Api-Key": "[redacted]"}})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if !strings.Contains(detail(r, "headers"), "X-Api-Key") {
		t.Errorf("details: %s", r.raw)
	}
	r = e.request("GET", base+"/webhooks/"+id, key, nil)
	if h := r.result()["headers"].(map[string]any); !sameMap(h, redacted) {
		t.Errorf("a refused PATCH changed the headers: %v", h)
	}
}

func sameMap(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWebhookBadInputIs400WithDetails(t *testing.T) {
	e := newWebhookEnv(t)
	base := e.a.base(e.srv)
	key := e.a.devKey
	good := func() map[string]any {
		return map[string]any{"url": e.recv.URL, "events": []string{"*"}}
	}
	cases := []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"relative url", func(b map[string]any) { b["url"] = "/hook" }, "url"},
		{"javascript url", func(b map[string]any) { b["url"] = "javascript:alert(1)" }, "url"},
		{"unknown event", func(b map[string]any) { b["events"] = []string{"call.teleported"} }, "events"},
		{"retries 11", func(b map[string]any) { b["retries"] = 11 }, "retries"},
		{"retries as text", func(b map[string]any) { b["retries"] = "three" }, "retries"},
		{"Host header", func(b map[string]any) { b["headers"] = map[string]string{"Host": "x"} }, "headers"},
		{"webhook-signature header", func(b map[string]any) { b["headers"] = map[string]string{"webhook-signature": "v1,x"} }, "headers"},
		{"unknown format", func(b map[string]any) { b["format"] = "xml" }, "format"},
		{"unknown field", func(b map[string]any) { b["callback"] = "x" }, "callback"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			tc.edit(b)
			r := e.request("POST", base+"/webhooks", key, b)
			expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
			if detail(r, tc.field) == "" {
				t.Errorf("no details for %q: %s", tc.field, r.raw)
			}
		})
	}
	r := e.request("POST", base+"/webhooks", key, good())
	expectOK(t, r, http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	id := idOf(t, r.result())
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{"url": "ftp://example.com"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if got := e.request("GET", base+"/webhooks/"+id, key, nil).result()["url"]; got != e.recv.URL {
		t.Errorf("a refused PATCH changed the URL to %v", got)
	}
	expectError(t, e.request("POST", base+"/webhooks/"+id+"/rotate", key, map[string]any{"overlap_seconds": -1}), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("POST", base+"/webhooks/"+id+"/test", key, map[string]any{"event": "nope"}), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("GET", base+"/webhook_deliveries?status=lost", key, nil), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("GET", base+"/webhook_deliveries?since=yesterday", key, nil), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("GET", base+"/webhook_deliveries?limit=0", key, nil), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("GET", base+"/webhook_deliveries?event=nope", key, nil), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("POST", base+"/webhook_deliveries/resend", key, map[string]any{"ids": []int64{}}), http.StatusBadRequest, switchboard.EBADREQUEST)
}

func TestWebhooksAreTenantIsolated(t *testing.T) {
	e := newWebhookEnv(t)
	r := e.request("POST", e.a.base(e.srv)+"/webhooks", e.a.devKey, map[string]any{"url": e.recv.URL, "events": []string{"*"}})
	expectOK(t, r, http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	id := idOf(t, r.result())
	// B's key on A's account, and A's webhook id under B's account.
	expectError(t, e.request("GET", e.a.base(e.srv)+"/webhooks", e.b.devKey, nil), http.StatusForbidden, switchboard.EAUTHINVALID)
	expectError(t, e.request("GET", e.b.base(e.srv)+"/webhooks/"+id, e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("DELETE", e.b.base(e.srv)+"/webhooks/"+id, e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("POST", e.b.base(e.srv)+"/webhooks/"+id+"/test", e.b.devKey, map[string]any{"event": "contact.created"}),
		http.StatusNotFound, switchboard.ENOTFOUND)
	if r := e.request("GET", e.b.base(e.srv)+"/webhooks", e.b.devKey, nil); len(r.results()) != 0 {
		t.Errorf("B lists A's webhooks: %s", r.raw)
	}
	expectError(t, e.request("PATCH", e.b.base(e.srv)+"/webhooks/"+id, e.b.devKey, map[string]any{"active": false}), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("POST", e.b.base(e.srv)+"/webhooks/"+id+"/rotate", e.b.devKey, map[string]any{}), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("GET", e.b.base(e.srv)+"/webhooks/"+id+"/deliveries", e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)

	// A's delivery logs (which hold A's event bodies) are out of B's reach.
	must(t, e.store.CreateContact(context.Background(), &switchboard.Contact{AccountID: e.a.account.ID, Phone: "+14155550101", FirstName: "Ada"}))
	e.deliver()
	r = e.request("GET", e.a.base(e.srv)+"/webhooks/"+id+"/deliveries", e.a.devKey, nil)
	list, _ := r.result()["deliveries"].([]any)
	if len(list) != 1 {
		t.Fatalf("A's deliveries: %s", r.raw)
	}
	did := idOf(t, list[0].(map[string]any))
	expectError(t, e.request("GET", e.b.base(e.srv)+"/webhook_deliveries/"+did, e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("POST", e.b.base(e.srv)+"/webhook_deliveries/"+did+"/resend", e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	for _, path := range []string{"/webhook_deliveries", "/webhook_deliveries/failures"} {
		r := e.request("GET", e.b.base(e.srv)+path, e.b.devKey, nil)
		if list, _ := r.result()["deliveries"].([]any); r.status != http.StatusOK || len(list) != 0 {
			t.Errorf("B's %s shows A's delivery: %s", path, r.raw)
		}
	}
	if r := e.request("GET", e.a.base(e.srv)+"/webhooks/"+id, e.a.devKey, nil); r.result()["active"] != true {
		t.Errorf("B's PATCH changed A's webhook: %s", r.raw)
	}
	// A user key manages no webhooks.
	expectError(t, e.request("GET", e.a.base(e.srv)+"/webhooks", e.a.userKey, nil), http.StatusForbidden, switchboard.EAUTHINVALID)
	expectError(t, e.request("GET", e.a.base(e.srv)+"/webhooks", "", nil), http.StatusUnauthorized, switchboard.EAUTHREQUIRED)
}

func TestVoxpriaWebhookAPI(t *testing.T) {
	e := newWebhookEnv(t)
	url := e.srv.URL + "/api/v1/webhooks"
	r := e.request("POST", url, "", map[string]any{"url": e.recv.URL + "/voxpria", "events": []string{"call.completed", "campaign.finished"},
		"active": true}, "Authorization", "Bearer "+e.a.devKey)
	if r.status != http.StatusCreated || r.body["success"] != true {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	data := r.body["data"].(map[string]any)
	expectFields(t, "voxpria webhook", data, map[string]string{"webhookId": "string", "url": "string", "events": "array",
		"secret": "string", "active": "boolean"})
	if !strings.HasPrefix(data["webhookId"].(string), "webhook_") || !strings.HasPrefix(data["secret"].(string), "whsec_") {
		t.Errorf("create answer: %v", data)
	}
	r = e.request("GET", url, "", nil, "Authorization", "Bearer "+e.a.devKey)
	if r.status != http.StatusOK || r.body["success"] != true {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	items := r.body["data"].([]any)
	if len(items) != 1 || strings.Contains(r.raw, "whsec_") {
		t.Errorf("list: %s", r.raw)
	}
	// The subscription is in the voxpria format, visible in the v3 API of the key's account only.
	if r := e.request("GET", e.a.base(e.srv)+"/webhooks", e.a.devKey, nil); len(r.results()) != 1 || r.results()[0].(map[string]any)["format"] != "voxpria" {
		t.Errorf("v3 view: %s", r.raw)
	}
	if r := e.request("GET", url, "", nil, "Authorization", "Bearer "+e.b.devKey); len(r.body["data"].([]any)) != 0 {
		t.Errorf("account B sees account A's webhooks: %s", r.raw)
	}
	for _, tc := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer nope", 403}, {"Bearer " + e.a.userKey, 403}, {"Basic " + e.a.devKey, 401}} {
		r := e.request("GET", url, "", nil, "Authorization", tc.auth)
		if r.status != tc.status || r.body["success"] != false {
			t.Errorf("Authorization %q: %d %s, want %d with success false", tc.auth, r.status, r.raw, tc.status)
		}
	}
	r = e.request("POST", url, "", map[string]any{"url": "not a url", "events": []string{"call.completed"}}, "Authorization", "Bearer "+e.a.devKey)
	if r.status != http.StatusBadRequest || r.body["success"] != false {
		t.Errorf("bad url: %d %s", r.status, r.raw)
	}
}

func TestWebhookRoutesWithoutTheService(t *testing.T) {
	e := newSQLiteEnv(t) // no webhook service configured
	base := e.a.base(e.srv)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/webhooks", nil},
		{"POST", "/webhooks", map[string]any{"url": "http://127.0.0.1/hook", "events": []string{"*"}}},
		{"GET", "/webhooks/1", nil},
		{"POST", "/webhooks/1/test", map[string]any{"event": "contact.created"}},
		{"GET", "/webhook_deliveries", nil},
		{"GET", "/webhook_deliveries/1", nil},
		{"POST", "/webhook_deliveries/resend", map[string]any{"ids": []int{1}}},
	} {
		r := e.request(tc.method, base+tc.path, e.a.devKey, tc.body)
		expectError(t, r, http.StatusServiceUnavailable, switchboard.EUNAVAILABLE)
		if !strings.Contains(r.body["message"].(string), "Webhook delivery is not configured") {
			t.Errorf("%s %s: message %q does not say what is missing", tc.method, tc.path, r.body["message"])
		}
	}
	// The key is checked first: no 503 for a caller who may not use the route anyway.
	expectError(t, e.request("GET", base+"/webhooks", e.a.userKey, nil), http.StatusForbidden, switchboard.EAUTHINVALID)
	// VoxPria's routes say it in VoxPria's envelope.
	r := e.request("GET", e.srv.URL+"/api/v1/webhooks", "", nil, "Authorization", "Bearer "+e.a.devKey)
	if r.status != http.StatusServiceUnavailable || r.body["success"] != false {
		t.Errorf("VoxPria list without the service: %d %s", r.status, r.raw)
	}
}
