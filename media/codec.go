package media

import "fmt"

// Encoding is an audio encoding this package speaks. Both are 8 kHz, one byte per sample,
// so a packet's payload length is its sample count and timestamps advance alike.
type Encoding uint8

const (
	PCMU Encoding = iota + 1 // G.711 µ-law, static payload type 0
	PCMA                     // G.711 A-law, static payload type 8
)

// String is the encoding's SDP name.
func (e Encoding) String() string {
	switch e {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// Codec is a negotiated encoding and the payload type both sides use for it (normally the
// static 0 or 8; an offer may bind the name to a dynamic type instead).
type Codec struct {
	Encoding    Encoding
	PayloadType uint8
}

// Valid reports whether c is an encoding this package can send.
func (c Codec) Valid() bool { return c.Encoding == PCMU || c.Encoding == PCMA }

func (c Codec) String() string { return fmt.Sprintf("%s/%d", c.Encoding, c.PayloadType) }

const (
	// SampleRate is the clock rate of every codec and of telephone-events here.
	SampleRate = 8000
	// FrameSamples is one 20 ms frame at 8 kHz, the packetisation of Play and of our offers.
	FrameSamples = 160
	// NoTelephoneEvent marks a session or offer without RFC 4733 telephone-events.
	NoTelephoneEvent = -1
	// DefaultTelephoneEvent is the payload type our own offers use for telephone-event/8000.
	DefaultTelephoneEvent = 101
)

// EncodeFrame appends the encoding of pcm as e to dst.
func EncodeFrame(dst []byte, e Encoding, pcm []int16) []byte {
	table := &linearToUlaw
	if e == PCMA {
		table = &linearToAlaw
	}
	for _, s := range pcm {
		dst = append(dst, table[uint16(s)])
	}
	return dst
}

// DecodeFrame appends the linear PCM of payload, encoded as e, to dst.
func DecodeFrame(dst []int16, e Encoding, payload []byte) []int16 {
	table := &ulawToLinear
	if e == PCMA {
		table = &alawToLinear
	}
	for _, b := range payload {
		dst = append(dst, table[b])
	}
	return dst
}

// transcodeInPlace converts payload from one encoding to the other; same-encoding payloads
// are left alone.
func transcodeInPlace(payload []byte, from, to Encoding) {
	var table *[256]byte
	switch {
	case from == PCMU && to == PCMA:
		table = &ulawToAlaw
	case from == PCMA && to == PCMU:
		table = &alawToUlaw
	default:
		return
	}
	for i, b := range payload {
		payload[i] = table[b]
	}
}
