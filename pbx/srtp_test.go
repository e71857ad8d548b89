package pbx_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	sbsip "switchboard/sip"
	"switchboard/store/storetest"
)

// srtpOffer turns a peer's plain offer into RTP/SAVP with one a=crypto line.
func srtpOffer(plain []byte, crypto string) []byte {
	s := strings.Replace(string(plain), "RTP/AVP", "RTP/SAVP", 1)
	return []byte(s + "a=crypto:" + crypto + "\r\n")
}

func srtpContext(t *testing.T, key []byte, suite media.CryptoSuite) *srtp.Context {
	t.Helper()
	profile := srtp.ProtectionProfileAes128CmHmacSha1_80
	if suite == media.AES_CM_128_HMAC_SHA1_32 {
		profile = srtp.ProtectionProfileAes128CmHmacSha1_32
	}
	c, err := srtp.CreateContext(key[:16], key[16:], profile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSRTPCallerIsBridgedToAPlainPhone: a phone offering SRTP (SDES) gets an SRTP answer
// with the PBX's key; the callee, a plain UDP phone, is offered plain RTP; the relay
// decrypts the caller's audio for the callee and encrypts the callee's for the caller.
func TestSRTPCallerIsBridgedToAPlainPhone(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	key := make([]byte, 30)
	rand.Read(key)
	peer := newRTPPeer(t, "127.0.0.1")
	offer := srtpOffer(peer.offer(0), "1 AES_CM_128_HMAC_SHA1_32 inline:"+base64.StdEncoding.EncodeToString(key))
	c := alice.dialOffer(context.Background(), e, "1002", "alice", "alice-pw-1", peer, offer)

	in := bob.next()
	if body := string(in.req.Body()); !strings.Contains(body, "RTP/AVP") || strings.Contains(body, "a=crypto") {
		t.Fatalf("the plain phone was offered:\n%s", body)
	}
	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	answer, err := media.ParseSDP(c.dlg.InviteResponse.Body())
	if err != nil || answer.Crypto == nil {
		t.Fatalf("the SRTP caller's answer has no key: %v\n%s", err, c.dlg.InviteResponse.Body())
	}
	if answer.Crypto.Suite != media.AES_CM_128_HMAC_SHA1_32 || answer.Crypto.Tag != 1 || bytes.Equal(answer.Crypto.Key, key) {
		t.Fatalf("answer crypto %+v: want the offer's suite and tag with a key of the PBX's own", answer.Crypto)
	}

	// Caller -> callee: SRTP in, plain out.
	enc := srtpContext(t, key, media.AES_CM_128_HMAC_SHA1_32)
	frame := ulawFrame(3)
	var seq uint16
	received := false
	for deadline := time.Now().Add(tstest.DefaultWait); !received && time.Now().Before(deadline); seq++ {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160,
			SSRC: 0x5150}, Payload: frame}).Marshal()
		wire, err := enc.EncryptRTP(nil, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := peer.conn.WriteToUDPAddrPort(wire, answer.Addr); err != nil {
			t.Fatal(err)
		}
		if pkt := in.rtp.recv(20 * time.Millisecond); pkt != nil && bytes.Equal(pkt.Payload, frame) {
			received = true
		}
	}
	if !received {
		t.Fatal("the plain phone did not get the SRTP caller's audio in clear")
	}

	// Callee -> caller: plain in, SRTP out under the PBX's key.
	dec := srtpContext(t, answer.Crypto.Key, answer.Crypto.Suite)
	back := ulawFrame(4)
	received = false
	buf := make([]byte, 1500)
	for deadline := time.Now().Add(tstest.DefaultWait); !received && time.Now().Before(deadline); {
		in.rtp.send(t, back)
		peer.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, _, err := peer.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		if bytes.Contains(buf[:n], back[:32]) {
			t.Fatal("audio to the SRTP caller went out in clear")
		}
		clear, err := dec.DecryptRTP(nil, buf[:n], nil)
		if err != nil {
			t.Fatalf("audio to the SRTP caller does not decrypt with the PBX's key: %v", err)
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(clear) == nil && bytes.Equal(pkt.Payload, back) {
			received = true
		}
	}
	if !received {
		t.Fatal("the SRTP caller did not get the plain phone's audio")
	}

	// The call stays SRTP: a re-INVITE offering plain RTP is refused, one with a key is taken.
	reinvite := func(body []byte) int {
		req := sip.NewRequest(sip.INVITE, c.dlg.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
		res, err := c.dlg.Do(context.Background(), req)
		if err != nil {
			t.Fatalf("re-INVITE: %v", err)
		}
		return res.StatusCode
	}
	if code := reinvite(peer.offer(0)); code != 488 {
		t.Fatalf("re-INVITE downgrading to plain RTP: %d, want 488", code)
	}
	if code := reinvite(offer); code != 200 {
		t.Fatalf("re-INVITE with the same SRTP offer: %d, want 200", code)
	}
	_ = c.dlg.Bye(context.Background())
}

// TestSRTPOfferWithoutASupportedSuiteIsRefused488: nothing rings.
func TestSRTPOfferWithoutASupportedSuiteIsRefused488(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	peer := newRTPPeer(t, "127.0.0.1")
	key := base64.StdEncoding.EncodeToString(make([]byte, 30))
	offer := srtpOffer(peer.offer(0), "1 F8_128_HMAC_SHA1_80 inline:"+key)
	c := alice.dialOffer(context.Background(), e, "1002", "alice", "alice-pw-1", peer, offer)
	if code := c.finalCode(t); code != 488 {
		t.Fatalf("INVITE with only an unknown crypto suite: %d, want 488", code)
	}
	select {
	case in := <-bob.incoming:
		t.Fatalf("bob's phone rang: %s", in.req.StartLine())
	default:
	}
}

// tlsCarrier is a carrier listening for SIP over TLS with a self-signed certificate; it
// answers every INVITE 486 after passing it to the test.
func tlsCarrier(t *testing.T) (addr string, roots *x509.CertPool, invites <-chan *sip.Request) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: carrierIP},
		IPAddresses: []net.IP{net.ParseIP(carrierIP)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(leaf)
	ln, err := tls.Listen("tcp", carrierIP+":0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}}})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"), sipgo.WithUserAgentHostname(carrierIP),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quietLogger())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quietLogger())))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *sip.Request, 4)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		got <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	go func() { _ = srv.ServeTLS(ln) }()
	t.Cleanup(func() {
		ln.Close()
		agent.Close()
	})
	return ln.Addr().String(), roots, got
}

// TestOutboundCallThroughTLSTrunkIsEncrypted: a trunk with transport tls is dialled over
// TLS (its certificate verified) with an SRTP offer.
func TestOutboundCallThroughTLSTrunkIsEncrypted(t *testing.T) {
	addr, roots, invites := tlsCarrier(t)
	e := newEnvSIP(t, storetest.NewSQLite(t), func(c *sbsip.Config) { c.ClientTLS = &tls.Config{RootCAs: roots} })
	alice, _, _, _ := twoPhones(t, e)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	if err := e.db.CreateTrunk(context.Background(), &switchboard.Trunk{AccountID: e.account.ID, Name: "TLS carrier", Host: host,
		Port: port, Transport: switchboard.TransportTLS, CallerIDNumber: "+15550009999"}); err != nil {
		t.Fatal(err)
	}
	e.eng.InvalidateTrunks()

	c := alice.dial(e, "+15557654321", "alice", "alice-pw-1")
	select {
	case req := <-invites:
		if !strings.EqualFold(req.Transport(), "TLS") {
			t.Errorf("the carrier got the INVITE over %s", req.Transport())
		}
		offer, err := media.ParseSDP(req.Body())
		if err != nil || offer.Crypto == nil || offer.Crypto.Suite != media.AES_CM_128_HMAC_SHA1_80 {
			t.Errorf("the carrier was offered %+v (%v), want SRTP:\n%s", offer, err, req.Body())
		}
	case <-time.After(tstest.DefaultWait):
		t.Fatal("the TLS carrier got no INVITE")
	}
	if code := c.finalCode(t); code != 486 {
		t.Fatalf("call through the busy TLS carrier: %d, want its 486", code)
	}
}
