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

	// A call from the demo's 1001 to the new user: live on the wallboard, then in history.
	john := startBaresip(t, bin, sipAddr, demo.Users[0], 32500)
	tstest.WaitForWithin(t, 30*time.Second, "1001 online on the wallboard", func() bool { return rowOnline(text("#presence"), "1001") })
	john.command(t, "dial", "sip:1010@"+sipAddr)
	tstest.WaitForWithin(t, 30*time.Second, "the call on the wallboard", func() bool { return strings.Contains(text("#calls"), "1010") })
	shot("wallboard")
	john.command(t, "hangup", "")
	tstest.WaitForWithin(t, 30*time.Second, "the call in the history", func() bool {
		run("history", chromedp.Navigate(base+"/history"), chromedp.WaitVisible(chromedp.CSS("#calls")))
		h := text("#calls tbody")
		return strings.Contains(h, "1010") && !strings.Contains(h, "in progress")
	})
	shot("history")

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
