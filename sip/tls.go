package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultTLSHandshakeTimeout bounds a TLS handshake on the SIP TLS port: a client that opens
// a connection and never finishes the handshake (slowloris) is dropped after it.
const DefaultTLSHandshakeTimeout = 5 * time.Second

// CertFiles serves a certificate and key from PEM files and re-reads them when either file
// changes (size or modification time), so a renewed certificate is used by the next
// handshake without a restart. A file that no longer loads (half-written, mismatched, expired)
// keeps the previous certificate in use and is logged; it is tried again on the next change.
type CertFiles struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu       sync.Mutex
	cert     *tls.Certificate
	stamp    fileStamp // of the files cert was loaded from
	badStamp fileStamp // of the last files that failed to load, not retried until they change
}

type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// LoadCertFiles reads and checks the certificate and key: both must parse, match each other
// and the certificate must be valid now. Its error says which file is wrong and why.
func LoadCertFiles(certFile, keyFile string, now func() time.Time, logger *slog.Logger) (*CertFiles, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("sip: TLS needs both a certificate file and a key file")
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &CertFiles{certFile: certFile, keyFile: keyFile, now: now, log: logger.With("component", "sip")}
	st, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cert, c.stamp = cert, st
	return c, nil
}

func (c *CertFiles) stat() (fileStamp, error) {
	ci, err := os.Stat(c.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("sip: TLS certificate file: %w", err)
	}
	ki, err := os.Stat(c.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("sip: TLS key file: %w", err)
	}
	return fileStamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

func (c *CertFiles) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("sip: TLS certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("sip: TLS certificate %s: %w", c.certFile, err)
	}
	now := c.now()
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("sip: TLS certificate %s expired on %s", c.certFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("sip: TLS certificate %s is not valid before %s", c.certFile, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	cert.Leaf = leaf
	return &cert, nil
}

// GetCertificate is a tls.Config.GetCertificate: the current certificate, re-read first if
// its files changed.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.stat()
	if err != nil || st == c.stamp || st == c.badStamp {
		return c.cert, nil
	}
	cert, err := c.load()
	if err != nil {
		c.badStamp = st
		c.log.Error("TLS certificate files changed but do not load: still serving the previous certificate", "error", err)
		return c.cert, nil
	}
	c.cert, c.stamp, c.badStamp = cert, st, fileStamp{}
	c.log.Info("TLS certificate reloaded", "file", c.certFile, "not_after", cert.Leaf.NotAfter)
	return c.cert, nil
}

// ServerTLSConfig is the TLS configuration of the SIP TLS listener for getCert (CertFiles'
// GetCertificate, or an ACME manager's).
func ServerTLSConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCert}
}

// handshakeListener wraps accepted connections in TLS. The handshake runs in the
// connection's own reader (never in Accept, so a slow client holds up nobody else) and is
// bounded by a deadline.
type handshakeListener struct {
	net.Listener
	conf    *tls.Config
	timeout time.Duration
	log     *slog.Logger
	reads   *recentReads // what connections decrypt, for the parse failures it may cause
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeConn{Conn: tls.Server(conn, l.conf), timeout: l.timeout, log: l.log, reads: l.reads,
		ip: addrIP(conn.RemoteAddr())}, nil
}

type handshakeConn struct {
	*tls.Conn
	timeout time.Duration
	log     *slog.Logger
	reads   *recentReads
	ip      netip.Addr
	once    sync.Once
	err     error
}

func (c *handshakeConn) handshake() error {
	c.once.Do(func() {
		_ = c.Conn.SetDeadline(time.Now().Add(c.timeout))
		if err := c.Conn.Handshake(); err != nil {
			c.log.Debug("TLS handshake failed", "from", c.Conn.RemoteAddr(), "error", err)
			c.err = io.EOF // sipgo closes the connection quietly on EOF
			return
		}
		_ = c.Conn.SetDeadline(time.Time{})
	})
	return c.err
}

// Read ends the stream quietly (EOF) when the peer resets the connection, as phones do on
// hang-up or restart, instead of an error that sipgo would log at ERROR for every peer that
// cares to connect and reset.
func (c *handshakeConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.add(c.ip, p[:n])
	}
	if errors.Is(err, syscall.ECONNRESET) {
		err = io.EOF
	}
	return n, err
}

func (c *handshakeConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
