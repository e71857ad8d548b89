package media

import (
	"bytes"
	"slices"
	"sync"
	"testing"

	"switchboard/internal/tstest"
)

// heardAudio is a sink that keeps everything it hears.
type heardAudio struct {
	mu      sync.Mutex
	samples []int16
	calls   int
}

func (h *heardAudio) sink(samples []int16) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, samples...)
	h.calls++
}

func (h *heardAudio) snapshot() ([]int16, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int16(nil), h.samples...), h.calls
}

func TestListenHearsTheRemoteDecodedWhileTheRelayForwardsItUnchanged(t *testing.T) {
	// A-law in, µ-law out: the relay transcodes in place, the sink must still hear A's audio.
	a, b, phA, phB := bridged(t, pcma, pcmu, NoTelephoneEvent, NoTelephoneEvent)
	var heard heardAudio
	stop := a.Listen(heard.sink)
	defer stop()

	var sent []int16 // what A's frames decode to, exactly
	for i := range 10 {
		frame := EncodeFrame(nil, PCMA, sine(FrameSamples, 1000, 8000, i*FrameSamples))
		sent = DecodeFrame(sent, PCMA, frame)
		phA.send(a, 8, false, frame, FrameSamples)
		got, _ := phB.read()
		if got.PayloadType != 0 {
			t.Fatalf("packet %d reached B as payload type %d, want 0", i, got.PayloadType)
		}
	}
	tstest.WaitFor(t, "the sink to hear ten frames", func() bool { _, n := heard.snapshot(); return n == 10 })
	samples, _ := heard.snapshot()
	if len(samples) != 10*FrameSamples {
		t.Fatalf("heard %d samples, want %d", len(samples), 10*FrameSamples)
	}
	if !slices.Equal(samples, sent) {
		t.Fatal("the sink's samples are not A's frames decoded")
	}
	if on, off := Goertzel(samples, 1000), Goertzel(samples, 1400); on < 100*off || on < 1e6 {
		t.Fatalf("the sink does not hear A's 1000 Hz tone: power %.0f at 1000 Hz, %.0f at 1400 Hz", on, off)
	}
	if n := b.Stats().PacketsIn; n != 0 {
		t.Fatalf("leg B received %d packets; the sink on A must not hear B", n)
	}
}

func TestListenWorksUnbridgedAndStopsForGood(t *testing.T) {
	pool := newPool(t)
	s := newSession(t, pool, nil)
	ph := newPhone(t, loopback)
	connect(t, s, ph, pcmu, 101)

	var first, second heardAudio
	stopFirst := s.Listen(first.sink)
	stopSecond := s.Listen(second.sink)
	defer stopSecond()

	frame := EncodeFrame(nil, PCMU, sine(FrameSamples, 700, 6000, 0))
	ph.send(s, 0, false, frame, FrameSamples)
	tstest.WaitFor(t, "both sinks to hear the frame", func() bool {
		_, n1 := first.snapshot()
		_, n2 := second.snapshot()
		return n1 == 1 && n2 == 1
	})
	got, _ := first.snapshot()
	if !bytes.Equal(EncodeFrame(nil, PCMU, got), frame) {
		t.Fatal("the sink's samples do not encode back to the frame sent")
	}

	stopFirst()
	stopFirst() // a second stop is harmless
	// A telephone-event is not audio, then one more audio frame.
	ph.sendEvent(s, 101, 160, TelephoneEvent{Event: 1, End: true, Duration: 800}, true)
	ph.send(s, 0, false, frame, FrameSamples)
	tstest.WaitFor(t, "the remaining sink to hear the second frame", func() bool { _, n := second.snapshot(); return n == 2 })
	if _, n := first.snapshot(); n != 1 {
		t.Fatalf("a stopped sink was called %d times, want 1", n)
	}
	if _, n := second.snapshot(); n != 2 {
		t.Fatalf("the telephone-event reached the sink: %d calls, want 2", n)
	}
}
