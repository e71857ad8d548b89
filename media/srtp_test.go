package media

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// baresipSRTPOffer is the shape of baresip's offer with ;mediaenc=srtp-mand.
var baresipSRTPOffer = crlf(
	"v=0",
	"o=- 1 2 IN IP4 127.0.0.1",
	"s=-",
	"c=IN IP4 127.0.0.1",
	"t=0 0",
	"m=audio 19002 RTP/SAVP 0 8 101",
	"a=rtpmap:101 telephone-event/8000",
	"a=crypto:3 AES_CM_256_HMAC_SHA1_80 inline:"+strings.Repeat("QUJD", 16),
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0",
	"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0",
	"a=sendrecv",
)

func TestParseSDPTakesTheFirstSupportedCryptoLine(t *testing.T) {
	r, err := ParseSDP(baresipSRTPOffer)
	if err != nil {
		t.Fatal(err)
	}
	if r.Crypto == nil || r.Crypto.Tag != 1 || r.Crypto.Suite != AES_CM_128_HMAC_SHA1_80 || len(r.Crypto.Key) != 30 {
		t.Fatalf("crypto %+v, want tag 1 %s with a 30-byte key", r.Crypto, AES_CM_128_HMAC_SHA1_80)
	}
	// A plain offer has no key.
	if r, err := ParseSDP(yealinkOffer); err != nil || r.Crypto != nil {
		t.Fatalf("plain offer: %+v, %v", r, err)
	}
}

func TestAnswerToAnSRTPOfferCarriesOurKeyUnderTheOffersTag(t *testing.T) {
	offer, err := ParseSDP(baresipSRTPOffer)
	if err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("127.0.0.1:15000")
	if _, err := offer.Answer(local, Origin{}); err == nil {
		t.Fatal("a plain answer to an RTP/SAVP offer was built")
	}
	ours, err := newCrypto(7, AES_CM_128_HMAC_SHA1_80)
	if err != nil {
		t.Fatal(err)
	}
	body, err := offer.AnswerSecure(local, Origin{}, ours)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := ParseSDP(body)
	if err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, body)
	}
	if !strings.Contains(string(body), "m=audio 15000 RTP/SAVP 0 101") {
		t.Fatalf("answer's m= line:\n%s", body)
	}
	if answer.Crypto == nil || answer.Crypto.Tag != 1 || !bytes.Equal(answer.Crypto.Key, ours.Key) {
		t.Fatalf("answer's crypto %+v, want tag 1 with our key", answer.Crypto)
	}

	// Our own secure offer reads back with its key.
	body, err = BuildSecureOffer(local, Origin{}, SendRecv, ours)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ParseSDP(body); err != nil || r.Crypto == nil || !bytes.Equal(r.Crypto.Key, ours.Key) {
		t.Fatalf("our secure offer reads back as %+v, %v\n%s", r, err, body)
	}
}

func TestParseSDPRefusesSRTPWithoutASupportedCryptoLine(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0"
	for name, line := range map[string]string{
		"unknown suite":      "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" + key,
		"AES-256":            "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + strings.Repeat("QUJD", 16),
		"MKI":                "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4",
		"short key":          "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD",
		"session parameter":  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP",
		"no key method":      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + key,
		"no crypto line":     "a=ptime:20",
		"tag is not numeric": "a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" + key,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSDP(crlf("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
				"m=audio 4000 RTP/SAVP 0", line))
			if !errors.Is(err, ErrNoCommonCrypto) || !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("ParseSDP: %v, want ErrNoCommonCrypto (a kind of ErrNoCommonCodec: 488)", err)
			}
		})
	}
	// A lifetime is fine.
	if _, err := ParseSDP(crlf("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+key+"|2^31")); err != nil {
		t.Fatalf("key with a lifetime: %v", err)
	}
}

// srtpPhone is a test peer speaking SRTP with its own key.
type srtpPhone struct {
	*phone
	key *Crypto
	enc *srtp.Context
}

func newSRTPPhone(t *testing.T, suite CryptoSuite) *srtpPhone {
	t.Helper()
	key, err := newCrypto(1, suite)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := key.srtpContext(false)
	if err != nil {
		t.Fatal(err)
	}
	return &srtpPhone{phone: newPhone(t, loopback), key: key, enc: enc}
}

func (p *srtpPhone) sendSRTP(to *Session, enc *srtp.Context, payload []byte) {
	p.t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc},
		Payload: payload}).Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	wire, err := enc.EncryptRTP(nil, b, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	if bytes.Contains(wire, payload) {
		p.t.Fatal("the test's SRTP packet carries its payload in clear")
	}
	if _, err := p.conn.WriteToUDPAddrPort(wire, to.LocalAddr()); err != nil {
		p.t.Fatal(err)
	}
	p.seq++
	p.ts += 160
}

// readRaw waits for the next datagram, as it is on the wire.
func (p *phone) readRaw() []byte {
	p.t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("phone %s: no packet: %v", p.addr(), err)
	}
	return buf[:n]
}

// TestBridgeBetweenAnSRTPLegAndAPlainLeg: the relay decrypts what the SRTP phone sends and
// hands the plain phone the audio; the plain phone's audio reaches the SRTP phone
// encrypted with the session's key and nothing else; a packet under a wrong key is dropped.
func TestBridgeBetweenAnSRTPLegAndAPlainLeg(t *testing.T) {
	for _, suite := range []CryptoSuite{AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32} {
		t.Run(string(suite), func(t *testing.T) {
			pool := newPool(t)
			secure, plain := newSession(t, pool, nil), newSession(t, pool, nil)
			sp, pp := newSRTPPhone(t, suite), newPhone(t, loopback)
			ourKey, err := secure.SRTPKey(suite)
			if err != nil {
				t.Fatal(err)
			}
			if err := secure.SetRemote(&Remote{Addr: sp.addr(), Codec: pcmu, TelephoneEvent: NoTelephoneEvent,
				Direction: SendRecv, Crypto: sp.key}); err != nil {
				t.Fatal(err)
			}
			connect(t, plain, pp, pcmu, NoTelephoneEvent)
			if _, err := Bridge(secure, plain); err != nil {
				t.Fatal(err)
			}

			voice := bytes.Repeat([]byte("secret voice "), 13)[:160]
			sp.sendSRTP(secure, sp.enc, voice)
			got, _ := pp.read()
			if !bytes.Equal(got.Payload, voice) {
				t.Fatalf("plain leg got %q, want the SRTP phone's audio decrypted", got.Payload)
			}

			reply := bytes.Repeat([]byte("plain reply "), 14)[:160]
			pp.send(plain, 0, false, reply, 160)
			wire := sp.readRaw()
			if bytes.Contains(wire, reply[:16]) {
				t.Fatal("audio to the SRTP phone went out in clear")
			}
			dec, err := ourKey.srtpContext(true)
			if err != nil {
				t.Fatal(err)
			}
			clear, err := dec.DecryptRTP(nil, wire, nil)
			if err != nil {
				t.Fatalf("what the SRTP phone got does not decrypt with the session's key: %v", err)
			}
			var pkt rtp.Packet
			if err := pkt.Unmarshal(clear); err != nil || !bytes.Equal(pkt.Payload, reply) {
				t.Fatalf("SRTP phone got %q (%v), want the plain phone's audio", pkt.Payload, err)
			}

			// A packet under another key (an attacker who knows the address) is dropped.
			other, _ := newCrypto(1, suite)
			otherEnc, _ := other.srtpContext(false)
			sp.sendSRTP(secure, otherEnc, bytes.Repeat([]byte{0x55}, 160))
			waitFor(t, func() bool { return secure.Stats().SRTPFailed == 1 })
			sp.sendSRTP(secure, sp.enc, voice)
			if got, _ := pp.read(); !bytes.Equal(got.Payload, voice) {
				t.Fatalf("after the forged packet the plain leg got %q", got.Payload)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
