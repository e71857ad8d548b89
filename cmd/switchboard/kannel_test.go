package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/sms/kannel"
	"switchboard/sms/kannel/kanneltest"
)

// kannelTestKey is the server key of the Kannel test: the MO get-url written into kannel.conf
// carries the account's secret, derived from it.
const kannelTestKey = "6b616e6e656c2d746573742d6b65792d6b616e6e656c2d746573742d6b657921"

// hookLog collects the voice360 webhooks the server sends.
type hookLog struct {
	mu     sync.Mutex
	events []voice360Hook
}

type voice360Hook struct {
	EventName string         `json:"event_name"`
	AccountID string         `json:"account_id"`
	Metadata  map[string]any `json:"metadata"`
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev voice360Hook
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
}

// find returns the first event named name whose metadata field key is value.
func (h *hookLog) find(name, key, value string) *voice360Hook {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.events {
		if h.events[i].EventName == name && fmt.Sprint(h.events[i].Metadata[key]) == value {
			ev := h.events[i]
			return &ev
		}
	}
	return nil
}

// seedClient runs the seed's Python or JavaScript client (testdata/seedclients, copied from
// the seed) against the server: send_sms / sendSMS, and returns the API's answer.
func seedClient(t *testing.T, lang, base, key, from, to, text string) map[string]any {
	t.Helper()
	dir, err := filepath.Abs("testdata/seedclients")
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch lang {
	case "python":
		cmd = exec.Command("python3", "-c", `
import json, sys
sys.path.insert(0, sys.argv[1])
from voice360 import Voice360API
api = Voice360API(sys.argv[2], 61)
api.base_url = sys.argv[3] + '/v3/voice'
print(json.dumps(api.send_sms(sys.argv[4], sys.argv[5], sys.argv[6])))
`, dir, key, base, from, to, text)
	case "node":
		cmd = exec.Command("node", "-e", `
const [dir, key, base, from, to, text] = process.argv.slice(1);
const { Voice360API } = require(dir + '/voice360.js');
const api = new Voice360API(key, 61);
api.baseUrl = base + '/v3/voice';
api.sendSMS(from, to, text).then(r => console.log(JSON.stringify(r)), e => { console.error(e); process.exit(1); });
`, dir, key, base, from, to, text)
	}
	if cmd.Err != nil { // not installed
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: .ci/run installs it", lang)
		}
		t.Skipf("%s is not installed", lang)
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("the seed's %s client: %v\n%s%s", lang, err, out, stderr)
	}
	var answer map[string]any
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("the seed's %s client printed %q: %v", lang, out, err)
	}
	return answer
}

func mustAPI(t *testing.T, method, url, key string, body any, want int) map[string]any {
	t.Helper()
	code, b, err := apiCall(method, url, key, body)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %v %s", method, url, code, err, b)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// TestKannelEndToEnd runs the real binary against real bearerbox + smsbox + fakesmsc: the
// seed's Python and JavaScript clients send through Kannel, fakesmsc's delivery reports
// become SMS_DELIVERED with the same message_id, messages typed into fakesmsc arrive as
// SMS_RECEIVED, Unicode and GSM-7 extension characters survive both ways; then, with Kannel
// stopped, 1,000 messages are queued, the server is SIGKILLed and started again, Kannel comes
// back, and fakesmsc receives each message exactly once.
func TestKannelEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if err := kanneltest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("SWITCHBOARD_SECRET_KEY", kannelTestKey)
	t.Setenv("SWITCHBOARD_RATE_LIMIT_PER_KEY", "100000")
	dataDir := t.TempDir()
	baresip := testpeer.Require(t, "baresip", "baresip-core")
	sipAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	srv := startServer(t, bin, dataDir, "", "--sip", sipAddr, "--rtp-ports", "32600-32699")
	var demo demoFile
	b, err := os.ReadFile(filepath.Join(dataDir, "demo.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil {
		t.Fatalf("demo.json: %v %s", err, b)
	}
	key, base := demo.DeveloperKey, srv.baseURL+"/v3/voice/61"
	line := demo.Numbers[0] // +15551234567, SMS-enabled
	k := kanneltest.New(t, kanneltest.Options{CallbackURL: srv.baseURL, AccountID: 61,
		Secret: kannel.Secret(mustHex(t, kannelTestKey), 61)})

	// The account sends through this Kannel, fast enough for the 1,000 below.
	mustAPI(t, "PUT", base+"/sms/settings", key, map[string]any{"sms_carrier": "kannel", "rate_per_minute": 100000,
		"kannel": map[string]any{"url": k.SendURL(), "username": k.Username(), "password": k.Password()}}, 200)
	mustAPI(t, "PUT", base+"/sms/settings", key, map[string]any{"number_id": line.PK, "rate_per_minute": 100000}, 200)
	hooks := &hookLog{}
	hs := httptest.NewServer(hooks)
	defer hs.Close()
	mustAPI(t, "POST", base+"/webhooks", key, map[string]any{"name": "kannel test", "url": hs.URL + "/hook", "format": "voice360",
		"events": []string{"sms.sent", "sms.delivered", "sms.received"}}, 201)

	// Out: the seed's clients, GSM-7 with extension characters from Python, Unicode from node.
	sends := []struct{ lang, to, text string }{
		{"python", "+15557000001", "Hello from Python: 20€ [table 4] {ok} ~^|\\"},
		{"node", "+15557000002", "Γειά σου 😀 你好 from JavaScript"},
	}
	for _, s := range sends {
		answer := seedClient(t, s.lang, srv.baseURL, key, line.Number, s.to, s.text)
		result, _ := answer["result"].(map[string]any)
		id, _ := result["message_id"].(string)
		if !strings.HasPrefix(id, "msg_") {
			t.Fatalf("%s send_sms answered %v: no message_id", s.lang, answer)
		}
		tstest.WaitFor(t, "fakesmsc receives the "+s.lang+" message", func() bool { return len(sentTo(k, s.to)) > 0 })
		if got := sentTo(k, s.to); len(got) != 1 || got[0].From != line.Number || got[0].Text != s.text {
			t.Fatalf("the SMSC got %+v, want one message from %s reading %q", got, line.Number, s.text)
		}
		tstest.WaitFor(t, "SMS_DELIVERED for "+id, func() bool { return hooks.find("SMS_DELIVERED", "message_id", id) != nil })
		if ev := hooks.find("SMS_SENT", "message_id", id); ev == nil || ev.Metadata["body"] != s.text {
			t.Errorf("SMS_SENT of %s: %+v, want the body %q", id, ev, s.text)
		}
		msg := mustAPI(t, "GET", base+"/messages/"+id, key, nil, 200)["result"].(map[string]any)
		if msg["status"] != "delivered" || msg["carrier"] != "kannel" {
			t.Errorf("message %s: %v, want delivered by kannel", id, msg)
		}
	}

	// In: typed into fakesmsc, as text (GSM-7 decoded by the SMSC) and as UCS-2. The line's
	// SMS user has a softphone: each message also arrives on it as a SIP MESSAGE.
	smsUser := demo.Users[0]
	mustAPI(t, "PATCH", base+"/numbers/"+strconv.FormatInt(line.PK, 10), key, map[string]any{"sms_assigned_user_id": smsUser.PK}, 200)
	phone := startTextingBaresip(t, baresip, sipAddr, smsUser)
	inbound := []struct{ from, text string }{
		{"+447700900001", "Is the shop open? Price 20€ [EUR] {x}"},
		{"+447700900002", "Καλημέρα 😀 早上好"},
	}
	if err := k.InjectText(inbound[0].from, line.Number, inbound[0].text); err != nil {
		t.Fatal(err)
	}
	if err := k.Inject(inbound[1].from, line.Number, inbound[1].text); err != nil {
		t.Fatal(err)
	}
	for _, in := range inbound {
		tstest.WaitFor(t, "SMS_RECEIVED from "+in.from, func() bool { return hooks.find("SMS_RECEIVED", "from_number", in.from) != nil })
		ev := hooks.find("SMS_RECEIVED", "from_number", in.from)
		if ev.Metadata["body"] != in.text || ev.Metadata["to_number"] != line.Number || !strings.HasPrefix(fmt.Sprint(ev.Metadata["message_id"]), "msg_") {
			t.Errorf("SMS_RECEIVED %+v, want %q to %s with a message_id", ev.Metadata, in.text, line.Number)
		}
		tstest.WaitForWithin(t, 20*time.Second, "the SMS from "+in.from+" on the assigned user's baresip", func() bool {
			return phone.got(in.from, in.text)
		})
	}

	// Kannel down: 1,000 messages are accepted and wait in the outbox; the server is killed.
	k.StopKannel()
	const n = 1000
	for i := range n {
		mustAPI(t, "POST", base+"/sms/send", key, map[string]any{"from": line.Number, "to": fmt.Sprintf("+1555800%04d", i),
			"message": fmt.Sprintf("crash test %d", i)}, 200)
	}
	srv.kill()
	srv = startServer(t, bin, dataDir, "")
	base = srv.baseURL + "/v3/voice/61"
	if err := k.StartKannel(); err != nil {
		t.Fatal(err)
	}
	// Every message reaches the SMSC and is reported delivered; then each was sent once.
	counts := func() map[string]int {
		c := map[string]int{}
		for _, m := range k.Sent() {
			if strings.HasPrefix(m.To, "+1555800") {
				c[m.To]++
			}
		}
		return c
	}
	tstest.WaitForWithin(t, 5*time.Minute, "fakesmsc receives the 1,000 messages", func() bool { return len(counts()) == n })
	tstest.WaitForWithin(t, 2*time.Minute, "all 1,000 delivered", func() bool {
		out := mustAPI(t, "GET", base+"/messages?status=delivered&limit=1000&number="+line.Number, key, nil, 200)
		list, _ := out["result"].([]any)
		delivered := 0
		for _, m := range list {
			if to, _ := m.(map[string]any)["to"].(string); strings.HasPrefix(to, "+1555800") {
				delivered++
			}
		}
		return delivered == n
	})
	for to, c := range counts() {
		if c != 1 {
			t.Errorf("the SMSC got the message to %s %d times", to, c)
		}
	}
	for i := range n {
		to := fmt.Sprintf("+1555800%04d", i)
		got := sentTo(k, to)
		if len(got) != 1 || got[0].Text != fmt.Sprintf("crash test %d", i) {
			t.Fatalf("the SMSC got %+v for %s", got, to)
		}
	}
}

func sentTo(k *kanneltest.Kannel, to string) []kanneltest.Message {
	var out []kanneltest.Message
	for _, m := range k.Sent() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeKey(s, "test key")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// admin kannel prints the sms-service group whose get-url carries the account's secret, the
// one the server derives from the same key (and refuses unknown accounts).
func TestAdminKannelPrintsTheAccountsService(t *testing.T) {
	dir := t.TempDir()
	admin := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(t.Context(), append(append([]string{"admin"}, args...), "--data", dir), &out, io.Discard)
		return out.String(), err
	}
	if _, err := admin("account", "create", "--name", "Acme", "--id", "7"); err != nil {
		t.Fatal(err)
	}
	out, err := admin("kannel", "--account", "7", "--callback-url", "http://10.0.0.5:8080", "--secret-key", kannelTestKey)
	if err != nil {
		t.Fatal(err)
	}
	want := `get-url = "` + kannel.MOURL("http://10.0.0.5:8080", 7, kannel.Secret(mustHex(t, kannelTestKey), 7)) + `"`
	if !strings.Contains(out, want) || !strings.Contains(out, "max-messages = 0") {
		t.Fatalf("admin kannel printed:\n%s\nwant the line %s", out, want)
	}
	if _, err := admin("kannel", "--account", "8", "--callback-url", "http://10.0.0.5:8080"); err == nil {
		t.Fatal("admin kannel accepted an account that does not exist")
	}
	if _, err := admin("kannel", "--account", "7"); err == nil || !strings.Contains(err.Error(), "--callback-url") {
		t.Fatalf("without --callback-url: %v", err)
	}
}
