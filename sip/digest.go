package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server-side digest authentication (RFC 3261 §22, RFC 7616, RFC 8760). Only qop=auth is
// offered and accepted: it is what gives us a nonce count to refuse replays with.

const (
	algMD5    = "MD5"
	algSHA256 = "SHA-256"
)

// DefaultDigest is the challenge of a device that does not require SHA-256: MD5 alone.
// A challenge offering both algorithms is what RFC 8760 asks for, but it is not what phones
// read: baresip 1.0 (Debian's baresip-core) fails outright on a SHA-256 challenge ("Function
// not implemented") even after an MD5 one, and SIPp and many desk phones read only the first
// challenge and know only MD5. MD5 alone registers them all; a device whose phone does
// SHA-256 is made to use it with Device.DigestAlgorithm.
const DefaultDigest = "md5"

// ParseDigest parses a challenge order as --sip-digest takes it: "md5" (the default),
// "sha256", "sha256,md5" (RFC 8760's order) or "md5,sha256". It returns the algorithms as
// challenged.
func ParseDigest(s string) ([]string, error) {
	var algs []string
	seen := map[string]bool{}
	for f := range strings.SplitSeq(strings.ToLower(strings.ReplaceAll(s, " ", "")), ",") {
		var alg string
		switch f {
		case "md5":
			alg = algMD5
		case "sha256", "sha-256":
			alg = algSHA256
		default:
			return nil, fmt.Errorf(`digest algorithms %q: want "md5", "sha256", "sha256,md5" or "md5,sha256"`, s)
		}
		if seen[alg] {
			return nil, fmt.Errorf("digest algorithms %q: %s named twice", s, f)
		}
		seen[alg] = true
		algs = append(algs, alg)
	}
	return algs, nil
}

// A nonce is base64url(issued-at unix nanos (8) | random (8) | HMAC-SHA256 of both (16)).
// Signing instead of storing every nonce keeps challenges free for the server: an attacker
// asking for millions of challenges costs no memory. Only nonces that authenticated a request
// are remembered, for their nonce count.
const (
	nonceRawLen = 8 + 8 + 16
)

var (
	errNonceInvalid = errors.New("nonce is not one of ours")
	errNonceExpired = errors.New("nonce expired")
)

// nonceIssuer makes and checks signed nonces and tracks the last nonce count used with each.
type nonceIssuer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
	// algorithms in challenge order, for devices that do not require SHA-256
	algorithms []string

	mu sync.Mutex
	// lastNC is the highest nonce count accepted per nonce, kept until the nonce expires.
	// Only successful authentications add entries, so its size is bounded by the rate of
	// valid REGISTERs times the TTL; maxTrackedNonces is a hard cap on top of that. Its
	// keys and values hold no pointers, so the garbage collector does not scan it: at
	// thousands of REGISTERs a second it holds up to maxTrackedNonces entries, and with
	// string keys and time.Time values scanning it was a large part of the GC's work.
	lastNC map[nonceID]ncEntry
	// maxTracked caps lastNC (maxTrackedNonces).
	maxTracked int
	// floor (Unix nanoseconds) makes every nonce issued at or before it stale: it is raised
	// when lastNC is full of live nonces and is emptied (see useCount).
	floor atomic.Int64
	// seed hashes the identity of the request that used a count (see requestID).
	seed maphash.Seed
	// macs are keyed HMAC-SHA256s ready for sign: making one allocates and hashes the key,
	// and every REGISTER signs a nonce or checks one.
	macs sync.Pool
}

// nonceID is the signed part of a nonce but its MAC: when it was issued and 8 random bytes.
type nonceID [16]byte

type ncEntry struct {
	nc      uint64
	expires int64 // Unix nanoseconds
	// request identifies the request that used nc and until (Unix nanoseconds) is when its
	// retransmissions stop being accepted: see useCount.
	request uint64
	until   int64
}

// retransmitWindow is how long after a request is accepted the same request may arrive
// again as a UDP retransmission: Timer F (64×T1), the longest a client keeps retransmitting
// a request whose response it never received.
const retransmitWindow = 64 * 500 * time.Millisecond

const maxTrackedNonces = 200_000

func newNonceIssuer(ttl time.Duration, now func() time.Time, algs []string) *nonceIssuer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	n := &nonceIssuer{key: key, ttl: ttl, now: now, algorithms: algs, lastNC: make(map[nonceID]ncEntry),
		maxTracked: maxTrackedNonces, seed: maphash.MakeSeed()}
	n.macs.New = func() any { return hmac.New(sha256.New, key) }
	return n
}

func (n *nonceIssuer) issue() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(n.now().UnixNano()))
	if _, err := rand.Read(raw[8:16]); err != nil {
		panic(err)
	}
	copy(raw[16:], n.sign(raw[:16]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (n *nonceIssuer) sign(b []byte) []byte {
	m := n.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(b)
	sum := m.Sum(nil)[:16]
	n.macs.Put(m)
	return sum
}

// check says whether nonce was issued by us and is still fresh.
func (n *nonceIssuer) check(nonce string) error {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceRawLen {
		return errNonceInvalid
	}
	if !hmac.Equal(raw[16:], n.sign(raw[:16])) {
		return errNonceInvalid
	}
	issued := int64(binary.BigEndian.Uint64(raw[:8]))
	if n.now().Sub(time.Unix(0, issued)) > n.ttl || issued <= n.floor.Load() {
		return errNonceExpired
	}
	return nil
}

// idOf is the id of a nonce that passed check.
func idOf(nonce string) nonceID {
	var raw [nonceRawLen]byte
	base64.RawURLEncoding.Decode(raw[:], []byte(nonce)) // cannot fail after check
	return nonceID(raw[:16])
}

// issuedAt is when the nonce was issued (Unix nanoseconds).
func (id nonceID) issuedAt() int64 {
	return int64(binary.BigEndian.Uint64(id[:8]))
}

// requestID identifies one request across its retransmissions: they repeat its source,
// Call-ID, CSeq and Via branch exactly; a new request (a replay included) has a new branch.
func (n *nonceIssuer) requestID(source, callID string, cseq uint32, branch string) uint64 {
	var h maphash.Hash
	h.SetSeed(n.seed)
	h.WriteString(source)
	h.WriteByte(0)
	h.WriteString(callID)
	h.WriteByte(0)
	h.WriteString(strconv.FormatUint(uint64(cseq), 10))
	h.WriteByte(0)
	h.WriteString(branch)
	return h.Sum64()
}

// nonceUse is what useCount found.
type nonceUse int

const (
	nonceFresh          nonceUse = iota // a new count: accepted
	nonceRetransmission                 // the same request again: accepted as it was
	nonceReplay                         // a count used before by another request: refused
	nonceStale                          // issued before the floor: the phone must take a new nonce
)

// useCount records nc for nonce, used by the request identified by request (requestID).
// A count not greater than every count used with that nonce before is a replay. The one
// exception is the request that used the highest count arriving again within
// retransmitWindow: a UDP retransmission of a request whose answer was lost, which must be
// answered as the first time was. The registrar ends a REGISTER's transaction as soon as it
// has answered instead of keeping it for Timer J to absorb such retransmissions (see
// handleRegister), so they reach the registrar.
//
// lastNC holds the counts of live nonces. When it is full of them (a sustained rate of
// registrations above maxTracked per nonce TTL), it is emptied and the floor raised to
// now: every nonce issued until now is stale from then on, so forgetting their counts
// opens no replay, and each phone takes one fresh nonce (a stale challenge, no failure).
func (n *nonceIssuer) useCount(nonce string, nc uint64, request uint64) nonceUse {
	now := n.now().UnixNano()
	id := idOf(nonce)
	n.mu.Lock()
	defer n.mu.Unlock()
	if id.issuedAt() <= n.floor.Load() {
		return nonceStale // raised since check: the counts of this nonce may be forgotten
	}
	if e, ok := n.lastNC[id]; ok && now < e.expires && nc <= e.nc {
		if nc == e.nc && request == e.request && now < e.until {
			return nonceRetransmission
		}
		return nonceReplay
	}
	if len(n.lastNC) >= n.maxTracked {
		n.pruneLocked(now)
	}
	if len(n.lastNC) >= n.maxTracked {
		n.lastNC = make(map[nonceID]ncEntry)
		n.floor.Store(now)
		return nonceStale
	}
	n.lastNC[id] = ncEntry{nc: nc, expires: now + int64(n.ttl), request: request, until: now + int64(retransmitWindow)}
	return nonceFresh
}

func (n *nonceIssuer) pruneLocked(now int64) {
	for k, e := range n.lastNC {
		if now >= e.expires {
			delete(n.lastNC, k)
		}
	}
}

// prune drops the counts of expired nonces; the sweeper calls it.
func (n *nonceIssuer) prune() {
	now := n.now().UnixNano()
	n.mu.Lock()
	n.pruneLocked(now)
	n.mu.Unlock()
}

// challenges returns the WWW-Authenticate (or Proxy-Authenticate) values for a fresh nonce,
// one per algorithm of algs in order (nil: the server's, Config.Digest).
func (n *nonceIssuer) challenges(stale bool, realm string, algs []string) []string {
	nonce := n.issue()
	suffix := ""
	if stale {
		suffix = ", stale=true"
	}
	if algs == nil {
		algs = n.algorithms
	}
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		out = append(out, `Digest realm="`+realm+`", nonce="`+nonce+`", algorithm=`+alg+`, qop="auth"`+suffix)
	}
	return out
}

// credentials are the parsed parameters of an Authorization header.
type credentials struct {
	username, realm, nonce, uri, response, algorithm, cnonce, qop, nc string
}

// parseCredentials parses an Authorization header. It returns false for anything that is
// not a digest header with the fields qop=auth needs.
func parseCredentials(value string) (credentials, bool) {
	var c credentials
	// Straight into the fields, not through a map: this runs for every REGISTER.
	ok := eachDigestParam(value, func(key, val string) {
		switch key {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "cnonce":
			c.cnonce = val
		case "qop":
			c.qop = val
		case "nc":
			c.nc = val
		}
	})
	if !ok {
		return credentials{}, false
	}
	if c.algorithm == "" {
		c.algorithm = algMD5 // RFC 7616 §3.4: absent means MD5
	}
	if c.username == "" || c.nonce == "" || c.uri == "" || c.response == "" ||
		c.qop != "auth" || c.cnonce == "" || c.nc == "" {
		return c, false
	}
	return c, true
}

// digestParams parses `Digest k=v, k="v", ...` into its parameters, keys in lower case (a
// repeated key keeps its last value). It returns false when value is not a digest header.
func digestParams(value string) (map[string]string, bool) {
	params := map[string]string{}
	if !eachDigestParam(value, func(key, val string) { params[key] = val }) {
		return nil, false
	}
	return params, true
}

// eachDigestParam calls f with each parameter of `Digest k=v, k="v", ...` in order, keys in
// lower case. It returns false when value is not a digest header (f may have been called).
func eachDigestParam(value string, f func(key, val string)) bool {
	value = strings.TrimSpace(value)
	if len(value) < 7 || !strings.EqualFold(value[:7], "digest ") {
		return false
	}
	rest := value[7:]
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return false
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return false
			}
			val = rest[1 : 1+end]
			rest = rest[end+2:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val = strings.TrimSpace(rest[:end])
			rest = rest[end:]
		}
		f(key, val)
	}
	return true
}

// nonceCount parses the 8 hex digit nc value.
func (c credentials) nonceCount() (uint64, bool) {
	if len(c.nc) != 8 {
		return 0, false
	}
	v, err := strconv.ParseUint(c.nc, 16, 32)
	return v, err == nil && v > 0
}

// digestResponse computes the expected response for qop=auth from the stored HA1.
func digestResponse(alg, ha1, method string, c credentials) string {
	h := newHash(alg)
	ha2 := hexHash(h, method+":"+c.uri)
	return hexHash(h, ha1+":"+c.nonce+":"+c.nc+":"+c.cnonce+":"+c.qop+":"+ha2)
}

func newHash(alg string) hash.Hash {
	if strings.EqualFold(alg, algSHA256) {
		return sha256.New()
	}
	return md5.New()
}

func hexHash(h hash.Hash, s string) string {
	h.Reset()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// responseMatches compares in constant time; a length difference is not secret (the
// algorithm fixes it).
func responseMatches(expected, got string) bool {
	return subtle.ConstantTimeCompare([]byte(expected), []byte(strings.ToLower(got))) == 1
}
