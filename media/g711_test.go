package media

import (
	"math"
	"testing"
)

// Reference points of ITU-T G.711 as the Sun reference code decodes them.
func TestG711KnownValues(t *testing.T) {
	for _, c := range []struct {
		law  Encoding
		code byte
		want int16
	}{
		{PCMU, 0xFF, 0}, {PCMU, 0x7F, 0}, // µ-law's two zeros
		{PCMU, 0x80, 32124}, {PCMU, 0x00, -32124}, // full scale
		{PCMU, 0xFE, 8}, {PCMU, 0x7E, -8}, // the smallest magnitudes
		{PCMA, 0xD5, 8}, {PCMA, 0x55, -8}, // A-law's smallest magnitudes
		{PCMA, 0xAA, 32256}, {PCMA, 0x2A, -32256}, // full scale
	} {
		got := UlawDecode(c.code)
		if c.law == PCMA {
			got = AlawDecode(c.code)
		}
		if got != c.want {
			t.Errorf("%s decode %#02x = %d, want %d", c.law, c.code, got, c.want)
		}
	}
	if UlawEncode(0) != 0xFF || AlawEncode(0) != 0xD5 {
		t.Errorf("silence encodes as µ %#02x, A %#02x; want 0xFF, 0xD5", UlawEncode(0), AlawEncode(0))
	}
	if UlawEncode(32767) != 0x80 || UlawEncode(-32768) != 0x00 || AlawEncode(32767) != 0xAA || AlawEncode(-32768) != 0x2A {
		t.Error("full-scale samples do not clip to the largest code words")
	}
}

// Every code word decodes to a value that encodes back to it (µ-law's negative zero,
// 0x7F, has the same value as 0xFF and encodes to that one).
func TestG711CodeWordsRoundTrip(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got := UlawEncode(UlawDecode(b)); got != b && b != 0x7F {
			t.Errorf("µ-law %#02x -> %d -> %#02x", b, UlawDecode(b), got)
		}
		if got := AlawEncode(AlawDecode(b)); got != b {
			t.Errorf("A-law %#02x -> %d -> %#02x", b, AlawDecode(b), got)
		}
	}
}

// Quantisation error never exceeds half a step of the sample's segment (plus clipping at
// the ends of the range), and the laws are monotonic.
func TestG711QuantisationError(t *testing.T) {
	for v := -32768; v <= 32767; v++ {
		s := int16(v)
		mag := math.Abs(float64(v))
		// A segment's step is 1/16 of its lower bound, so half a step is at most 1/32 of
		// the magnitude, plus the finest step (8 for µ-law, 16 for A-law, in 16-bit units).
		if d := math.Abs(float64(UlawDecode(UlawEncode(s))) - float64(v)); d > mag/32+8 && mag < 32124 {
			t.Fatalf("µ-law error %v at %d", d, v)
		}
		if d := math.Abs(float64(AlawDecode(AlawEncode(s))) - float64(v)); d > mag/32+16 && mag < 32256 {
			t.Fatalf("A-law error %v at %d", d, v)
		}
		if v > -32768 {
			prev := int16(v - 1)
			if UlawDecode(UlawEncode(prev)) > UlawDecode(UlawEncode(s)) || AlawDecode(AlawEncode(prev)) > AlawDecode(AlawEncode(s)) {
				t.Fatalf("not monotonic at %d", v)
			}
		}
	}
}

// Transcoding tables equal decoding one law and encoding the other.
func TestTranscodeGoesThroughLinearPCM(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	u2a := append([]byte(nil), all...)
	transcodeInPlace(u2a, PCMU, PCMA)
	a2u := append([]byte(nil), all...)
	transcodeInPlace(a2u, PCMA, PCMU)
	for i := range 256 {
		if u2a[i] != AlawEncode(UlawDecode(byte(i))) {
			t.Fatalf("µ->A %#02x: %#02x", i, u2a[i])
		}
		if a2u[i] != UlawEncode(AlawDecode(byte(i))) {
			t.Fatalf("A->µ %#02x: %#02x", i, a2u[i])
		}
	}
	same := append([]byte(nil), all...)
	transcodeInPlace(same, PCMU, PCMU)
	if string(same) != string(all) {
		t.Fatal("same-law transcoding changed the payload")
	}
}
