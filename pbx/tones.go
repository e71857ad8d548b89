package pbx

import (
	"math"

	"switchboard/media"
)

// toneStep is one part of a tone sequence: hz 0 is silence.
type toneStep struct{ hz, ms int }

// tones renders a tone sequence as 8 kHz PCM at amplitude amp: the tones that stand in for
// prompts where none can be read, and that confirm feature codes. Each step starts at phase
// zero.
func tones(amp float64, steps ...toneStep) []int16 {
	var out []int16
	for _, st := range steps {
		n := st.ms * media.SampleRate / 1000
		for i := range n {
			v := 0.0
			if st.hz > 0 {
				v = amp * math.Sin(2*math.Pi*float64(st.hz)*float64(i)/media.SampleRate)
			}
			out = append(out, int16(v))
		}
	}
	return out
}

// silence stands for a prompt that has no tone: nothing is played where it cannot be read.
func silence() []int16 { return nil }
