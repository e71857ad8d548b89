package media

import (
	"fmt"
	"testing"

	"switchboard/internal/tstest"
)

// feeder sends RTP from a phone to a session and keeps count, pausing every 25 packets
// until the session has taken them in, so that a burst never overflows the socket.
type feeder struct {
	t    *testing.T
	ph   *phone
	s    *Session
	sent uint64
}

func newFeeder(t *testing.T, pool *PortPool, codec Codec, event int) *feeder {
	s := newSession(t, pool, nil)
	ph := newPhone(t, loopback)
	connect(t, s, ph, codec, event)
	return &feeder{t: t, ph: ph, s: s}
}

func (f *feeder) count() {
	f.sent++
	if f.sent%25 == 0 {
		f.caughtUp()
	}
}

func (f *feeder) caughtUp() {
	f.t.Helper()
	tstest.WaitFor(f.t, fmt.Sprintf("the session to receive %d packets", f.sent),
		func() bool { return f.s.Stats().PacketsIn >= f.sent })
}

// audio sends samples in 20 ms frames of the session's codec, as a phone does.
func (f *feeder) audio(samples []int16) {
	c := f.s.Codec()
	for len(samples) > 0 {
		k := min(FrameSamples, len(samples))
		frame := make([]int16, FrameSamples)
		copy(frame, samples[:k])
		f.ph.send(f.s, c.PayloadType, false, EncodeFrame(nil, c.Encoding, frame), FrameSamples)
		f.count()
		samples = samples[k:]
	}
}

func (f *feeder) event(start uint32, ev TelephoneEvent, marker bool) {
	f.ph.sendEvent(f.s, uint8(f.s.TelephoneEvent()), start, ev, marker)
	f.count()
}

// digits waits until the session has taken in every packet sent, then returns the digits
// it holds. The keys tested end well before the audio does, so they are decided by then.
func (f *feeder) digits() string {
	f.t.Helper()
	f.caughtUp()
	var got []byte
	for len(f.s.Digits()) > 0 {
		got = append(got, byte(<-f.s.Digits()))
	}
	return string(got)
}

// A phone without telephone-event dials by tones through a real session (G.711 over
// loopback): DetectInband delivers each key on Digits, once; after stop, tones are not
// keys any more.
func TestDetectInbandDeliversTonesOnDigits(t *testing.T) {
	pool := newPool(t)
	for _, c := range []Codec{pcmu, pcma} {
		f := newFeeder(t, pool, c, NoTelephoneEvent)
		stop := f.s.DetectInband()
		f.audio(addNoise(DTMFTones("123#"), -45))
		if got := f.digits(); got != "123#" {
			t.Errorf("%v: digits %q, want 123#", c.Encoding, got)
		}
		stop()
		f.audio(DTMFTones("9"))
		if got := f.digits(); got != "" {
			t.Errorf("%v: after stop, digits %q, want none", c.Encoding, got)
		}
	}
}

// A phone that negotiated telephone-event and sends each key both ways (events and the
// tone in the audio, as many do) gets one digit per press, even when its first event
// comes 80 ms after its tone began; one that negotiated it but sends only tones (a
// gateway that passes them) still gets its keys, each once its tone ends.
func TestDetectInbandCountsAKeySentBothWaysOnce(t *testing.T) {
	pool := newPool(t)
	f := newFeeder(t, pool, pcmu, 101)
	defer f.s.DetectInband()()
	for _, key := range []byte("159") {
		ev, _ := EventForDigit(Digit(key))
		start := f.ph.ts
		tone := appendDTMF(nil, Digit(key), -10, ms(200))
		const lag = 4 // frames of tone before the phone's first event
		for i := 0; i < len(tone); i += FrameSamples {
			f.audio(tone[i : i+FrameSamples])
			if i >= lag*FrameSamples {
				f.event(start, TelephoneEvent{Event: ev, Volume: 10, Duration: uint16(i + FrameSamples)}, i == lag*FrameSamples)
			}
		}
		for range 3 {
			f.event(start, TelephoneEvent{Event: ev, End: true, Volume: 10, Duration: uint16(len(tone))}, false)
		}
		f.audio(make([]int16, ms(200)))
	}
	if got := f.digits(); got != "159" {
		t.Errorf("keys sent as events and tones: digits %q, want 159", got)
	}

	tonesOnly := newFeeder(t, pool, pcmu, 101)
	defer tonesOnly.s.DetectInband()()
	tonesOnly.audio(DTMFTones("*0"))
	if got := tonesOnly.digits(); got != "*0" {
		t.Errorf("tones only on a session with telephone-event: digits %q, want *0", got)
	}
}

// Nobody reads Digits: keys beyond its buffer are dropped and counted, and the session
// goes on receiving (the detector never blocks the reader).
func TestDetectInbandDropsKeysNobodyReads(t *testing.T) {
	f := newFeeder(t, newPool(t), pcmu, NoTelephoneEvent)
	defer f.s.DetectInband()()
	var keys []byte
	for range 40 {
		keys = append(keys, "0123456789"[len(keys)%10])
	}
	f.audio(DTMFTones(string(keys)))
	buffered := cap(f.s.digits)
	if got := f.digits(); got != string(keys[:buffered]) {
		t.Errorf("digits %q, want the first %d keys", got, buffered)
	}
	if d := f.s.Stats().DigitsDropped; d != uint64(len(keys)-buffered) {
		t.Errorf("DigitsDropped %d, want %d", d, len(keys)-buffered)
	}
}
