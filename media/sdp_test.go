package media

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func crlf(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

// A Yealink-style offer: PCMA preferred over PCMU, G.729, telephone-event 101.
var yealinkOffer = crlf(
	"v=0",
	"o=- 20063 20063 IN IP4 192.0.2.10",
	"s=SDP data",
	"c=IN IP4 192.0.2.10",
	"t=0 0",
	"m=audio 11796 RTP/AVP 8 0 18 9 101",
	"a=rtpmap:8 PCMA/8000",
	"a=rtpmap:0 PCMU/8000",
	"a=rtpmap:18 G729/8000",
	"a=fmtp:18 annexb=no",
	"a=rtpmap:9 G722/8000",
	"a=fmtp:101 0-15",
	"a=rtpmap:101 telephone-event/8000",
	"a=ptime:20",
	"a=sendrecv",
)

func TestParseSDPChoosesTheOfferersFirstCodecOfOurs(t *testing.T) {
	r, err := ParseSDP(yealinkOffer)
	if err != nil {
		t.Fatal(err)
	}
	if r.Codec != pcma || r.TelephoneEvent != 101 || r.Ptime != 20 || r.Direction != SendRecv || r.OnHold() {
		t.Fatalf("got %+v", r)
	}
	if r.Addr != netip.MustParseAddrPort("192.0.2.10:11796") {
		t.Fatalf("address %s", r.Addr)
	}
}

func TestParseSDPStaticTypesDynamicTypesAndMediaLevelConnection(t *testing.T) {
	r, err := ParseSDP(crlf(
		"v=0", "o=- 1 1 IN IP4 198.51.100.1", "s=-", "c=IN IP4 198.51.100.1", "t=0 0",
		"m=audio 4000 RTP/AVP 97 0 96", // 97 is G.722 at a dynamic type; 0 needs no rtpmap
		"c=IN IP4 198.51.100.7",
		"a=rtpmap:97 opus/48000/2",
		"a=rtpmap:96 TELEPHONE-EVENT/8000",
	))
	if err != nil {
		t.Fatal(err)
	}
	if r.Codec != pcmu || r.TelephoneEvent != 96 || r.Addr.Addr() != netip.MustParseAddr("198.51.100.7") {
		t.Fatalf("got %+v", r)
	}

	r, err = ParseSDP(crlf(
		"v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0",
		"m=audio 4000 RTP/AVP 110 111", "a=rtpmap:110 pcmu/8000", "a=rtpmap:111 telephone-event/48000",
	))
	if err != nil {
		t.Fatal(err)
	}
	if r.Codec != (Codec{Encoding: PCMU, PayloadType: 110}) || r.TelephoneEvent != NoTelephoneEvent || !r.Addr.Addr().Is6() {
		t.Fatalf("PCMU at a dynamic type, telephone-event only at 48 kHz: got %+v", r)
	}
}

func TestParseSDPDetectsHold(t *testing.T) {
	base := func(extra ...string) []byte {
		return crlf(append([]string{"v=0", "o=- 1 2 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
			"m=audio 11796 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"}, extra...)...)
	}
	for name, c := range map[string]struct {
		body []byte
		hold bool
		dir  Direction
	}{
		"sendrecv":           {base("a=sendrecv"), false, SendRecv},
		"no attribute":       {base(), false, SendRecv},
		"sendonly":           {base("a=sendonly"), true, SendOnly},
		"inactive":           {base("a=inactive"), true, Inactive},
		"recvonly":           {base("a=recvonly"), false, RecvOnly},
		"c=0.0.0.0":          {[]byte(strings.Replace(string(base()), "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1)), true, SendRecv},
		"session-level send": {[]byte(strings.Replace(string(base()), "t=0 0", "t=0 0\r\na=sendonly", 1)), true, SendOnly},
	} {
		r, err := ParseSDP(c.body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.OnHold() != c.hold || r.Direction != c.dir {
			t.Errorf("%s: hold %v direction %s, want %v %s", name, r.OnHold(), r.Direction, c.hold, c.dir)
		}
	}
}

func TestParseSDPNoCommonCodec(t *testing.T) {
	for name, body := range map[string][]byte{
		"only G.729": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=audio 4000 RTP/AVP 18 101", "a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000"),
		"SRTP only": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=audio 4000 RTP/SAVP 0 8"),
		"video only": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=video 4000 RTP/AVP 96", "a=rtpmap:96 H264/90000"),
		"audio disabled": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=audio 0 RTP/AVP 0"),
		"PCMU at another rate": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
			"m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"),
	} {
		if _, err := ParseSDP(body); !errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: %v, want ErrNoCommonCodec", name, err)
		}
	}
}

func TestParseSDPRejectsBadBodiesWithAClearError(t *testing.T) {
	for name, body := range map[string][]byte{
		"empty":         nil,
		"not SDP":       []byte("hello world"),
		"JSON":          []byte(`{"sdp":true}`),
		"no media":      crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"),
		"no c= line":    crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0"),
		"hostname":      crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 pbx.example.com", "t=0 0", "m=audio 4000 RTP/AVP 0"),
		"type mismatch": crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP6 192.0.2.1", "t=0 0", "m=audio 4000 RTP/AVP 0"),
		"multicast":     crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 224.2.1.1/127", "t=0 0", "m=audio 4000 RTP/AVP 0"),
		"huge port":     crlf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 70000 RTP/AVP 0"),
		"too large":     []byte("v=0\r\n" + strings.Repeat("a=x\r\n", 20000)),
	} {
		r, err := ParseSDP(body)
		if err == nil {
			t.Errorf("%s: parsed as %+v", name, r)
			continue
		}
		if errors.Is(err, ErrNoCommonCodec) || !errors.Is(err, ErrInvalidSDP) {
			t.Errorf("%s: %v, want an ErrInvalidSDP error", name, err)
		}
		if !strings.HasPrefix(err.Error(), "media: invalid SDP") {
			t.Errorf("%s: error %q does not say what is wrong", name, err)
		}
	}
}

func TestAnswerMatchesTheOffer(t *testing.T) {
	offer := crlf(
		"v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
		"m=video 5000 RTP/AVP 96", "a=rtpmap:96 H264/90000",
		"m=audio 11796 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly",
	)
	r, err := ParseSDP(offer)
	if err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("203.0.113.5:10002")
	body, err := r.Answer(local, Origin{SessionID: 42, Version: 7})
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	for _, want := range []string{
		"o=switchboard 42 7 IN IP4 203.0.113.5\r\n",
		"c=IN IP4 203.0.113.5\r\n",
		"m=video 0 RTP/AVP 96\r\n", // rejected, in its place
		"m=audio 10002 RTP/AVP 0 101\r\n",
		"a=rtpmap:0 PCMU/8000\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n",
		"a=fmtp:101 0-16\r\n",
		"a=recvonly\r\n", // mirrors sendonly
	} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "m=video") > strings.Index(text, "m=audio") {
		t.Error("the answer's m= lines are not in the offer's order")
	}
	// The answer is itself valid SDP that names our address and codec.
	back, err := ParseSDP(body)
	if err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, text)
	}
	if back.Addr != local || back.Codec != pcmu || back.TelephoneEvent != 101 || back.Direction != RecvOnly {
		t.Fatalf("our answer reads back as %+v", back)
	}
}

func TestBuildOffer(t *testing.T) {
	local := netip.MustParseAddrPort("203.0.113.5:10004")
	body, err := BuildOffer(local, Origin{}, "")
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	for _, want := range []string{
		"m=audio 10004 RTP/AVP 0 8 101\r\n", "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:8 PCMA/8000\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=fmtp:101 0-16\r\n", "a=ptime:20\r\n", "a=sendrecv\r\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("offer lacks %q:\n%s", want, text)
		}
	}
	r, err := ParseSDP(body)
	if err != nil || r.Addr != local || r.Codec != pcmu || r.TelephoneEvent != 101 || r.OnHold() {
		t.Fatalf("our offer reads back as %+v, %v", r, err)
	}

	hold, err := BuildOffer(local, Origin{SessionID: 5, Version: 2}, SendOnly)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ParseSDP(hold); err != nil || !r.OnHold() {
		t.Fatalf("a sendonly offer should read as hold: %+v %v", r, err)
	}

	if _, err := BuildOffer(local, Origin{}, "sideways"); err == nil {
		t.Error("an unknown direction was accepted")
	}
	if _, err := BuildOffer(netip.MustParseAddrPort("0.0.0.0:10004"), Origin{}, ""); err == nil {
		t.Error("an unspecified local address was accepted")
	}
	if _, err := (&Remote{}).Answer(local, Origin{}); err == nil {
		t.Error("Answer of a Remote not read from an offer succeeded")
	}
}
