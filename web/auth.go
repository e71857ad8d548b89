package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"

	"switchboard"
)

// Passwords are hashed with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1
// lane) and stored in PHC form, so that the cost can be raised later for new hashes (a
// hash is checked with the cost it names). Variables only so that tests under the race
// detector can lower the cost (export_test.go).
var (
	argonMemoryKiB uint32 = 19 * 1024
	argonTime      uint32 = 2
)

const (
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of password in PHC form.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches the PHC hash, comparing in constant time.
func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 256*1024 || t > 10 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against for logins that do not exist, so that an unknown login
// costs the same argon2id time as a wrong password: timing tells nobody which logins exist.
var dummyHash = sync.OnceValue(func() string { return HashPassword("switchboard-dummy-password") })

// GeneratePassword returns a random password of 20 characters from an alphabet without
// look-alikes (about 110 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Sealer seals and opens secrets with the server key (webhook.Sealer).
type Sealer interface {
	Seal(plaintext string) []byte
	Open(sealed []byte) (string, error)
}

// Logins creates portal logins: the one path used by the portal's pages and by
// `switchboard admin create-login`, so the rules (role, user, password strength) live here.
type Logins struct {
	Store switchboard.PortalStore
}

// minPasswordLen is the shortest password a login may be given (NIST SP 800-63B: 8;
// we ask a little more for a phone system's administrators).
const minPasswordLen = 10

// Create stores a new login with password, or a generated one when password is "", and
// returns the password (to be shown once).
func (s Logins) Create(ctx context.Context, accountID int64, login string, role switchboard.PortalRole, userID int64, password string) (*switchboard.PortalLogin, string, error) {
	if password == "" {
		password = GeneratePassword()
	} else if len(password) < minPasswordLen || len(password) > 200 {
		return nil, "", switchboard.FieldError(switchboard.EBADREQUEST, "password", fmt.Sprintf("must be %d to 200 characters", minPasswordLen))
	}
	l := &switchboard.PortalLogin{AccountID: accountID, Login: login, Role: role, UserID: userID, PasswordHash: HashPassword(password)}
	if err := s.Store.CreatePortalLogin(ctx, l); err != nil {
		return nil, "", err
	}
	return l, password, nil
}

// throttle counts failed sign-ins per key (a login name, a client IP) in a fixed window:
// after max failures the key is refused until the window ends. In process memory: with
// several nodes each counts its own (documented in docs/portal.md).
type throttle struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	until    time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, entries: map[string]*throttleEntry{}}
}

// blocked reports whether key has used up its failures.
func (t *throttle) blocked(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	return e != nil && now.Before(e.until) && e.failures >= t.max
}

func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil || !now.Before(e.until) {
		if len(t.entries) > 100000 { // bound the memory an attacker can make us hold
			for k, old := range t.entries {
				if !now.Before(old.until) {
					delete(t.entries, k)
				}
			}
		}
		e = &throttleEntry{until: now.Add(t.window)}
		t.entries[key] = e
	}
	e.failures++
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.entries, key)
	t.mu.Unlock()
}

// errSignIn is the one answer to every failed sign-in: no login enumeration.
var errSignIn = errors.New("wrong login, password or code")

// errThrottled tells a throttled sign-in to wait; it is given for unknown logins too.
var errThrottled = errors.New("too many failed sign-ins: wait 15 minutes and try again")

// signIn checks a login, password and (when the login has one) TOTP code and opens a
// session. Unknown logins take the same path and time as wrong passwords.
func (h *Handler) signIn(ctx context.Context, login, password, code, ip string) (token string, err error) {
	now := h.now()
	loginKey := "login:" + strings.ToLower(strings.TrimSpace(login))
	if h.loginThrottle.blocked(loginKey, now) || h.ipThrottle.blocked("ip:"+ip, now) {
		return "", errThrottled
	}
	l, lookupErr := h.store.GetPortalLoginByName(ctx, login)
	hash := dummyHash()
	if lookupErr == nil {
		hash = l.PasswordHash
	}
	ok := checkPassword(hash, password) && lookupErr == nil
	if ok && l.TOTPSealed != "" {
		ok = h.checkTOTP(l, code)
	}
	if !ok {
		h.loginThrottle.fail(loginKey, now)
		h.ipThrottle.fail("ip:"+ip, now)
		if lookupErr != nil && switchboard.ErrorCode(lookupErr) != switchboard.ENOTFOUND {
			return "", lookupErr
		}
		return "", errSignIn
	}
	h.loginThrottle.reset(loginKey)
	token = randomToken()
	s := &switchboard.PortalSession{LoginID: l.ID, TokenHash: tokenHash(token), CSRF: randomToken(), ExpiresAt: now.Add(sessionTTL)}
	if err := h.store.CreatePortalSession(ctx, s); err != nil {
		return "", err
	}
	return token, nil
}

func (h *Handler) checkTOTP(l *switchboard.PortalLogin, code string) bool {
	if h.sealer == nil {
		return false
	}
	secret, err := h.sealer.Open([]byte(l.TOTPSealed))
	if err != nil {
		return false
	}
	return totp.Validate(strings.TrimSpace(code), secret)
}

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

const sessionCookie = "sb_session"

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// session is a signed-in request's identity.
type session struct {
	*switchboard.PortalSession
	Login *switchboard.PortalLogin
}

func (s *session) Admin() bool { return s.Login.Role == switchboard.PortalAdmin }

// sessionOf returns the request's valid session, or nil: a missing, unknown, expired or
// revoked (logged out) cookie is no session.
func (h *Handler) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	s, l, err := h.store.GetPortalSession(r.Context(), tokenHash(c.Value))
	if err != nil || !s.RevokedAt.IsZero() || !h.now().Before(s.ExpiresAt) {
		return nil
	}
	return &session{PortalSession: s, Login: l}
}

// Authenticate tells who a request's session cookie belongs to, for handlers outside the
// portal (the live event stream): the account, the user (0 for an administrator), whether
// it is an administrator, and ok false when the request carries no valid session.
func (h *Handler) Authenticate(r *http.Request) (accountID, userID int64, admin bool, ok bool) {
	s := h.sessionOf(r)
	if s == nil {
		return 0, 0, false, false
	}
	return s.Login.AccountID, s.Login.UserID, s.Admin(), true
}

// checkCSRF refuses a state-changing request from another site: its Origin (when sent)
// must be this host, and its form must carry the session's token.
func (h *Handler) checkCSRF(r *http.Request, s *session) bool {
	if !h.sameOrigin(r) {
		return false
	}
	if s == nil {
		return true // the sign-in form: Origin and SameSite cookies protect it
	}
	got := r.PostFormValue("csrf")
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// sameOrigin: a browser sends Origin on every POST; when it names another site, or the
// browser says the request is cross-site, it is refused.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if origin == "null" {
		return false
	}
	scheme := "http"
	if r.TLS != nil || h.secure {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}
