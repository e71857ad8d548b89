package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/provision"
	"switchboard/store"
)

// startServe runs `switchboard serve args...` in process, as a Main, until the test ends.
// It returns once the server is ready, with what it printed and a stop function that stops
// Run, closes the database and returns their errors.
func startServe(t *testing.T, args ...string) (m *Main, stdout *tstest.Buffer, stop func() error) {
	t.Helper()
	stdout, stderr := &tstest.Buffer{}, &tstest.Buffer{}
	args = append([]string{"--sip", "off"}, args...) // tests must not fight over port 5060
	// Nor spend a core speaking the system prompts at each start: tests that want them say so.
	args = append([]string{"--espeak", "/nonexistent/espeak-ng"}, args...)
	c, err := parseServeFlags(args, stderr)
	if err != nil {
		t.Fatalf("serve %v: %v", args, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err = newMain(ctx, c, stdout, stderr)
	if err != nil {
		cancel()
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-done:
		cancel()
		m.Close()
		t.Fatalf("serve stopped before it was ready: %v\n%s", err, stderr.String())
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = errors.Join(<-done, m.Close())
			if t.Failed() {
				t.Logf("serve's log:\n%s", lastLines(stderr.String(), 40))
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return m, stdout, stop
}

func getJSON(t *testing.T, client *http.Client, url, key string, into any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestServeDemoSeedsOnceAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	m, stdout, stop := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0")
	base := m.HTTPURL()

	info, err := os.Stat(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("demo.json mode = %v, want 0600 (it holds keys)", info.Mode().Perm())
	}
	first, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	var demo demoFile
	if err := json.Unmarshal(first, &demo); err != nil {
		t.Fatal(err)
	}
	if demo.AccountID != 61 || !strings.HasPrefix(demo.DeveloperKey, "v360_dev_") {
		t.Fatalf("demo.json: account %d, developer key %q", demo.AccountID, demo.DeveloperKey)
	}
	var exts []string
	for _, u := range demo.Users {
		exts = append(exts, u.Extension)
		if u.UserKey == "" || u.SIPUsername == "" || len(u.SIPPassword) < 12 {
			t.Errorf("user %s lacks credentials: %+v", u.Extension, u)
		}
	}
	if strings.Join(exts, ",") != "1001,1002,1003" || demo.Users[0].Name != "John Smith" {
		t.Errorf("demo users = %v (%q)", exts, demo.Users[0].Name)
	}
	if len(demo.Queues) != 2 || demo.Queues[0].Extension != "8001" || demo.Queues[1].Strategy != "fewestcalls" {
		t.Errorf("demo queues = %+v", demo.Queues)
	}
	var numbers []string
	for _, n := range demo.Numbers {
		numbers = append(numbers, n.Number)
	}
	if strings.Join(numbers, ",") != "+15551234567,+15559876543,+15551112222" {
		t.Errorf("demo numbers = %v", numbers)
	}
	if !strings.Contains(stdout.String(), demo.DeveloperKey) || !strings.Contains(stdout.String(), "curl -H 'X-API-Key: ") {
		t.Errorf("summary lacks the key or a curl line:\n%s", stdout.String())
	}

	var avail struct {
		Result []struct {
			PresenceID string `json:"presence_id"`
			CallerID   string `json:"callerID"`
		}
		Error bool
	}
	if code := getJSON(t, http.DefaultClient, base+"/v3/voice/61/availability", demo.DeveloperKey, &avail); code != 200 || avail.Error || len(avail.Result) != 3 {
		t.Fatalf("availability: %d %+v", code, avail)
	}
	var profile struct {
		Result struct {
			FirstName string `json:"first_name"`
			Email     string
		}
	}
	if code := getJSON(t, http.DefaultClient, base+"/v3/voice/61/user/profile", demo.Users[0].UserKey, &profile); code != 200 || profile.Result.Email != "john.smith@company.com" {
		t.Fatalf("user profile with 1001's key: %d %+v", code, profile)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// Second start on the same data: nothing reseeded, demo.json untouched, keys still valid.
	m, _, stop = startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0")
	base = m.HTTPURL()
	again, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if !bytes.Equal(first, again) {
		t.Error("demo.json was rewritten on restart")
	}
	avail.Result = nil
	if code := getJSON(t, http.DefaultClient, base+"/v3/voice/61/availability", demo.DeveloperKey, &avail); code != 200 || len(avail.Result) != 3 {
		t.Fatalf("after restart: %d, %d users", code, len(avail.Result))
	}
	stop()
}

func TestServeTLSRedirectsPlainHTTP(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSignedCert(t, dir)
	m, _, _ := startServe(t, "--data", dir, "--http", "127.0.0.1:0",
		"--tls-cert", cert, "--tls-key", key, "--http-redirect", "127.0.0.1:0")
	base, redirectAddr := m.HTTPURL(), m.RedirectAddr().String()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %q is not https", base)
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if code := getJSON(t, tlsClient, base+"/healthz", "", nil); code != 200 {
		t.Fatalf("https healthz: %d", code)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Post("http://"+redirectAddr+"/v3/voice/61/call/outbound?x=1", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(base, "https://"))
	want := "https://127.0.0.1:" + tlsPort + "/v3/voice/61/call/outbound?x=1"
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("plain HTTP answered %d Location %q; want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func TestServeRefusesHalfTLSConfig(t *testing.T) {
	err := serve(context.Background(), []string{"--data", t.TempDir(), "--tls-cert", "x.pem"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Fatalf("got %v, want an error naming --tls-key", err)
	}
}

func TestAdminCreatesListsAndRevokesKeys(t *testing.T) {
	dir := t.TempDir()
	admin := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(append([]string{"admin"}, args...), "--data", dir), &out, io.Discard)
		return out.String(), err
	}
	out, err := admin("account", "create", "--name", "Acme Ltd")
	if err != nil || !strings.Contains(out, `"Acme Ltd" created`) {
		t.Fatalf("account create: %v %q", err, out)
	}
	id := regexp.MustCompile(`account (\d+)`).FindStringSubmatch(out)[1]
	out, err = admin("key", "create", "--account", id, "--kind", "developer", "--name", "crm", "--allow-ip", "10.0.0.0/8")
	if err != nil {
		t.Fatalf("key create: %v", err)
	}
	key := regexp.MustCompile(`(v360_dev_\w+)`).FindString(out)
	if key == "" {
		t.Fatalf("key create printed no key: %q", out)
	}
	out, err = admin("key", "list", "--account", id)
	if err != nil || strings.Contains(out, key) || !strings.Contains(out, key[:12]) || !strings.Contains(out, "10.0.0.0/8") {
		t.Fatalf("key list must show the prefix and allowlist, never the key: %v\n%s", err, out)
	}
	keyID := regexp.MustCompile(`(?m)^(\d+)\s+developer`).FindStringSubmatch(out)[1]
	if _, err := admin("key", "revoke", "--account", id, "--id", keyID); err != nil {
		t.Fatal(err)
	}
	out, _ = admin("key", "list", "--account", id)
	if !strings.Contains(out, "revoked") {
		t.Errorf("revoked key not shown as revoked:\n%s", out)
	}
	if _, err := admin("key", "create", "--account", id, "--kind", "user", "--user", "9999"); err == nil {
		t.Error("user key for a missing extension was created")
	}
	if _, err := admin("key", "create", "--account", id, "--allow-ip", "not-an-ip"); err == nil {
		t.Error("bad --allow-ip accepted")
	}
}

func TestHelpAndEnvTwins(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"serve", "migrate", "admin", "--demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, io.Discard, &errOut); err != flag.ErrHelp {
		t.Fatalf("serve --help: %v", err)
	}
	if !strings.Contains(errOut.String(), "$SWITCHBOARD_HTTP") || !strings.Contains(errOut.String(), "$SWITCHBOARD_WEBHOOK_ALLOW_CIDR") {
		t.Errorf("serve --help does not name the env twins:\n%s", errOut.String())
	}

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	httpAddr := fs.String("http", "default", "")
	var cidrs stringList
	fs.Var(&cidrs, "webhook-allow-cidr", "")
	t.Setenv("SWITCHBOARD_HTTP", "from-env")
	t.Setenv("SWITCHBOARD_WEBHOOK_ALLOW_CIDR", "127.0.0.0/8,10.0.0.0/8")
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if *httpAddr != "from-env" || len(cidrs) != 2 {
		t.Errorf("env twins not applied: http=%q cidrs=%v", *httpAddr, cidrs)
	}
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	httpAddr = fs.String("http", "default", "")
	if err := parseFlags(fs, []string{"--http", "from-flag"}); err != nil || *httpAddr != "from-flag" {
		t.Errorf("the command line must win over the environment: %q %v", *httpAddr, err)
	}
}

// TestMigrateCommand checks that migrate leaves every migration applied: goose's version
// table holds the newest migration's number, and the newest migration's table is there.
func TestMigrateCommand(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		migrateAndCheck(t, []string{"--data", dir}, "sqlite", filepath.Join(dir, "switchboard.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		url := freshSchema(t)
		migrateAndCheck(t, []string{"--data", t.TempDir(), "--db", url}, "pgx", url)
	})
}

func migrateAndCheck(t *testing.T, args []string, driver, dsn string) {
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"migrate"}, args...), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "is up to date") {
		t.Errorf("migrate printed %q", out.String())
	}
	dialect := map[string]string{"sqlite": "sqlite", "pgx": "postgres"}[driver]
	files, err := filepath.Glob(filepath.Join("..", "..", "store", "migrations", dialect, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found for %s: %v", dialect, err)
	}
	newest := filepath.Base(files[len(files)-1])
	wantVersion, _ := strconv.Atoi(newest[:strings.IndexByte(newest, '_')])

	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow("SELECT MAX(version_id) FROM goose_db_version").Scan(&version); err != nil {
		t.Fatalf("goose's version table: %v", err)
	}
	if version != wantVersion {
		t.Errorf("schema version %d, want %d (%s)", version, wantVersion, newest)
	}
	for _, table := range []string{"accounts", "webhooks", "registrations"} {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(priv)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestRunStopsEveryPartBeforeItReturns: once Run has returned, SIP and HTTP listen no more,
// and when Close has closed the database no goroutine of the server is left.
func TestRunStopsEveryPartBeforeItReturns(t *testing.T) {
	tstest.CheckGoroutines(t)
	m, _, stop := startServe(t, "--data", t.TempDir(), "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0",
		"--rtp-ports", "32300-32399")
	client := &http.Client{}
	defer client.CloseIdleConnections()
	if code := getJSON(t, client, m.HTTPURL()+"/healthz", "", nil); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	httpAddr := strings.TrimPrefix(m.HTTPURL(), "http://")
	udp, tcp := m.SIPUDPAddr().String(), m.SIPTCPAddr().String()
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if c, err := net.ListenPacket("udp", udp); err != nil {
		t.Errorf("SIP still holds UDP %s after Run returned: %v", udp, err)
	} else {
		c.Close()
	}
	for _, addr := range []string{tcp, httpAddr} {
		if l, err := net.Listen("tcp", addr); err != nil {
			t.Errorf("TCP %s still held after Run returned: %v", addr, err)
		} else {
			l.Close()
		}
	}
}

// TestServeStopsWhenSIPCannotListen: a part that fails stops the whole server, which says
// what to do about it.
func TestServeStopsWhenSIPCannotListen(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = serve(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0",
		"--sip", busy.LocalAddr().String()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SIP on "+busy.LocalAddr().String()) || !strings.Contains(err.Error(), "--sip off") {
		t.Fatalf("serve with SIP's address taken: %v, want an error naming the address and --sip off", err)
	}
}

// The operator grants trust the tenants cannot take: a tenant's wide prefix is refused
// until granted, a grant overlapping another account's trust is refused, and `admin
// accounts` shows who trusts what.
func TestAdminTrustAndAccountsView(t *testing.T) {
	dir := t.TempDir()
	admin := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(append([]string{"admin"}, args...), "--data", dir), &out, io.Discard)
		return out.String(), err
	}
	ids := map[string]string{}
	for _, name := range []string{"Acme", "Beta"} {
		out, err := admin("account", "create", "--name", name, "--sip-domain", strings.ToLower(name)+".pbx.example")
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = regexp.MustCompile(`account (\d+)`).FindStringSubmatch(out)[1]
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acme, _ := strconv.ParseInt(ids["Acme"], 10, 64)
	beta, _ := strconv.ParseInt(ids["Beta"], 10, 64)
	svc := provision.New(provision.Config{Store: db})
	ctx := context.Background()
	if _, err := svc.CreateTrunk(ctx, acme, switchboard.TrunkChange{Name: ptrTo("Carrier"), Host: ptrTo("192.0.2.10")}); err != nil {
		t.Fatal(err)
	}
	catchAll := switchboard.TrunkChange{Name: ptrTo("Wide"), Host: ptrTo("carrier.example"), InboundAddresses: &[]string{"198.18.0.0/15"}}
	if _, err := svc.CreateTrunk(ctx, beta, catchAll); switchboard.ErrorCode(err) != switchboard.EAUTHINVALID {
		t.Fatalf("tenant's /15 without a grant: %v; want refused", err)
	}

	if out, err := admin("trust-cidr", "--account", ids["Beta"], "0.0.0.0/0"); err == nil || !strings.Contains(err.Error(), "another account") {
		t.Errorf("granting 0.0.0.0/0 over Acme's trunk: %v %q; want refused", err, out)
	}
	if out, err := admin("trust-cidr", "--account", ids["Beta"], "198.18.0.0/15"); err != nil || !strings.Contains(out, "198.18.0.0/15") {
		t.Fatalf("trust-cidr: %v %q", err, out)
	}
	if _, err := admin("trust-cidr", "--account", ids["Acme"], "198.18.1.0/24"); err == nil {
		t.Error("Acme was granted part of Beta's grant")
	}
	if _, err := admin("trust-cidr", "--account", ids["Beta"], "not-a-cidr"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	if _, err := svc.CreateTrunk(ctx, beta, catchAll); err != nil {
		t.Fatalf("Beta's /15 with the grant: %v", err)
	}
	// The toll-fraud limits show too: Acme's, set as its developer would; Beta has none.
	if _, err := svc.UpdateAccount(ctx, acme, switchboard.AccountChange{MaxOutboundCalls: ptrTo(3), MaxOutMinutes: ptrTo(90),
		AllowedCountries: &[]string{"44"}}); err != nil {
		t.Fatal(err)
	}
	out, err := admin("accounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^` + ids["Acme"] + `\s+Acme\s+acme\.pbx\.example\s+Carrier \(192\.0\.2\.10\)\s+192\.0\.2\.10/32\s+-\s+calls 3, 90 min/h\s+\+1 \+44$`),
		regexp.MustCompile(`(?m)^` + ids["Beta"] + `\s+Beta\s+beta\.pbx\.example\s+Wide \(carrier\.example\)\s+198\.18\.0\.0/15\s+198\.18\.0\.0/15\s+none\s+\+1$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("admin accounts shows:\n%s\nwant a line matching %s", out, want)
		}
	}
	if _, err := admin("untrust-cidr", "--account", ids["Beta"], "198.18.0.0/15"); err != nil {
		t.Fatal(err)
	}
	if out, _ := admin("accounts"); !regexp.MustCompile(`198\.18\.0\.0/15\s+-`).MatchString(out) {
		t.Errorf("after untrust-cidr:\n%s\nwant the trunk's addresses kept and no grant", out)
	}

	// Domains: unique, validated, changeable, and shown.
	if _, err := admin("account", "set-domain", "--account", ids["Beta"], "--sip-domain", "ACME.pbx.example"); err == nil ||
		!strings.Contains(err.Error(), "sip_domain") {
		t.Errorf("set-domain to Acme's domain: %v; want refused naming sip_domain", err)
	}
	if _, err := admin("account", "create", "--name", "Gamma", "--sip-domain", "not a domain"); err == nil {
		t.Error("account created with a bad domain")
	}
	if out, err := admin("account", "set-domain", "--account", ids["Beta"], "--sip-domain", "beta.example"); err != nil || !strings.Contains(out, "beta.example") {
		t.Errorf("set-domain: %v %q", err, out)
	}
	if out, _ := admin("account", "list"); !regexp.MustCompile(`(?m)^`+ids["Beta"]+`\s+Beta\s+beta\.example\s`).MatchString(out) ||
		strings.Contains(out, "Gamma") {
		t.Errorf("account list:\n%s\nwant Beta's new domain and no Gamma", out)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestServeRefusesAnUnknownDigest(t *testing.T) {
	err := serve(context.Background(), []string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0",
		"--sip-digest", "sha1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--sip-digest") || !strings.Contains(err.Error(), `"md5"`) {
		t.Fatalf("got %v, want an error naming --sip-digest and what it takes", err)
	}
}
