// Package audiotest holds the audio checks the tests of calls share: speech from
// espeak-ng, and whether samples hold speech, a tone, or silence.
package audiotest

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"switchboard/media"
)

// Speech is espeak-ng saying text, at 8 kHz as a phone sends it.
func Speech(t *testing.T, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("espeak-ng is not installed (Debian package espeak-ng)")
		}
		t.Skip("espeak-ng is not installed")
	}
	out, err := exec.Command("espeak-ng", "--stdout", text).Output()
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := media.ReadWAV(bytes.NewReader(out), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// Power is the mean power of samples; TonePart is the share of it in freq (a pure sine
// gives about 0.5, speech a few hundredths at most).
func Power(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return sum / float64(max(1, len(s)))
}

// TonePart is the share of s's power in freq, measured in 50 ms blocks: a recording's tone can jump in phase where a packet came
// late or was lost (the gap is silence), and one Goertzel over the whole signal would let
// the parts before and after the jump cancel out.
func TonePart(s []int16, freq float64) float64 {
	p := Power(s)
	if p == 0 {
		return 0
	}
	const block = 400
	var tone float64
	for i := 0; i < len(s); i += block {
		b := s[i:min(i+block, len(s))]
		tone += media.Goertzel(b, freq) * float64(len(b))
	}
	return tone / float64(len(s)) / p
}

// Audible cuts the silence the recording has before and after the parties spoke.
func Audible(s []int16) []int16 {
	first, last := -1, -1
	for i, v := range s {
		if v > 300 || v < -300 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	return s[first : last+1]
}

// SpeechLike reports whether pcm holds speech rather than silence or one tone: at least
// half a second of frames with energy, whose loudest band moves around.
func SpeechLike(pcm []int16) bool {
	const frame = 160
	loud := 0
	bands := map[int]bool{}
	for i := 0; i+frame <= len(pcm); i += frame {
		f := pcm[i : i+frame]
		var sum float64
		for _, v := range f {
			sum += float64(v) * float64(v)
		}
		if math.Sqrt(sum/frame) < 300 {
			continue
		}
		loud++
		best, bestP := 0, 0.0
		for b, hz := range []float64{250, 500, 750, 1000, 1500, 2000, 2500, 3000} {
			if p := media.Goertzel(f, hz); p > bestP {
				best, bestP = b, p
			}
		}
		bands[best] = true
	}
	return loud >= 25 && len(bands) >= 3
}

// StereoWAV checks that b is a recording as a player reads it — a 16-bit stereo 8 kHz WAV
// whose header's data size is the file's — and splits its channels.
func StereoWAV(t testing.TB, b []byte) (left, right []int16) {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < media.WAVHeaderSize || string(b[0:4]) != "RIFF" || le.Uint16(b[22:]) != 2 ||
		le.Uint32(b[24:]) != 8000 || le.Uint16(b[34:]) != 16 {
		t.Fatalf("the recording is not a 16-bit stereo 8 kHz WAV")
	}
	if n := le.Uint32(b[40:]); int(n) != len(b)-media.WAVHeaderSize || le.Uint32(b[4:]) != n+36 {
		t.Fatalf("WAV sizes: data %d, RIFF %d, file %d bytes", n, le.Uint32(b[4:]), len(b))
	}
	for i := media.WAVHeaderSize; i+4 <= len(b); i += 4 {
		left = append(left, int16(le.Uint16(b[i:])))
		right = append(right, int16(le.Uint16(b[i+2:])))
	}
	return left, right
}
