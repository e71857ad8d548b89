package media

import "math"

// Goertzel returns the power of freq (Hz) in 8 kHz samples, normalised by their count, so
// that windows of different lengths compare: a full-scale sine gives about 2.7e8, silence 0.
// It is how tests (and, one day, call progress detection) tell which tone is heard; a
// window of 200 ms (1600 samples) separates tones 10 Hz apart.
func Goertzel(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - coeff*s1*s2) / float64(len(samples)*len(samples))
}
