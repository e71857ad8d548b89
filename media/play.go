package media

import (
	"context"
	"errors"
	"io"
	"math"
	"time"
)

// Source yields audio to play: 8 kHz 16-bit linear PCM in 20 ms frames.
type Source interface {
	// ReadFrame fills frame (FrameSamples long) with the next samples; it returns io.EOF
	// when the source has no more (a last, partial frame is filled up with silence).
	ReadFrame(frame []int16) error
}

// frameInterval is the packetisation of played audio.
const frameInterval = 20 * time.Millisecond

// Play sends src into the session, one 20 ms frame every 20 ms in the session's codec,
// until src ends (nil), ctx is done (ctx.Err()) or the session closes (ErrClosed).
// While Play runs, relayed audio from a bridged leg is muted on this session, so an
// announcement can be played to one leg of a bridged call.
func (s *Session) Play(ctx context.Context, src Source) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.playing.Add(1)
	defer s.playing.Add(-1)
	ticker := time.NewTicker(frameInterval)
	defer ticker.Stop()
	frame := make([]int16, FrameSamples)
	payload := make([]byte, 0, FrameSamples)
	for {
		if err := src.ReadFrame(frame); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		payload = EncodeFrame(payload[:0], s.Codec().Encoding, frame)
		if err := s.sendFrame(payload); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closedCh:
			return ErrClosed
		case <-ticker.C:
		}
	}
}

// PCM is a finite Source of the given samples.
func PCM(samples []int16) Source { return &pcmSource{samples: samples} }

type pcmSource struct{ samples []int16 }

func (p *pcmSource) ReadFrame(frame []int16) error {
	if len(p.samples) == 0 {
		return io.EOF
	}
	n := copy(frame, p.samples)
	clear(frame[n:])
	p.samples = p.samples[n:]
	return nil
}

// tone is an endless Source: a cadence of segments, each a sum of sine waves (or silence)
// for a duration, repeated.
type tone struct {
	segments []toneSegment
	seg      int // current segment
	pos      int // samples into it
}

type toneSegment struct {
	freqs     []float64 // Hz; none means silence
	amplitude float64   // of each frequency, in 16-bit linear units
	samples   int
}

func (t *tone) ReadFrame(frame []int16) error {
	for i := range frame {
		for t.pos >= t.segments[t.seg].samples {
			t.pos = 0
			t.seg = (t.seg + 1) % len(t.segments)
		}
		sg := &t.segments[t.seg]
		var v float64
		for _, f := range sg.freqs {
			v += sg.amplitude * math.Sin(2*math.Pi*f*float64(t.pos)/SampleRate)
		}
		frame[i] = int16(v)
		t.pos++
	}
	return nil
}

func ms(d int) int { return d * SampleRate / 1000 }

// Ringback is the US ringback tone (ANSI T1.401): 440 Hz + 480 Hz, 2 s on, 4 s off,
// each at about -19 dBm0. It never ends; stop it with Play's context.
func Ringback() Source {
	return &tone{segments: []toneSegment{
		{freqs: []float64{440, 480}, amplitude: 2500, samples: ms(2000)},
		{samples: ms(4000)},
	}}
}

// HoldMusic is the generated music on hold, played until an account uploads its own: a slow,
// quiet arpeggio (C5 E5 G5 E5, 400 ms each with 100 ms between) and a second of rest, so a
// caller hears the line is alive. It never ends.
func HoldMusic() Source {
	notes := []float64{523.25, 659.25, 783.99, 659.25}
	var segs []toneSegment
	for _, f := range notes {
		segs = append(segs,
			toneSegment{freqs: []float64{f}, amplitude: 2000, samples: ms(400)},
			toneSegment{samples: ms(100)})
	}
	segs = append(segs, toneSegment{samples: ms(1000)})
	return &tone{segments: segs}
}
