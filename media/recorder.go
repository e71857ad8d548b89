package media

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"
)

// Recorder writes a call as a two-channel 8 kHz 16-bit WAV while it runs: each channel
// hears one session's remote (Session.Listen), so the left channel holds what one party
// said and the right what the other said, never mixed. The file is written as the call
// goes, a tick at a time, and the memory a recording holds is bounded (a second of audio
// per channel, recorderRing): a long call costs disk, not memory.
//
// Alignment: the two legs' packets arrive independently, so each channel places its audio
// by arrival time on the recording's own timeline (samples since the recording started),
// and the writer writes the timeline up to a little behind the wall clock (recorderLag) so
// that late packets still find their place. A leg that sends nothing (hold, a gap, no leg
// yet) is silence, and both channels stay in step however long the call is.
//
// Pause writes silence: while paused, what the legs send is dropped before it is stored, so
// card numbers read out or keyed in band never reach the file. A channel can be given to
// another session (a transfer) without a gap in the file.
type Recorder struct {
	cfg  RecorderConfig
	out  *WAVWriter
	done chan struct{} // closed by Close: the writer goroutine stops
	wg   sync.WaitGroup

	mu       sync.Mutex
	start    time.Time
	written  int64 // timeline position up to which the file is written
	ch       [2]recChannel
	paused   bool
	pausedAt time.Time
	pausedD  time.Duration
	err      error
	closed   bool
	frame    []byte // interleaved little-endian frames being written, reused
}

// RecorderConfig configures a Recorder.
type RecorderConfig struct {
	// Out receives the WAV file's bytes. When it is an io.WriterAt (a file), Close patches
	// the header's sizes; otherwise the reader relies on the placeholders or on RepairWAV.
	Out io.Writer
	// OnError is called once, from the recorder's goroutine, when writing fails (a full
	// disk): the recording stops there, the call is not affected.
	OnError func(error)
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// manual: no writer goroutine; tests call flush themselves.
	manual bool
}

// Recorder channels.
const (
	Left  = 0
	Right = 1
)

const (
	// recorderTick is how often the writer writes what the channels heard: seldom enough
	// that hundreds of recordings cost few wake-ups and writes.
	recorderTick = 200 * time.Millisecond
	// recorderLag is how far behind the wall clock the writer writes, for packets that
	// arrive late (jitter).
	recorderLag = 240 * time.Millisecond
	// recorderResync: a channel whose packets drift further than this from their arrival
	// time (a gap in the stream, a sender running fast) is placed by arrival time again.
	recorderResync = 120 * time.Millisecond
	// recorderRing is the audio a channel holds ahead of the writer: more than
	// lag + tick + resync.
	recorderRing = SampleRate // one second
	// recorderChunk is the most frames one write takes (16 KiB).
	recorderChunk = 4096
)

// ErrRecorderClosed is returned by SetChannel after Close.
var ErrRecorderClosed = errors.New("media: recorder closed")

// recChannel is one channel: a ring of samples indexed by timeline position.
type recChannel struct {
	ring   [recorderRing]int16
	next   int64 // where the channel's next sample goes; -1: place the next packet by time
	stop   func()
	source *Session
}

// RecorderStats says what a closed recording holds.
type RecorderStats struct {
	DataBytes int64         // audio bytes in the WAV (after its 44-byte header)
	Duration  time.Duration // its length
	Paused    time.Duration // the time it was paused (silence in the file)
}

// NewRecorder starts a recording to cfg.Out: the header is written at once, then the
// audio every tick until Close.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	r := &Recorder{cfg: cfg, out: NewWAVWriter(cfg.Out, 2, SampleRate), done: make(chan struct{}),
		start: cfg.Clock()}
	r.ch[Left].next, r.ch[Right].next = -1, -1
	if err := r.out.WriteHeader(); err != nil {
		return nil, err
	}
	if !cfg.manual {
		r.wg.Add(1)
		go r.run()
	}
	return r, nil
}

func (r *Recorder) run() {
	defer r.wg.Done()
	t := time.NewTicker(recorderTick)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.flush(r.position(r.cfg.Clock().Add(-recorderLag)))
		}
	}
}

// position is the timeline position of time t; under mu or before the goroutine starts.
func (r *Recorder) position(t time.Time) int64 {
	return int64(t.Sub(r.start)) * SampleRate / int64(time.Second)
}

// SetChannel makes channel ch (Left or Right) hear s's remote from now on, replacing the
// session it heard before (nil: none, silence). Giving a channel the session it already
// hears does nothing.
func (r *Recorder) SetChannel(ch int, s *Session) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrRecorderClosed
	}
	c := &r.ch[ch]
	if c.source == s {
		r.mu.Unlock()
		return nil
	}
	old := c.stop
	c.source, c.stop, c.next = s, nil, -1
	r.mu.Unlock()
	if old != nil {
		old() // outside mu: it waits for a sink call in flight, which takes mu
	}
	if s == nil {
		return nil
	}
	stop := s.Listen(func(pcm []int16) { r.hear(ch, s, pcm) })
	r.mu.Lock()
	if r.closed || c.source != s {
		// Closed or given to another session meanwhile.
		r.mu.Unlock()
		stop()
		return nil
	}
	c.stop = stop
	r.mu.Unlock()
	return nil
}

// Source is the session channel ch hears (nil for none).
func (r *Recorder) Source(ch int) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ch[ch].source
}

// hear places a packet's samples from s on channel ch; the session's reader goroutine.
func (r *Recorder) hear(ch int, s *Session, pcm []int16) {
	now := r.cfg.Clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &r.ch[ch]
	if r.paused || r.closed || r.err != nil || c.source != s {
		return
	}
	// The packet's audio ended as it arrived.
	at := r.position(now) - int64(len(pcm))
	resync := int64(recorderResync) * SampleRate / int64(time.Second)
	if c.next < 0 || c.next < at-resync || c.next > at+resync {
		c.next = at
	}
	p := c.next
	c.next += int64(len(pcm))
	// Keep what falls in [written, written+recorderRing): earlier is too late for the file,
	// later too far ahead for the ring.
	if p < r.written {
		skip := min(r.written-p, int64(len(pcm)))
		pcm, p = pcm[skip:], p+skip
	}
	if end := r.written + recorderRing; p+int64(len(pcm)) > end {
		pcm = pcm[:max(0, end-p)]
	}
	for len(pcm) > 0 { // at most two copies: the ring wraps once
		slot := int(p % recorderRing)
		n := copy(c.ring[slot:], pcm)
		pcm, p = pcm[n:], p+int64(n)
	}
}

// flush writes the timeline up to position upto; a failed write stops the recording and
// reports the error once.
func (r *Recorder) flush(upto int64) {
	r.mu.Lock()
	if r.err != nil || upto <= r.written {
		r.mu.Unlock()
		return
	}
	if r.frame == nil {
		r.frame = make([]byte, 4*recorderChunk)
	}
	var err error
	for n := upto - r.written; n > 0 && err == nil; {
		k := min(n, recorderChunk)
		b := r.frame[:4*k]
		for done := int64(0); done < k; { // at most two runs: the ring wraps once
			slot := int((r.written + done) % recorderRing)
			run := int(min(k-done, int64(recorderRing-slot)))
			left, right := r.ch[Left].ring[slot:slot+run], r.ch[Right].ring[slot:slot+run]
			out := b[4*done : 4*(done+int64(run))]
			for i := range left {
				binary.LittleEndian.PutUint16(out[4*i:], uint16(left[i]))
				binary.LittleEndian.PutUint16(out[4*i+2:], uint16(right[i]))
			}
			clear(left)
			clear(right)
			done += int64(run)
		}
		// Written under mu: a sink waits at most one write, and no sample can land in a
		// slot being written.
		err = r.out.writeData(b)
		r.written += k
		n -= k
	}
	if err != nil {
		r.err = err
	}
	onError := r.cfg.OnError
	r.mu.Unlock()
	if err != nil && onError != nil {
		onError(err)
	}
}

// Pause makes the recording silent from now on until Resume; pausing a paused recording
// does nothing.
func (r *Recorder) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused {
		r.paused, r.pausedAt = true, r.cfg.Clock()
	}
}

// Resume records again after Pause.
func (r *Recorder) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused {
		r.paused = false
		r.pausedD += r.cfg.Clock().Sub(r.pausedAt)
		r.ch[Left].next, r.ch[Right].next = -1, -1
	}
}

// Paused reports whether the recording is paused.
func (r *Recorder) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

// Err is the write error that stopped the recording, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops listening, writes the audio up to now and patches the header (when Out is an
// io.WriterAt). It does not close Out. The error is the first write error of the recording.
func (r *Recorder) Close() (RecorderStats, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.stats(), r.err
	}
	r.closed = true
	stops := []func(){r.ch[Left].stop, r.ch[Right].stop}
	r.ch[Left].stop, r.ch[Right].stop = nil, nil
	r.ch[Left].source, r.ch[Right].source = nil, nil
	now := r.cfg.Clock()
	if r.paused {
		r.paused = false
		r.pausedD += now.Sub(r.pausedAt)
	}
	r.mu.Unlock()
	for _, stop := range stops {
		if stop != nil {
			stop()
		}
	}
	close(r.done)
	r.wg.Wait()
	r.flush(r.position(now))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.out.Finish()
	}
	return r.stats(), r.err
}

// stats; under mu.
func (r *Recorder) stats() RecorderStats {
	return RecorderStats{DataBytes: r.out.DataBytes(),
		Duration: time.Duration(r.out.Frames()) * time.Second / SampleRate, Paused: r.pausedD}
}
