package prompt

import (
	"math"

	"switchboard/media"
)

type beep struct {
	freqs []float64 // none = silence
	ms    int
}

// tonePatterns are the fallback patterns by class (see the Tone constants); digits are
// built from their DTMF pair.
var tonePatterns = map[string][]beep{
	ToneInfo:    {{[]float64{440}, 300}},
	ToneError:   {{[]float64{480, 620}, 150}, {nil, 100}, {[]float64{480, 620}, 150}, {nil, 100}, {[]float64{480, 620}, 150}},
	ToneInput:   {{[]float64{660}, 150}, {nil, 50}, {[]float64{880}, 150}},
	ToneConfirm: {{[]float64{523}, 120}, {[]float64{659}, 120}, {[]float64{784}, 200}},
	ToneGoodbye: {{[]float64{784}, 120}, {[]float64{659}, 120}, {[]float64{523}, 200}},
	ToneJoin:    {{[]float64{440}, 150}, {[]float64{660}, 200}},
	ToneLeave:   {{[]float64{660}, 150}, {[]float64{440}, 200}},
}

// dtmf holds the low and high frequency of each digit (ITU-T Q.23).
var dtmf = map[byte][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477},
	'0': {941, 1336},
}

// Tones is the fallback audio of the system prompt: its class's pattern (for a digit, the
// digit's DTMF tone) followed by 200 ms of silence, at 8 kHz.
func Tones(p *SystemPrompt) []int16 {
	pattern := tonePatterns[p.Tone]
	if p.Tone == ToneDigit {
		f := dtmf[p.Name[len(p.Name)-1]]
		pattern = []beep{{f[:], 200}}
	}
	if pattern == nil {
		pattern = tonePatterns[ToneInfo]
	}
	pattern = append(pattern[:len(pattern):len(pattern)], beep{nil, 200})
	var out []int16
	for _, b := range pattern {
		n := b.ms * media.SampleRate / 1000
		for i := 0; i < n; i++ {
			var v float64
			for _, f := range b.freqs {
				v += 4000 * math.Sin(2*math.Pi*f*float64(i)/media.SampleRate)
			}
			out = append(out, int16(v))
		}
	}
	return out
}
