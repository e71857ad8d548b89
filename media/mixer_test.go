package media

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/internal/tstest"
)

// confPhone is a test phone in a room: it sends a tone as 20 ms RTP frames, paced like a
// phone, and keeps the decoded audio it receives.
type confPhone struct {
	*phone
	session *Session
	codec   Codec
	freq    float64

	mu    sync.Mutex
	heard []int16

	stopSend chan struct{}
	wg       sync.WaitGroup
}

func newConfPhone(t *testing.T, pool *PortPool, codec Codec, freq float64, ssrc uint32) *confPhone {
	t.Helper()
	s := newSession(t, pool, nil)
	ph := newPhone(t, loopback)
	ph.ssrc = ssrc
	connect(t, s, ph, codec, NoTelephoneEvent)
	c := &confPhone{phone: ph, session: s, codec: codec, freq: freq, stopSend: make(chan struct{})}
	c.wg.Add(2)
	go c.send()
	go c.receive()
	t.Cleanup(c.stop)
	return c
}

func (c *confPhone) send() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-c.stopSend:
			return
		case <-tick.C:
		}
		payload := EncodeFrame(nil, c.codec.Encoding, sine(FrameSamples, c.freq, 4000, i*FrameSamples))
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.codec.PayloadType, SequenceNumber: uint16(i),
			Timestamp: uint32(i * FrameSamples), SSRC: c.ssrc}, Payload: payload}).Marshal()
		c.conn.WriteToUDPAddrPort(b, c.session.LocalAddr())
	}
}

func (c *confPhone) receive() {
	defer c.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // the socket closed
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.mu.Lock()
		c.heard = DecodeFrame(c.heard, c.codec.Encoding, pkt.Payload)
		c.mu.Unlock()
	}
}

func (c *confPhone) stop() {
	select {
	case <-c.stopSend:
	default:
		close(c.stopSend)
	}
	c.conn.SetReadDeadline(time.Unix(1, 0))
	c.wg.Wait()
}

// listen forgets what was heard so far and returns what arrives next, n frames of it.
func (c *confPhone) listen(t *testing.T, frames int) []int16 {
	t.Helper()
	c.mu.Lock()
	c.heard = c.heard[:0]
	c.mu.Unlock()
	var got []int16
	tstest.WaitFor(t, fmt.Sprintf("the %v Hz phone to receive %d frames", c.freq, frames), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.heard) < frames*FrameSamples {
			return false
		}
		got = append([]int16(nil), c.heard[:frames*FrameSamples]...)
		return true
	})
	return got
}

// hears reports whether the tone at freq is in the audio: its power stands 100 times
// above that of a frequency nobody sends.
func hears(samples []int16, freq float64) bool {
	return Goertzel(samples, freq) > 100*Goertzel(samples, 1300)+1e5
}

func TestMixerEachParticipantHearsTheOthersButNeverThemselves(t *testing.T) {
	pool := newPool(t)
	m := NewMixer(MixerConfig{})
	defer m.Close()
	// One phone speaks A-law: the mix is encoded per participant.
	phones := []*confPhone{
		newConfPhone(t, pool, pcmu, 500, 1),
		newConfPhone(t, pool, pcma, 1100, 2),
		newConfPhone(t, pool, pcmu, 1700, 3),
	}
	for _, ph := range phones {
		if _, err := m.Join(ph.session, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, ph := range phones {
		heard := ph.listen(t, 25)
		for _, other := range phones {
			if other == ph && hears(heard, other.freq) {
				t.Errorf("the %v Hz phone hears itself", ph.freq)
			}
			if other != ph && !hears(heard, other.freq) {
				t.Errorf("the %v Hz phone does not hear the %v Hz phone (power %.3g, 1300 Hz %.3g)",
					ph.freq, other.freq, Goertzel(heard, other.freq), Goertzel(heard, 1300))
			}
		}
	}
}

func TestMixerMutedParticipantStillHearsButIsNotHeardAndLeaversAreGone(t *testing.T) {
	pool := newPool(t)
	m := NewMixer(MixerConfig{})
	defer m.Close()
	a := newConfPhone(t, pool, pcmu, 500, 1)
	b := newConfPhone(t, pool, pcmu, 1100, 2)
	c := newConfPhone(t, pool, pcmu, 1700, 3)
	pa, _ := m.Join(a.session, false)
	_, _ = m.Join(b.session, true) // mute on join
	pc, _ := m.Join(c.session, false)
	if !hears(b.listen(t, 25), 500) {
		t.Error("muted B does not hear A")
	}
	if heard := c.listen(t, 25); hears(heard, 1100) || !hears(heard, 500) {
		t.Errorf("C hears muted B (%v) or misses A (%v)", hears(heard, 1100), !hears(heard, 500))
	}
	pa.SetMuted(true)
	if heard := c.listen(t, 25); hears(heard, 500) {
		t.Error("C still hears A after A muted")
	}
	pa.SetMuted(false)
	pc.Leave()
	pc.Leave() // twice is harmless
	if m.Len() != 2 {
		t.Fatalf("%d participants after C left, want 2", m.Len())
	}
	if heard := a.listen(t, 25); hears(heard, 1700) {
		t.Error("A still hears C after C left")
	}
	if heard := b.listen(t, 25); !hears(heard, 500) {
		t.Error("B no longer hears unmuted A")
	}
}

func TestMixerJoinAndLeaveTonesReachEveryone(t *testing.T) {
	pool := newPool(t)
	m := NewMixer(MixerConfig{JoinLeaveTones: true})
	defer m.Close()
	a := newConfPhone(t, pool, pcmu, 1700, 1)
	b := newConfPhone(t, pool, pcmu, 1700, 2)
	if _, err := m.Join(a.session, true); err != nil {
		t.Fatal(err)
	}
	tstest.WaitFor(t, "A's join tone to pass", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return len(m.pending) == 0 })
	a.mu.Lock()
	a.heard = a.heard[:0]
	a.mu.Unlock()
	pb, _ := m.Join(b.session, true)
	tstest.WaitFor(t, "B's join tone to pass", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return len(m.pending) == 0 })
	a.mu.Lock()
	heard := append([]int16(nil), a.heard...)
	a.mu.Unlock()
	if Goertzel(heard, 600) < 1e5 || Goertzel(heard, 900) < 1e5 {
		t.Errorf("A did not hear B's join tone (600 Hz %.3g, 900 Hz %.3g)", Goertzel(heard, 600), Goertzel(heard, 900))
	}
	a.mu.Lock()
	a.heard = a.heard[:0]
	a.mu.Unlock()
	pb.Leave()
	tstest.WaitFor(t, "B's leave tone to pass", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return len(m.pending) == 0 })
	a.mu.Lock()
	heard = append([]int16(nil), a.heard...)
	a.mu.Unlock()
	if Goertzel(heard, 600) < 1e5 || Goertzel(heard, 900) < 1e5 {
		t.Errorf("A did not hear B's leave tone (600 Hz %.3g, 900 Hz %.3g)", Goertzel(heard, 600), Goertzel(heard, 900))
	}
}

// The jitter buffer keeps at most maxBufferedFrames: a burst drops the oldest audio, so the
// delay cannot grow; partial packets are gathered into whole frames.
func TestMixerJitterBufferIsBoundedAndDropsTheOldest(t *testing.T) {
	var p Participant
	frame := make([]int16, FrameSamples)
	for i := range 10 {
		for j := range frame {
			frame[j] = int16(i)
		}
		p.hear(frame[:100]) // a frame in two uneven packets
		p.hear(frame[100:])
	}
	if p.count != maxBufferedFrames {
		t.Fatalf("%d frames buffered, want %d", p.count, maxBufferedFrames)
	}
	for want := 10 - maxBufferedFrames; want < 10; want++ {
		if !p.take() || p.own[0] != int16(want) || p.own[FrameSamples-1] != int16(want) {
			t.Fatalf("took frame %d, want frame %d", p.own[0], want)
		}
	}
	if p.take() {
		t.Fatal("took a frame from an empty buffer")
	}
}

// A tick allocates nothing, however many participants: the mixer scales by CPU alone.
func TestMixerTickDoesNotAllocate(t *testing.T) {
	pool := newPool(t)
	m := &Mixer{done: make(chan struct{})} // no ticker: the test ticks
	m.shared[0], m.shared[1] = make([]byte, 0, FrameSamples), make([]byte, 0, FrameSamples)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for i := range 20 {
		s := newSession(t, pool, nil)
		codec := pcmu
		if i%2 == 1 {
			codec = pcma
		}
		if err := s.SetRemote(&Remote{Addr: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec,
			TelephoneEvent: NoTelephoneEvent, Direction: SendRecv}); err != nil {
			t.Fatal(err)
		}
		p, err := m.Join(s, i%3 == 0)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Leave()
	}
	frame := sine(FrameSamples, 700, 3000, 0)
	allocs := testing.AllocsPerRun(50, func() {
		for _, p := range m.parts {
			p.hear(frame)
		}
		m.tick()
	})
	if allocs != 0 {
		t.Fatalf("a tick of 20 participants allocates %.1f times", allocs)
	}
}

func TestMixerClosedRefusesJoins(t *testing.T) {
	pool := newPool(t)
	m := NewMixer(MixerConfig{})
	s := newSession(t, pool, nil)
	if _, err := m.Join(s, false); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m.Close()
	if m.Len() != 0 {
		t.Fatalf("%d participants after Close", m.Len())
	}
	if _, err := m.Join(s, false); err != ErrMixerClosed {
		t.Fatalf("Join after Close: %v, want ErrMixerClosed", err)
	}
}
