package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-audio/wav"

	"switchboard/internal/tstest"
)

// readStereo parses a 16-bit stereo 8 kHz WAV as a player would, checking that its header
// sizes match the file, and splits the channels.
func readStereo(t *testing.T, b []byte) (left, right []int16) {
	t.Helper()
	d := wav.NewDecoder(bytes.NewReader(b))
	d.ReadInfo()
	if !d.IsValidFile() || d.NumChans != 2 || d.SampleRate != SampleRate || d.BitDepth != 16 {
		t.Fatalf("not a 16-bit stereo 8 kHz WAV: valid %v, %d channels, %d Hz, %d bits", d.IsValidFile(), d.NumChans, d.SampleRate, d.BitDepth)
	}
	if riff := binary.LittleEndian.Uint32(b[4:]); int(riff) != len(b)-8 {
		t.Fatalf("RIFF size %d, file holds %d", riff, len(b)-8)
	}
	if data := binary.LittleEndian.Uint32(b[40:]); int(data) != len(b)-WAVHeaderSize {
		t.Fatalf("data size %d, file holds %d", data, len(b)-WAVHeaderSize)
	}
	pcm := b[WAVHeaderSize:]
	for i := 0; i+4 <= len(pcm); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(pcm[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(pcm[i+2:])))
	}
	return left, right
}

func TestWAVWriterStreamsAFilePlayersRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWAVWriter(f, 2, SampleRate)
	var want []int16
	for i := range 5 {
		frames := []int16{int16(i), int16(-i), 1000, -1000}
		want = append(want, frames...)
		if err := w.WriteFrames(frames); err != nil {
			t.Fatal(err)
		}
	}
	// While it is being written, the header holds the "unknown" placeholders.
	head, _ := os.ReadFile(path)
	if binary.LittleEndian.Uint32(head[40:]) != wavUnknownSize {
		t.Fatalf("data size while writing = %#x, want the placeholder", binary.LittleEndian.Uint32(head[40:]))
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(path)
	l, r := readStereo(t, b)
	var got []int16
	for i := range l {
		got = append(got, l[i], r[i])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames read back %v, want %v", got, want)
	}
	if err := w.WriteFrames([]int16{1, 2, 3}); err == nil {
		t.Fatal("three samples accepted as stereo frames")
	}
}

func TestRepairWAVFixesAFileWhoseWriterDied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.wav")
	f, _ := os.Create(path)
	w := NewWAVWriter(f, 2, SampleRate)
	_ = w.WriteFrames(tstest.Stereo(tstest.Sine(SampleRate, 800, 8000, 1000)))
	f.Write([]byte{1, 2, 3}) // a frame cut short by the crash
	f.Close()                // no Finish: the process died

	n, err := RepairWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != 800*4 {
		t.Fatalf("RepairWAV found %d audio bytes, want %d", n, 800*4)
	}
	b, _ := os.ReadFile(path)
	l, r := readStereo(t, b)
	if len(l) != 800 || Goertzel(l, 1000) < 1e6 || !slices.Equal(l, r) {
		t.Fatalf("repaired file holds %d frames; the tone is not in it", len(l))
	}
	// Repairing twice changes nothing.
	if n2, err := RepairWAV(path); err != nil || n2 != n {
		t.Fatalf("second repair: %d, %v", n2, err)
	}

	junk := filepath.Join(t.TempDir(), "junk.wav")
	os.WriteFile(junk, bytes.Repeat([]byte("x"), 100), 0o600)
	if _, err := RepairWAV(junk); !errors.Is(err, ErrNotWAV) {
		t.Fatalf("RepairWAV of junk: %v, want ErrNotWAV", err)
	}
	if b, _ := os.ReadFile(junk); !bytes.Equal(b, bytes.Repeat([]byte("x"), 100)) {
		t.Fatal("RepairWAV changed a file that is not its WAV")
	}
}

// fileOut is an in-memory io.Writer + io.WriterAt, as a file is.
type fileOut struct{ b []byte }

func (f *fileOut) Write(p []byte) (int, error) { f.b = append(f.b, p...); return len(p), nil }
func (f *fileOut) WriteAt(p []byte, off int64) (int, error) {
	copy(f.b[off:], p)
	return len(p), nil
}

func TestRecorderKeepsEachPartyOnItsChannelAndPausesIntoSilence(t *testing.T) {
	clock := tstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	out := &fileOut{}
	r, err := NewRecorder(RecorderConfig{Out: out, Clock: clock.Now, manual: true})
	if err != nil {
		t.Fatal(err)
	}
	caller, agent := &Session{}, &Session{} // stand-ins: hear is given the source directly
	r.ch[Left].source, r.ch[Right].source = caller, agent
	// One second of both talking, packets interleaved as they arrive.
	for range 50 {
		clock.Advance(20 * time.Millisecond)
		r.hear(Left, caller, tstest.Sine(SampleRate, FrameSamples, 8000, 1000))
		r.hear(Right, agent, tstest.Sine(SampleRate, FrameSamples, 8000, 400))
		r.flush(r.position(clock.Now().Add(-recorderLag)))
	}
	// A second paused: the caller reads out a card number; nothing of it may be kept.
	r.Pause()
	for range 50 {
		clock.Advance(20 * time.Millisecond)
		r.hear(Left, caller, tstest.Sine(SampleRate, FrameSamples, 8000, 1000))
		r.flush(r.position(clock.Now().Add(-recorderLag)))
	}
	r.Resume()
	// Then only the agent talks for a second; a stranger's packets (a leg no longer
	// recorded) are ignored.
	for range 50 {
		clock.Advance(20 * time.Millisecond)
		r.hear(Right, agent, tstest.Sine(SampleRate, FrameSamples, 8000, 400))
		r.hear(Left, &Session{}, tstest.Sine(SampleRate, FrameSamples, 8000, 1000))
		r.flush(r.position(clock.Now().Add(-recorderLag)))
	}
	st, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Duration != 3*time.Second || st.Paused != time.Second || st.DataBytes != 3*SampleRate*4 {
		t.Fatalf("stats %+v, want 3 s long, 1 s paused, %d bytes", st, 3*SampleRate*4)
	}
	l, rt := readStereo(t, out.b)
	sec := func(ch []int16, i int) []int16 { return ch[i*SampleRate : (i+1)*SampleRate] }
	// Second 0: the caller's tone left, the agent's right, neither in the other channel.
	if on, off := Goertzel(sec(l, 0)[:7000], 1000), Goertzel(sec(l, 0)[:7000], 400); on < 1e6 || off > on/1000 {
		t.Fatalf("left channel, second 0: 1000 Hz %.0f, 400 Hz %.0f", on, off)
	}
	if on, off := Goertzel(sec(rt, 0)[:7000], 400), Goertzel(sec(rt, 0)[:7000], 1000); on < 1e6 || off > on/1000 {
		t.Fatalf("right channel, second 0: 400 Hz %.0f, 1000 Hz %.0f", on, off)
	}
	// The paused second is silence but for what was heard before the pause; the last
	// second's left channel holds nothing (the stranger was not recorded).
	if n := nonZero(sec(l, 1)[recorderLag*SampleRate/time.Second:]); n != 0 {
		t.Fatalf("%d samples of the caller were recorded while paused", n)
	}
	if n := nonZero(sec(rt, 1)[recorderLag*SampleRate/time.Second:]); n != 0 {
		t.Fatalf("%d samples on the right while paused", n)
	}
	if n := nonZero(l[2*SampleRate:]); n != 0 {
		t.Fatalf("%d samples of a leg not recorded reached the file", n)
	}
	if on := Goertzel(sec(rt, 2)[1000:], 400); on < 1e6 {
		t.Fatalf("the agent is not heard after the resume: %.0f", on)
	}
}

// audible is s from its first to its last sample that is not zero.
func audible(s []int16) []int16 {
	first, last := -1, -1
	for i, v := range s {
		if v != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	return s[first : last+1]
}

func nonZero(s []int16) int {
	n := 0
	for _, v := range s {
		if v != 0 {
			n++
		}
	}
	return n
}

func TestRecorderPlacesALateStartingChannelByTime(t *testing.T) {
	// The right channel starts half a second in (the callee answered late, or a transfer's
	// target): its audio is at 0.5 s in the file, not at 0.
	clock := tstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	out := &fileOut{}
	r, _ := NewRecorder(RecorderConfig{Out: out, Clock: clock.Now, manual: true})
	right := &Session{}
	r.ch[Right].source = right
	clock.Advance(500 * time.Millisecond)
	r.flush(r.position(clock.Now().Add(-recorderLag)))
	for range 25 {
		clock.Advance(20 * time.Millisecond)
		r.hear(Right, right, tstest.Sine(SampleRate, FrameSamples, 8000, 400))
		r.flush(r.position(clock.Now().Add(-recorderLag)))
	}
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, rt := readStereo(t, out.b)
	if len(rt) != SampleRate {
		t.Fatalf("%d frames, want a second", len(rt))
	}
	if n := nonZero(rt[:SampleRate/2-FrameSamples]); n != 0 {
		t.Fatalf("%d samples before the channel started", n)
	}
	if on := Goertzel(rt[SampleRate/2:], 400); on < 1e6 {
		t.Fatalf("the late channel's half second is not in the file: 400 Hz %.0f", on)
	}
}

// failingOut fails once it has taken limit bytes, as a full disk does.
type failingOut struct {
	n, limit int
}

var errDiskFull = errors.New("no space left on device")

func (f *failingOut) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

func TestRecorderReportsAFullDiskOnceAndStops(t *testing.T) {
	clock := tstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var reported []error
	r, err := NewRecorder(RecorderConfig{Out: &failingOut{limit: WAVHeaderSize + 8000}, Clock: clock.Now, manual: true,
		OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	src := &Session{}
	r.ch[Left].source = src
	for range 100 {
		clock.Advance(20 * time.Millisecond)
		r.hear(Left, src, tstest.Sine(SampleRate, FrameSamples, 8000, 1000))
		r.flush(r.position(clock.Now().Add(-recorderLag)))
	}
	if len(reported) != 1 || !errors.Is(reported[0], errDiskFull) {
		t.Fatalf("OnError got %v, want the disk-full error once", reported)
	}
	if _, err := r.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close: %v, want the disk-full error", err)
	}
}

func TestRecorderFollowsSessionsGivenToItsChannels(t *testing.T) {
	// Real sessions and RTP: the left channel hears leg A's phone; the right channel
	// hears B's, then C's after a transfer gives C the right channel.
	pool := newPool(t)
	a, b, c := newSession(t, pool, nil), newSession(t, pool, nil), newSession(t, pool, nil)
	phA, phB, phC := newPhone(t, loopback), newPhone(t, loopback), newPhone(t, loopback)
	connect(t, a, phA, pcmu, NoTelephoneEvent)
	connect(t, b, phB, pcma, NoTelephoneEvent)
	connect(t, c, phC, pcmu, NoTelephoneEvent)
	out := &fileOut{}
	clock := tstest.NewClock(time.Now())
	r, err := NewRecorder(RecorderConfig{Out: out, Clock: clock.Now, manual: true})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second) // the packets arrive a second in
	r.flush(r.position(clock.Now().Add(-recorderLag)))
	if err := r.SetChannel(Left, a); err != nil {
		t.Fatal(err)
	}
	if err := r.SetChannel(Right, b); err != nil {
		t.Fatal(err)
	}
	send := func(ph *phone, s *Session, e Encoding, pt uint8, freq float64) {
		ph.send(s, pt, false, EncodeFrame(nil, e, tstest.Sine(SampleRate, FrameSamples, 8000, freq)), FrameSamples)
	}
	send(phA, a, PCMU, 0, 1000)
	send(phB, b, PCMA, 8, 400)
	placed := func(ch int) bool { // the channel has placed a packet since it was set
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.ch[ch].next >= 0
	}
	tstest.WaitFor(t, "both legs' first packets", func() bool { return placed(Left) && placed(Right) })
	if err := r.SetChannel(Right, c); err != nil {
		t.Fatal(err)
	}
	if r.Source(Right) != c || r.Source(Left) != a {
		t.Fatal("the channels do not name their new sources")
	}
	clock.Advance(20 * time.Millisecond)
	send(phB, b, PCMA, 8, 400) // B left the call: not recorded any more
	send(phC, c, PCMU, 0, 2000)
	tstest.WaitFor(t, "the next packets", func() bool { return b.Stats().PacketsIn == 2 && placed(Right) })
	_, err = r.Close()
	if err != nil {
		t.Fatal(err)
	}
	l, rt := readStereo(t, out.b)
	l, rt = audible(l), audible(rt)
	if Goertzel(l, 1000) < 1e6 || Goertzel(l, 400) > Goertzel(l, 1000)/100 {
		t.Fatalf("left channel: 1000 Hz %.0f, 400 Hz %.0f", Goertzel(l, 1000), Goertzel(l, 400))
	}
	if Goertzel(rt, 400) < 1e5 || Goertzel(rt, 2000) < 1e5 {
		t.Fatalf("right channel lacks B's or C's tone: 400 Hz %.0f, 2000 Hz %.0f", Goertzel(rt, 400), Goertzel(rt, 2000))
	}
	// B's second packet came after C took the channel: the right channel holds one B
	// frame's worth of 400 Hz, not two.
	var b400 int
	for i := 0; i+FrameSamples <= len(rt); i += FrameSamples / 4 {
		if Goertzel(rt[i:i+FrameSamples/4], 400) > 1e6 {
			b400++
		}
	}
	if b400 > 5 {
		t.Fatalf("the right channel holds %d windows of B's tone: B was recorded after it left", b400)
	}
}
