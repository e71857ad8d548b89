package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"switchboard/internal/tstest"
)

// hookBodies collects the webhook bodies a receiver got, by event_name.
type hookBodies struct {
	mu  sync.Mutex
	got map[string][]map[string]any
}

func (h *hookBodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if json.Unmarshal(b, &body) == nil {
		h.mu.Lock()
		name, _ := body["event_name"].(string)
		h.got[name] = append(h.got[name], body)
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (h *hookBodies) metadata(name, messageID string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range h.got[name] {
		if m, _ := b["metadata"].(map[string]any); m != nil && m["message_id"] == messageID {
			return m
		}
	}
	return nil
}

// On serve --demo the seed's own Python client sends an SMS: the simulator carries it, and
// SMS_SENT then SMS_DELIVERED reach a Voice360 webhook with the message_id the client got;
// an inbound message injected at the simulator arrives as SMS_RECEIVED.
func TestSeedPythonClientSendsSMSOnDemo(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	if exec.Command("python3", "-c", "import requests").Run() != nil {
		t.Skip("python3 has no requests module")
	}
	dir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0")
	base := m.HTTPURL()
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var demo demoFile
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	hooks := &hookBodies{got: map[string][]map[string]any{}}
	recv := httptest.NewServer(hooks)
	t.Cleanup(recv.Close)
	code, body, err := apiCall("POST", base+"/v3/voice/61/webhooks", demo.DeveloperKey, map[string]any{
		"name": "sms", "url": recv.URL + "/hook", "format": "voice360",
		"events": []string{"sms.sent", "sms.delivered", "sms.received"}})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create webhook: %d %v %s", code, err, body)
	}

	// The seed's own Python client sends it (testdata/seedclients, the class verbatim).
	answer := seedClient(t, "python", base, demo.DeveloperKey, "+15559876543", "+15551234567", "Hello from Voice360! €[ 😀")
	result, _ := answer["result"].(map[string]any)
	id, _ := result["message_id"].(string)
	if answer["error"] != false || answer["message"] != "SMS sent successfully" || !strings.HasPrefix(id, "msg_") {
		t.Fatalf("send_sms answered %v", answer)
	}
	var sent, delivered map[string]any
	tstest.WaitFor(t, "SMS_SENT and SMS_DELIVERED for "+id, func() bool {
		sent, delivered = hooks.metadata("SMS_SENT", id), hooks.metadata("SMS_DELIVERED", id)
		return sent != nil && delivered != nil
	})
	if sent["from_number"] != "+15559876543" || sent["body"] != "Hello from Voice360! €[ 😀" {
		t.Errorf("SMS_SENT metadata %v", sent)
	}
	if to, _ := sent["to_number"].([]any); len(to) != 1 || to[0] != "+15551234567" {
		t.Errorf("SMS_SENT to_number %v", sent["to_number"])
	}
	if delivered["status"] != "delivered" {
		t.Errorf("SMS_DELIVERED metadata %v", delivered)
	}

	code, body, err = apiCall("POST", base+"/v3/voice/61/simulator/sms", demo.DeveloperKey, map[string]any{
		"from": "+15550001111", "to": "+15559876543", "message": "Καλημέρα 你好"})
	if err != nil || code != http.StatusOK {
		t.Fatalf("simulator/sms: %d %v %s", code, err, body)
	}
	var in struct {
		Result struct {
			MessageID string `json:"message_id"`
		} `json:"result"`
	}
	_ = json.Unmarshal(body, &in)
	var received map[string]any
	tstest.WaitFor(t, "SMS_RECEIVED", func() bool { received = hooks.metadata("SMS_RECEIVED", in.Result.MessageID); return received != nil })
	if received["from_number"] != "+15550001111" || received["to_number"] != "+15559876543" || received["body"] != "Καλημέρα 你好" {
		t.Errorf("SMS_RECEIVED metadata %v", received)
	}
}
