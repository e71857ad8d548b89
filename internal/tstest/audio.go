package tstest

import (
	"encoding/binary"
	"math"
)

// WAV is a 16-bit PCM RIFF WAVE file of the interleaved samples at rate with chans
// channels: the file a user would upload, made in the test.
func WAV(rate, chans int, samples []int16) []byte {
	data := len(samples) * 2
	b := make([]byte, 0, 44+data)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, uint16(chans))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*chans*2))
	b = le.AppendUint16(b, uint16(chans*2))
	b = le.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(data))
	for _, s := range samples {
		b = le.AppendUint16(b, uint16(s))
	}
	return b
}

// Sine is n samples at rate of the sum of sine waves of freqs (Hz), each of amplitude amp.
func Sine(rate, n int, amp float64, freqs ...float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
		out[i] = int16(v)
	}
	return out
}

// Stereo is the mono samples on two channels, interleaved.
func Stereo(mono []int16) []int16 {
	out := make([]int16, 0, 2*len(mono))
	for _, s := range mono {
		out = append(out, s, s)
	}
	return out
}
