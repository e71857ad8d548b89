package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/webhook"
)

func TestCheckURL(t *testing.T) {
	strict := webhook.URLPolicy{}
	tests := []struct {
		url    string
		policy webhook.URLPolicy
		ok     bool
		says   string // part of the error message
	}{
		{"https://hooks.example.com/switchboard?x=1", strict, true, ""},
		{"https://93.184.216.34/hook", strict, true, ""},
		{"http://hooks.example.com/", strict, false, "https"},
		{"http://hooks.example.com/", webhook.URLPolicy{AllowHTTP: true}, true, ""},
		{"ftp://hooks.example.com/", strict, false, "https"},
		{"/relative/path", strict, false, "absolute"},
		{"hooks.example.com/path", strict, false, "absolute"},
		{"https://user:pass@hooks.example.com/", strict, false, "password"},
		{"https:///nohost", strict, false, "host"},
		{"https://127.0.0.1/", strict, false, "loopback"},
		{"https://10.0.0.1/", strict, false, "private"},
		{"https://169.254.169.254/latest/meta-data/", strict, false, "link-local"},
		{"https://[::1]:8443/", strict, false, "loopback"},
		{"https://[::ffff:127.0.0.1]/", strict, false, "loopback"},
		{"https://[fe80::1%25eth0]/", strict, false, "link-local"},
		{"https://10.0.0.1/", webhook.URLPolicy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, true, ""},
		{"https://example.com:99999999/", strict, false, "port"},
		{"", strict, false, "required"},
		{"https://example.com/" + strings.Repeat("a", 3000), strict, false, "characters"},
	}
	for _, tt := range tests {
		err := tt.policy.CheckURL(tt.url)
		if tt.ok {
			if err != nil {
				t.Errorf("CheckURL(%q) = %v, want ok", tt.url, err)
			}
			continue
		}
		var e *switchboard.Error
		if !errors.As(err, &e) || e.Code != switchboard.EBADREQUEST {
			t.Errorf("CheckURL(%q) = %v, want a BAD_REQUEST *switchboard.Error", tt.url, err)
			continue
		}
		if !strings.Contains(e.Message, tt.says) {
			t.Errorf("CheckURL(%q) says %q, want it to mention %q", tt.url, e.Message, tt.says)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"192.0.2.10", "198.18.0.1",
		"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"::127.0.0.1",        // IPv4-compatible
	}
	allowed := []string{"8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}
	var p webhook.URLPolicy
	for _, s := range refused {
		if err := p.CheckAddr(netip.MustParseAddr(s)); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("CheckAddr(%s) = %v, want refused", s, err)
		}
	}
	for _, s := range allowed {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want allowed", s, err)
		}
	}
	lab := webhook.URLPolicy{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00::/8")}}
	for s, ok := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "fd00::5": true, "10.2.0.1": false, "127.0.0.1": false} {
		if err := lab.CheckAddr(netip.MustParseAddr(s)); (err == nil) != ok {
			t.Errorf("with allowed CIDRs, CheckAddr(%s) = %v, want ok=%v", s, err, ok)
		}
	}
}

// get sends a GET with the webhook client and returns the answer's status or the error.
func get(p webhook.URLPolicy, url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := webhook.NewHTTPClient(p, 5*time.Second).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func okServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	t.Cleanup(srv.Close)
	return srv
}

// refusedAtDial asserts err is the client's dial-time refusal, not some other failure.
func refusedAtDial(t *testing.T, what string, err error) {
	t.Helper()
	var e *switchboard.Error
	if err == nil || !errors.As(err, &e) || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("%s: err = %v, want the dialer's refusal", what, err)
	}
}

func TestClientRefusesLoopbackAtDialTime(t *testing.T) {
	srv := okServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	onlyHTTP := webhook.URLPolicy{AllowHTTP: true}
	_, err := get(onlyHTTP, srv.URL)
	refusedAtDial(t, "127.0.0.1", err)
	// A host name is checked on the address it resolves to: the URL check passes it, the dial
	// does not.
	byName := "http://localhost:" + strconv.Itoa(port) + "/"
	if err := onlyHTTP.CheckURL(byName); err != nil {
		t.Fatalf("CheckURL(%s) = %v: host names are checked when dialled", byName, err)
	}
	_, err = get(onlyHTTP, byName)
	refusedAtDial(t, "localhost", err)

	allowed := webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, u := range []string{srv.URL, byName} {
		if status, err := get(allowed, u); err != nil || status != 204 {
			t.Errorf("%s with loopback allowed: %d, %v", u, status, err)
		}
	}
}

func TestClientRefusesIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })}}
	srv.Start()
	defer srv.Close()
	_, err = get(webhook.URLPolicy{AllowHTTP: true}, srv.URL)
	refusedAtDial(t, "[::1]", err)
	if status, err := get(webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("::1/128")}}, srv.URL); err != nil || status != 204 {
		t.Errorf("[::1] allowed: %d, %v", status, err)
	}
}

// TestClientRefusesPrivateAndMetadataAddresses: the refusal happens in the dialer's Control
// hook, before connect(2), so no packet is sent to these addresses.
func TestClientRefusesPrivateAndMetadataAddresses(t *testing.T) {
	p := webhook.URLPolicy{AllowHTTP: true}
	for _, u := range []string{"http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/"} {
		_, err := get(p, u)
		refusedAtDial(t, u, err)
	}
}

func TestClientDoesNotFollowRedirectsOrUseProxies(t *testing.T) {
	target := okServer(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirector.Close()
	// A proxy from the environment would dial for the client, unchecked: it must be ignored.
	t.Setenv("HTTP_PROXY", "http://10.255.255.1:3128")
	t.Setenv("http_proxy", "http://10.255.255.1:3128")
	p := webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	status, err := get(p, redirector.URL)
	if err != nil || status != http.StatusFound {
		t.Errorf("redirect: status %d, err %v; want the 302 itself", status, err)
	}
}

func TestClientSettings(t *testing.T) {
	c := webhook.NewHTTPClient(webhook.URLPolicy{}, 7*time.Second)
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.Transport)
	}
	if c.Timeout != 7*time.Second || tr.Proxy != nil || tr.MaxIdleConnsPerHost < 16 {
		t.Errorf("timeout %v, proxy set %v, idle per host %d", c.Timeout, tr.Proxy != nil, tr.MaxIdleConnsPerHost)
	}
}
