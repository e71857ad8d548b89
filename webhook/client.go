package webhook

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// NewHTTPClient returns the client that sends webhooks. Its dialer checks, with p.CheckAddr,
// the address each connection is actually made to, after DNS resolution: a host name that
// resolves (or is re-bound between the URL check and the send) to a private, loopback or
// metadata address is refused before a packet leaves. It never follows redirects (a 3xx is
// answered to the caller, who counts it as a failed attempt: a redirect could lead anywhere),
// ignores HTTP_PROXY and friends (a proxy would dial for us, unchecked), and keeps up to 32
// idle connections per receiver since the dispatcher sends thousands of requests a second.
// timeout bounds each request, from dial to the end of the answer's body.
func NewHTTPClient(p URLPolicy, timeout time.Duration) *http.Client {
	return NewHTTPClientConns(p, timeout, 32)
}

// NewHTTPClientConns is NewHTTPClient keeping idlePerHost idle connections per receiver: as
// many as its caller has requests in flight to one host, or under load connections are
// closed after each answer and dialled again.
func NewHTTPClientConns(p URLPolicy, timeout time.Duration, idlePerHost int) *http.Client {
	dialer := &net.Dialer{
		Timeout:   min(timeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			return checkDialAddress(p, network, address)
		},
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    idlePerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkDialAddress is the dialer's last word: address is the "ip:port" about to be
// connected to.
func checkDialAddress(p URLPolicy, network, address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing to dial %q: %v", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook: refusing to dial %q: not an IP address", address)
	}
	if err := p.CheckAddr(ip); err != nil {
		return fmt.Errorf("webhook: refusing to connect to %s: %w", address, err)
	}
	return nil
}
