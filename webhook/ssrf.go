package webhook

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"switchboard"
)

// URLPolicy decides which URLs subscriptions may use and which addresses the webhook client
// may connect to. The zero value is the production policy: https only, public addresses
// only. A server (or a test) whose receivers live on a private network lists those networks
// in AllowCIDRs.
type URLPolicy struct {
	AllowHTTP  bool           // accept http:// URLs (receivers without TLS)
	AllowCIDRs []netip.Prefix // addresses that may be dialled although not public
}

// urlLengthLimit bounds a webhook URL; longer ones are refused rather than stored.
const urlLengthLimit = 2048

func badURL(format string, args ...any) error {
	return &switchboard.Error{Code: switchboard.EBADREQUEST, Message: fmt.Sprintf(format, args...)}
}

// CheckURL checks a subscription URL when it is given: absolute, http(s) (https unless
// AllowHTTP), with a host and no user:password, and, when the host is a literal IP address,
// an address CheckAddr allows. Host names are checked when they are dialled (NewHTTPClient),
// since what they resolve to can change after this check.
func (p URLPolicy) CheckURL(raw string) error {
	if raw == "" {
		return badURL("URL is required")
	}
	if len(raw) > urlLengthLimit {
		return badURL("URL must be at most %d characters", urlLengthLimit)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return badURL("URL is not valid: %v", err)
	}
	switch {
	case !u.IsAbs() || u.Opaque != "":
		return badURL("URL must be absolute, like https://example.com/webhooks")
	case u.Scheme != "https" && u.Scheme != "http":
		return badURL("URL must use https (got %q)", u.Scheme)
	case u.Scheme == "http" && !p.AllowHTTP:
		return badURL("URL must use https; plain http is not allowed on this server")
	case u.User != nil:
		return badURL("URL must not contain a user name or password; use a custom header for credentials")
	case u.Hostname() == "":
		return badURL("URL must name a host")
	}
	if port := u.Port(); port != "" && (len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return badURL("URL port %q is not a number", port)
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(ip); err != nil {
			return err
		}
	} else if strings.Contains(host, "%") {
		return badURL("URL host must not carry an IPv6 zone")
	}
	return nil
}

// refused is one range of non-public addresses and why it is refused.
type refused struct {
	prefix netip.Prefix
	why    string
}

// nonPublic lists the special-purpose ranges (IANA IPv4/IPv6 Special-Purpose Address
// Registries) a webhook must not reach: it would let a subscriber probe or attack the
// server's own network or its cloud metadata service.
var nonPublic = func() []refused {
	list := []struct{ cidr, why string }{
		{"0.0.0.0/8", "an unspecified/\"this network\" address"},
		{"10.0.0.0/8", "a private address (RFC 1918)"},
		{"100.64.0.0/10", "a carrier-grade NAT address (RFC 6598)"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address (this includes cloud metadata services)"},
		{"172.16.0.0/12", "a private address (RFC 1918)"},
		{"192.0.0.0/24", "an IETF protocol address"},
		{"192.0.2.0/24", "a documentation address"},
		{"192.88.99.0/24", "a 6to4 relay address"},
		{"192.168.0.0/16", "a private address (RFC 1918)"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/128", "the unspecified address"},
		{"::1/128", "a loopback address"},
		{"::/96", "an IPv4-compatible (deprecated) address"},
		{"64:ff9b:1::/48", "a local NAT64 address"},
		{"100::/64", "a discard-only address"},
		{"2001::/23", "an IETF protocol address (Teredo, ORCHID, ...)"},
		{"2001:db8::/32", "a documentation address"},
		{"3fff::/20", "a documentation address"},
		{"5f00::/16", "a segment routing address"},
		{"fc00::/7", "a private (unique local) address"},
		{"fe80::/10", "a link-local address"},
		{"fec0::/10", "a site-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]refused, len(list))
	for i, r := range list {
		out[i] = refused{netip.MustParsePrefix(r.cidr), r.why}
	}
	return out
}()

// Prefixes whose addresses embed an IPv4 address, which is judged in turn.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: last 32 bits
	sixToFour   = netip.MustParsePrefix("2002::/16")    // RFC 3056: bits 16-47
)

// CheckAddr reports whether the webhook client may connect to ip: refused are loopback,
// private (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata address,
// fe80::/10), multicast, unspecified, carrier-grade NAT (100.64/10) and every other
// special-purpose range, in IPv4-mapped, NAT64 and 6to4 forms too, unless ip is inside one
// of AllowCIDRs. The error is a BAD_REQUEST *switchboard.Error saying why.
func (p URLPolicy) CheckAddr(ip netip.Addr) error {
	if !ip.IsValid() {
		return badURL("address is not valid")
	}
	ip = ip.WithZone("")
	for _, allowed := range p.AllowCIDRs {
		if allowed.Contains(ip) || allowed.Contains(ip.Unmap()) {
			return nil
		}
	}
	v := ip.Unmap()
	if v.Is6() {
		switch {
		case nat64Prefix.Contains(v):
			b := v.As16()
			return p.checkEmbedded(v, netip.AddrFrom4([4]byte(b[12:16])), "NAT64")
		case sixToFour.Contains(v):
			b := v.As16()
			return p.checkEmbedded(v, netip.AddrFrom4([4]byte(b[2:6])), "6to4")
		}
	}
	for _, r := range nonPublic {
		if r.prefix.Contains(v) {
			return badURL("%s is %s; webhooks may only be sent to public addresses", ip, r.why)
		}
	}
	return nil
}

// checkEmbedded judges an IPv6 address by the IPv4 address it carries.
func (p URLPolicy) checkEmbedded(ip, v4 netip.Addr, form string) error {
	if err := p.CheckAddr(v4); err != nil {
		return badURL("%s is the %s form of %s, which is refused: %s", ip, form, v4, err.(*switchboard.Error).Message)
	}
	return nil
}
