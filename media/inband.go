package media

import "math"

// In-band DTMF detection, in the manner of ITU-T Q.24 receivers: the audio is cut into
// blocks of 102 samples (12.75 ms) and each block's power is measured at the eight DTMF
// frequencies with Goertzel filters. A block names a key when the strongest low-group and
// high-group frequencies are both loud enough, close enough in level (twist), each well
// above the other frequencies of its group, together carry most of the block's energy, and
// the tone fills the block (each quarter of it carries its share): a single whistle, a
// sweep, a chord of other frequencies, a voice with many harmonics or the edge of a tone
// fails one of these.
//
// A key is pressed when two blocks in a row name it: a tone of 38 ms or more is always
// seen, one of 21 ms or less never (Q.24: operate at 40 ms, not at 20). It is released
// after three blocks in a row that do not name it: a pause of 40 ms always separates two
// presses, a break of 10 ms or less never splits one. One press is one digit however long
// it lasts; a key followed by another without a pause is two.
//
// The 102-sample block resolves frequencies about 80 Hz apart, enough for DTMF's groups
// (73 Hz between the closest) but not for all of Q.24's off-frequency limits: a tone a few
// percent off a DTMF frequency, away from its neighbour, is taken as it.
const (
	inbandBlock = 102

	// inbandMinLevel: quieter frequencies are not keys, in dBm0 (Q.24 asks for operation
	// down to -25 dBm0 per frequency).
	inbandMinLevel = -33
	// Twist: the low group may be up to 8 dB louder than the high group (lines lose more of
	// the high frequencies), the high group up to 4 dB louder than the low (phones send it
	// about 2 dB louder).
	inbandMaxLowOverHigh = 8
	inbandMaxHighOverLow = 4
	// inbandRelativePeak: each frequency of a key is this many dB above the other
	// frequencies of its group.
	inbandRelativePeak = 8
	// inbandMinShare is the part of the block's energy the key's two frequencies carry at
	// least: a pure key carries all of it (1.0); white noise 12 dB under the tone still
	// leaves over 0.9, speech much less.
	inbandMinShare = 0.6
	// inbandMinFill: each quarter of a block carries at least this part of the block's
	// mean energy, so that a block only partly filled by a tone names no key.
	inbandMinFill = 0.5
	// inbandPressBlocks and inbandReleaseBlocks are the runs of blocks that press and
	// release a key.
	inbandPressBlocks   = 2
	inbandReleaseBlocks = 3
)

// inbandCoeffs are the Goertzel coefficients of the 8 DTMF frequencies (low group first).
var inbandCoeffs = func() (c [8]float64) {
	for i, f := range append(dtmfLow[:], dtmfHigh[:]...) {
		c[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	return c
}()

// inbandQuarterSize is the number of samples in each quarter of a block, as classifyBlock
// cuts it.
var inbandQuarterSize = func() (n [4]float64) {
	for i := range inbandBlock {
		n[i*4/inbandBlock]++
	}
	return n
}()

// inbandMinPower is inbandMinLevel as a normalised Goertzel power: (amplitude/2)².
var inbandMinPower = math.Pow(dBm0Peak*math.Pow(10, inbandMinLevel/20.0)/2, 2)

// The dB limits as power ratios.
var (
	inbandLowOverHigh = dB(inbandMaxLowOverHigh)
	inbandHighOverLow = dB(inbandMaxHighOverLow)
	inbandPeakRatio   = dB(inbandRelativePeak)
)

func dB(v float64) float64 { return math.Pow(10, v/10) }

// InbandDetector finds DTMF key presses in 8 kHz audio. Feed it the audio in order, in
// pieces of any size. It is not safe for concurrent use.
type InbandDetector struct {
	block     [inbandBlock]int16
	n         int   // samples in block
	held      Digit // the key pressed now; 0 = none
	candidate Digit // the key the last blocks named, not (yet) held
	hits      int   // blocks in a row that named candidate
	misses    int   // blocks in a row that did not name held
}

// Feed analyses samples and calls pressed once for each key press recognised in them
// (about 40 ms into its tone).
func (d *InbandDetector) Feed(samples []int16, pressed func(Digit)) {
	d.feed(samples, pressed, func(Digit) {})
}

// feed is Feed with the release of each key reported too.
func (d *InbandDetector) feed(samples []int16, pressed, released func(Digit)) {
	for len(samples) > 0 {
		k := copy(d.block[d.n:], samples)
		d.n += k
		samples = samples[k:]
		if d.n < inbandBlock {
			return
		}
		d.n = 0
		d.step(classifyBlock(&d.block), pressed, released)
	}
}

// step advances the press/release state by one block that named key (0: none).
func (d *InbandDetector) step(key Digit, pressed, released func(Digit)) {
	switch {
	case key != 0 && key == d.held:
		d.candidate, d.hits, d.misses = 0, 0, 0
		return
	case key == 0:
		d.candidate, d.hits = 0, 0
	case key == d.candidate:
		d.hits++
	default:
		d.candidate, d.hits = key, 1
	}
	d.misses++
	if d.hits >= inbandPressBlocks {
		if d.held != 0 {
			released(d.held)
		}
		d.held, d.candidate, d.hits, d.misses = key, 0, 0, 0
		pressed(key)
		return
	}
	if d.held != 0 && d.misses >= inbandReleaseBlocks {
		released(d.held)
		d.held, d.misses = 0, 0
	}
}

// classifyBlock returns the key a block's tone is, or 0.
func classifyBlock(b *[inbandBlock]int16) Digit {
	var power [8]float64
	var quarter [4]float64 // energy of each quarter of the block
	for i, x := range b {
		v := float64(x)
		quarter[i*4/inbandBlock] += v * v
	}
	energy := quarter[0] + quarter[1] + quarter[2] + quarter[3]
	if energy == 0 {
		return 0
	}
	// The eight filters run side by side in one pass: independent chains the CPU overlaps.
	c := &inbandCoeffs
	var s1, s2 [8]float64
	for _, x := range b {
		v := float64(x)
		s1[0], s2[0] = v+c[0]*s1[0]-s2[0], s1[0]
		s1[1], s2[1] = v+c[1]*s1[1]-s2[1], s1[1]
		s1[2], s2[2] = v+c[2]*s1[2]-s2[2], s1[2]
		s1[3], s2[3] = v+c[3]*s1[3]-s2[3], s1[3]
		s1[4], s2[4] = v+c[4]*s1[4]-s2[4], s1[4]
		s1[5], s2[5] = v+c[5]*s1[5]-s2[5], s1[5]
		s1[6], s2[6] = v+c[6]*s1[6]-s2[6], s1[6]
		s1[7], s2[7] = v+c[7]*s1[7]-s2[7], s1[7]
	}
	for i := range power {
		power[i] = (s1[i]*s1[i] + s2[i]*s2[i] - c[i]*s1[i]*s2[i]) / (inbandBlock * inbandBlock)
	}
	row, col := strongest(power[:4]), strongest(power[4:])
	lo, hi := power[row], power[4+col]
	switch {
	case lo < inbandMinPower || hi < inbandMinPower:
		return 0
	case lo > hi*inbandLowOverHigh || hi > lo*inbandHighOverLow:
		return 0
	case !standsOut(power[:4], row) || !standsOut(power[4:], col):
		return 0
	// A sine of amplitude a has power (a/2)² and mean energy a²/2: a pure key's two
	// frequencies make 2(lo+hi) equal to the block's mean energy.
	case 2*(lo+hi) < inbandMinShare*energy/inbandBlock:
		return 0
	}
	for i, e := range quarter {
		if e/inbandQuarterSize[i] < inbandMinFill*energy/inbandBlock {
			return 0
		}
	}
	return Digit(dtmfKeypad[row*4+col])
}

// strongest is the index of the largest of four powers.
func strongest(p []float64) int {
	best := 0
	for i := 1; i < len(p); i++ {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// standsOut reports whether p[i] is inbandRelativePeak dB above every other power of p.
func standsOut(p []float64, i int) bool {
	for j, v := range p {
		if j != i && v*inbandPeakRatio > p[i] {
			return false
		}
	}
	return true
}

// DetectInband listens to the remote's audio for DTMF tones and delivers the keys on
// Digits with the RFC 4733 ones, until stop is called; call it once per session.
//
// Without telephone-event in the remote's SDP (trunks and phones that can only send
// tones), a key is delivered about 40 ms into its tone. With it, the remote normally sends
// its keys as telephone-events, and many phones play the tone in the audio as well: a
// tone's key is then delivered only when the tone ends, and only if the remote never sent
// a telephone-event, so that a press sent both ways counts once (even when its first
// event comes after the tone began) while a gateway that negotiates telephone-event but
// passes tones is still heard.
func (s *Session) DetectInband() (stop func()) {
	var det InbandDetector
	var pending Digit // a key whose tone has not ended, on a session with telephone-event
	// The sink runs in the reader goroutine, as deliverDigit must.
	return s.Listen(func(pcm []int16) {
		det.feed(pcm, func(k Digit) {
			if s.TelephoneEvent() == NoTelephoneEvent {
				s.deliverDigit(k)
			} else {
				pending = k
			}
		}, func(k Digit) {
			if pending == k && !s.sentEvents.Load() {
				s.deliverDigit(k)
			}
			pending = 0
		})
	})
}
