package api_test

import (
	"net/http"
	"testing"
)

// TestWebhookFallbackURL: fallback_url is set, shown, refused when it breaks the URL
// policy (nothing changes), and removed with "".
func TestWebhookFallbackURL(t *testing.T) {
	e := newWebhookEnv(t)
	base := e.a.base(e.srv)
	key := e.a.devKey
	r := e.request("POST", base+"/webhooks", key, map[string]any{"url": e.recv.URL + "/hook", "events": []string{"*"},
		"format": "standard", "fallback_url": e.recv.URL + "/backup"})
	expectOK(t, r, http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	id := idOf(t, r.result())
	if r.result()["fallback_url"] != e.recv.URL+"/backup" {
		t.Errorf("fallback_url %v", r.result()["fallback_url"])
	}
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{"fallback_url": "http://169.254.169.254/latest"})
	if r.status != http.StatusBadRequest {
		t.Errorf("a metadata address as fallback_url: %d %s", r.status, r.raw)
	}
	r = e.request("GET", base+"/webhooks/"+id, key, nil)
	if r.result()["fallback_url"] != e.recv.URL+"/backup" {
		t.Errorf("a refused PATCH changed fallback_url to %v", r.result()["fallback_url"])
	}
	r = e.request("PATCH", base+"/webhooks/"+id, key, map[string]any{"fallback_url": ""})
	if r.status != http.StatusOK || r.result()["fallback_url"] != nil {
		t.Errorf("removing fallback_url: %d %v", r.status, r.result()["fallback_url"])
	}
}
