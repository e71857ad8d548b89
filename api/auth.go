package api

import (
	"crypto/subtle"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"switchboard"
)

// access says which callers a route admits (the seed's key-type table).
type access int

const (
	// accessDeveloper: a developer key of the account.
	accessDeveloper access = iota
	// accessPublicOrDeveloper: a developer key, or no key at all when the account has
	// public endpoints enabled (the handler then shows the public view).
	accessPublicOrDeveloper
	// accessUser: a user key of the account (the /user/* endpoints).
	accessUser
	// accessUserOrDeveloper: either kind of key of the account.
	accessUserOrDeveloper
)

// caller is who makes an authenticated (or public) request on an account.
type caller struct {
	accountID int64
	key       *switchboard.APIKey // nil for a public request without a key
}

// public reports whether the request came without a key (public endpoints).
func (c *caller) public() bool { return c.key == nil }

// isDeveloper reports whether the request came with a developer key.
func (c *caller) isDeveloper() bool { return c.key != nil && c.key.Kind == switchboard.KeyDeveloper }

// apiKeyHeader carries the key, for both kinds (the seed's header).
const apiKeyHeader = "X-API-Key"

// keyProtocolPrefix marks the key among the subprotocols of a WebSocket handshake: a
// browser's WebSocket cannot send a header, but it can offer subprotocols
// (new WebSocket(url, ["switchboard.v3", "key." + key])). The server answers with the
// stream's own subprotocol, never with this one, and logs no header.
const keyProtocolPrefix = "key."

// providedKey is the API key the request carries: the X-API-Key header, else on a
// WebSocket handshake the "key." subprotocol it offers.
func providedKey(r *http.Request) string {
	if k := r.Header.Get(apiKeyHeader); k != "" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return k
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if k, ok := strings.CutPrefix(strings.TrimSpace(p), keyProtocolPrefix); ok {
				return k
			}
		}
	}
	return ""
}

// authenticate decides whether the request may use a route of the given access on the
// {account_id} of its path, and applies the rate limit. The order matters: the limit is
// counted before anything else is answered, per key for a valid key and per client IP
// otherwise (so guessing keys is limited like anonymous use).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, acc access) (*caller, error) {
	ctx := r.Context()
	provided := providedKey(r)
	var key *switchboard.APIKey
	if provided != "" {
		k, err := s.lookupKey(r, provided)
		if err != nil {
			return nil, err
		}
		key = k
	}

	var decision rateDecision
	if key != nil {
		decision = s.keyLimiter.check(ctx, "key:"+strconv.FormatInt(key.ID, 10), s.now())
	} else {
		decision = s.ipLimiter.check(ctx, "ip:"+s.clientIP(r), s.now())
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(decision.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(decision.remaining))
	if !decision.allowed {
		secs := int(math.Ceil(decision.retryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.Itoa(secs))
		return nil, &switchboard.Error{Code: switchboard.ERATELIMITED,
			Message: "Too many requests: the limit is " + strconv.Itoa(decision.limit) + " per minute; retry after " + strconv.Itoa(secs) + " seconds",
			Details: map[string]string{"limit": strconv.Itoa(decision.limit), "retry_after_seconds": strconv.Itoa(secs)}}
	}

	accountID, err := pathID(r, "account_id")
	if err != nil {
		return nil, err
	}

	if provided == "" {
		if acc == accessPublicOrDeveloper {
			a, err := s.store.GetAccount(ctx, accountID)
			if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				return nil, err
			}
			// A missing account and one without public endpoints answer alike, so that
			// anonymous callers cannot probe which accounts exist.
			if err == nil && a.PublicEndpoints {
				return &caller{accountID: accountID}, nil
			}
		}
		return nil, switchboard.Errorf(switchboard.EAUTHREQUIRED, "Authentication required: send your API key in the X-API-Key header")
	}
	if key == nil {
		shown := provided
		if len(shown) > 8 {
			shown = shown[:8]
		}
		return nil, &switchboard.Error{Code: switchboard.EAUTHINVALID, Message: "Invalid API key provided",
			Details: map[string]string{"provided_key": shown + "...",
				"help": "Check the key: keys are created with POST /v3/voice/{account_id}/api_keys or `switchboard admin`, and stop working when revoked"}}
	}
	if !ipAllowed(key.AllowedIPs, s.clientIP(r)) {
		return nil, &switchboard.Error{Code: switchboard.EAUTHREQUIRED,
			Message: "Not authorised: this request comes from " + s.clientIP(r) + ", which is not on the API key's IP allowlist",
			Details: map[string]string{"client_ip": s.clientIP(r)}}
	}
	if key.AccountID != accountID {
		return nil, switchboard.Errorf(switchboard.EAUTHINVALID, "This API key does not give access to account %d", accountID)
	}
	switch acc {
	case accessUser:
		if key.Kind != switchboard.KeyUser {
			return nil, switchboard.Errorf(switchboard.EAUTHINVALID, "This endpoint needs a user API key: it shows one user's own data, and a developer key belongs to no user")
		}
	case accessDeveloper, accessPublicOrDeveloper:
		if key.Kind != switchboard.KeyDeveloper {
			return nil, switchboard.Errorf(switchboard.EAUTHINVALID, "This endpoint needs a developer API key: a user key gives access to /user/* and sms/send only")
		}
	}
	return &caller{accountID: accountID, key: key}, nil
}

// lookupKey returns the valid key whose plaintext is provided, nil when there is none (unknown
// or revoked), or an error when the store fails. Keys are looked up by hash, through the
// read cache when one is configured (see readCache for when a revocation takes effect).
func (s *Server) lookupKey(r *http.Request, provided string) (*switchboard.APIKey, error) {
	if len(provided) > 256 {
		return nil, nil
	}
	hash := switchboard.HashAPIKey(provided)
	k, err := s.cache.apiKey(r.Context(), s.store, hash)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The lookup went by hash already; compare again in constant time so that a store
	// matching loosely (case, collation) can never let a different key through.
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 || k.Revoked() {
		return nil, nil
	}
	return k, nil
}

// ipAllowed reports whether ip is in allowed (CIDRs or single addresses); empty allows all.
func ipAllowed(allowed []string, ip string) bool {
	if len(allowed) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, a := range allowed {
		if p, err := netip.ParsePrefix(a); err == nil && p.Contains(addr) {
			return true
		}
		if one, err := netip.ParseAddr(a); err == nil && one.Unmap() == addr {
			return true
		}
	}
	return false
}

// clientIP is the address rate limits and allowlists apply to: the peer's address, or behind
// a trusted proxy the last X-Forwarded-For entry (the one the proxy itself appended, which a
// client cannot forge) or X-Real-IP.
func (s *Server) clientIP(r *http.Request) string {
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return ip.Unmap().String()
			}
		}
		if ip, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
			return ip.Unmap().String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return host
}
