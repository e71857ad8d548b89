package sip

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/tstest"
)

// garbageDatagram is an unparsable datagram full of control bytes, which a naive log
// escapes into four times its size.
func garbageDatagram(i int) string {
	return "INVITE \x01\x02\x03 " + strings.Repeat("\x00\x7f\x1b", 2500) + strings.Repeat("x", i%7)
}

// A flood of garbage datagrams from one source writes a bounded log — a few short lines,
// not the datagrams — and the source is banned as if it had failed authentication
// (issue 14, F2: 14.8 MB sent made 30.6 MB of log).
func TestGarbageFloodLogIsBoundedAndBans(t *testing.T) {
	var log lockedLog
	e := startServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	attacker := dialPhone(t, "udp", e.udp, "127.0.0.2", "x", "y")
	const n = 10 // the default ban policy: 10 failures
	sent := 0
	for i := range n {
		d := garbageDatagram(i)
		attacker.send(d)
		sent += len(d)
	}
	tstest.WaitFor(t, "every datagram to be parsed", func() bool { return e.counter(t, e.srv.metrics.parseErrors) == n })
	// The failure is counted towards the ban just after the parse error is: wait for it.
	tstest.WaitFor(t, "the source to be banned after 10 unparsable datagrams", func() bool {
		return e.counter(t, e.srv.metrics.bans) == 1
	})
	// Banned: what it sends now is dropped unread, and it gets no answer.
	attacker.send(attacker.request("OPTIONS"))
	tstest.WaitFor(t, "the banned source's OPTIONS to be dropped", func() bool { return e.counter(t, e.srv.metrics.dropped) == 1 })
	if res, err := attacker.readWithin(200 * time.Millisecond); err == nil {
		t.Fatalf("banned source got an answer: %d", res.StatusCode)
	}
	// Others are still answered.
	honest := dialPhone(t, "udp", e.udp, "127.0.0.1", "x", "y")
	if res := honest.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("OPTIONS from another address: %d", res.StatusCode)
	}

	out := log.String()
	lines := strings.Count(out, "unparsable SIP message")
	if lines != parseLogBurst {
		t.Errorf("%d lines about unparsable messages; want the per-source burst of %d:\n%s", lines, parseLogBurst, out)
	}
	if len(out) > 4096 {
		t.Errorf("%d bytes of log for %d bytes of garbage; want at most 4 KiB:\n%.2000s", len(out), sent, out)
	}
	if !strings.Contains(out, "source=127.0.0.2") || !strings.Contains(out, "size=") {
		t.Errorf("the log does not name the source and size:\n%s", out)
	}
	if !strings.Contains(out, "banned after repeated unparsable messages") {
		t.Errorf("the ban is not logged:\n%s", out)
	}
}

// Without a ban (a policy that never trips), the lines are still rate limited per source,
// and the sweeper writes one line counting those left out.
func TestGarbageLogIsRateLimitedPerSource(t *testing.T) {
	var log lockedLog
	e := startServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
		c.Ban = BanPolicy{MaxFailures: 1 << 30}
	})
	a := dialPhone(t, "udp", e.udp, "127.0.0.2", "x", "y")
	b := dialPhone(t, "udp", e.udp, "127.0.0.3", "x", "y")
	const n = 30
	for i := range n {
		// Small ones, so that the socket's buffer holds them all.
		a.send("\x01garbage " + strconv.Itoa(i))
		b.send("\x01garbage " + strconv.Itoa(i))
	}
	tstest.WaitFor(t, "every datagram to be parsed", func() bool { return e.counter(t, e.srv.metrics.parseErrors) == 2*n })
	out := log.String()
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		if got := strings.Count(out, "source="+src); got != parseLogBurst {
			t.Errorf("%d lines about %s; want %d", got, src, parseLogBurst)
		}
	}
	// The server's clock moves a minute: a summary line counts what was left out.
	e.clock.Advance(parseLogEvery)
	tstest.WaitFor(t, "the summary line", func() bool {
		return strings.Contains(log.String(), "count="+strconv.Itoa(2*n-2*parseLogBurst))
	})
}

type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Over TCP too: each connection that sends garbage is closed, and its source is counted
// towards the ban; the 11th connection from it is refused.
func TestGarbageOverTCPBans(t *testing.T) {
	var log lockedLog
	e := startServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	for i := range 10 {
		c := dialPhone(t, "tcp", e.tcp, "127.0.0.2", "x", "y")
		c.send("GARBAGE \x01\x02 " + strconv.Itoa(i) + "\r\n\r\n")
		tstest.WaitFor(t, "the garbage to be parsed", func() bool { return e.counter(t, e.srv.metrics.parseErrors) == float64(i+1) })
	}
	if got := e.counter(t, e.srv.metrics.bans); got != 1 {
		t.Fatalf("bans = %v after 10 garbage connections; want 1:\n%s", got, log.String())
	}
	late := dialPhone(t, "tcp", e.tcp, "127.0.0.2", "x", "y")
	late.send(late.request("OPTIONS"))
	if _, err := late.readWithin(5 * time.Second); err == nil {
		t.Fatal("a banned source's TCP connection was answered")
	}
	if out := log.String(); !strings.Contains(out, "transport=tcp source=127.0.0.2") {
		t.Errorf("the log does not name the TCP source:\n%s", out)
	}
}

// Garbage inside TLS counts towards the ban like garbage over TCP: the source is matched on
// what the connection decrypted, and once banned its new connections get no handshake.
func TestGarbageOverTLSBans(t *testing.T) {
	var log lockedLog
	e, _, _, first := startTLSServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	addr := e.srv.TLSAddr().String()
	for i := range 10 {
		c, _ := dialTLSPhone(t, addr, first.pool, "x", "y")
		c.send("GARBAGE \x01\x02 " + strconv.Itoa(i) + "\r\n\r\n")
		tstest.WaitFor(t, "the garbage to be parsed", func() bool { return e.counter(t, e.srv.metrics.parseErrors) == float64(i+1) })
	}
	if got := e.counter(t, e.srv.metrics.bans); got != 1 {
		t.Fatalf("bans = %v after 10 garbage TLS connections; want 1:\n%s", got, log.String())
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: first.pool, ServerName: "127.0.0.1"})
	if err == nil {
		conn.Close()
		t.Fatal("a banned source completed a TLS handshake")
	}
}
