package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// TestPortalInBrowser drives the portal in headless Chromium as an office manager would:
// sign in with the demo's login, add a user and a device, register a baresip with the
// credentials the page shows, watch the wallboard show it online without a reload, call it
// from another baresip and find the call in the history, add a webhook and press "send
// test", then sign in as a user who sees their own calls and no administrator page. It
// saves screenshots of the main pages into docs/portal/.
func TestPortalInBrowser(t *testing.T) {
	chromium := testpeer.Require(t, "chromium", "chromium")
	bin := testpeer.Require(t, "baresip", "baresip-core")
	dir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0",
		"--sip", "127.0.0.1:0", "--rtp-ports", "32300-32399")
	base, sipAddr := m.HTTPURL(), m.SIPUDPAddr().String()
	var demo demoFile
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}

	browser := newBrowser(t, chromium)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		ctx, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		return s
	}
	shot := func(name string) {
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		os.MkdirAll("../../docs/portal", 0o755)
		if err := os.WriteFile(filepath.Join("../../docs/portal", name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in.
	run("sign in", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#login"), demo.PortalLogin),
		chromedp.SendKeys(chromedp.CSS("#password"), demo.PortalPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#extension")))
	shot("users")

	// A user and a device; the SIP password is on the page once.
	run("add a user", chromedp.SendKeys(chromedp.CSS("#extension"), "1010"),
		chromedp.SendKeys(chromedp.CSS("#first_name"), "Dana"), chromedp.SendKeys(chromedp.CSS("#last_name"), "Agent"),
		chromedp.Submit(chromedp.CSS("#extension")), chromedp.WaitVisible(chromedp.CSS("#devname")))
	run("add a device", chromedp.SendKeys(chromedp.CSS("#devname"), "Softphone"),
		chromedp.Submit(chromedp.CSS("#devname")), chromedp.WaitVisible(chromedp.CSS("#sippass")))
	dana := demoUser{Extension: "1010", SIPUsername: strings.TrimSpace(text("#sipuser")), SIPPassword: strings.TrimSpace(text("#sippass"))}
	danaID := userIDOf(t, browser)
	if dana.SIPUsername == "" || dana.SIPPassword == "" {
		t.Fatalf("the device page shows no credentials")
	}
	if cfg := text("#devconfig"); !strings.Contains(cfg, "SIP server: "+sipAddr) || !strings.Contains(cfg, "auth_pass="+dana.SIPPassword) {
		t.Fatalf("the softphone configuration: %q", cfg)
	}
	shot("device")

	// The wallboard is open while the phone registers: it turns online without a reload.
	run("open the wallboard", chromedp.Navigate(base+"/wallboard"), chromedp.WaitVisible(chromedp.CSS("#presence tbody tr")))
	// It follows the live event stream (with the session cookie), not the 5 s fallback.
	tstest.WaitForWithin(t, 30*time.Second, "the wallboard on the live stream", func() bool {
		return strings.HasPrefix(text("#livestate"), "Live ·")
	})
	phone := startBaresip(t, bin, sipAddr, dana, 32400)
	tstest.WaitForWithin(t, 30*time.Second, "the wallboard shows 1010 online", func() bool {
		return strings.Contains(text("#presence"), "1010\tDana Agent\tonline") || rowOnline(text("#presence"), "1010")
	})
	_ = phone

	// Every call of the account is recorded from now on (PATCH /settings with the demo's key).
	patchSettings(t, base, demo, `{"recording_default":"all"}`)

	// A call from the demo's 1001 to the new user: live on the wallboard, then in history
	// with its recording's player.
	john := startBaresip(t, bin, sipAddr, demo.Users[0], 32500)
	tstest.WaitForWithin(t, 30*time.Second, "1001 online on the wallboard", func() bool { return rowOnline(text("#presence"), "1001") })
	john.command(t, "dial", "sip:1010@"+sipAddr)
	tstest.WaitForWithin(t, 30*time.Second, "the call on the wallboard", func() bool { return strings.Contains(text("#calls"), "1010") })
	shot("wallboard")
	// Hang up once the call is being recorded (the Recordings page lists it).
	tstest.WaitForWithin(t, 30*time.Second, "the call's recording started", func() bool {
		run("recordings", chromedp.Navigate(base+"/recordings"), chromedp.WaitVisible(chromedp.CSS("#recordings")))
		return strings.Contains(text("#recordings tbody"), "recording")
	})
	john.command(t, "hangup", "")
	tstest.WaitForWithin(t, 30*time.Second, "the call and its recording in the history", func() bool {
		run("history", chromedp.Navigate(base+"/history"), chromedp.WaitVisible(chromedp.CSS("#calls")))
		h := text("#calls tbody")
		return strings.Contains(h, "1010") && !strings.Contains(h, "in progress") && strings.Contains(h, "Recording (")
	})
	// The player's source is the portal's audio route, which plays with the session cookie.
	src := attribute(t, browser, "#calls audio", "src")
	if ok := fetchOK(t, browser, src); !ok {
		t.Fatalf("the player's audio %s does not load", src)
	}
	shot("history")
	run("recordings page", chromedp.Navigate(base+"/recordings"), chromedp.WaitVisible(chromedp.CSS("#recordings audio")))
	shot("recordings")

	// Dana joins the Sales queue on its page, and is paused (with a reason of the account's
	// list) on the Agents page.
	run("queues", chromedp.Navigate(base+"/queues"), chromedp.WaitVisible(chromedp.CSS("main table")))
	run("the Sales queue", chromedp.Navigate(base+attribute(t, browser, `main table a[href^="/queues/"]`, "href")), chromedp.WaitVisible(chromedp.CSS("#member")),
		chromedp.SetValue(chromedp.CSS("#member"), danaID), chromedp.SetValue(chromedp.CSS("#penalty"), "2"),
		chromedp.Submit(chromedp.CSS("#member")), chromedp.WaitVisible(chromedp.CSS("#members")))
	if m := text("#members tbody"); !strings.Contains(m, "Dana Agent") || !strings.Contains(m, "available") {
		t.Fatalf("the queue's members after adding Dana: %q", m)
	}
	run("the new member in view", chromedp.ScrollIntoView(chromedp.CSS("#members tbody tr:last-child")))
	shot("queue")
	run("pause reasons", chromedp.Navigate(base+"/agents"), chromedp.WaitVisible(chromedp.CSS("#reasons")),
		chromedp.SetValue(chromedp.CSS("#reasons"), "Lunch\nTraining"), chromedp.Submit(chromedp.CSS("#reasons")),
		chromedp.WaitVisible(chromedp.CSS("#state-"+danaID)))
	run("pause Dana", chromedp.SetValue(chromedp.CSS("#state-"+danaID), "paused"), chromedp.SetValue(chromedp.CSS("#reason-"+danaID), "Lunch"),
		chromedp.Submit(chromedp.CSS("#state-"+danaID)), chromedp.WaitVisible(chromedp.CSS("#agents")))
	if a := text("#agents tbody"); !strings.Contains(a, "Sales Queue: paused (Lunch)") {
		t.Fatalf("the agents page after pausing Dana: %q", a)
	}
	run("Dana's row in view", chromedp.ScrollIntoView(chromedp.CSS("#state-"+danaID)))
	shot("agents")

	// An SMS from the main line (the demo's carrier is the simulator).
	run("send an SMS", chromedp.Navigate(base+"/messages"), chromedp.WaitVisible(chromedp.CSS("#to")),
		chromedp.SendKeys(chromedp.CSS("#to"), "+15557770001"), chromedp.SendKeys(chromedp.CSS("#message"), "Your order ships today"),
		chromedp.Submit(chromedp.CSS("#message")), chromedp.WaitVisible(chromedp.CSS("#messages")))
	if m := text("#messages tbody"); !strings.Contains(m, "Your order ships today") {
		t.Fatalf("the messages after sending: %q", m)
	}
	shot("messages")

	// A webhook to a receiver here; "send test" shows the receiver's answer, and the
	// delivery log lists it.
	got := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case got <- string(body):
		default: // later deliveries need no reader
		}
		fmt.Fprint(w, "thanks from the receiver")
	}))
	defer receiver.Close()
	run("add a webhook", chromedp.Navigate(base+"/webhooks"), chromedp.WaitVisible(chromedp.CSS("#url")),
		chromedp.SendKeys(chromedp.CSS("#name"), "CRM"), chromedp.SendKeys(chromedp.CSS("#url"), receiver.URL+"/hook"),
		chromedp.Submit(chromedp.CSS("#url")), chromedp.WaitVisible(chromedp.CSS("#hooksecret")))
	run("send a test", chromedp.Submit(chromedp.CSS("#event")), chromedp.WaitVisible(chromedp.CSS("#testresult")))
	if s := text("#testresult"); !strings.Contains(s, "200") || !strings.Contains(s, "thanks from the receiver") {
		t.Fatalf("the test's answer: %q", s)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got nothing")
	}
	// A real event now: another call, whose events show in the delivery log.
	john.command(t, "dial", "sip:1010@"+sipAddr)
	tstest.WaitForWithin(t, 30*time.Second, "the second call up", func() bool {
		run("wallboard", chromedp.Navigate(base+"/wallboard"), chromedp.WaitVisible(chromedp.CSS("#calls")))
		return strings.Contains(text("#calls"), "1010")
	})
	john.command(t, "hangup", "")
	tstest.WaitForWithin(t, 30*time.Second, "the call's deliveries in the log", func() bool {
		run("webhook page", chromedp.Navigate(base+"/webhooks"), chromedp.Click(chromedp.CSS("table a")),
			chromedp.WaitVisible(chromedp.CSS("#deliveries")))
		return strings.Contains(text("#deliveries tbody"), "call.") && strings.Contains(text("#deliveries tbody"), "succeeded")
	})
	run("a delivery's attempts", chromedp.Click(chromedp.CSS("#deliveries tbody a")), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	if s := text("main"); !strings.Contains(s, "Attempt 1") || !strings.Contains(s, "thanks from the receiver") {
		t.Fatalf("the delivery's attempt: %q", s)
	}
	shot("webhook")

	// A login for 1001 (John), shown once; John signs in and sees his call, not the admin pages.
	run("give John a login", chromedp.Navigate(fmt.Sprintf("%s/users/%d", base, demo.Users[0].PK)), chromedp.WaitVisible(chromedp.CSS("#loginname")),
		chromedp.SetValue(chromedp.CSS("#loginname"), "john"), chromedp.Submit(chromedp.CSS("#loginname")),
		chromedp.WaitVisible(chromedp.CSS("#loginpass")))
	johnPassword := strings.TrimSpace(text("#loginpass"))
	run("sign out", chromedp.Submit(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.CSS("#login")))
	run("John signs in", chromedp.SendKeys(chromedp.CSS("#login"), "john"), chromedp.SendKeys(chromedp.CSS("#password"), johnPassword),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("#forward_number")))
	shot("me")
	run("John's history", chromedp.Navigate(base+"/history"), chromedp.WaitVisible(chromedp.CSS("#calls")))
	if h := text("#calls tbody"); !strings.Contains(h, "1010") {
		t.Fatalf("John's history: %q", h)
	}
	nav := text("nav")
	if strings.Contains(nav, "Users") || strings.Contains(nav, "Webhooks") {
		t.Fatalf("a user sees administrator pages in the menu: %q", nav)
	}
}

// userIDOf is the id of the user whose page the browser shows (/users/{id}…).
func userIDOf(t *testing.T, browser context.Context) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	m := regexp.MustCompile(`/users/(\d+)`).FindStringSubmatch(loc)
	if err != nil || m == nil {
		t.Fatalf("not on a user's page: %q %v", loc, err)
	}
	return m[1]
}

func attribute(t *testing.T, browser context.Context, sel, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !v.Exists {
		t.Fatalf("%s[%s]: %v", sel, name, err)
	}
	return v.Value
}

// fetchOK fetches path in the page (with its cookies) and reports whether it answered 2xx
// with audio.
func fetchOK(t *testing.T, browser context.Context, path string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch(`+strconv.Quote(path)+`, {headers: {Range: "bytes=0-3"}}).then(r => r.ok && r.headers.get("Content-Type") === "audio/wav")`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", path, err)
	}
	return ok
}

// patchSettings changes the demo account's settings through the API with its developer key.
func patchSettings(t *testing.T, base string, demo demoFile, body string) {
	t.Helper()
	req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/v3/voice/%d/settings", base, demo.AccountID), strings.NewReader(body))
	req.Header.Set("X-API-Key", demo.DeveloperKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH settings: %d %s", resp.StatusCode, out)
	}
}

// rowOnline reports whether the presence table's row of ext says online.
func rowOnline(table, ext string) bool {
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ext) && strings.Contains(line, "online") && !strings.Contains(line, "offline") {
			return true
		}
	}
	return false
}

// newBrowser starts headless Chromium with a fresh profile, closed at the test's end.
func newBrowser(t *testing.T, path string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 760),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}
