package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// ErrNoCommonCodec means the SDP offers no audio stream we can carry: no PCMU or PCMA over
// RTP/AVP (or RTP/SAVP with a key we support). The SIP side answers 488 Not Acceptable Here.
var ErrNoCommonCodec = errors.New("media: no common codec: the SDP offers no PCMU or PCMA audio over RTP/AVP or RTP/SAVP")

// ErrInvalidSDP wraps every error about an SDP body that cannot be read. The SIP side
// answers 400 (or 488 in a re-INVITE).
var ErrInvalidSDP = errors.New("media: invalid SDP")

// maxSDPSize bounds the bodies ParseSDP reads; real offers are well under 4 KiB.
const maxSDPSize = 64 << 10

// Direction is an SDP stream direction attribute (RFC 3264 section 5.1).
type Direction string

const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// reverse is the direction an answer gives to a stream offered with d.
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Remote is the far end of a leg as an SDP body (an offer or an answer) describes it, with
// our choice of codec made: the first of PCMU and PCMA in the offerer's order.
type Remote struct {
	Addr           netip.AddrPort // where its audio goes; the IP is unspecified (0.0.0.0) for old-style hold
	Codec          Codec
	TelephoneEvent int       // payload type of telephone-event/8000, or NoTelephoneEvent
	Direction      Direction // of the audio stream, from its point of view
	Ptime          int       // packetisation in ms, 0 if not given
	// Crypto is the far end's SRTP key (RTP/SAVP with SDES, RFC 4568): what it encrypts
	// with. nil for plain RTP/AVP.
	Crypto *Crypto

	streams []offeredStream // every m= line, in order: an answer has one for each
	audio   int             // index in streams of the one we use
}

type offeredStream struct {
	media, proto, format string // enough to reject a stream we do not use
}

// OnHold reports whether the SDP puts the call on hold: a=sendonly or a=inactive, or the
// RFC 2543 connection address 0.0.0.0. The engine then plays music on hold to the other leg.
func (r *Remote) OnHold() bool {
	return r.Direction == SendOnly || r.Direction == Inactive || r.Addr.Addr().IsUnspecified()
}

// ParseSDP reads an SDP offer (or an answer to our offer) and chooses the audio stream and
// codec to use. Bodies that are not SDP, or lack what an audio stream needs, give an error
// wrapping ErrInvalidSDP; audio we cannot carry gives ErrNoCommonCodec.
func ParseSDP(body []byte) (*Remote, error) {
	if len(body) > maxSDPSize {
		return nil, fmt.Errorf("%w: body of %d bytes is larger than %d", ErrInvalidSDP, len(body), maxSDPSize)
	}
	var desc sdp.SessionDescription
	if err := desc.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSDP, err)
	}
	if len(desc.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no media stream (m= line)", ErrInvalidSDP)
	}
	sessionDir := directionOf(desc.Attributes, SendRecv)
	r := &Remote{audio: -1, TelephoneEvent: NoTelephoneEvent}
	cryptoRefused := false // a secure audio stream was passed over for its crypto alone
	for i, md := range desc.MediaDescriptions {
		st := offeredStream{media: md.MediaName.Media, proto: strings.Join(md.MediaName.Protos, "/")}
		if len(md.MediaName.Formats) > 0 {
			st.format = md.MediaName.Formats[0]
		}
		r.streams = append(r.streams, st)
		if r.audio >= 0 || st.media != "audio" || st.proto != "RTP/AVP" && st.proto != "RTP/SAVP" || md.MediaName.Port.Value == 0 {
			continue
		}
		codec, event, ok := chooseCodec(md)
		if !ok {
			continue
		}
		var key *Crypto
		if st.proto == "RTP/SAVP" {
			if key = chooseCrypto(md); key == nil {
				cryptoRefused = true
				continue
			}
		}
		addr, err := connectionAddr(md.ConnectionInformation, desc.ConnectionInformation)
		if err != nil {
			return nil, err
		}
		port := md.MediaName.Port.Value
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("%w: audio port %d is out of range", ErrInvalidSDP, port)
		}
		r.audio = i
		r.Addr = netip.AddrPortFrom(addr, uint16(port))
		r.Codec, r.TelephoneEvent = codec, event
		r.Crypto = key
		r.Direction = directionOf(md.Attributes, sessionDir)
		if v, ok := md.Attribute("ptime"); ok {
			if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms > 0 && ms <= 1000 {
				r.Ptime = ms
			}
		}
	}
	if r.audio < 0 {
		if cryptoRefused {
			return nil, ErrNoCommonCrypto
		}
		return nil, ErrNoCommonCodec
	}
	return r, nil
}

// chooseCrypto is the first a=crypto line of md that we support, or nil.
func chooseCrypto(md *sdp.MediaDescription) *Crypto {
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, ok := parseCrypto(a.Value); ok {
			return c
		}
	}
	return nil
}

// chooseCodec picks, in the m= line's order, the first PCMU or PCMA format at 8 kHz, and
// the first telephone-event/8000 format.
func chooseCodec(md *sdp.MediaDescription) (codec Codec, event int, ok bool) {
	rtpmap := map[int]string{} // payload type -> "name/rate", upper-cased
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptText, enc, found := strings.Cut(strings.TrimSpace(a.Value), " ")
		pt, err := strconv.Atoi(ptText)
		if !found || err != nil || pt < 0 || pt > 127 {
			continue
		}
		rtpmap[pt] = strings.ToUpper(strings.TrimSpace(enc))
	}
	event = NoTelephoneEvent
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, mapped := rtpmap[pt]
		if !mapped {
			switch pt { // RFC 3551 static types need no rtpmap
			case 0:
				name = "PCMU/8000"
			case 8:
				name = "PCMA/8000"
			}
		}
		switch {
		case !ok && (name == "PCMU/8000" || name == "PCMU/8000/1"):
			codec, ok = Codec{Encoding: PCMU, PayloadType: uint8(pt)}, true
		case !ok && (name == "PCMA/8000" || name == "PCMA/8000/1"):
			codec, ok = Codec{Encoding: PCMA, PayloadType: uint8(pt)}, true
		case event == NoTelephoneEvent && name == "TELEPHONE-EVENT/8000":
			event = pt
		}
	}
	if ok && event == int(codec.PayloadType) {
		event = NoTelephoneEvent // one payload type cannot be both
	}
	return codec, event, ok
}

// connectionAddr is the stream's c= address, falling back to the session's.
func connectionAddr(media, session *sdp.ConnectionInformation) (netip.Addr, error) {
	c := media
	if c == nil {
		c = session
	}
	if c == nil || c.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: the audio stream has no connection address (c= line)", ErrInvalidSDP)
	}
	if c.NetworkType != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: connection network type %q is not IN", ErrInvalidSDP, c.NetworkType)
	}
	addr, err := netip.ParseAddr(c.Address.Address)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: connection address %q is not an IP address", ErrInvalidSDP, c.Address.Address)
	}
	if (c.AddressType == "IP4") != addr.Is4() {
		return netip.Addr{}, fmt.Errorf("%w: connection address %q does not match its type %s", ErrInvalidSDP, c.Address.Address, c.AddressType)
	}
	if addr.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("%w: multicast connection address %q is not supported", ErrInvalidSDP, c.Address.Address)
	}
	return addr, nil
}

func directionOf(attrs []sdp.Attribute, fallback Direction) Direction {
	for _, a := range attrs {
		switch d := Direction(a.Key); d {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return d
		}
	}
	return fallback
}

// Origin identifies an SDP session across offers (RFC 4566 o= line). A leg keeps its
// SessionID and increments Version for each new offer or answer it sends (a re-INVITE);
// a zero SessionID gets a random one.
type Origin struct {
	SessionID uint64
	Version   uint64
}

// Answer builds our answer to the offer r, with our address local: the chosen codec and,
// if offered, telephone-event; the direction mirrored (sendonly is answered recvonly); and
// every other stream of the offer rejected with port 0, as RFC 3264 requires. An SRTP
// offer (r.Crypto set) is answered with AnswerSecure instead.
func (r *Remote) Answer(local netip.AddrPort, o Origin) ([]byte, error) {
	return r.AnswerSecure(local, o, nil)
}

// AnswerSecure is Answer with our SRTP key (Session.SRTPKey) for an RTP/SAVP offer: the
// answer is RTP/SAVP with our a=crypto line under the offer's tag. key must be nil for a
// plain offer and set for a secure one.
func (r *Remote) AnswerSecure(local netip.AddrPort, o Origin, key *Crypto) ([]byte, error) {
	if r == nil || r.audio < 0 || r.audio >= len(r.streams) {
		return nil, errors.New("media: Answer needs an offer read by ParseSDP")
	}
	if (r.Crypto == nil) != (key == nil) {
		return nil, errors.New("media: an RTP/SAVP offer is answered with our SRTP key, a plain one without")
	}
	if key != nil {
		k := *key
		k.Tag = r.Crypto.Tag
		key = &k
	}
	desc, err := newDescription(local, o)
	if err != nil {
		return nil, err
	}
	for i, st := range r.streams {
		if i != r.audio {
			desc.MediaDescriptions = append(desc.MediaDescriptions, &sdp.MediaDescription{
				MediaName: sdp.MediaName{Media: st.media, Port: sdp.RangedPort{Value: 0},
					Protos: strings.Split(st.proto, "/"), Formats: []string{st.format}},
			})
			continue
		}
		desc.MediaDescriptions = append(desc.MediaDescriptions,
			audioDescription(local.Port(), []Codec{r.Codec}, r.TelephoneEvent, r.Direction.reverse(), key))
	}
	return desc.Marshal()
}

// BuildOffer builds our offer: PCMU, PCMA and telephone-event/8000 (payload type 101) at
// 20 ms on local, with direction dir ("" means sendrecv; sendonly puts the far end on hold).
func BuildOffer(local netip.AddrPort, o Origin, dir Direction) ([]byte, error) {
	return BuildSecureOffer(local, o, dir, nil)
}

// BuildSecureOffer is BuildOffer for SRTP: RTP/SAVP with key (Session.SRTPKey) as the
// one a=crypto line; a nil key builds the plain offer.
func BuildSecureOffer(local netip.AddrPort, o Origin, dir Direction, key *Crypto) ([]byte, error) {
	switch dir {
	case "":
		dir = SendRecv
	case SendRecv, SendOnly, RecvOnly, Inactive:
	default:
		return nil, fmt.Errorf("media: direction %q is not one of sendrecv, sendonly, recvonly, inactive", dir)
	}
	desc, err := newDescription(local, o)
	if err != nil {
		return nil, err
	}
	desc.MediaDescriptions = append(desc.MediaDescriptions, audioDescription(local.Port(),
		[]Codec{{Encoding: PCMU, PayloadType: 0}, {Encoding: PCMA, PayloadType: 8}}, DefaultTelephoneEvent, dir, key))
	return desc.Marshal()
}

func newDescription(local netip.AddrPort, o Origin) (*sdp.SessionDescription, error) {
	ip := local.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || local.Port() == 0 {
		return nil, fmt.Errorf("media: local RTP address %s is not a usable address and port", local)
	}
	addrType := "IP4"
	if ip.Is6() {
		addrType = "IP6"
	}
	if o.SessionID == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.SessionID = binary.BigEndian.Uint64(b[:]) >> 1 // RFC 4566: fits a signed 64-bit NTP-style value
	}
	return &sdp.SessionDescription{
		Origin: sdp.Origin{Username: "switchboard", SessionID: o.SessionID, SessionVersion: o.Version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String()},
		SessionName:           "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}, nil
}

func audioDescription(port uint16, codecs []Codec, event int, dir Direction, key *Crypto) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(port)}, Protos: []string{"RTP", "AVP"}},
	}
	if key != nil {
		md.MediaName.Protos = []string{"RTP", "SAVP"}
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+c.Encoding.String()+"/8000"))
	}
	if event != NoTelephoneEvent {
		pt := strconv.Itoa(event)
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("rtpmap", pt+" telephone-event/8000"),
			sdp.NewAttribute("fmtp", pt+" 0-16"))
	}
	if key != nil {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", key.attribute()))
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(string(dir)))
	return md
}
