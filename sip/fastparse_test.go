package sip

import (
	"reflect"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// REGISTERs as phones send them (SIPp's scenario, baresip, Linphone, a desk phone with a
// display name, IPv6, compact and lower-case header names, a digest answer), and shapes
// parseRegisterDatagram leaves to sipgo's parser.
var registerCorpus = []struct {
	name  string
	msg   string
	taken bool // parseRegisterDatagram parses it (else it leaves it to sipgo's parser)
}{
	{"sipp", "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0;rport\r\nFrom: <sip:1001@127.0.0.1:5060>;tag=1SIPpTag01\r\nTo: <sip:1001@127.0.0.1:5060>\r\nCall-ID: 1-123@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5070;transport=UDP>\r\nExpires: 3600\r\nMax-Forwards: 70\r\nUser-Agent: SIPp\r\nContent-Length: 0\r\n\r\n", true},
	{"baresip with digest", "REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:46012;branch=z9hG4bK58a7;rport\r\nContact: <sip:alice-0x5581@192.168.1.20:46012>;expires=3600\r\nMax-Forwards: 70\r\nTo: <sip:alice@pbx.example.com>\r\nFrom: <sip:alice@pbx.example.com>;tag=b1d0a6\r\nCall-ID: 6f4c2e3d1a\r\nCSeq: 2 REGISTER\r\nUser-Agent: baresip v1.0.0 (x86_64/linux)\r\nAuthorization: Digest username=\"alice\",realm=\"switchboard\",nonce=\"AAAA-bbbb_cc\",uri=\"sip:pbx.example.com\",response=\"0123456789abcdef0123456789abcdef\",algorithm=MD5,qop=auth,nc=00000001,cnonce=\"3e1a\"\r\nAllow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER\r\nSupported: gruu,path,replaces\r\nContent-Length: 0\r\n\r\n", true},
	{"linphone", "REGISTER sip:sip.example.org SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK.Xn3;rport\r\nFrom: \"Bob Smith\" <sip:bob@sip.example.org>;tag=Qk2\r\nTo: \"Bob Smith\" <sip:bob@sip.example.org>\r\nCSeq: 20 REGISTER\r\nCall-ID: Ma0cN9\r\nMax-Forwards: 70\r\nSupported: replaces, outbound, gruu\r\nAccept: application/sdp\r\nContact: <sip:bob@10.0.0.7;transport=udp>;+sip.instance=\"<urn:uuid:5bf3b3d6-1f0b-4a7e-9c1b-1d7b1a0b9f00>\";+org.linphone.specs=\"lime\"\r\nExpires: 600\r\nUser-Agent: Linphone/5.2 (belle-sip/5.2)\r\n\r\n", true},
	{"ipv6", "REGISTER sip:[2001:db8::1] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::20]:5062;branch=z9hG4bK77;rport\r\nFrom: <sip:carol@[2001:db8::1]>;tag=9\r\nTo: <sip:carol@[2001:db8::1]>\r\nCall-ID: v6call\r\nCSeq: 7 REGISTER\r\nContact: <sip:carol@[2001:db8::20]:5062>\r\nContent-Length: 0\r\n\r\n", true},
	{"compact and lower-case", "REGISTER sip:example.com SIP/2.0\r\nv: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKc1\r\nf: <sip:dave@example.com>;tag=c\r\nt: <sip:dave@example.com>\r\ni: compact-1\r\ncseq: 3 REGISTER\r\nm: <sip:dave@10.1.1.1>\r\nmax-forwards:70\r\nl: 0\r\n\r\n", true},
	{"wildcard un-register", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKw\r\nFrom: <sip:dave@example.com>;tag=w\r\nTo: <sip:dave@example.com>\r\nCall-ID: w1\r\nCSeq: 4 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n", true},
	{"spaces around values", "REGISTER sip:example.com SIP/2.0\r\nVia:  SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKs \r\nFrom:<sip:s@example.com>;tag=s\t\r\nTo : <sip:s@example.com>\r\nCall-ID: s1 \r\nCSeq: 1 REGISTER\r\nUser-Agent:  Desk Phone 2.1\t \r\nContent-Length: 0\r\n\r\n", true},
	{"two Vias", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKa;received=192.0.2.4\r\nFrom: <sip:e@example.com>;tag=e\r\nTo: <sip:e@example.com>\r\nCall-ID: e1\r\nCSeq: 9 REGISTER\r\nContent-Length: 0\r\n\r\n", true},

	{"two contacts on one line", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKm\r\nFrom: <sip:f@example.com>;tag=f\r\nTo: <sip:f@example.com>\r\nCall-ID: f1\r\nCSeq: 1 REGISTER\r\nContact: <sip:f@10.1.1.1>, <sip:f@10.1.1.2>\r\nContent-Length: 0\r\n\r\n", false},
	{"folded header", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKf\r\nFrom: <sip:g@example.com>\r\n ;tag=g\r\nTo: <sip:g@example.com>\r\nCall-ID: g1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", false},
	{"a body", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKb\r\nFrom: <sip:h@example.com>;tag=h\r\nTo: <sip:h@example.com>\r\nCall-ID: h1\r\nCSeq: 1 REGISTER\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", false},
	{"a body without Content-Length", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKt\r\nFrom: <sip:t@example.com>;tag=t\r\nTo: <sip:t@example.com>\r\nCall-ID: t1\r\nCSeq: 1 REGISTER\r\n\r\nhello", false},
	{"lower-case method", "register sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKl\r\nFrom: <sip:i@example.com>;tag=i\r\nTo: <sip:i@example.com>\r\nCall-ID: i1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", false},
	{"bare LF line ends", "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKn\nFrom: <sip:j@example.com>;tag=j\nTo: <sip:j@example.com>\nCall-ID: j1\nCSeq: 1 REGISTER\n\n", false},
	{"no empty line", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKe\r\nCall-ID: k1\r\n", false},
	{"bad CSeq", "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKq\r\nFrom: <sip:k@example.com>;tag=k\r\nTo: <sip:k@example.com>\r\nCall-ID: k2\r\nCSeq: one REGISTER\r\nContent-Length: 0\r\n\r\n", false},
}

func TestParseRegisterDatagramGivesWhatSipgoGives(t *testing.T) {
	for _, tc := range registerCorpus {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRegisterDatagram([]byte(tc.msg))
			if ok != tc.taken {
				t.Fatalf("parseRegisterDatagram took it: %v, want %v", ok, tc.taken)
			}
			if ok {
				sameAsSipgo(t, []byte(tc.msg), got)
			}
		})
	}
}

// FuzzParseRegisterDatagram: whatever parseRegisterDatagram takes, sipgo's parser parses to the same request.
func FuzzParseRegisterDatagram(f *testing.F) {
	for _, tc := range registerCorpus {
		f.Add([]byte(tc.msg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, ok := parseRegisterDatagram(data); ok {
			sameAsSipgo(t, data, got)
		}
	})
}

// sameAsSipgo fails unless sipgo's parser parses data to a request equal to got: the same
// request line, the same headers of the same types with the same fields, in the same order.
func sameAsSipgo(t *testing.T, data []byte, got *sip.Request) {
	t.Helper()
	p := sip.NewParser()
	p.MaxMessageLength = maxMessageLength
	msg, err := p.ParseSIP(data)
	if err != nil {
		t.Fatalf("parseRegisterDatagram took %q, which sipgo refuses: %v", data, err)
	}
	want, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("sipgo parsed %q as a %T", data, msg)
	}
	if got.Method != want.Method || got.SipVersion != want.SipVersion || !reflect.DeepEqual(got.Recipient, want.Recipient) {
		t.Errorf("request line %s %v %s, sipgo's %s %v %s", got.Method, got.Recipient, got.SipVersion, want.Method, want.Recipient, want.SipVersion)
	}
	gh, wh := got.Headers(), want.Headers()
	if len(gh) != len(wh) {
		t.Fatalf("%d headers, sipgo %d:\n%s\nsipgo:\n%s", len(gh), len(wh), got, want)
	}
	for i := range gh {
		if !reflect.DeepEqual(gh[i], wh[i]) {
			t.Errorf("header %d = %#v, sipgo's %#v", i, gh[i], wh[i])
		}
	}
	if len(got.Body()) != 0 || len(want.Body()) != 0 {
		t.Errorf("bodies %q and %q, want none", got.Body(), want.Body())
	}
	if got.String() != want.String() {
		t.Errorf("written as\n%s\nsipgo's\n%s", strings.ReplaceAll(got.String(), "\r\n", "\n"), strings.ReplaceAll(want.String(), "\r\n", "\n"))
	}
}
