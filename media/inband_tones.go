package media

import "math"

// DTMF frequencies (ITU-T Q.23): a key sends one of the low (row) group and one of the
// high (column) group at once.
var (
	dtmfLow  = [4]float64{697, 770, 852, 941}
	dtmfHigh = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfKeypad is the keys by row and column, row after row.
const dtmfKeypad = "123A456B789C*0#D"

// dtmfPair returns the low and high frequencies of a key, false for a byte that is not one.
func dtmfPair(d Digit) (low, high float64, ok bool) {
	for i := range len(dtmfKeypad) {
		if dtmfKeypad[i] == byte(d) {
			return dtmfLow[i/4], dtmfHigh[i%4], true
		}
	}
	return 0, 0, false
}

// dBm0Peak is the peak, in 16-bit linear units, of a sine at 0 dBm0 (G.711 µ-law's
// digital milliwatt: full scale is +3.17 dBm0).
const dBm0Peak = 22656

// dtmfToneLevel is the level of each frequency DTMFTones sends, in dBm0: about what
// phones send (Q.24 asks receivers to accept 0 to -25 dBm0 per frequency).
const dtmfToneLevel = -15

// DTMFTones renders digits as in-band DTMF tones (ITU-T Q.23): after 300 ms of silence,
// 150 ms of each key's two frequencies (each at -15 dBm0) and 100 ms of silence after it,
// as a phone dials. Bytes that are not keys (0-9, *, #, A-D) are skipped. Park announces
// its slot this way; tests dial with it.
func DTMFTones(digits string) []int16 {
	out := make([]int16, ms(300))
	for i := range len(digits) {
		if _, _, ok := dtmfPair(Digit(digits[i])); !ok {
			continue
		}
		out = appendDTMF(out, Digit(digits[i]), dtmfToneLevel, ms(150))
		out = append(out, make([]int16, ms(100))...)
	}
	return out
}

// appendDTMF appends n samples of key d's tone, each frequency at level dBm0 (nothing for
// a byte that is not a key).
func appendDTMF(out []int16, d Digit, level float64, n int) []int16 {
	low, high, ok := dtmfPair(d)
	if !ok {
		return out
	}
	a := dBm0Peak * math.Pow(10, level/20)
	for i := range n {
		t := float64(i) / SampleRate
		out = append(out, clamp16(float32(a*(math.Sin(2*math.Pi*low*t)+math.Sin(2*math.Pi*high*t)))))
	}
	return out
}
