package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTP with SDES key exchange (RFC 4568): each side puts its own master key in its SDP's
// a=crypto line and encrypts what it sends with it; the key travels in the signalling, so
// SDES is only as secret as SIP over TLS keeps it.

// CryptoSuite is an SDES crypto-suite name (RFC 4568 section 6.2).
type CryptoSuite string

const (
	AES_CM_128_HMAC_SHA1_80 CryptoSuite = "AES_CM_128_HMAC_SHA1_80"
	AES_CM_128_HMAC_SHA1_32 CryptoSuite = "AES_CM_128_HMAC_SHA1_32"
)

// ErrNoCommonCrypto means the SDP offers secure audio (RTP/SAVP) only with crypto suites or
// key parameters we do not support. The SIP side answers 488 Not Acceptable Here.
var ErrNoCommonCrypto = fmt.Errorf("%w: the RTP/SAVP audio offers no crypto suite we support (%s or %s, inline key, no MKI)",
	ErrNoCommonCodec, AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32)

// sdesKeyLen is the inline key of both suites: a 16-byte master key and a 14-byte salt.
const (
	sdesMasterKeyLen = 16
	sdesKeyLen       = sdesMasterKeyLen + 14
)

func (s CryptoSuite) profile() (srtp.ProtectionProfile, bool) {
	switch s {
	case AES_CM_128_HMAC_SHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, true
	case AES_CM_128_HMAC_SHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, true
	}
	return 0, false
}

// Crypto is one a=crypto line: a tag, a suite and the sender's master key and salt.
type Crypto struct {
	Tag   int
	Suite CryptoSuite
	Key   []byte // master key followed by master salt, 30 bytes
}

// newCrypto makes a fresh random key for suite.
func newCrypto(tag int, suite CryptoSuite) (*Crypto, error) {
	if _, ok := suite.profile(); !ok {
		return nil, fmt.Errorf("media: crypto suite %q is not supported", suite)
	}
	key := make([]byte, sdesKeyLen)
	_, _ = rand.Read(key)
	return &Crypto{Tag: tag, Suite: suite, Key: key}, nil
}

// attribute is the value of the a=crypto line.
func (c *Crypto) attribute() string {
	return strconv.Itoa(c.Tag) + " " + string(c.Suite) + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
}

// parseCrypto reads an a=crypto value. ok is false for a line we cannot use: an unknown
// suite, an MKI, several keys, session parameters, or a key of the wrong length.
func parseCrypto(v string) (c *Crypto, ok bool) {
	f := strings.Fields(v)
	if len(f) != 3 { // tag, suite, key params; session parameters (KDR, UNENCRYPTED_SRTP…) are not supported
		return nil, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return nil, false
	}
	suite := CryptoSuite(f[1])
	if _, known := suite.profile(); !known {
		return nil, false
	}
	inline, found := strings.CutPrefix(f[2], "inline:")
	if !found || strings.Contains(inline, ";") {
		return nil, false
	}
	keyText, params, _ := strings.Cut(inline, "|")
	for p := range strings.SplitSeq(params, "|") {
		if strings.Contains(p, ":") { // MKI:length
			return nil, false
		}
	}
	key, err := base64.StdEncoding.DecodeString(keyText)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(keyText); err != nil {
			return nil, false
		}
	}
	if len(key) != sdesKeyLen {
		return nil, false
	}
	return &Crypto{Tag: tag, Suite: suite, Key: key}, true
}

// srtpContext is an SRTP context for c's key. Received packets get replay protection.
func (c *Crypto) srtpContext(receive bool) (*srtp.Context, error) {
	profile, ok := c.Suite.profile()
	if !ok || len(c.Key) != sdesKeyLen {
		return nil, errors.New("media: unusable SRTP key")
	}
	var opts []srtp.ContextOption
	if receive {
		opts = append(opts, srtp.SRTPReplayProtection(128))
	}
	return srtp.CreateContext(c.Key[:sdesMasterKeyLen], c.Key[sdesMasterKeyLen:], profile, opts...)
}
