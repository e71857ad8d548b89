package sip

import (
	"context"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A source's first REGISTER is answered by sipgo; its later ones take the fast path
// (fastregister.go), which writes its answers itself. A phone must not see the difference:
// the same headers, Via with rport and received filled in (RFC 3581), To with a tag.
func TestFastPathAnswersAsSipgoDoes(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	bySipgo := p.do("REGISTER", p.contactHeader(3600)...) // the source's first datagram
	fast := p.do("REGISTER", p.contactHeader(3600)...)
	if bySipgo.StatusCode != 401 || fast.StatusCode != 401 {
		t.Fatalf("got %d and %d, want 401 twice", bySipgo.StatusCode, fast.StatusCode)
	}
	if got, want := answerShape(t, p, fast), answerShape(t, p, bySipgo); !slices.Equal(got, want) {
		t.Errorf("fast path answered\n%s\nsipgo answered\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	c := pick(t, challenges(t, fast, "WWW-Authenticate"), "MD5")
	ok := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...)
	if ok.StatusCode != 200 {
		t.Fatalf("REGISTER with the digest: got %d %s, want 200", ok.StatusCode, ok.Reason)
	}
	shape := answerShape(t, p, ok)
	for _, want := range []string{"contact: <sip:alice1001@" + p.conn.LocalAddr().String() + ">;expires=3600", "date: *"} {
		if !slices.Contains(shape, want) {
			t.Errorf("200 lacks %q:\n%s", want, strings.Join(shape, "\n"))
		}
	}
}

var (
	volatileParam = regexp.MustCompile(`(branch|tag|nonce)=("?)[^;,"]+`)
	volatileLine  = regexp.MustCompile(`^(date|cseq): .*`)
)

// answerShape lists a response's headers as "name: value", sorted, with what differs from
// one response to the next (branch, tags, nonces, CSeq, the date) replaced by "*". It checks on
// the way what RFC 3261 and RFC 3581 ask of a REGISTER's answer over UDP.
func answerShape(t *testing.T, p *phone, res *sip.Response) []string {
	t.Helper()
	if via := res.Via(); via == nil {
		t.Error("no Via")
	} else if rport, _ := via.Params.Get("rport"); rport != portOf(p.conn.LocalAddr().String()) || via.Params.GetOr("received", "") != "127.0.0.1" {
		t.Errorf("Via %q: want rport=%s and received=127.0.0.1", via.Value(), portOf(p.conn.LocalAddr().String()))
	}
	if to := res.To(); to == nil || !to.Params.Has("tag") {
		t.Errorf("To %v: want a tag", res.To())
	}
	if cl := res.ContentLength(); cl == nil || *cl != 0 {
		t.Errorf("Content-Length %v, want 0", cl)
	}
	var out []string
	for _, h := range res.Headers() {
		line := strings.ToLower(h.Name()) + ": " + volatileParam.ReplaceAllString(h.Value(), "$1=$2*")
		out = append(out, volatileLine.ReplaceAllString(line, "$1: *"))
	}
	slices.Sort(out)
	return out
}

func portOf(hostport string) string {
	_, port, _ := strings.Cut(hostport, "127.0.0.1:")
	return port
}

// Listening on a wildcard, Go's socket is dual-stack and reports an IPv4 phone's address as
// ::ffff:a.b.c.d; its bindings must still record the source as "a.b.c.d:port", as the
// requests sipgo handles do (the fast path reads the addresses itself).
func TestWildcardListenerRecordsIPv4Sources(t *testing.T) {
	registerOnBothPaths(t, "0.0.0.0:0", "127.0.0.1")
}

// An IPv6 phone reaches the same wildcard listener: its datagrams' addresses are read and
// its answers written as IPv6 on both paths, and its binding records "[::1]:port".
func TestWildcardListenerServesIPv6Phones(t *testing.T) {
	if ln, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		ln.Close()
	}
	registerOnBothPaths(t, ":0", "::1")
}

// registerOnBothPaths starts a server listening for UDP on listen and registers a phone at
// phoneIP twice, the first REGISTER handled by sipgo and the second on the fast path; each
// time the answer's received must be phoneIP and the stored source the phone's address.
func registerOnBothPaths(t *testing.T, listen, phoneIP string) {
	t.Helper()
	e := startServer(t, func(c *Config) { c.UDPAddr = listen })
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	_, port, _ := net.SplitHostPort(e.udp)
	p := dialPhone(t, "udp", net.JoinHostPort(phoneIP, port), phoneIP, "alice1001", "pw-123456")
	for range 2 {
		res := p.register("MD5", p.contactHeader(3600)...)
		if res.StatusCode != 200 {
			t.Fatalf("REGISTER: got %d %s, want 200", res.StatusCode, res.Reason)
		}
		if via := res.Via(); via == nil || via.Params.GetOr("received", "") != phoneIP {
			t.Errorf("Via of the answer = %v, want received=%s", via, phoneIP)
		}
		if err := e.srv.regWrites.flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		regs, err := e.db.ListRegistrations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(regs) != 1 || regs[0].Source != p.conn.LocalAddr().String() {
			t.Fatalf("stored bindings %+v, want one from %s", regs, p.conn.LocalAddr())
		}
	}
}
