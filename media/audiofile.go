package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/hajimehoshi/go-mp3"
)

// ErrBadAudio is returned (wrapped, with what is wrong) by ReadWAV and ReadMP3 for a file
// they cannot decode.
var ErrBadAudio = errors.New("media: not a usable audio file")

// ErrAudioTooLong is returned by ReadWAV and ReadMP3 for audio longer than they were allowed.
var ErrAudioTooLong = errors.New("media: audio too long")

// WAV format tags (RIFF WAVE fmt chunk) ReadWAV decodes.
const (
	wavPCM        = 1
	wavALaw       = 6
	wavULaw       = 7
	wavExtensible = 0xFFFE // sox and others for 24-bit or more than two channels: PCM inside
)

// ReadWAV decodes a WAV file (PCM of 8, 16, 24 or 32 bits, or G.711 A-law or µ-law, any
// sample rate and channel count) into 8 kHz mono 16-bit samples, the form Play takes:
// channels are averaged, and other rates resampled (see resample). Audio longer than max
// is refused with ErrAudioTooLong without being decoded further.
func ReadWAV(r io.ReadSeeker, max time.Duration) (samples []int16, err error) {
	defer recoverBadAudio(&err) // a decoder library must not take the server down on a hostile file
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return nil, fmt.Errorf("%w: not a RIFF WAVE file", ErrBadAudio)
	}
	if err := d.FwdToPCM(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAudio, err)
	}
	rate, chans := int(d.SampleRate), int(d.NumChans)
	if rate < 4000 || rate > 192000 || chans < 1 || chans > 8 {
		return nil, fmt.Errorf("%w: %d Hz, %d channels: need 4000-192000 Hz and 1-8 channels", ErrBadAudio, rate, chans)
	}
	limit := maxSamples(rate, max)
	var mono []float32
	switch d.WavAudioFormat {
	case wavALaw, wavULaw:
		if d.BitDepth != 8 {
			return nil, fmt.Errorf("%w: G.711 WAV with %d bits a sample", ErrBadAudio, d.BitDepth)
		}
		decode := UlawDecode
		if d.WavAudioFormat == wavALaw {
			decode = AlawDecode
		}
		raw, err := io.ReadAll(io.LimitReader(d.PCMChunk.R, int64(limit+1)*int64(chans)))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadAudio, err)
		}
		for i := 0; i+chans <= len(raw); i += chans {
			var sum float32
			for c := 0; c < chans; c++ {
				sum += float32(decode(raw[i+c]))
			}
			mono = append(mono, sum/float32(chans))
		}
	case wavPCM, wavExtensible:
		bits := int(d.BitDepth)
		if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
			return nil, fmt.Errorf("%w: PCM of %d bits a sample", ErrBadAudio, bits)
		}
		// 8-bit WAV is unsigned around 128; the others are signed: scale all to 16-bit.
		scale, offset := float32(256), float32(-128)
		if bits >= 16 {
			scale, offset = 1/float32(int(1)<<(bits-16)), 0
		}
		buf := &audio.IntBuffer{Data: make([]int, 4096*chans)}
		for {
			n, err := d.PCMBuffer(buf)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadAudio, err)
			}
			if n == 0 {
				break
			}
			for i := 0; i+chans <= n; i += chans {
				var sum float32
				for c := 0; c < chans; c++ {
					sum += (float32(buf.Data[i+c]) + offset) * scale
				}
				mono = append(mono, sum/float32(chans))
			}
			if len(mono) > limit {
				break
			}
		}
	default:
		return nil, fmt.Errorf("%w: WAV format %d: need PCM, A-law or µ-law", ErrBadAudio, d.WavAudioFormat)
	}
	return finish(mono, rate, limit, max)
}

// ReadMP3 decodes an MP3 stream into 8 kHz mono 16-bit samples like ReadWAV, refusing audio
// longer than max with ErrAudioTooLong as soon as it has decoded that much.
func ReadMP3(r io.Reader, max time.Duration) (samples []int16, err error) {
	defer recoverBadAudio(&err)
	d, err := mp3.NewDecoder(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAudio, err)
	}
	rate := d.SampleRate()
	if rate < 4000 || rate > 192000 {
		return nil, fmt.Errorf("%w: %d Hz", ErrBadAudio, rate)
	}
	limit := maxSamples(rate, max)
	var mono []float32
	buf := make([]byte, 4*4096) // the decoder always gives 16-bit little-endian stereo
	for len(mono) <= limit {
		n, err := io.ReadFull(d, buf)
		for i := 0; i+4 <= n; i += 4 {
			l := int16(binary.LittleEndian.Uint16(buf[i:]))
			r := int16(binary.LittleEndian.Uint16(buf[i+2:]))
			mono = append(mono, (float32(l)+float32(r))/2)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadAudio, err)
		}
	}
	return finish(mono, rate, limit, max)
}

func maxSamples(rate int, max time.Duration) int {
	return int(int64(rate) * int64(max) / int64(time.Second))
}

// finish checks the decoded audio's length and resamples it to 8 kHz.
func finish(mono []float32, rate, limit int, max time.Duration) ([]int16, error) {
	if len(mono) > limit {
		return nil, fmt.Errorf("%w: longer than %s", ErrAudioTooLong, max)
	}
	if len(mono) == 0 {
		return nil, fmt.Errorf("%w: no samples", ErrBadAudio)
	}
	return resample(mono, rate), nil
}

func recoverBadAudio(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: the decoder failed (%v)", ErrBadAudio, r)
	}
}

// resample converts mono audio at rate to SampleRate (8 kHz). Going down, the input is
// first low-passed at 3.6 kHz by a Blackman-windowed sinc FIR (about 16 taps per output
// sample: the stop band from 4 kHz is down some 60 dB, so music does not fold back into
// the telephone band as aliasing), evaluated only where output samples need it; each output
// sample is then interpolated linearly between the two filtered input samples around its
// instant. Going up (4-8 kHz sources), linear interpolation alone: it adds no content above
// the source's band worth filtering for a phone. Telephone quality is the aim, not hi-fi.
func resample(in []float32, rate int) []int16 {
	if rate == SampleRate {
		out := make([]int16, len(in))
		for i, v := range in {
			out[i] = clamp16(v)
		}
		return out
	}
	ratio := float64(rate) / SampleRate
	filtered := func(k int) float32 {
		if k >= len(in) {
			k = len(in) - 1
		}
		return in[k]
	}
	if ratio > 1 {
		h := lowPass(float64(rate), 3600, 2*int(math.Ceil(8*ratio))+1)
		half := len(h) / 2
		filtered = func(k int) float32 {
			var acc float32
			for j, c := range h {
				if i := k + j - half; i >= 0 && i < len(in) {
					acc += c * in[i]
				}
			}
			return acc
		}
	}
	n := int(float64(len(in)) / ratio)
	out := make([]int16, n)
	for i := range out {
		pos := float64(i) * ratio
		k := int(pos)
		frac := float32(pos - float64(k))
		v := filtered(k)
		if frac > 0 {
			v = v*(1-frac) + filtered(k+1)*frac
		}
		out[i] = clamp16(v)
	}
	return out
}

// lowPass is a Blackman-windowed sinc low-pass FIR of taps (odd) coefficients cutting at
// cutoff Hz for audio at rate Hz, with unity gain at 0 Hz.
func lowPass(rate, cutoff float64, taps int) []float32 {
	h := make([]float64, taps)
	fc := cutoff / rate
	m := float64(taps - 1)
	var sum float64
	for i := range h {
		x := float64(i) - m/2
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/m) + 0.08*math.Cos(4*math.Pi*float64(i)/m)
		h[i] = s * w
		sum += h[i]
	}
	out := make([]float32, taps)
	for i := range h {
		out[i] = float32(h[i] / sum)
	}
	return out
}

func clamp16(v float32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}
