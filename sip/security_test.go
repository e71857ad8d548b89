package sip

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"switchboard/internal/tstest"
	"switchboard/store/storetest"
)

// failOnce sends one REGISTER with a wrong password and returns the answer.
func failOnce(t *testing.T, p *phone) *sip.Response {
	t.Helper()
	first := p.do("REGISTER", p.contactHeader(3600)...)
	c := pick(t, challenges(t, first, "WWW-Authenticate"), "MD5")
	return p.do("REGISTER", append([]string{digestHeader("Authorization", "MD5", p.user, "not-the-password",
		"REGISTER", "sip:"+p.server, c.nonce, 1)}, p.contactHeader(3600)...)...)
}

func TestBanAfterTenFailuresDropsPacketsUntilItLifts(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	// The attacker comes from 127.0.0.2; the honest phone from 127.0.0.1.
	attacker := dialPhone(t, "udp", e.udp, "127.0.0.2", "alice1001", "guess")
	honest := dialPhone(t, "udp", e.udp, "127.0.0.1", "alice1001", "pw-123456")

	for i := 1; i <= 10; i++ {
		if res := failOnce(t, attacker); res.StatusCode != 401 {
			t.Fatalf("failure %d: got %d, want 401", i, res.StatusCode)
		}
	}
	if got := e.counter(t, e.srv.metrics.bans); got != 1 {
		t.Fatalf("bans = %v after 10 failures, want 1", got)
	}

	// The 11th REGISTER is dropped before parsing: the drop counter moves, no answer comes.
	attacker.send(attacker.request("REGISTER", attacker.contactHeader(3600)...))
	tstest.WaitFor(t, "the banned packet to be dropped", func() bool { return e.counter(t, e.srv.metrics.dropped) == 1 })
	if res, err := attacker.readWithin(200 * time.Millisecond); err == nil {
		t.Fatalf("banned source got an answer: %d %s", res.StatusCode, res.Reason)
	}
	// Even OPTIONS is dropped, and so is a new TCP connection from the banned address.
	attacker.send(attacker.request("OPTIONS"))
	tstest.WaitFor(t, "the banned OPTIONS to be dropped", func() bool { return e.counter(t, e.srv.metrics.dropped) == 2 })
	tcpAttacker := dialPhone(t, "tcp", e.tcp, "127.0.0.2", "alice1001", "guess")
	tcpAttacker.send(tcpAttacker.request("OPTIONS"))
	if _, err := tcpAttacker.readWithin(5 * time.Second); !errors.Is(err, io.EOF) && !isConnReset(err) {
		t.Fatalf("banned TCP connection: read err %v, want the connection closed", err)
	}

	// Others are not affected.
	if res := honest.register("MD5", honest.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("honest phone from another address: got %d, want 200", res.StatusCode)
	}

	// 15 minutes later on the server's clock, the attacker is heard again.
	e.clock.Advance(15*time.Minute + time.Second)
	if res := attacker.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("after the ban: got %d, want 200", res.StatusCode)
	}
}

func isConnReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestFailuresOutsideTheWindowDoNotBan(t *testing.T) {
	e := startServer(t, func(c *Config) { c.Ban = BanPolicy{MaxFailures: 3, Window: time.Minute, BanFor: time.Hour} })
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "127.0.0.3", "alice1001", "guess")
	failOnce(t, p)
	failOnce(t, p)
	e.clock.Advance(61 * time.Second) // the window started at the first failure is over
	failOnce(t, p)
	failOnce(t, p)
	if got := e.counter(t, e.srv.metrics.bans); got != 0 {
		t.Fatalf("bans = %v, want 0: never 3 failures within a minute", got)
	}
	failOnce(t, p)
	if got := e.counter(t, e.srv.metrics.bans); got != 1 {
		t.Fatalf("bans = %v, want 1 after 3 failures within a minute", got)
	}
}

func TestBanListMemoryIsBounded(t *testing.T) {
	clk := tstest.NewClock(time.Unix(1_700_000_000, 0))
	b := newBanList(BanPolicy{MaxFailures: 2, MaxTracked: 100}, clk.Now)
	for i := range 10_000 {
		ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).To4()
		addr := addrIP(&net.UDPAddr{IP: ip})
		b.fail(addr)
		b.fail(addr) // banned
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.failures) > 100 || len(b.banned) > 100 {
		t.Fatalf("tables grew to %d failures, %d bans; cap is 100", len(b.failures), len(b.banned))
	}
}

func TestOptionsAndOtherMethods(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	res := p.do("OPTIONS")
	if res.StatusCode != 200 || !strings.Contains(strings.Join(headerValues(res, "Allow"), ","), "REGISTER") {
		t.Fatalf("OPTIONS: %d Allow %q, want 200 listing REGISTER", res.StatusCode, headerValues(res, "Allow"))
	}
	if res := p.do("MESSAGE"); res.StatusCode != 405 || len(headerValues(res, "Allow")) == 0 {
		t.Errorf("MESSAGE: got %d with Allow %q, want 405 with Allow", res.StatusCode, headerValues(res, "Allow"))
	}
	if res := p.do("FROBNICATE"); res.StatusCode != 501 {
		t.Errorf("unknown method: got %d, want 501", res.StatusCode)
	}
	if res := p.do("BYE"); res.StatusCode != 481 {
		t.Errorf("BYE outside a dialog: got %d, want 481", res.StatusCode)
	}

	// INVITE: authenticated with a 407 challenge, then 480 until calls exist.
	invite := p.do("INVITE", "Contact: "+p.contact)
	if invite.StatusCode != 407 {
		t.Fatalf("INVITE: got %d, want 407", invite.StatusCode)
	}
	c := pick(t, challenges(t, invite, "Proxy-Authenticate"), "MD5")
	p.send(p.request("ACK")) // the phone acknowledges the 407, as SIP wants; no answer to ACK
	auth := digestHeader("Proxy-Authorization", "MD5", "alice1001", "pw-123456", "INVITE", "sip:"+p.server, c.nonce, 1)
	if res := p.do("INVITE", auth, "Contact: "+p.contact); res.StatusCode != 480 {
		t.Fatalf("authenticated INVITE: got %d, want 480 Temporarily Unavailable", res.StatusCode)
	}
}

func TestMalformedAndOversizedMessagesDoNotCrash(t *testing.T) {
	e := startServer(t)
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw")
	garbage := []string{
		"\x00\x01\x02 not sip at all",
		"REGISTER sip:x SIP/2.0\r\nVia: broken\r\n\r\n",
		"REGISTER sip:x SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n", // a response to nothing
		p.request("REGISTER", "Authorization: Digest username=", "Contact: <<<>"),
		p.request("REGISTER", `Authorization: Digest username="a", nonce="x"`),
	}
	for _, g := range garbage {
		p.send(g)
	}
	big := p.request("OPTIONS", "X-Padding: "+strings.Repeat("A", 60000))
	p.send(big)

	// Garbage first, then an oversized message, after which the server may close the
	// connection at any point of the write: a write error then is the expected refusal.
	tcp := dialPhone(t, "tcp", e.tcp, "", "alice1001", "pw")
	tcp.send("garbage\r\n\r\n")
	_, _ = tcp.conn.Write([]byte("REGISTER sip:x SIP/2.0\r\nX-Long: " + strings.Repeat("B", 100000) + "\r\n\r\n"))

	// The server still answers, on both transports.
	fresh := dialPhone(t, "udp", e.udp, "", "alice1001", "pw")
	if res := fresh.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after garbage: %d", res.StatusCode)
	}
	freshTCP := dialPhone(t, "tcp", e.tcp, "", "alice1001", "pw")
	if res := freshTCP.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("TCP OPTIONS after garbage: %d", res.StatusCode)
	}
	// Whatever of the garbage was parsed as a REGISTER got a 4xx, never a 5xx.
	if n := e.outcomes(outcomeError); n != 0 {
		t.Errorf("%v REGISTERs answered with a server error", n)
	}
}

// The sipgo client is a real third-party UA: its digest implementation must interoperate.
func TestSipgoClientRegisters(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")

	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	var recipient sip.Uri
	if err := sip.ParseUri("sip:alice1001@"+e.udp, &recipient); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.AppendHeader(sip.NewHeader("Contact", "<sip:alice1001@127.0.0.1:5999>"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("first REGISTER: %d, want 401", res.StatusCode)
	}
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice1001", Password: "pw-123456"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER with sipgo's digest: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if on, _ := e.srv.UserPresence(e.account.ID, u.ID); !on {
		t.Fatal("not online after sipgo registered")
	}
}

// Run must leave nothing behind: after ctx ends, the goroutine count returns to where it
// was before the server started.
func TestRunStopsEveryGoroutine(t *testing.T) {
	db := storetest.NewSQLite(t)
	tstest.CheckGoroutines(t) // after Run returned, as many goroutines as before it started

	clk := tstest.NewClock(time.Unix(1_700_000_000, 0))
	srv, err := NewServer(Config{Store: db, UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready()
	for _, network := range []string{"udp", "tcp"} {
		addr := srv.UDPAddr().String()
		if network == "tcp" {
			addr = srv.TCPAddr().String()
		}
		conn, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		p := &phone{t: t, conn: conn, tcp: network == "tcp", server: addr, user: "x", callID: "leak@test"}
		p.rd = bufio.NewReader(conn)
		p.do("REGISTER") // opens a server transaction kept for retransmissions on UDP
		p.do("OPTIONS")
		conn.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
