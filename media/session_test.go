package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/netip"
	"testing"
	"time"

	"switchboard/internal/tstest"
)

// bridged returns two bridged sessions, each talking to its own phone.
func bridged(t *testing.T, codecA, codecB Codec, eventA, eventB int) (a, b *Session, phA, phB *phone) {
	t.Helper()
	pool := newPool(t)
	a, b = newSession(t, pool, nil), newSession(t, pool, nil)
	phA, phB = newPhone(t, loopback), newPhone(t, loopback)
	phB.ssrc, phB.seq, phB.ts = 0x55667788, 7, 900
	connect(t, a, phA, codecA, eventA)
	connect(t, b, phB, codecB, eventB)
	relay, err := Bridge(a, b)
	if err != nil {
		t.Fatalf("Bridge: %v", err)
	}
	t.Cleanup(func() { relay.Close() })
	return a, b, phA, phB
}

func sine(n int, freq, amp float64, phase int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i+phase)/SampleRate))
	}
	return out
}

func TestBridgeSameCodecForwardsPayloadsUnchangedInOneStreamPerLeg(t *testing.T) {
	a, b, phA, phB := bridged(t, pcmu, pcmu, NoTelephoneEvent, NoTelephoneEvent)

	var first struct {
		ssrc uint32
		seq  uint16
		ts   uint32
	}
	for i := range 10 {
		if i == 5 {
			// Phone A's stream restarts with a new SSRC and numbers (as after a transfer);
			// phone B must still see one stream.
			phA.ssrc, phA.seq, phA.ts = 0x0BADF00D, 40000, 1234567
		}
		payload := EncodeFrame(nil, PCMU, sine(FrameSamples, 1000, 8000, i*FrameSamples))
		phA.send(a, 0, false, payload, FrameSamples)
		got, from := phB.read()
		if from != b.LocalAddr() {
			t.Fatalf("packet %d came from %s, want the session's own address %s", i, from, b.LocalAddr())
		}
		if !bytes.Equal(got.Payload, payload) {
			t.Fatalf("packet %d: payload changed in the relay", i)
		}
		if got.PayloadType != 0 {
			t.Fatalf("packet %d: payload type %d, want 0", i, got.PayloadType)
		}
		if i == 0 {
			first.ssrc, first.seq, first.ts = got.SSRC, got.SequenceNumber, got.Timestamp
			if got.SSRC == phA.ssrc {
				t.Fatal("the relay passed phone A's SSRC through; each leg must get the session's own")
			}
			continue
		}
		if got.SSRC != first.ssrc {
			t.Fatalf("packet %d: SSRC %#x, want the leg's one SSRC %#x", i, got.SSRC, first.ssrc)
		}
		if want := first.seq + uint16(i); got.SequenceNumber != want {
			t.Fatalf("packet %d: sequence %d, want %d (continuous)", i, got.SequenceNumber, want)
		}
		if i < 5 && got.Timestamp != first.ts+uint32(i*FrameSamples) {
			t.Fatalf("packet %d: timestamp %d, want %d", i, got.Timestamp, first.ts+uint32(i*FrameSamples))
		}
		if i == 5 && !got.Marker {
			t.Fatal("the first packet after the source changed should carry the marker bit")
		}
		if i > 5 && got.Timestamp-first.ts < uint32(i*FrameSamples) {
			t.Fatalf("packet %d: timestamp went back after the source change", i)
		}
	}

	// And the other way.
	payload := EncodeFrame(nil, PCMU, sine(FrameSamples, 440, 12000, 0))
	phB.send(b, 0, false, payload, FrameSamples)
	got, from := phA.read()
	if from != a.LocalAddr() || !bytes.Equal(got.Payload, payload) {
		t.Fatalf("B->A: got payload from %s, equal=%v", from, bytes.Equal(got.Payload, payload))
	}

	// A session counts a packet just after sending it, so the phone may read the last one
	// before its count lands: wait for the counters rather than reading them at once.
	waitFor(t, func() bool { return b.Stats().PacketsOut == 10 && a.Stats().PacketsOut == 1 })
	sa, sb := a.Stats(), b.Stats()
	if sa.PacketsIn != 10 || sb.PacketsOut != 10 || sb.PacketsIn != 1 || sa.PacketsOut != 1 {
		t.Fatalf("counters: A in=%d out=%d, B in=%d out=%d; want 10/1 and 1/10", sa.PacketsIn, sa.PacketsOut, sb.PacketsIn, sb.PacketsOut)
	}
	if sa.BytesIn != 10*(12+FrameSamples) || sb.BytesOut != 10*(12+FrameSamples) {
		t.Fatalf("byte counters: A in=%d, B out=%d; want %d", sa.BytesIn, sb.BytesOut, 10*(12+FrameSamples))
	}
	if sa.LastPacket.IsZero() {
		t.Fatal("LastPacket not set")
	}
}

// maxG711Error is the largest difference G.711 quantisation allows between a sample and
// its decoded code word, for either law: half the step of the sample's segment, which is at
// most 1/32 of the magnitude plus the smallest step, and a little more where A-law and
// µ-law steps are misaligned after two quantisations.
func maxG711Error(s int16) float64 { return math.Abs(float64(s))/16 + 32 }

func TestBridgeTranscodesPCMUToPCMAAndBack(t *testing.T) {
	a, b, phA, phB := bridged(t, pcmu, pcma, NoTelephoneEvent, NoTelephoneEvent)

	want := sine(FrameSamples, 1000, 10000, 0)
	phA.send(a, 0, false, EncodeFrame(nil, PCMU, want), FrameSamples)
	got, _ := phB.read()
	if got.PayloadType != 8 {
		t.Fatalf("leg B negotiated PCMA, got payload type %d", got.PayloadType)
	}
	checkPCM(t, "PCMU->PCMA", DecodeFrame(nil, PCMA, got.Payload), want)

	want = sine(FrameSamples, 300, 20000, 7)
	phB.send(b, 8, false, EncodeFrame(nil, PCMA, want), FrameSamples)
	got, _ = phA.read()
	if got.PayloadType != 0 {
		t.Fatalf("leg A negotiated PCMU, got payload type %d", got.PayloadType)
	}
	checkPCM(t, "PCMA->PCMU", DecodeFrame(nil, PCMU, got.Payload), want)
}

func checkPCM(t *testing.T, what string, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d samples, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > maxG711Error(want[i]) {
			t.Fatalf("%s: sample %d is %d, want %d within G.711 quantisation (%.0f)", what, i, got[i], want[i], maxG711Error(want[i]))
		}
	}
}

func TestBridgeRelaysTelephoneEventsAndDecodesEachPressOnce(t *testing.T) {
	a, b, phA, phB := bridged(t, pcmu, pcma, 101, 96)

	press := func(key Digit, ts uint32) {
		ev, _ := EventForDigit(key)
		phA.sendEvent(a, 101, ts, TelephoneEvent{Event: ev, Volume: 10, Duration: 160}, true)
		phA.sendEvent(a, 101, ts, TelephoneEvent{Event: ev, Volume: 10, Duration: 320}, false)
		for range 3 { // the end packet, sent three times as RFC 4733 recommends
			phA.sendEvent(a, 101, ts, TelephoneEvent{Event: ev, End: true, Volume: 10, Duration: 480}, false)
		}
	}
	press('5', 8000)
	press('5', 16000) // the same key again is a second press
	press('#', 24000)

	// Leg B sees the event packets with its own payload type, payloads unchanged.
	for i := range 15 {
		got, _ := phB.read()
		if got.PayloadType != 96 {
			t.Fatalf("event packet %d: payload type %d, want leg B's 96", i, got.PayloadType)
		}
		ev, err := ParseTelephoneEvent(got.Payload)
		if err != nil {
			t.Fatal(err)
		}
		wantKey := []Digit{'5', '5', '#'}[i/5]
		if d, _ := DigitForEvent(ev.Event); d != wantKey {
			t.Fatalf("event packet %d: key %c, want %c", i, d, wantKey)
		}
	}
	// A sentinel audio packet: once it has crossed, every event before it was processed.
	phA.send(a, 0, false, make([]byte, FrameSamples), FrameSamples)
	phB.read()

	var digits []Digit
	for len(a.Digits()) > 0 {
		digits = append(digits, <-a.Digits())
	}
	if string(digits) != "55#" {
		t.Fatalf("digits %q, want %q (one per press)", string(digits), "55#")
	}
	if len(b.Digits()) != 0 {
		t.Fatal("leg B reported digits it never received")
	}
}

func TestTelephoneEventsNotSentToALegWithoutThem(t *testing.T) {
	a, _, phA, phB := bridged(t, pcmu, pcmu, 101, NoTelephoneEvent)
	phA.sendEvent(a, 101, 100, TelephoneEvent{Event: 1, End: true, Duration: 400}, true)
	payload := EncodeFrame(nil, PCMU, sine(FrameSamples, 500, 3000, 0))
	phA.send(a, 0, false, payload, FrameSamples)
	got, _ := phB.read()
	if got.PayloadType != 0 || !bytes.Equal(got.Payload, payload) {
		t.Fatalf("leg B without telephone-event got payload type %d first, want the audio", got.PayloadType)
	}
	if d := <-a.Digits(); d != '1' {
		t.Fatalf("digit %c, want 1", d)
	}
}

func TestPacketsFromUnexpectedSourcesAreDroppedAndCounted(t *testing.T) {
	a, _, phA, phB := bridged(t, pcmu, pcmu, NoTelephoneEvent, NoTelephoneEvent)
	intruder := newPhone(t, netip.MustParseAddr("127.0.0.2"))
	intruder.send(a, 0, false, bytes.Repeat([]byte{0x11}, FrameSamples), FrameSamples)

	genuine := bytes.Repeat([]byte{0x22}, FrameSamples)
	phA.send(a, 0, false, genuine, FrameSamples)
	got, _ := phB.read()
	if !bytes.Equal(got.Payload, genuine) {
		t.Fatal("the first packet to cross was not the genuine phone's")
	}
	// Once latched to phone A's port, the same IP on another port is refused too.
	samehost := newPhone(t, loopback)
	samehost.send(a, 0, false, bytes.Repeat([]byte{0x33}, FrameSamples), FrameSamples)
	phA.send(a, 0, false, genuine, FrameSamples)
	if got, _ := phB.read(); !bytes.Equal(got.Payload, genuine) {
		t.Fatal("a packet from another port of the latched IP was relayed")
	}
	// Garbage is not RTP.
	if _, err := phA.conn.WriteToUDPAddrPort([]byte("hello"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	phA.send(a, 0, false, genuine, FrameSamples)
	phB.read()

	st := a.Stats()
	if st.Dropped != 2 || st.PacketsIn != 3 || st.Malformed != 1 {
		t.Fatalf("stats: dropped=%d in=%d malformed=%d, want 2, 3, 1", st.Dropped, st.PacketsIn, st.Malformed)
	}
}

func TestSymmetricRTPLatchesToTheSourcePortOfTheExpectedIP(t *testing.T) {
	pool := newPool(t)
	a, b := newSession(t, pool, nil), newSession(t, pool, nil)
	// Phone A's SDP names a port it does not send from (a NAT rewrote it).
	phA, phB := newPhone(t, loopback), newPhone(t, loopback)
	sdpPort := newPhone(t, loopback) // a socket that only shows where the SDP pointed
	connect(t, a, sdpPort, pcmu, NoTelephoneEvent)
	connect(t, b, phB, pcmu, NoTelephoneEvent)
	relay, err := Bridge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	if a.RemoteAddr() != sdpPort.addr() || a.Stats().Latched {
		t.Fatalf("before any packet the session sends to the SDP address %s, got %s", sdpPort.addr(), a.RemoteAddr())
	}
	phA.send(a, 0, false, make([]byte, FrameSamples), FrameSamples)
	phB.read()
	if a.RemoteAddr() != phA.addr() || !a.Stats().Latched {
		t.Fatalf("after phone A's first packet the session should send to %s, sends to %s", phA.addr(), a.RemoteAddr())
	}
	audio := bytes.Repeat([]byte{0x5A}, FrameSamples)
	phB.send(b, 0, false, audio, FrameSamples)
	if got, from := phA.read(); from != a.LocalAddr() || !bytes.Equal(got.Payload, audio) {
		t.Fatal("phone A did not get B's audio at its latched address")
	}

	// A re-INVITE with the same address keeps the latch; a new address starts over.
	connect(t, a, sdpPort, pcmu, NoTelephoneEvent)
	if a.RemoteAddr() != phA.addr() {
		t.Fatal("a re-INVITE with an unchanged address lost the latch")
	}
	connect(t, a, phB, pcmu, NoTelephoneEvent)
	if a.RemoteAddr() != phB.addr() || a.Stats().Latched {
		t.Fatal("a re-INVITE with a new address should point the session there, unlatched")
	}
}

func TestInactivityOnAnInjectedClock(t *testing.T) {
	clock := tstest.NewClock(time.Time{})
	pool := newPool(t)
	s, err := NewSession(SessionConfig{Pool: pool, LocalIP: loopback, Clock: clock.Now, InactivityTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ph := newPhone(t, loopback)
	connect(t, s, ph, pcmu, NoTelephoneEvent)

	clock.Advance(29 * time.Second)
	if s.Inactive() {
		t.Fatal("inactive after 29 s of a 30 s timeout")
	}
	clock.Advance(time.Second)
	if !s.Inactive() {
		t.Fatal("not inactive after 30 s without RTP")
	}

	ph.send(s, 0, false, make([]byte, FrameSamples), FrameSamples)
	tstest.WaitFor(t, "the packet to be counted", func() bool { return s.Stats().PacketsIn == 1 })
	if s.Inactive() {
		t.Fatal("still inactive after a packet arrived")
	}
	if !s.Stats().LastPacket.Equal(clock.Now()) {
		t.Fatalf("LastPacket %v, want the clock's %v", s.Stats().LastPacket, clock.Now())
	}
	clock.Advance(30 * time.Second)
	if !s.Inactive() {
		t.Fatal("not inactive 30 s after the last packet")
	}
}

func TestDefaultInactivityTimeoutIsSixtySeconds(t *testing.T) {
	clock := tstest.NewClock(time.Time{})
	s := newSession(t, newPool(t), clock.Now)
	clock.Advance(59 * time.Second)
	if s.Inactive() {
		t.Fatal("inactive before 60 s")
	}
	clock.Advance(time.Second)
	if !s.Inactive() {
		t.Fatal("not inactive at 60 s")
	}
}

func TestPlaySendsFramesInTheSessionCodec(t *testing.T) {
	s := newSession(t, newPool(t), nil)
	ph := newPhone(t, loopback)
	connect(t, s, ph, pcma, NoTelephoneEvent)

	samples := sine(3*FrameSamples-40, 700, 9000, 0) // two full frames and a partial one
	if err := s.Play(t.Context(), PCM(samples)); err != nil {
		t.Fatalf("Play: %v", err)
	}
	var pcm []int16
	var first *rtpHeaderView
	for i := range 3 {
		got, _ := ph.read()
		if got.PayloadType != 8 || len(got.Payload) != FrameSamples {
			t.Fatalf("frame %d: payload type %d, %d bytes; want 8 and %d", i, got.PayloadType, len(got.Payload), FrameSamples)
		}
		if first == nil {
			first = &rtpHeaderView{got.SSRC, got.SequenceNumber, got.Timestamp}
		} else if got.SSRC != first.ssrc || got.SequenceNumber != first.seq+uint16(i) || got.Timestamp != first.ts+uint32(i*FrameSamples) {
			t.Fatalf("frame %d: stream not continuous", i)
		}
		pcm = DecodeFrame(pcm, PCMA, got.Payload)
	}
	checkPCM(t, "played", pcm[:len(samples)], samples)
	for _, v := range pcm[len(samples):] {
		if math.Abs(float64(v)) > 8 {
			t.Fatalf("the partial last frame should be padded with silence, got %d", v)
		}
	}
}

type rtpHeaderView struct {
	ssrc uint32
	seq  uint16
	ts   uint32
}

func TestPlayStopsOnContextAndOnClose(t *testing.T) {
	s := newSession(t, newPool(t), nil)
	ph := newPhone(t, loopback)
	connect(t, s, ph, pcmu, NoTelephoneEvent)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Play(ctx, Ringback()) }()
	ph.read() // it is playing
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Play after cancel: %v, want context.Canceled", err)
	}

	go func() { done <- s.Play(t.Context(), HoldMusic()) }()
	ph.read()
	s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after Close: %v, want ErrClosed", err)
	}
}

func TestBridgeRefusesBusyOrClosedSessions(t *testing.T) {
	pool := newPool(t)
	a, b, c := newSession(t, pool, nil), newSession(t, pool, nil), newSession(t, pool, nil)
	r, err := Bridge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bridge(a, c); !errors.Is(err, ErrAlreadyBridged) {
		t.Fatalf("bridging a bridged session: %v, want ErrAlreadyBridged", err)
	}
	if _, err := Bridge(a, a); err == nil {
		t.Fatal("bridging a session to itself succeeded")
	}
	r.Close()
	if _, err := Bridge(a, c); err != nil {
		t.Fatalf("after Close the session can be bridged again: %v", err)
	}
	b.Close()
	if _, err := Bridge(b, c); !errors.Is(err, ErrClosed) {
		t.Fatalf("bridging a closed session: %v, want ErrClosed", err)
	}
}

func TestRelayCloseStopsForwarding(t *testing.T) {
	pool := newPool(t)
	a, b := newSession(t, pool, nil), newSession(t, pool, nil)
	phA, phB := newPhone(t, loopback), newPhone(t, loopback)
	connect(t, a, phA, pcmu, NoTelephoneEvent)
	connect(t, b, phB, pcmu, NoTelephoneEvent)
	r, err := Bridge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	phA.send(a, 0, false, make([]byte, FrameSamples), FrameSamples)
	phB.read()
	r.Close()
	phA.send(a, 0, false, make([]byte, FrameSamples), FrameSamples)
	tstest.WaitFor(t, "both packets to be counted", func() bool { return a.Stats().PacketsIn == 2 })
	if got := b.Stats().PacketsOut; got != 1 {
		t.Fatalf("leg B sent %d packets, want 1: nothing after the relay closed", got)
	}
}

func TestPortsAndGoroutinesReturnAfterManySessions(t *testing.T) {
	const n = 200
	pool, err := NewPortPool(manySessionsPortMin, manySessionsPortMin+2*n-1) // exactly n even ports
	if err != nil {
		t.Fatal(err)
	}
	if pool.Size() != n {
		t.Fatalf("pool size %d, want %d", pool.Size(), n)
	}
	tstest.CheckGoroutines(t) // every session's goroutines end with it

	for round := range 2 { // the second round only works if the first gave every port back
		var sessions []*Session
		for range n {
			s, err := NewSession(SessionConfig{Pool: pool, LocalIP: loopback})
			if err != nil {
				t.Fatalf("round %d: NewSession: %v", round, err)
			}
			sessions = append(sessions, s)
		}
		if _, err := NewSession(SessionConfig{Pool: pool, LocalIP: loopback}); !errors.Is(err, ErrPortsExhausted) {
			t.Fatalf("session %d of a %d-port pool: %v, want ErrPortsExhausted", n+1, n, err)
		}
		// Bridge them in pairs with a packet through each, so relays are exercised too.
		ph := newPhone(t, loopback)
		for i := 0; i < n; i += 2 {
			connect(t, sessions[i], ph, pcmu, 101)
			connect(t, sessions[i+1], ph, pcma, NoTelephoneEvent)
			if _, err := Bridge(sessions[i], sessions[i+1]); err != nil {
				t.Fatal(err)
			}
			ph.send(sessions[i], 0, false, make([]byte, FrameSamples), FrameSamples)
			ph.read()
		}
		for _, s := range sessions {
			s.Close()
		}
		if pool.InUse() != 0 {
			t.Fatalf("round %d: %d ports still in use after closing every session", round, pool.InUse())
		}
	}
}

func TestNewSessionRejectsBadConfig(t *testing.T) {
	pool := newPool(t)
	for name, cfg := range map[string]SessionConfig{
		"no pool":          {LocalIP: loopback},
		"no ip":            {Pool: pool},
		"negative timeout": {Pool: pool, LocalIP: loopback, InactivityTimeout: -time.Second},
		"foreign ip":       {Pool: pool, LocalIP: netip.MustParseAddr("192.0.2.1")},
	} {
		if s, err := NewSession(cfg); err == nil {
			s.Close()
			t.Errorf("%s: NewSession succeeded", name)
		}
	}
	if pool.InUse() != 0 {
		t.Fatalf("failed NewSession calls left %d ports in use", pool.InUse())
	}
}

func TestSetRemoteRejectsBadNegotiation(t *testing.T) {
	s := newSession(t, newPool(t), nil)
	addr := netip.MustParseAddrPort("127.0.0.1:4000")
	for name, r := range map[string]*Remote{
		"nil":                nil,
		"no codec":           {Addr: addr, TelephoneEvent: NoTelephoneEvent},
		"event equals codec": {Addr: addr, Codec: pcmu, TelephoneEvent: 0},
		"event out of range": {Addr: addr, Codec: pcmu, TelephoneEvent: 200},
		"codec pt over 127":  {Addr: addr, Codec: Codec{Encoding: PCMU, PayloadType: 200}, TelephoneEvent: NoTelephoneEvent},
	} {
		if err := s.SetRemote(r); err == nil {
			t.Errorf("%s: SetRemote accepted it", name)
		}
	}
	if s.Codec().Valid() {
		t.Fatal("a rejected SetRemote changed the session")
	}
}

func TestNewPortPoolValidatesTheRange(t *testing.T) {
	for _, r := range [][2]int{{20000, 10000}, {80, 1000}, {10000, 70000}, {10001, 10001}} {
		if _, err := NewPortPool(r[0], r[1]); err == nil {
			t.Errorf("NewPortPool(%d, %d) accepted", r[0], r[1])
		}
	}
	p, err := NewPortPool(0, 0)
	if err != nil || p.Size() != (DefaultPortMax-DefaultPortMin)/2+1 {
		t.Fatalf("default pool: %v, size %d", err, p.Size())
	}
}

// gatedSource yields one frame of value per ReadFrame call it is let through.
type gatedSource struct {
	gate  chan bool // true: one more frame; false: end
	value int16
}

func (g *gatedSource) ReadFrame(frame []int16) error {
	if !<-g.gate {
		return io.EOF
	}
	for i := range frame {
		frame[i] = g.value
	}
	return nil
}

func TestPlayMutesBridgedAudioAndTheStreamContinuesAfterIt(t *testing.T) {
	a, b, phA, phB := bridged(t, pcmu, pcmu, NoTelephoneEvent, NoTelephoneEvent)
	voice := bytes.Repeat([]byte{0x42}, FrameSamples)
	phA.send(a, 0, false, voice, FrameSamples)
	before, _ := phB.read()

	src := &gatedSource{gate: make(chan bool), value: 1000}
	done := make(chan error, 1)
	go func() { done <- b.Play(t.Context(), src) }()
	src.gate <- true
	played, _ := phB.read()
	if !bytes.Equal(played.Payload, bytes.Repeat([]byte{UlawEncode(1000)}, FrameSamples)) {
		t.Fatal("phone B did not get the played frame")
	}
	// Play is now waiting for its next frame; phone A's voice must not reach phone B.
	phA.send(a, 0, false, voice, FrameSamples)
	// The played frame is counted just after it is sent, so wait for its count too.
	tstest.WaitFor(t, "both packets to be counted", func() bool { return a.Stats().PacketsIn == 2 && b.Stats().PacketsOut >= 2 })
	if got := b.Stats().PacketsOut; got != 2 {
		t.Fatalf("leg B sent %d packets during the announcement, want 2 (one voice before, one played)", got)
	}
	src.gate <- false
	if err := <-done; err != nil {
		t.Fatalf("Play: %v", err)
	}

	phA.send(a, 0, false, voice, FrameSamples)
	after, _ := phB.read()
	if !bytes.Equal(after.Payload, voice) {
		t.Fatal("bridged audio did not resume after Play")
	}
	if played.SSRC != before.SSRC || after.SSRC != before.SSRC {
		t.Fatal("played and relayed audio went out under different SSRCs")
	}
	if played.SequenceNumber != before.SequenceNumber+1 || after.SequenceNumber != played.SequenceNumber+1 {
		t.Fatalf("sequence numbers %d, %d, %d: want consecutive", before.SequenceNumber, played.SequenceNumber, after.SequenceNumber)
	}
	if !played.Marker || !after.Marker {
		t.Fatal("each change of source should set the marker bit")
	}
	if int32(played.Timestamp-before.Timestamp) < FrameSamples || int32(after.Timestamp-played.Timestamp) < FrameSamples {
		t.Fatal("timestamps must move forward by at least a frame at each change of source")
	}
}

// A remote that asked for no audio (a=sendonly or a=inactive: a phone holding the call) is
// sent nothing, neither relayed audio, nor events, nor played frames; when it resumes with
// a=sendrecv the relay to it starts again.
func TestSessionSendsNothingToARemoteThatAskedForNone(t *testing.T) {
	for _, dir := range []Direction{SendOnly, Inactive} {
		t.Run(string(dir), func(t *testing.T) {
			pool := newPool(t)
			held, other := newSession(t, pool, nil), newSession(t, pool, nil)
			holder, talker := newPhone(t, loopback), newPhone(t, loopback)
			if err := held.SetRemote(&Remote{Addr: holder.addr(), Codec: pcmu, TelephoneEvent: 101, Direction: dir}); err != nil {
				t.Fatal(err)
			}
			connect(t, other, talker, pcmu, 101)
			r, err := Bridge(held, other)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			const sent = 20
			for i := 0; i < sent; i++ {
				talker.send(other, 0, false, []byte{byte(i), 1, 2, 3}, 160)
			}
			talker.sendEvent(other, 101, 7000, TelephoneEvent{Event: 5, Duration: 160}, true)
			ctx, cancel := context.WithCancel(t.Context())
			played := make(chan error, 1)
			go func() { played <- held.Play(ctx, PCM(make([]int16, 5*FrameSamples))) }()
			if err := <-played; err != nil {
				t.Fatalf("Play to a holding remote: %v", err)
			}
			cancel()
			tstest.WaitFor(t, "the talker's packets to be received", func() bool { return other.Stats().PacketsIn == sent+1 })
			if n := held.Stats().PacketsOut; n != 0 {
				t.Fatalf("%d packets were sent to a remote that said a=%s", n, dir)
			}

			connect(t, held, holder, pcmu, 101) // resume: a=sendrecv
			talker.send(other, 0, false, []byte{0xEE, 1, 2, 3}, 160)
			if pkt, _ := holder.read(); pkt.Payload[0] != 0xEE {
				t.Fatalf("the first packet after resuming is %x, want the one sent after it", pkt.Payload)
			}
		})
	}
}
