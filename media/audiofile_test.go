package media

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"switchboard/internal/tstest"
)

// levels returns the Goertzel power of each frequency over the middle of the samples.
func levels(samples []int16, freqs ...float64) []float64 {
	mid := samples[len(samples)/4 : 3*len(samples)/4]
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = Goertzel(mid, f)
	}
	return out
}

// A 44.1 kHz stereo WAV becomes 8 kHz mono of the same length; its 1 kHz tone is kept, and a
// 5 kHz tone in it, above what 8 kHz audio can carry, is filtered out instead of folding back
// to 3 kHz (5 kHz sampled at 8 kHz aliases to 3 kHz).
func TestReadWAVResamplesTo8kHzWithoutAliasing(t *testing.T) {
	const rate = 44100
	in := tstest.WAV(rate, 2, tstest.Stereo(tstest.Sine(rate, rate, 6000, 1000, 5000)))
	got, err := ReadWAV(bytes.NewReader(in), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < SampleRate-2 || len(got) > SampleRate+2 {
		t.Fatalf("1 s of audio became %d samples, want %d", len(got), SampleRate)
	}
	l := levels(got, 1000, 3000)
	if l[0] < 1e6 || l[1]*1000 > l[0] {
		t.Fatalf("1 kHz power %.0f, 3 kHz (the alias of 5 kHz) %.0f: want the tone kept and the alias 30 dB under it", l[0], l[1])
	}
}

// 8 kHz mono passes unchanged; 8-bit and µ-law WAVs decode too.
func TestReadWAVFormats(t *testing.T) {
	tone := tstest.Sine(SampleRate, 1600, 5000, 1000)
	got, err := ReadWAV(bytes.NewReader(tstest.WAV(SampleRate, 1, tone)), time.Minute)
	if err != nil || !slicesEqual(got, tone) {
		t.Fatalf("8 kHz mono 16-bit changed on the way (err %v)", err)
	}

	ulaw := tstest.WAV(SampleRate, 1, nil)
	ulaw[20] = wavULaw                           // format tag
	copy(ulaw[32:], []byte{1, 0, 8, 0})          // block align 1, 8 bits
	for i, b := range []byte{0x40, 0x1f, 0, 0} { // byte rate 8000
		ulaw[28+i] = b
	}
	body := EncodeFrame(nil, PCMU, tone)
	ulaw = append(ulaw[:40], byte(len(body)), byte(len(body)>>8), 0, 0)
	ulaw = append(ulaw, body...)
	got, err = ReadWAV(bytes.NewReader(ulaw), time.Minute)
	if err != nil {
		t.Fatalf("µ-law WAV: %v", err)
	}
	if l := levels(got, 1000, 2000); l[0] < 1e6 || l[1]*100 > l[0] {
		t.Fatalf("µ-law WAV: 1 kHz %.0f, 2 kHz %.0f", l[0], l[1])
	}
}

func slicesEqual(a, b []int16) bool { return bytes.Equal(int16Bytes(a), int16Bytes(b)) }

func int16Bytes(s []int16) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, v := range s {
		b = append(b, byte(v), byte(v>>8))
	}
	return b
}

// testdata/tone700.mp3 (1 s of 700 Hz, 44.1 kHz mono, made with lamejs) decodes to 1 s of
// 8 kHz audio with the tone in it.
func TestReadMP3(t *testing.T) {
	f, err := os.Open("testdata/tone700.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadMP3(f, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < SampleRate*9/10 || len(got) > SampleRate*12/10 {
		t.Fatalf("1 s of MP3 became %d samples", len(got))
	}
	if l := levels(got, 700, 1000); l[0] < 1e6 || l[1]*100 > l[0] {
		t.Fatalf("700 Hz %.0f, 1000 Hz %.0f: the tone is not there", l[0], l[1])
	}
}

// Files that are not audio, truncated ones and too long ones are refused with the errors
// the API turns into answers; nothing panics.
func TestReadAudioRefusesBadFiles(t *testing.T) {
	wav := tstest.WAV(SampleRate, 1, tstest.Sine(SampleRate, 3*SampleRate, 5000, 440))
	mp3, err := os.ReadFile("testdata/tone700.mp3")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		read func() error
		want error
	}{
		"text as WAV":      {func() error { _, err := ReadWAV(bytes.NewReader([]byte("hello, not audio")), time.Minute); return err }, ErrBadAudio},
		"WAV header only":  {func() error { _, err := ReadWAV(bytes.NewReader(wav[:44]), time.Minute); return err }, ErrBadAudio},
		"truncated header": {func() error { _, err := ReadWAV(bytes.NewReader(wav[:30]), time.Minute); return err }, ErrBadAudio},
		"WAV too long":     {func() error { _, err := ReadWAV(bytes.NewReader(wav), 2*time.Second); return err }, ErrAudioTooLong},
		"text as MP3":      {func() error { _, err := ReadMP3(bytes.NewReader([]byte("hello, not audio")), time.Minute); return err }, ErrBadAudio},
		"WAV as MP3":       {func() error { _, err := ReadMP3(bytes.NewReader(wav), time.Minute); return err }, ErrBadAudio},
		"MP3 too long":     {func() error { _, err := ReadMP3(bytes.NewReader(mp3), 500*time.Millisecond); return err }, ErrAudioTooLong},
	} {
		if err := tc.read(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
