package recording

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Links signs and checks the expiring download links of recordings (the recording_url of
// the events): an HMAC-SHA256 over account, recording and expiry with a server secret, so a
// webhook receiver fetches the audio without an API key. Same scheme as voicemail's links,
// with its own label so a voicemail signature can never open a recording.
type Links struct {
	Key     []byte // the server secret (derived from the secret key)
	BaseURL string // the public base URL of the API, e.g. https://pbx.example.com
	TTL     time.Duration
}

// DefaultLinkTTL is how long a signed link works.
const DefaultLinkTTL = 7 * 24 * time.Hour

func (l *Links) mac(accountID int64, id string, expires int64) []byte {
	h := hmac.New(sha256.New, l.Key)
	h.Write([]byte("recording-audio\x00" + strconv.FormatInt(accountID, 10) + "\x00" + id + "\x00" +
		strconv.FormatInt(expires, 10)))
	return h.Sum(nil)
}

// URL is the signed link to a recording's audio, valid until now + TTL.
func (l *Links) URL(accountID int64, id string, now time.Time) string {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	exp := now.Add(ttl).Unix()
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {hex.EncodeToString(l.mac(accountID, id, exp))}}
	return strings.TrimRight(l.BaseURL, "/") + "/v3/voice/" + strconv.FormatInt(accountID, 10) +
		"/recordings/" + id + "/audio?" + q.Encode()
}

// Check reports whether expires and sig sign the recording's link and it has not expired
// at now. The signature is compared in constant time.
func (l *Links) Check(accountID int64, id, expires, sig string, now time.Time) bool {
	if l == nil || len(l.Key) == 0 {
		return false
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, l.mac(accountID, id, exp)) && now.Unix() <= exp
}

// CheckLink reports whether a signed link opens the account's recording at now (false when
// the service signs no links).
func (s *Service) CheckLink(accountID int64, id, expires, sig string, now time.Time) bool {
	return s.Links != nil && s.Links.Check(accountID, id, expires, sig, now)
}

// URL is the signed link to a recording's audio as of now ("" when the service signs no
// links): the recorder puts it in the call's ended event (VoxPria call.completed
// "recording") when it finishes the recording before that event is written.
func (s *Service) URL(accountID int64, id string) string {
	if s.Links == nil {
		return ""
	}
	return s.Links.URL(accountID, id, s.now())
}
