package media

import (
	"io"
	"testing"
)

func goertzel(samples []int16, freq float64) float64 { return Goertzel(samples, freq) }

func frames(t *testing.T, src Source, n int) [][]int16 {
	t.Helper()
	out := make([][]int16, n)
	for i := range out {
		out[i] = make([]int16, FrameSamples)
		if err := src.ReadFrame(out[i]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	return out
}

func TestRingbackIs440And480HzTwoSecondsOnFourOff(t *testing.T) {
	fs := frames(t, Ringback(), 2*300) // two 6 s cycles of 50 frames a second
	for i, f := range fs {
		on := i%300 < 100
		if on && i%10 == 0 {
			// 200 ms windows: 20 ms alone cannot tell 440 Hz from 480 Hz
			var w []int16
			for _, g := range fs[i : i+10] {
				w = append(w, g...)
			}
			p440, p480, p620 := goertzel(w, 440), goertzel(w, 480), goertzel(w, 620)
			if p440 < 100*p620 || p480 < 100*p620 || p440 < 1e5 {
				t.Fatalf("frames %d-%d (tone on): 440 Hz %.0f, 480 Hz %.0f, 620 Hz %.0f", i, i+9, p440, p480, p620)
			}
		}
		if !on {
			for _, v := range f {
				if v != 0 {
					t.Fatalf("frame %d should be silence (4 s off)", i)
				}
			}
		}
	}
}

func TestHoldMusicIsAudibleAndRepeats(t *testing.T) {
	const cycle = 4*25 + 50 // four 500 ms notes and 1 s of rest, in frames
	fs := frames(t, HoldMusic(), 2*cycle)
	notes := []float64{523.25, 659.25, 783.99, 659.25}
	for n, f := range notes {
		frame := fs[n*25+5] // inside the n-th note
		if p := goertzel(frame, f); p < 1e5 || p < 100*goertzel(frame, 1000) {
			t.Fatalf("note %d: %.0f Hz not dominant (power %.0f)", n, f, p)
		}
	}
	for i := range cycle {
		for j := range FrameSamples {
			if fs[i][j] != fs[i+cycle][j] {
				t.Fatalf("frame %d differs from the same frame a cycle later", i)
			}
		}
	}
}

func TestPCMSourceEndsWithEOF(t *testing.T) {
	src := PCM(make([]int16, FrameSamples+1))
	f := make([]int16, FrameSamples)
	for i := range 2 {
		if err := src.ReadFrame(f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := src.ReadFrame(f); err != io.EOF {
		t.Fatalf("after the samples: %v, want io.EOF", err)
	}
}
