package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	"switchboard/provision"
	"switchboard/recording"
	"switchboard/sms"
	"switchboard/store"
	"switchboard/web"
	"switchboard/webhook"
)

// fixture: two accounts, each with a user, a device and an administrator login; the
// portal served by a real HTTP server over SQLite in a temporary directory.
type fixture struct {
	t      *testing.T
	db     *store.DB
	svc    *provision.Service
	rec    *recording.Service
	sms    *sms.Service
	srv    *httptest.Server
	users  [2]*switchboard.User
	devs   [2]*switchboard.Device
	admins [2]string // login names; password adminPassword
}

const adminPassword = "correct horse battery"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := webhook.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	svc := provision.New(provision.Config{Store: db, Sealer: sealer, Blobs: blobs})
	f := &fixture{t: t, db: db, svc: svc, rec: &recording.Service{Store: db, Blobs: blobs},
		sms: sms.New(sms.Config{Store: db, Sealer: sealer, DefaultCarrier: "simulator"})} // no worker: nothing is sent
	for i, id := range []int64{1, 2} {
		if err := db.CreateAccount(ctx, &switchboard.Account{ID: id, Name: "Account " + strconv.Itoa(int(id))}); err != nil {
			t.Fatal(err)
		}
		ext := "100" + strconv.Itoa(i+1)
		u, err := svc.CreateUser(ctx, id, switchboard.UserChange{Extension: &ext, FirstName: ptr("User"), LastName: ptr(ext)})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := svc.CreateDevice(ctx, id, u.ID, switchboard.DeviceChange{Name: ptr("Desk")})
		if err != nil {
			t.Fatal(err)
		}
		f.users[i], f.devs[i] = u, d
		f.admins[i] = "admin" + strconv.Itoa(i+1) + "@example.com"
		if _, _, err := (web.Logins{Store: db}).Create(ctx, id, f.admins[i], switchboard.PortalAdmin, 0, adminPassword); err != nil {
			t.Fatal(err)
		}
	}
	f.srv = httptest.NewServer(web.New(web.Config{Store: db, Provision: svc, Recordings: f.rec, Messages: f.sms}))
	t.Cleanup(f.srv.Close)
	return f
}

func ptr[T any](v T) *T { return &v }

// browser is a client with its own cookies that does not follow redirects.
type browser struct {
	f    *fixture
	c    *http.Client
	csrf string
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values, header http.Header) (int, string) {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.f.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(out); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(out)
}

func (b *browser) get(path string) (int, string) { return b.do("GET", path, nil, nil) }

// post sends a form with the session's CSRF token (read from the last page).
func (b *browser) post(path string, form url.Values) (int, string) {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.do("POST", path, form, nil)
}

func (b *browser) signIn(login, password string) int {
	status, _ := b.do("POST", "/login", url.Values{"login": {login}, "password": {password}}, nil)
	if status == http.StatusSeeOther {
		b.get("/users") // load a page: its forms carry the CSRF token
	}
	return status
}

func TestSignInAndCookieReplayAfterLogout(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	if status := b.signIn(f.admins[0], adminPassword); status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", status)
	}
	if status, body := b.get("/users"); status != 200 || !strings.Contains(body, "1001") {
		t.Fatalf("users page: %d", status)
	}
	u, _ := url.Parse(f.srv.URL)
	stolen := b.c.Jar.Cookies(u)
	if status, _ := b.post("/logout", nil); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	// The cookie replayed after logout signs nobody in.
	thief := f.browser()
	thief.c.Jar.SetCookies(u, stolen)
	if status, _ := thief.get("/users"); status != http.StatusSeeOther {
		t.Fatalf("replayed cookie after logout: %d, want a redirect to sign in", status)
	}
	if status, _ := thief.do("POST", "/users", url.Values{"extension": {"1999"}, "csrf": {b.csrf}}, nil); status != http.StatusUnauthorized {
		t.Fatalf("replayed cookie posting: %d", status)
	}
	if _, err := f.db.GetUserByExtension(context.Background(), 1, "1999"); err == nil {
		t.Fatal("a user was created with a logged-out cookie")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	for _, c := range b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(f.srv.URL, "http://")}) {
		_ = c // the jar hides attributes; check the Set-Cookie header instead
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(url.Values{"login": {f.admins[0]}, "password": {adminPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("session cookie %q", sc)
	}
}

func TestThrottlePerLogin(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	for i := 0; i < 5; i++ {
		if status := b.signIn(f.admins[0], "wrong password"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, status)
		}
	}
	// The right password is refused too until the window ends: guessing is capped.
	if status := b.signIn(f.admins[0], adminPassword); status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures, the right password: %d, want 429", status)
	}
	// Another login from the same address still signs in (the IP limit is higher).
	if status := f.browser().signIn(f.admins[1], adminPassword); status != http.StatusSeeOther {
		t.Fatalf("another login: %d", status)
	}
}

func TestThrottlePerIP(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	for i := 0; i < 30; i++ { // spraying many logins from one address
		b.signIn("nobody"+strconv.Itoa(i)+"@example.com", "guess")
	}
	if status := b.signIn(f.admins[1], adminPassword); status != http.StatusTooManyRequests {
		t.Fatalf("after 30 failures from one IP: %d, want 429", status)
	}
}

// An unknown login gets the very answer a wrong password gets.
func TestNoLoginEnumeration(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	s1, known := b.do("POST", "/login", url.Values{"login": {f.admins[0]}, "password": {"wrong password"}}, nil)
	s2, unknown := b.do("POST", "/login", url.Values{"login": {"ghost@example.com"}, "password": {"wrong password"}}, nil)
	unknown = strings.ReplaceAll(unknown, "ghost@example.com", f.admins[0])
	if s1 != s2 || known != unknown {
		t.Fatalf("known login: %d, unknown: %d; bodies equal: %v", s1, s2, known == unknown)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	form := url.Values{"extension": {"1500"}}
	if status, _ := b.do("POST", "/users", form, nil); status != http.StatusForbidden {
		t.Fatalf("no token: %d", status)
	}
	form.Set("csrf", "forged")
	if status, _ := b.do("POST", "/users", form, nil); status != http.StatusForbidden {
		t.Fatalf("wrong token: %d", status)
	}
	form.Set("csrf", b.csrf)
	if status, _ := b.do("POST", "/users", form, http.Header{"Origin": {"https://evil.example"}}); status != http.StatusForbidden {
		t.Fatalf("cross-site Origin: %d", status)
	}
	if _, err := f.db.GetUserByExtension(context.Background(), 1, "1500"); err == nil {
		t.Fatal("a forged post created a user")
	}
	if status, _ := b.do("POST", "/users", form, http.Header{"Origin": {f.srv.URL}}); status != http.StatusSeeOther {
		t.Fatalf("own form: %d", status)
	}
	if _, err := f.db.GetUserByExtension(context.Background(), 1, "1500"); err != nil {
		t.Fatal(err)
	}
}

// An administrator of account 1 naming account 2's ids gets 404 and changes nothing.
func TestCrossAccountIDs(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	other, otherDev := f.users[1], f.devs[1]
	id := strconv.FormatInt(other.ID, 10)
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/users/" + id, nil},
		{"POST", "/users/" + id, url.Values{"first_name": {"Hijacked"}}},
		{"POST", "/users/" + id + "/devices", url.Values{"name": {"Evil"}}},
		{"POST", "/users/" + id + "/login", url.Values{"login": {"evil@example.com"}}},
		{"POST", "/users/" + id + "/delete", nil},
		{"POST", "/devices/" + strconv.FormatInt(otherDev.ID, 10) + "/delete", nil},
	} {
		var status int
		if c.method == "GET" {
			status, _ = b.get(c.path)
		} else {
			status, _ = b.post(c.path, c.form)
		}
		if status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, c.path, status)
		}
	}
	ctx := context.Background()
	u, err := f.db.GetUser(ctx, 2, other.ID)
	if err != nil || u.FirstName != "User" {
		t.Fatalf("account 2's user changed: %v %+v", err, u)
	}
	if devs, _ := f.db.ListDevices(ctx, 2, other.ID); len(devs) != 1 {
		t.Fatalf("account 2's devices: %d", len(devs))
	}
	if logins, _ := f.db.ListPortalLogins(ctx, 2); len(logins) != 1 {
		t.Fatalf("account 2's logins: %d", len(logins))
	}
}

// Markup typed into text fields is shown as text everywhere.
func TestHTMLEscaped(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	id := strconv.FormatInt(f.users[0].ID, 10)
	b.get("/users/" + id)
	if status, body := b.post("/users/"+id, url.Values{"first_name": {evil}, "last_name": {evil}, "caller_id_name": {evil}}); status != 200 {
		t.Fatalf("update: %d %s", status, body)
	}
	b.post("/users/"+id+"/devices", url.Values{"name": {evil}})
	b.post("/api-keys", url.Values{"kind": {"developer"}, "name": {evil}})
	ctx := context.Background()
	err := f.db.StartCallRecord(ctx, &switchboard.CallRecord{AccountID: 1, UniqueID: "1.1", Direction: switchboard.CallInbound,
		From: "+15550001111", To: "1001", CallerName: evil, UserID: f.users[0].ID, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/users", "/users/" + id, "/api-keys", "/history", "/wallboard/state.json"} {
		_, body := b.get(path)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s shows the markup unescaped", path)
		}
		if path != "/wallboard/state.json" && !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s does not show the text at all", path)
		}
	}
}

func TestOversizedForm(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	status, body := b.post("/users", url.Values{"extension": {"1600"}, "first_name": {strings.Repeat("a", 100<<10)}})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large") {
		t.Fatalf("100 KiB form: %d", status)
	}
	if _, err := f.db.GetUserByExtension(context.Background(), 1, "1600"); err == nil {
		t.Fatal("an oversized form created a user")
	}
}

// A user's login sees their own calls only, and no administrator page.
func TestUserSeesOwnCallsOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := provision.New(provision.Config{Store: f.db})
	ext := "1077"
	other, err := svc.CreateUser(ctx, 1, switchboard.UserChange{Extension: &ext})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		user int64
		from string
	}{{f.users[0].ID, "+15550000001"}, {other.ID, "+15550000002"}} {
		if err := f.db.StartCallRecord(ctx, &switchboard.CallRecord{AccountID: 1, UniqueID: "9." + strconv.Itoa(i), Direction: switchboard.CallInbound,
			From: c.from, To: "x", UserID: c.user, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := (web.Logins{Store: f.db}).Create(ctx, 1, "user1001", switchboard.PortalUser, f.users[0].ID, adminPassword); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	if status := b.signIn("user1001", adminPassword); status != http.StatusSeeOther {
		t.Fatalf("user sign-in: %d", status)
	}
	_, body := b.get("/history")
	if !strings.Contains(body, "15550000001") || strings.Contains(body, "15550000002") {
		t.Fatalf("user history shows: own %v, other's %v", strings.Contains(body, "15550000001"), strings.Contains(body, "15550000002"))
	}
	_, csv := b.get("/history.csv")
	if !strings.Contains(csv, "+15550000001") || strings.Contains(csv, "+15550000002") {
		t.Fatal("CSV export shows another user's call")
	}
	for _, p := range []string{"/users", "/users/" + strconv.FormatInt(f.users[0].ID, 10), "/webhooks", "/api-keys", "/wallboard"} {
		if status, _ := b.get(p); status != http.StatusNotFound {
			t.Errorf("user GET %s: %d, want 404", p, status)
		}
	}
	// The user's own settings go through the provisioning service.
	b.get("/me")
	if status, _ := b.post("/me", url.Values{"dnd_present": {"1"}, "dnd": {"on"}, "extension": {"1999"}}); status != 200 {
		t.Fatalf("me: %d", status)
	}
	u, _ := f.db.GetUser(ctx, 1, f.users[0].ID)
	if !u.DoNotDisturb || u.Extension != "1001" {
		t.Fatalf("after /me: dnd %v extension %s", u.DoNotDisturb, u.Extension)
	}
	if status, _ := b.post("/me/voicemail", url.Values{"pin": {"12"}}); status != http.StatusBadRequest {
		t.Fatalf("a 2-digit PIN: %d", status)
	}
	if status, _ := b.post("/me/voicemail", url.Values{"pin": {"4321"}, "on_busy_present": {"1"}, "on_busy": {"on"}}); status != 200 {
		t.Fatalf("voicemail settings: %d", status)
	}
	box, err := f.db.GetUserVoicemailBox(ctx, 1, f.users[0].ID)
	if err != nil || !box.OnBusy || box.PINHash == "" {
		t.Fatalf("the box after /me/voicemail: %v %+v", err, box)
	}
}

// A device's SIP password is shown once, with a config; the next page view does not show it.
func TestDevicePasswordShownOnce(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	id := strconv.FormatInt(f.users[0].ID, 10)
	b.get("/users/" + id)
	status, body := b.post("/users/"+id+"/devices", url.Values{"name": {"Softphone"}})
	m := regexp.MustCompile(`id="sippass">([^<]+)<`).FindStringSubmatch(body)
	if status != 200 || m == nil || !strings.Contains(body, "auth_pass="+m[1]) {
		t.Fatalf("create device: %d, password shown: %v", status, m != nil)
	}
	_, again := b.get("/users/" + id)
	if strings.Contains(again, m[1]) {
		t.Fatal("the SIP password is shown again")
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	h := web.New(web.Config{Store: f.db, Provision: provision.New(provision.Config{Store: f.db})})
	b := f.browser()
	b.signIn(f.admins[1], adminPassword)
	u, _ := url.Parse(f.srv.URL)
	req := httptest.NewRequest("GET", "/v3/voice/2/events/stream", nil)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	acct, user, admin, ok := h.Authenticate(req)
	if !ok || acct != 2 || user != 0 || !admin {
		t.Fatalf("Authenticate: %d %d %v %v", acct, user, admin, ok)
	}
	if _, _, _, ok := h.Authenticate(httptest.NewRequest("GET", "/", nil)); ok {
		t.Fatal("no cookie authenticated")
	}
}

// Deleting a user deletes their portal login (and its sessions).
func TestUserDeleteRemovesLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := (web.Logins{Store: f.db}).Create(ctx, 1, "gone", switchboard.PortalUser, f.users[0].ID, adminPassword); err != nil {
		t.Fatal(err)
	}
	if err := provision.New(provision.Config{Store: f.db}).DeleteUser(ctx, 1, f.users[0].ID); err != nil {
		t.Fatal(err)
	}
	if f.browser().signIn("gone", adminPassword) != http.StatusUnauthorized {
		t.Fatal("a deleted user's login still signs in")
	}
}

// The list pages' forms create and delete through the provisioning service; another
// account's id is 404 and its row stays.
func TestResourceForms(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := provision.New(provision.Config{Store: f.db})
	theirs, err := svc.CreateContact(ctx, 2, switchboard.ContactChange{Phone: ptr("+15550009999"), FirstName: ptr("Theirs")})
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.signIn(f.admins[0], adminPassword)
	b.get("/contacts")
	const evil = `<b onmouseover=alert(1)>x</b>`
	if status, _ := b.post("/contacts", url.Values{"phone": {"+15550001234"}, "first_name": {evil}}); status != http.StatusSeeOther {
		t.Fatalf("create contact: %d", status)
	}
	_, body := b.get("/contacts")
	if strings.Contains(body, "<b onmouseover") || !strings.Contains(body, "&lt;b onmouseover") {
		t.Fatal("the contact's name is not escaped")
	}
	if status, body := b.post("/contacts", url.Values{"phone": {"not a number"}}); status != http.StatusBadRequest || !strings.Contains(body, "phone") {
		t.Fatalf("bad phone: %d", status)
	}
	if status, _ := b.post("/contacts/"+strconv.FormatInt(theirs.ID, 10)+"/delete", nil); status != http.StatusNotFound {
		t.Fatalf("deleting another account's contact: %d", status)
	}
	if cs, _ := f.db.ListContacts(ctx, 2); len(cs) != 1 {
		t.Fatal("account 2's contact is gone")
	}
	if status, _ := b.post("/queues", url.Values{"queue_name": {"Sales"}, "extension": {"8001"}, "strategy": {"ringall"}}); status != http.StatusSeeOther {
		t.Fatalf("create queue: %d", status)
	}
	if qs, _ := f.db.ListQueues(ctx, 1); len(qs) != 1 || qs[0].QueueName != "Sales" {
		t.Fatalf("queues: %v", qs)
	}
}
