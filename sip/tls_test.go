package sip

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/internal/tstest"
)

// testCert is a self-signed certificate for 127.0.0.1 written to certFile and keyFile.
type testCert struct {
	serial *big.Int
	pool   *x509.CertPool
}

func writeTestCert(t *testing.T, certFile, keyFile string, serial int64, notBefore, notAfter time.Time) testCert {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	// Written to temporary names and renamed, as a certificate manager does.
	for file, data := range map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	} {
		if err := os.WriteFile(file+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".new", file); err != nil {
			t.Fatal(err)
		}
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return testCert{serial: leaf.SerialNumber, pool: pool}
}

// startTLSServer runs a server with a TLS port serving the certificate in dir.
func startTLSServer(t *testing.T, mutate ...func(*Config)) (e *testEnv, certFile, keyFile string, first testCert) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first = writeTestCert(t, certFile, keyFile, 1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	certs, err := LoadCertFiles(certFile, keyFile, nil, nil)
	if err != nil {
		t.Fatalf("LoadCertFiles: %v", err)
	}
	e = startServer(t, append([]func(*Config){func(c *Config) {
		c.TLSAddr = "127.0.0.1:0"
		c.TLS = ServerTLSConfig(certs.GetCertificate)
	}}, mutate...)...)
	return e, certFile, keyFile, first
}

// dialTLSPhone opens a phone over TLS that trusts roots; it returns the phone and the serial
// number of the certificate the server presented.
func dialTLSPhone(t *testing.T, server string, roots *x509.CertPool, user, password string) (*phone, *big.Int) {
	t.Helper()
	conn, err := tls.Dial("tcp", server, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", server, err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &phone{t: t, conn: conn, tcp: true, via: "TLS", rd: bufio.NewReader(conn), user: user, password: password,
		server: server, callID: randHex(8) + "@test", cseq: 1}
	p.contact = "<sip:" + user + "@" + conn.LocalAddr().String() + ";transport=tls>"
	return p, conn.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestTLSRegisterAndCertificateReload: a phone registers over TLS; a certificate written
// over the files is served to the next connection without a restart; files that stop
// loading leave the last good certificate in service.
func TestTLSRegisterAndCertificateReload(t *testing.T) {
	e, certFile, keyFile, first := startTLSServer(t)
	addr := e.srv.TLSAddr().String()
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")

	p, serial := dialTLSPhone(t, addr, first.pool, "alice1001", "pw-123456")
	if serial.Cmp(first.serial) != 0 {
		t.Fatalf("served certificate %v, want %v", serial, first.serial)
	}
	if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("REGISTER over TLS: %d %s", res.StatusCode, res.Reason)
	}

	second := writeTestCert(t, certFile, keyFile, 2, time.Now().Add(-time.Hour), time.Now().Add(2*time.Hour))
	_, serial = dialTLSPhone(t, addr, second.pool, "alice1001", "pw-123456")
	if serial.Cmp(second.serial) != 0 {
		t.Fatalf("after the files changed: served certificate %v, want the new one %v", serial, second.serial)
	}

	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, serial = dialTLSPhone(t, addr, second.pool, "alice1001", "pw-123456")
	if serial.Cmp(second.serial) != 0 {
		t.Fatalf("after a broken write: served certificate %v, want the last good one %v", serial, second.serial)
	}
	if res := p.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("OPTIONS over TLS: %d", res.StatusCode)
	}
}

// TestTLSHandshakeThatNeverFinishesIsDropped: a client that connects and sends nothing
// (slowloris) neither blocks other clients nor keeps its connection.
func TestTLSHandshakeThatNeverFinishesIsDropped(t *testing.T) {
	e, _, _, first := startTLSServer(t, func(c *Config) { c.TLSHandshakeTimeout = 300 * time.Millisecond })
	addr := e.srv.TLSAddr().String()
	var idle []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		idle = append(idle, c)
	}
	// Others are served meanwhile.
	p, _ := dialTLSPhone(t, addr, first.pool, "nobody", "x")
	if res := p.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("OPTIONS beside stalled handshakes: %d", res.StatusCode)
	}
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(tstest.DefaultWait))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("stalled connection %d still open after %s", i, tstest.DefaultWait)
		}
		if err == nil {
			t.Fatalf("stalled connection %d got data", i)
		}
	}
}

// TestTLSBannedSourceIsRefused: the ban list applies to TLS connections as to UDP and TCP.
func TestTLSBannedSourceIsRefused(t *testing.T) {
	e, _, _, first := startTLSServer(t)
	addr := e.srv.TLSAddr().String()
	for range e.srv.cfg.Ban.MaxFailures {
		e.srv.bans.fail(netip.MustParseAddr("127.0.0.1"))
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: first.pool, ServerName: "127.0.0.1"})
	if err == nil {
		conn.SetReadDeadline(time.Now().Add(tstest.DefaultWait))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil || !errors.Is(err, io.EOF) && !isConnReset(err) && !strings.Contains(err.Error(), "closed") {
		t.Fatalf("banned source over TLS: %v, want the connection refused", err)
	}
	if got := e.counter(t, e.srv.metrics.dropped); got < 1 {
		t.Fatalf("dropped = %v, want the banned connection counted", got)
	}
}

// TestLoadCertFilesRefusesBadFiles: what an operator gets at start for files that cannot serve.
func TestLoadCertFilesRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	otherCert, otherKey := filepath.Join(dir, "other.pem"), filepath.Join(dir, "otherkey.pem")
	writeTestCert(t, otherCert, otherKey, 9, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)

	for _, tc := range []struct {
		name      string
		setup     func() (string, string)
		wantInErr string
	}{
		{"expired", func() (string, string) {
			writeTestCert(t, cert, key, 3, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
			return cert, key
		}, "expired on"},
		{"not yet valid", func() (string, string) {
			writeTestCert(t, cert, key, 4, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
			return cert, key
		}, "not valid before"},
		{"key of another certificate", func() (string, string) {
			writeTestCert(t, cert, key, 5, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			return cert, otherKey
		}, "private key does not match"},
		{"not PEM", func() (string, string) { return garbage, key }, "failed to find any PEM data"},
		{"missing", func() (string, string) { return filepath.Join(dir, "nope.pem"), key }, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, k := tc.setup()
			_, err := LoadCertFiles(c, k, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Fatalf("LoadCertFiles: %v, want an error saying %q", err, tc.wantInErr)
			}
		})
	}
}

// TestDeviceThatRequiresTLSIsRefusedOverUDPAndTCP: a device whose policy is TLS+SRTP
// registers and calls only over TLS: over UDP or TCP it gets 403 with the reason, and a
// binding it made in clear before the policy was set is no longer where calls go.
func TestDeviceThatRequiresTLSIsRefusedOverUDPAndTCP(t *testing.T) {
	e, _, _, first := startTLSServer(t)
	u := e.user(t, "1001")
	d := e.device(t, u, "alice1001", "pw-123456")

	// Registered over UDP while the policy is off: a contact.
	udp := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")
	if res := udp.register("MD5", udp.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("REGISTER over UDP without the policy: %d", res.StatusCode)
	}
	if cs := e.srv.Contacts(e.account.ID, u.ID); len(cs) != 1 {
		t.Fatalf("contacts %+v, want the UDP one", cs)
	}

	d.RequireSecure = true
	if err := e.db.UpdateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if cs := e.srv.Contacts(e.account.ID, u.ID); len(cs) != 0 {
		t.Fatalf("contacts %+v after require_secure, want none in clear", cs)
	}
	for _, network := range []string{"udp", "tcp"} {
		addr := e.udp
		if network == "tcp" {
			addr = e.tcp
		}
		p := dialPhone(t, network, addr, "", "alice1001", "pw-123456")
		if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 403 || !strings.Contains(res.Reason, "TLS") {
			t.Fatalf("REGISTER over %s: %d %q, want 403 naming TLS", network, res.StatusCode, res.Reason)
		}
		res := p.do("INVITE", "Contact: "+p.contact)
		if res.StatusCode != 407 {
			t.Fatalf("INVITE over %s: %d, want the challenge first", network, res.StatusCode)
		}
		c := pick(t, challenges(t, res, "Proxy-Authenticate"), "MD5")
		auth := digestHeader("Proxy-Authorization", "MD5", p.user, p.password, "INVITE", "sip:"+p.server, c.nonce, 1)
		if res := p.do("INVITE", "Contact: "+p.contact, auth); res.StatusCode != 403 || !strings.Contains(res.Reason, "TLS") {
			t.Fatalf("authenticated INVITE over %s: %d %q, want 403 naming TLS", network, res.StatusCode, res.Reason)
		}
	}

	p, _ := dialTLSPhone(t, e.srv.TLSAddr().String(), first.pool, "alice1001", "pw-123456")
	if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("REGISTER over TLS: %d %s", res.StatusCode, res.Reason)
	}
	cs := e.srv.Contacts(e.account.ID, u.ID)
	if len(cs) != 1 || cs[0].Transport != "TLS" {
		t.Fatalf("contacts %+v, want only the TLS one", cs)
	}
}

// TestTLSPeerResetIsNotAnError: a TLS peer that resets its connection (a phone restarting)
// ends it quietly: the log gets no ERROR line for it, so resets cannot flood the log.
func TestTLSPeerResetIsNotAnError(t *testing.T) {
	var log tstest.Buffer
	e, _, _, first := startTLSServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	p, _ := dialTLSPhone(t, e.srv.TLSAddr().String(), first.pool, "nobody", "x")
	if res := p.do("OPTIONS"); res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %d", res.StatusCode)
	}
	raw := p.conn.(*tls.Conn).NetConn().(*net.TCPConn)
	raw.SetLinger(0) // close with a reset
	raw.Close()
	tstest.WaitFor(t, "sipgo to drop the connection", func() bool {
		return strings.Contains(log.String(), "connection was closed") || strings.Contains(log.String(), "Read error")
	})
	if strings.Contains(log.String(), "level=ERROR") {
		t.Fatalf("a peer's reset was logged as an error:\n%s", log.String())
	}
}
