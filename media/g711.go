package media

// G.711 (ITU-T, 1988) companding, after the reference algorithms in Sun's public-domain
// g711.c: µ-law (PCMU) works on 14-bit magnitudes, A-law (PCMA) on 13-bit ones; both are
// scaled here to and from 16-bit linear PCM. Encoding goes through a 64 Ki-entry table and
// decoding through 256-entry tables so that the relay's per-sample cost is one lookup, and
// µ-law <-> A-law transcoding composes them into direct 256-entry tables (decode, then
// encode, exactly as going through linear PCM would).

var (
	ulawToLinear [256]int16
	alawToLinear [256]int16
	linearToUlaw [65536]byte
	linearToAlaw [65536]byte
	ulawToAlaw   [256]byte
	alawToUlaw   [256]byte
)

func init() {
	for i := range 256 {
		ulawToLinear[i] = decodeUlaw(byte(i))
		alawToLinear[i] = decodeAlaw(byte(i))
	}
	for i := range 65536 {
		s := int16(uint16(i))
		linearToUlaw[uint16(s)] = encodeUlaw(s)
		linearToAlaw[uint16(s)] = encodeAlaw(s)
	}
	for i := range 256 {
		ulawToAlaw[i] = linearToAlaw[uint16(ulawToLinear[i])]
		alawToUlaw[i] = linearToUlaw[uint16(alawToLinear[i])]
	}
}

// UlawEncode returns the µ-law (PCMU) byte for a 16-bit linear sample.
func UlawEncode(s int16) byte { return linearToUlaw[uint16(s)] }

// UlawDecode returns the 16-bit linear sample of a µ-law (PCMU) byte.
func UlawDecode(b byte) int16 { return ulawToLinear[b] }

// AlawEncode returns the A-law (PCMA) byte for a 16-bit linear sample.
func AlawEncode(s int16) byte { return linearToAlaw[uint16(s)] }

// AlawDecode returns the 16-bit linear sample of an A-law (PCMA) byte.
func AlawDecode(b byte) int16 { return alawToLinear[b] }

const (
	ulawBias = 0x84 // added to the magnitude so that every segment has the same shape
	ulawClip = 8159 // largest 14-bit magnitude µ-law represents
)

var (
	ulawSegEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

func segment(v int, ends *[8]int) int {
	for i, end := range ends {
		if v <= end {
			return i
		}
	}
	return 8
}

func encodeUlaw(s int16) byte {
	v := int(s) >> 2 // 14-bit
	mask := byte(0xFF)
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias >> 2
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|(v>>(seg+1))&0x0F) ^ mask
}

func decodeUlaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + ulawBias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

func encodeAlaw(s int16) byte {
	v := int(s) >> 3 // 13-bit
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0x0F
	} else {
		a |= (v >> seg) & 0x0F
	}
	return byte(a) ^ mask
}

func decodeAlaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
