package sip

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/store"
	"switchboard/store/storetest"
)

// testEnv is a running Server on loopback random ports, over a real SQLite store.
type testEnv struct {
	srv     *Server
	db      *store.DB
	clock   *tstest.Clock
	reg     *prometheus.Registry
	account *switchboard.Account
	udp     string
	tcp     string
	stop    func() // stops the server, as a shutdown does; the test's cleanup calls it too
}

func startServer(t *testing.T, mutate ...func(*Config)) *testEnv {
	t.Helper()
	db := storetest.NewSQLite(t)
	return startServerOn(t, db, mutate...)
}

func startServerOn(t *testing.T, db *store.DB, mutate ...func(*Config)) *testEnv {
	t.Helper()
	clk := tstest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	cfg := Config{
		Store:    db,
		UDPAddr:  "127.0.0.1:0",
		TCPAddr:  "127.0.0.1:0",
		Now:      clk.Now,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registry: reg,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
	t.Cleanup(stop)
	acct := &switchboard.Account{Name: "Acme"}
	if err := db.CreateAccount(context.Background(), acct); err != nil {
		t.Fatalf("create account: %v", err)
	}
	env := &testEnv{srv: srv, db: db, clock: clk, reg: reg, account: acct, stop: stop}
	if a := srv.UDPAddr(); a != nil {
		env.udp = a.String()
	}
	if a := srv.TCPAddr(); a != nil {
		env.tcp = a.String()
	}
	return env
}

func (e *testEnv) user(t *testing.T, extension string) *switchboard.User {
	t.Helper()
	u := &switchboard.User{AccountID: e.account.ID, Extension: extension, FirstName: "User", LastName: extension,
		RingTimeSeconds: 30}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

func (e *testEnv) device(t *testing.T, u *switchboard.User, username, password string) *switchboard.Device {
	t.Helper()
	d := &switchboard.Device{AccountID: u.AccountID, UserID: u.ID, Name: "Desk phone", SIPUsername: username}
	d.SetSIPPassword(password)
	if err := e.db.CreateDevice(context.Background(), d); err != nil {
		t.Fatalf("create device: %v", err)
	}
	return d
}

func (e *testEnv) counter(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}

func (e *testEnv) outcomes(outcome string) float64 {
	return testutil.ToFloat64(e.srv.metrics.registers.WithLabelValues(outcome))
}

// presenceEvents reads back the presence.changed events stored for the account.
func (e *testEnv) presenceEvents(t *testing.T) []*switchboard.Event {
	t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 100)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == switchboard.EventPresenceChanged {
			out = append(out, ev)
		}
	}
	return out
}

// phone is a minimal SIP user agent over a real socket: it writes requests as text and
// parses the answers with sipgo's parser, so every byte on the wire is what the test says.
type phone struct {
	t        *testing.T
	conn     net.Conn
	tcp      bool
	via      string // the Via transport; "" = UDP or TCP as the socket is
	rd       *bufio.Reader
	user     string
	password string
	server   string
	domain   string // the host of its URIs when not the server's address (a SIP domain)
	realm    string // the digest realm it answers with; "" = switchboard.SIPRealm
	callID   string
	cseq     int
	contact  string
}

// dialPhone opens a phone from localIP ("" = 127.0.0.1) to the server over "udp" or "tcp".
func dialPhone(t *testing.T, network, server, localIP, user, password string) *phone {
	t.Helper()
	if localIP == "" {
		localIP = "127.0.0.1"
	}
	d := net.Dialer{}
	if network == "udp" {
		d.LocalAddr = &net.UDPAddr{IP: net.ParseIP(localIP)}
	} else {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	conn, err := d.Dial(network, server)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, server, err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &phone{t: t, conn: conn, tcp: network == "tcp", rd: bufio.NewReader(conn), user: user,
		password: password, server: server, callID: randHex(8) + "@test", cseq: 1}
	p.contact = fmt.Sprintf("<sip:%s@%s;transport=%s>", user, conn.LocalAddr().String(), network)
	return p
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// request builds a request of this phone; extra are full header lines.
func (p *phone) request(method string, extra ...string) string {
	p.cseq++
	transport := "UDP"
	if p.tcp {
		transport = "TCP"
	}
	if p.via != "" {
		transport = p.via
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:%s SIP/2.0\r\n", method, p.host())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n", transport, p.conn.LocalAddr(), randHex(10))
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", p.user, p.host(), "ft"+strconv.Itoa(p.cseq))
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", p.user, p.host())
	fmt.Fprintf(&b, "Call-ID: %s\r\n", p.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", p.cseq, method)
	b.WriteString("Max-Forwards: 70\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// host is the host of the phone's URIs: its domain, else the server's address.
func (p *phone) host() string {
	if p.domain != "" {
		return p.domain
	}
	return p.server
}

func (p *phone) send(msg string) {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(msg)); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// read waits for one response; a missing answer within 5 s fails the test (a guard, not a
// measurement).
func (p *phone) read() *sip.Response {
	p.t.Helper()
	res, err := p.readWithin(tstest.DefaultWait)
	if err != nil {
		p.t.Fatalf("no SIP response: %v", err)
	}
	return res
}

func (p *phone) readWithin(d time.Duration) (*sip.Response, error) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	var raw []byte
	if p.tcp {
		var err error
		raw, err = readStreamMessage(p.rd)
		if err != nil {
			return nil, err
		}
	} else {
		buf := make([]byte, 65535)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		raw = buf[:n]
	}
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", raw, err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		return nil, fmt.Errorf("got a request, not a response: %s", msg.String())
	}
	return res, nil
}

// readStreamMessage reads one message from a TCP stream (headers, then Content-Length).
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var msg []byte
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		msg = append(msg, line...)
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return append(msg, body...), nil
}

// do sends a request and returns its final response.
func (p *phone) do(method string, extra ...string) *sip.Response {
	p.t.Helper()
	p.send(p.request(method, extra...))
	return p.read()
}

// challenge is a parsed WWW-Authenticate/Proxy-Authenticate.
type challenge struct {
	algorithm, nonce, realm, qop string
	stale                        bool
}

func challenges(t *testing.T, res *sip.Response, header string) []challenge {
	t.Helper()
	var out []challenge
	for _, h := range res.GetHeaders(header) {
		p, ok := digestParams(h.Value())
		if !ok {
			t.Fatalf("%s is not a digest challenge: %s", header, h.Value())
		}
		out = append(out, challenge{algorithm: p["algorithm"], nonce: p["nonce"], realm: p["realm"], qop: p["qop"],
			stale: p["stale"] == "true"})
	}
	return out
}

func pick(t *testing.T, cs []challenge, alg string) challenge {
	t.Helper()
	for _, c := range cs {
		if c.algorithm == alg {
			return c
		}
	}
	t.Fatalf("no %s challenge in %+v", alg, cs)
	return challenge{}
}

// digestHeader computes a qop=auth digest the way a phone does, from the password.
func digestHeader(header, alg, user, password, method, uri, nonce string, nc int) string {
	return realmDigestHeader(switchboard.SIPRealm, header, alg, user, password, method, uri, nonce, nc)
}

// realmDigestHeader is digestHeader for another realm than switchboard.SIPRealm.
func realmDigestHeader(realm, header, alg, user, password, method, uri, nonce string, nc int) string {
	h := func(s string) string { return hexHash(newHash(alg), s) }
	ha1 := h(user + ":" + realm + ":" + password)
	ha2 := h(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	cnonce := "c0ffee" + strconv.Itoa(nc)
	resp := h(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, cnonce="%s", qop=auth, nc=%s`,
		header, user, realm, nonce, uri, resp, alg, cnonce, ncs)
}

// auth returns the Authorization header line for this phone's REGISTER with nonce.
func (p *phone) auth(alg, nonce string, nc int) string {
	realm := p.realm
	if realm == "" {
		realm = switchboard.SIPRealm
	}
	return realmDigestHeader(realm, "Authorization", alg, p.user, p.password, "REGISTER", "sip:"+p.host(), nonce, nc)
}

// register runs the whole challenge/answer exchange with the given algorithm and extra
// headers (Contact, Expires) and returns the final response.
func (p *phone) register(alg string, extra ...string) *sip.Response {
	p.t.Helper()
	res := p.do("REGISTER", extra...)
	if res.StatusCode != 401 {
		p.t.Fatalf("first REGISTER: got %d %s, want 401", res.StatusCode, res.Reason)
	}
	c := pick(p.t, challenges(p.t, res, "WWW-Authenticate"), alg)
	return p.do("REGISTER", append([]string{p.auth(alg, c.nonce, 1)}, extra...)...)
}

func (p *phone) contactHeader(expires int) []string {
	return []string{"Contact: " + p.contact, "Expires: " + strconv.Itoa(expires)}
}

func headerValues(res *sip.Response, name string) []string {
	var out []string
	for _, h := range res.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}
