package media

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Mixer is a conference room's audio: every participant hears the sum of everyone else
// (never themselves), plus the room's join and leave tones.
//
// How audio flows, and what it costs:
//   - In: each participant's session hands its decoded audio to the mixer through Listen.
//     The sink copies it into the participant's jitter buffer (maxBufferedFrames frames, the
//     oldest dropped when full) under the participant's own lock: the receiving goroutine
//     never waits for the mixer.
//   - Mix: one goroutine per room ticks every 20 ms. It takes one frame from each
//     participant that has one, sums the frames of the unmuted ones into a 32-bit total,
//     then gives each participant the total minus their own frame, clipped to 16 bits and
//     encoded in their codec (µ-law or A-law), sent as one RTP packet of the session's
//     stream. That is two passes over the participants per tick — O(N), not O(N²) — and the
//     participants who contributed nothing (muted, silent) share one encoded frame per
//     codec. Buffers are the participants' own and reused: a tick allocates nothing.
//   - Latency: what a participant hears is at most one tick (20 ms) plus the frames waiting
//     in the speaker's jitter buffer (normally 0–1, at most maxBufferedFrames) behind real
//     time, on top of the network's.
//
// While Session.Play runs on a participant's session (a prompt or beep for that participant
// alone), the mixer sends that participant nothing, so the two never interleave. A session
// in a room must not be bridged (Bridge) at the same time.
type Mixer struct {
	tones bool

	mu      sync.Mutex
	parts   []*Participant // in join order; the ticker reads it under mu
	closed  bool
	pending []Source // join/leave tones waiting to be mixed in, one at a time

	total   [FrameSamples]int32
	toneBuf [FrameSamples]int16
	shared  [2][]byte // the total, encoded per Encoding, for those who added nothing

	done chan struct{}
	wg   sync.WaitGroup
}

// MixerConfig sets up a room.
type MixerConfig struct {
	// JoinLeaveTones mixes a short rising tone in for everyone when a participant joins and
	// a falling one when one leaves.
	JoinLeaveTones bool
}

// ErrMixerClosed is Join's answer once the room is closed.
var ErrMixerClosed = errors.New("media: the conference room is closed")

// maxBufferedFrames bounds a participant's jitter buffer: 80 ms. A speaker whose packets
// arrive in a burst keeps at most this much; older audio is dropped so that the delay
// never grows.
const maxBufferedFrames = 4

// mixInterval is the room's tick: one frame of G.711 at 8 kHz.
const mixInterval = 20 * time.Millisecond

// NewMixer starts a room's mixing goroutine; Close ends it.
func NewMixer(cfg MixerConfig) *Mixer {
	m := &Mixer{tones: cfg.JoinLeaveTones, done: make(chan struct{})}
	m.shared[0] = make([]byte, 0, FrameSamples)
	m.shared[1] = make([]byte, 0, FrameSamples)
	m.wg.Add(1)
	go m.run()
	return m
}

// Participant is one session in a room.
type Participant struct {
	m       *Mixer
	session *Session
	stop    func() // ends the Listen
	muted   atomic.Bool

	// The jitter buffer: a ring of whole frames filled by the session's receiving goroutine
	// (partial packets are gathered in fill), emptied by the ticker.
	bufMu sync.Mutex
	ring  [maxBufferedFrames][FrameSamples]int16
	head  int // oldest full frame
	count int // full frames in ring
	fill  int // samples gathered in ring[(head+count)%len] towards the next frame

	// Ticker-only state.
	own     [FrameSamples]int16 // this tick's frame from the participant
	added   bool                // own was added to the total
	payload []byte

	leaveOnce sync.Once
}

// Join adds the session to the room: from the next tick on it hears the others and, unless
// muted, the others hear it. With JoinLeaveTones everyone hears the join tone.
func (m *Mixer) Join(s *Session, muted bool) (*Participant, error) {
	p := &Participant{m: m, session: s, payload: make([]byte, 0, FrameSamples)}
	p.muted.Store(muted)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrMixerClosed
	}
	p.stop = s.Listen(p.hear)
	m.parts = append(m.parts, p)
	if m.tones {
		m.pending = append(m.pending, joinTone())
	}
	return p, nil
}

// Leave takes the participant out of the room (the session stays open); the others hear
// the leave tone. It is safe to call more than once.
func (p *Participant) Leave() { p.leave(true) }

func (p *Participant) leave(tone bool) {
	p.leaveOnce.Do(func() {
		p.stop()
		m := p.m
		m.mu.Lock()
		defer m.mu.Unlock()
		if i := slices.Index(m.parts, p); i >= 0 {
			m.parts = slices.Delete(m.parts, i, i+1) // zeroes the freed slot: no reference kept
		}
		if tone && m.tones && !m.closed && len(m.parts) > 0 {
			m.pending = append(m.pending, leaveTone())
		}
	})
}

// SetMuted mutes or unmutes the participant: muted, the others do not hear them; they still
// hear the others.
func (p *Participant) SetMuted(muted bool) { p.muted.Store(muted) }

// Muted reports whether the participant is muted.
func (p *Participant) Muted() bool { return p.muted.Load() }

// Session is the participant's media session.
func (p *Participant) Session() *Session { return p.session }

// Len is the number of participants in the room.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.parts)
}

// Close takes every participant out (without tones) and waits for the mixing goroutine to
// end. The sessions stay open: they belong to the calls.
func (m *Mixer) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	parts := append([]*Participant(nil), m.parts...)
	m.mu.Unlock()
	close(m.done)
	m.wg.Wait()
	for _, p := range parts {
		p.leave(false)
	}
}

// hear is the participant's Listen sink: it gathers the received samples into whole
// frames, dropping the oldest frame when the buffer is full. Receiving goroutine.
func (p *Participant) hear(samples []int16) {
	p.bufMu.Lock()
	defer p.bufMu.Unlock()
	for len(samples) > 0 {
		if p.count == maxBufferedFrames { // full: the oldest goes
			p.head = (p.head + 1) % maxBufferedFrames
			p.count--
		}
		frame := &p.ring[(p.head+p.count)%maxBufferedFrames]
		n := copy(frame[p.fill:], samples)
		samples = samples[n:]
		p.fill += n
		if p.fill == FrameSamples {
			p.fill = 0
			p.count++
		}
	}
}

// take moves the oldest buffered frame into own; false when none is buffered (the speaker
// is silent, on hold, or late: they add nothing this tick).
func (p *Participant) take() bool {
	p.bufMu.Lock()
	defer p.bufMu.Unlock()
	if p.count == 0 {
		return false
	}
	p.own = p.ring[p.head]
	p.head = (p.head + 1) % maxBufferedFrames
	p.count--
	return true
}

func (m *Mixer) run() {
	defer m.wg.Done()
	t := time.NewTicker(mixInterval)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
			m.tick()
		}
	}
}

// tick mixes and sends one frame to every participant.
func (m *Mixer) tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.total[:])
	for _, p := range m.parts {
		p.added = p.take() && !p.muted.Load()
		if p.added {
			for i, v := range p.own {
				m.total[i] += int32(v)
			}
		}
	}
	if len(m.pending) > 0 { // a tone everyone hears, the one who joined or left included
		clear(m.toneBuf[:])
		if m.pending[0].ReadFrame(m.toneBuf[:]) != nil {
			m.pending = m.pending[1:]
		}
		for i, v := range m.toneBuf {
			m.total[i] += int32(v)
		}
	}
	m.shared[0], m.shared[1] = m.shared[0][:0], m.shared[1][:0]
	for _, p := range m.parts {
		s := p.session
		if s.playing.Load() > 0 {
			continue // a prompt for this participant alone is playing
		}
		enc := s.Codec().Encoding
		if !p.added {
			// Everyone who added nothing hears the same frame: encode it once per codec.
			shared := &m.shared[sharedIndex(enc)]
			if len(*shared) == 0 {
				*shared = encodeMix(*shared, enc, &m.total, nil)
			}
			_ = s.sendFrame(*shared) // a closed session is the call's to remove
			continue
		}
		p.payload = encodeMix(p.payload[:0], enc, &m.total, &p.own)
		_ = s.sendFrame(p.payload)
	}
}

func sharedIndex(e Encoding) int {
	if e == PCMA {
		return 1
	}
	return 0
}

// encodeMix appends total minus own (when not nil), clipped to 16 bits, encoded in e.
func encodeMix(dst []byte, e Encoding, total *[FrameSamples]int32, own *[FrameSamples]int16) []byte {
	encode := &linearToUlaw
	if e == PCMA {
		encode = &linearToAlaw
	}
	for i, v := range total {
		if own != nil {
			v -= int32(own[i])
		}
		v = min(max(v, -32768), 32767)
		dst = append(dst, encode[uint16(int16(v))])
	}
	return dst
}

// joinTone is two short rising beeps (600 Hz then 900 Hz, 120 ms each), leaveTone the same
// falling: audible over speech, gone in a quarter second.
func joinTone() Source  { return beeps(600, 900) }
func leaveTone() Source { return beeps(900, 600) }

func beeps(f1, f2 float64) Source {
	t := &tone{segments: []toneSegment{
		{freqs: []float64{f1}, amplitude: 3000, samples: ms(120)},
		{samples: ms(20)},
		{freqs: []float64{f2}, amplitude: 3000, samples: ms(120)},
	}}
	return &limited{src: t, frames: (ms(120)*2 + ms(20) + FrameSamples - 1) / FrameSamples}
}

// limited plays frames frames of src, then ends.
type limited struct {
	src    Source
	frames int
}

func (l *limited) ReadFrame(frame []int16) error {
	if l.frames == 0 {
		return errEndOfTone
	}
	l.frames--
	return l.src.ReadFrame(frame)
}

var errEndOfTone = errors.New("end of tone")
