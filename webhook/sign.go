package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secretPrefix marks a Standard Webhooks secret: the rest is the base64 of the key bytes.
const secretPrefix = "whsec_"

// Standard Webhooks header names (https://www.standardwebhooks.com).
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32 random bytes, as
// the Standard Webhooks specification shapes them.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// standardKey is the HMAC key the Standard Webhooks signature uses for secret: the decoded
// bytes after "whsec_", or, for a secret not of that shape (a voipline token the user chose),
// the secret's own bytes.
func standardKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, secretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

// hmacSHA256 returns HMAC-SHA256(key, parts joined).
func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// SignHex returns "sha256=<hex HMAC-SHA256 of body keyed by the secret string's bytes>": the
// X-Voice360-Signature and X-Voxpria-Signature value. The key is the secret exactly as shown
// to the user (whsec_ prefix included), as the providers' verification code uses it.
func SignHex(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

// SignStandard returns the Standard Webhooks signature of one message for one secret:
// "v1,<base64 HMAC-SHA256 of msgID.timestamp.body>".
func SignStandard(secret, msgID string, timestamp int64, body []byte) string {
	ts := strconv.FormatInt(timestamp, 10)
	mac := hmacSHA256(standardKey(secret), []byte(msgID), []byte("."), []byte(ts), []byte("."), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac)
}

// signStandardAll returns the webhook-signature header value for every secret, space
// separated (the spec's form while a rotated secret overlaps the new one).
func signStandardAll(secrets []string, msgID string, timestamp int64, body []byte) string {
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = SignStandard(s, msgID, timestamp, body)
	}
	return strings.Join(sigs, " ")
}

// Errors of VerifyStandard.
var (
	ErrMissingHeaders   = errors.New("webhook: webhook-id, webhook-timestamp or webhook-signature header missing")
	ErrBadTimestamp     = errors.New("webhook: webhook-timestamp is not a unix time in seconds")
	ErrTimestampTooOld  = errors.New("webhook: webhook-timestamp is outside the tolerance (replay?)")
	ErrNoValidSignature = errors.New("webhook: no signature matches")
)

// VerifyStandard checks a Standard Webhooks delivery as a receiver does: the timestamp is
// within tolerance of now (either side), and one of the space-separated "v1,<base64>"
// signatures is the HMAC of "id.timestamp.body" under secret (compared in constant time).
func VerifyStandard(secret string, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id, tsText, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	sent := time.Unix(ts, 0)
	if sent.Before(now.Add(-tolerance)) || sent.After(now.Add(tolerance)) {
		return ErrTimestampTooOld
	}
	want := hmacSHA256(standardKey(secret), []byte(id), []byte("."), []byte(tsText), []byte("."), body)
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoValidSignature
}
