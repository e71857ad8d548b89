package media

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// detect runs audio through a detector in 20 ms frames, as a session hears it, and returns
// the keys it names.
func detect(audio []int16) string {
	var d InbandDetector
	var got []byte
	for len(audio) > 0 {
		n := min(FrameSamples, len(audio))
		d.Feed(audio[:n], func(k Digit) { got = append(got, byte(k)) })
		audio = audio[n:]
	}
	return string(got)
}

// dtmf is a key's tone at level dBm0 per frequency for durMs, with silence around it.
func dtmf(key byte, level float64, durMs int) []int16 {
	out := make([]int16, ms(60))
	out = appendDTMF(out, Digit(key), level, ms(durMs))
	return append(out, make([]int16, ms(60))...)
}

// sines is the sum of sines of freqs, each at level dBm0, for durMs.
func sines(level float64, durMs int, freqs ...float64) []int16 {
	a := dBm0Peak * math.Pow(10, level/20)
	out := make([]int16, ms(durMs))
	for i := range out {
		var v float64
		for _, f := range freqs {
			v += a * math.Sin(2*math.Pi*f*float64(i)/SampleRate)
		}
		out[i] = clamp16(float32(v))
	}
	return out
}

// addNoise adds white Gaussian noise at level dBm0 (RMS), the same on every run.
func addNoise(audio []int16, level float64) []int16 {
	rms := dBm0Peak / math.Sqrt2 * math.Pow(10, level/20)
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, len(audio))
	for i, x := range audio {
		out[i] = clamp16(float32(float64(x) + rms*rng.NormFloat64()))
	}
	return out
}

// throughG711 encodes and decodes audio as a G.711 leg carries it.
func throughG711(audio []int16, e Encoding) []int16 {
	return DecodeFrame(nil, e, EncodeFrame(nil, e, audio))
}

// Every key, at -20 dBm0 per frequency under noise at -40 dBm0, and through µ-law and
// A-law, is one press of that key.
func TestInbandDetectsEveryKeyUnderNoise(t *testing.T) {
	for _, key := range []byte(dtmfKeypad) {
		audio := addNoise(dtmf(key, -20, 80), -40)
		for name, a := range map[string][]int16{"linear": audio,
			"PCMU": throughG711(audio, PCMU), "PCMA": throughG711(audio, PCMA)} {
			if got := detect(a); got != string(key) {
				t.Errorf("key %c (%s): detected %q", key, name, got)
			}
		}
	}
}

// The level rule: a key is heard from 0 to -30 dBm0 per frequency, not at -36 dBm0.
func TestInbandLevelLimits(t *testing.T) {
	for _, level := range []float64{0, -10, -25, -30} {
		if got := detect(dtmf('5', level, 80)); got != "5" {
			t.Errorf("5 at %v dBm0: detected %q, want 5", level, got)
		}
	}
	if got := detect(dtmf('5', -36, 200)); got != "" {
		t.Errorf("5 at -36 dBm0: detected %q, want nothing", got)
	}
}

// The duration rule: 40 ms of tone is a press, 20 ms is not (Q.24: 40 ms must be accepted).
func TestInbandMinimumDuration(t *testing.T) {
	for offset := range 8 { // wherever the tone falls in the 102-sample blocks
		pad := make([]int16, offset*13)
		if got := detect(append(pad, dtmf('7', -20, 40)...)); got != "7" {
			t.Errorf("40 ms of 7 at offset %d: detected %q", offset*13, got)
		}
		if got := detect(append(pad, dtmf('7', -20, 20)...)); got != "" {
			t.Errorf("20 ms of 7 at offset %d: detected %q, want nothing", offset*13, got)
		}
	}
}

// A 2 s press under noise is one digit, and so is one broken for 10 ms (Q.24: a break of
// 10 ms is not a pause), wherever the break falls.
func TestInbandLongPressIsOneDigit(t *testing.T) {
	if got := detect(addNoise(dtmf('#', -20, 2000), -40)); got != "#" {
		t.Errorf("a 2 s press of #: detected %q", got)
	}
	for offset := range 8 {
		audio := appendDTMF(make([]int16, offset*13), '6', -20, ms(200))
		audio = append(audio, make([]int16, ms(10))...)
		audio = appendDTMF(audio, '6', -20, ms(200))
		if got := detect(audio); got != "6" {
			t.Errorf("6 broken for 10 ms (offset %d): detected %q, want one 6", offset*13, got)
		}
	}
}

// Keys dialled fast (50 ms on, 50 ms off, and 40/40, Q.24's minimum) are each one digit, and
// a repeated key with a pause between is two.
func TestInbandFastSequence(t *testing.T) {
	for _, onOff := range []int{50, 40} {
		var audio []int16
		for _, k := range []byte("123#99") {
			audio = appendDTMF(audio, Digit(k), -20, ms(onOff))
			audio = append(audio, make([]int16, ms(onOff))...)
		}
		if got := detect(addNoise(audio, -45)); got != "123#99" {
			t.Errorf("%d ms on/off: detected %q, want 123#99", onOff, got)
		}
	}
	// One key straight into another, no pause: both.
	audio := appendDTMF(appendDTMF(nil, '4', -20, ms(100)), '8', -20, ms(100))
	if got := detect(audio); got != "48" {
		t.Errorf("4 then 8 without a pause: detected %q", got)
	}
}

// The twist rule: the low group up to 8 dB louder than the high, the high up to 4 dB
// louder than the low; beyond, no key.
func TestInbandTwist(t *testing.T) {
	for _, c := range []struct {
		low, high float64
		want      string
	}{
		{-14, -20, "1"}, // low 6 dB louder
		{-20, -17, "1"}, // high 3 dB louder
		{-10, -20, ""},  // low 10 dB louder
		{-20, -14, ""},  // high 6 dB louder
	} {
		audio := append(sines(c.low, 100, 697), make([]int16, ms(60))...)
		high := sines(c.high, 100, 1209)
		for i := range high {
			audio[i] += high[i]
		}
		if got := detect(audio); got != c.want {
			t.Errorf("697 Hz at %v dBm0, 1209 Hz at %v: detected %q, want %q", c.low, c.high, got, c.want)
		}
	}
}

// What is not a key gives none: a sweep across the voice band, the call progress tones,
// chords of frequencies near but between DTMF's, a single DTMF frequency, and voice-like
// sounds whose harmonics pass through DTMF frequencies.
func TestInbandIgnoresWhatIsNotAKey(t *testing.T) {
	sweep := make([]int16, ms(3000))
	var phase float64
	for i := range sweep {
		f := 300 + 3100*float64(i)/float64(len(sweep))
		phase += 2 * math.Pi * f / SampleRate
		sweep[i] = int16(8000 * math.Sin(phase))
	}
	cases := map[string][]int16{
		"sweep 300-3400 Hz":                    sweep,
		"dial tone 350+440 Hz":                 sines(-13, 1000, 350, 440),
		"ringback 440+480 Hz":                  sines(-13, 1000, 440, 480),
		"busy 480+620 Hz":                      sines(-13, 1000, 480, 620),
		"chord between keys 733+1270 Hz":       sines(-10, 1000, 733, 1270),
		"chord 650+1100 Hz":                    sines(-10, 1000, 650, 1100),
		"697 Hz alone":                         sines(-10, 1000, 697),
		"keys 2 and 5 at once 697+770+1336 Hz": sines(-10, 1000, 697, 770, 1336),
		"two low-group frequencies 697+852 Hz": sines(-10, 1000, 697, 852),
		"voice with harmonics on 697 and 1220": voiceLike(174.25, 2000),
		"voice gliding 100-250 Hz":             voiceGlide(100, 250, 3000),
	}
	for name, audio := range cases {
		if got := detect(audio); got != "" {
			t.Errorf("%s: detected %q, want nothing", name, got)
		}
		if got := detect(throughG711(audio, PCMU)); got != "" {
			t.Errorf("%s (PCMU): detected %q, want nothing", name, got)
		}
	}
}

// voiceLike is a vowel-like sound: a fundamental f0 and its harmonics up to 3.4 kHz, shaped
// by two formants at 700 and 1220 Hz (so that harmonics 4 and 7 sit on DTMF's 697 Hz and
// near 1209 Hz), with a little vibrato.
func voiceLike(f0 float64, durMs int) []int16 {
	out := make([]int16, ms(durMs))
	phases := make([]float64, int(3400/f0))
	for i := range out {
		t := float64(i) / SampleRate
		f := f0 * (1 + 0.01*math.Sin(2*math.Pi*5*t))
		var v float64
		for h := range phases {
			fh := f * float64(h+1)
			phases[h] += 2 * math.Pi * fh / SampleRate
			gain := formant(fh, 700, 120) + 0.7*formant(fh, 1220, 150) + 0.15
			v += gain * math.Sin(phases[h]) / float64(h+1)
		}
		out[i] = clamp16(float32(3000 * v))
	}
	return out
}

// voiceGlide is voiceLike with the fundamental gliding from f0 to f1.
func voiceGlide(f0, f1 float64, durMs int) []int16 {
	out := make([]int16, ms(durMs))
	phases := make([]float64, int(3400/f0))
	for i := range out {
		f := f0 + (f1-f0)*float64(i)/float64(len(out))
		var v float64
		for h := range phases {
			fh := f * float64(h+1)
			if fh > 3400 {
				continue
			}
			phases[h] += 2 * math.Pi * fh / SampleRate
			gain := formant(fh, 700, 120) + 0.7*formant(fh, 1220, 150) + 0.15
			v += gain * math.Sin(phases[h]) / float64(h+1)
		}
		out[i] = clamp16(float32(3000 * v))
	}
	return out
}

func formant(f, centre, width float64) float64 {
	d := (f - centre) / width
	return 1 / (1 + d*d)
}

// Real speech (espeak-ng, counting and a sentence) gives no key.
func TestInbandIgnoresSpeech(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed")
	}
	for _, voice := range []string{"en", "en+f3", "de", "fr"} {
		path := filepath.Join(t.TempDir(), "speech.wav")
		out, err := exec.Command("espeak-ng", "-v", voice, "-w", path,
			"One, two, three, four, five. Please hold the line, your call is important to us. "+
				"Hello? Yes, this is the sales department, how may I help you today?").CombinedOutput()
		if err != nil {
			t.Fatalf("espeak-ng: %v: %s", err, out)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		speech, err := ReadWAV(f, time.Minute)
		f.Close()
		if err != nil {
			t.Fatalf("reading espeak-ng's WAV: %v", err)
		}
		if got := detect(throughG711(speech, PCMU)); got != "" {
			t.Errorf("speech (%s, %.1f s): detected %q, want nothing", voice, float64(len(speech))/SampleRate, got)
		}
	}
}

// DTMFTones is what the detector hears as the same keys (park announces slots with it).
func TestDTMFTonesAreDetected(t *testing.T) {
	if got := detect(DTMFTones("0123456789*#ABCD")); got != "0123456789*#ABCD" {
		t.Errorf("DTMFTones: detected %q", got)
	}
	if got := detect(DTMFTones("7x1")); got != "71" {
		t.Errorf("DTMFTones(%q): detected %q, want 71 (non-keys skipped)", "7x1", got)
	}
}

// BenchmarkInbandDetector is the detector's cost per 20 ms frame of one leg:
// go test ./media -run XXX -bench InbandDetector
func BenchmarkInbandDetector(b *testing.B) {
	audio := addNoise(DTMFTones("1234567890"), -40)
	var d InbandDetector
	for i := 0; b.Loop(); i++ {
		off := (i * FrameSamples) % (len(audio) - FrameSamples)
		d.Feed(audio[off:off+FrameSamples], func(Digit) {})
	}
}
