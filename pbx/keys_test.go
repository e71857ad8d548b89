package pbx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
)

// hangUp ends alice's call with a BYE and waits for the engine to forget it.
func hangUp(t *testing.T, e *env, c *call) {
	t.Helper()
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	e.waitIdle()
}

// legKeys is keys() of the caller's or callee's leg of the only call.
func legKeys(t *testing.T, e *env, caller bool) (<-chan media.Digit, func() uint64) {
	t.Helper()
	keys, dropped := pbx.LegKeys(e.eng, caller)
	if keys == nil {
		t.Fatal("no call with that leg")
	}
	return keys, dropped
}

// expectKeys reads want's length of presses from keys and compares them with want; a
// press counted twice shows as a repeated key before the next one.
func expectKeys(t *testing.T, keys <-chan media.Digit, want string) {
	t.Helper()
	var got []byte
	timeout := time.After(tstest.DefaultWait)
	for len(got) < len(want) {
		select {
		case d, ok := <-keys:
			if !ok {
				t.Fatalf("keys closed after %q; want %q", got, want)
			}
			got = append(got, byte(d))
		case <-timeout:
			t.Fatalf("keys: got %q within %v; want %q", got, tstest.DefaultWait, want)
		}
	}
	if string(got) != want {
		t.Fatalf("keys %q; want %q", got, want)
	}
}

// info sends an INFO with body of ctype in the dialog and returns the status code.
func info(t *testing.T, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri,
	ctype, body string, hdrs ...sip.Header) int {
	t.Helper()
	req := sip.NewRequest(sip.INFO, target)
	if ctype != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody([]byte(body))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := do(ctx, req)
	if err != nil {
		t.Fatalf("INFO: %v", err)
	}
	return res.StatusCode
}

// SIP INFO in a call's dialog, from the caller (UAC side) and from the callee (UAS side):
// application/dtmf-relay and application/dtmf are key presses of that leg (200); an empty
// INFO is a keep-alive (200); another body is 415 with Accept, or 469 for an Info
// Package; a DTMF body without a key is 400; the call goes on after all of them.
func TestKeysFromSIPInfo(t *testing.T) {
	e := newEnv(t)
	_, c, in := establishedCall(t, e)
	callerKeys, _ := legKeys(t, e, true)
	calleeKeys, _ := legKeys(t, e, false)
	fromAlice := func(ctype, body string, hdrs ...sip.Header) int {
		return info(t, c.dlg.Do, c.dlg.InviteResponse.Contact().Address, ctype, body, hdrs...)
	}
	fromBob := func(ctype, body string) int {
		return info(t, in.dlg.Do, in.req.Contact().Address, ctype, body)
	}

	for _, m := range []struct{ ctype, body string }{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"},
		{"application/dtmf-relay", "Signal= #\nDuration= 250"}, // bare LF, spaces: as phones send
		{"Application/DTMF-Relay; charset=utf-8", "Duration=100\r\nSignal=11\r\n"},
		{"application/dtmf", "1"},
		{"application/dtmf", "*\r\n"},
		{"application/dtmf", "d"},
	} {
		if code := fromAlice(m.ctype, m.body); code != 200 {
			t.Fatalf("INFO %s %q: %d; want 200", m.ctype, m.body, code)
		}
	}
	expectKeys(t, callerKeys, "5##1*D")
	if code := fromBob("application/dtmf-relay", "Signal=9\r\nDuration=160\r\n"); code != 200 {
		t.Fatalf("bob's INFO: %d; want 200", code)
	}
	expectKeys(t, calleeKeys, "9")

	for _, m := range []struct {
		ctype, body string
		hdrs        []sip.Header
		want        int
	}{
		{"", "", nil, 200},                // keep-alive
		{"text/plain", "hello", nil, 415}, // not DTMF
		{"application/json", `{"a":1}`, []sip.Header{sip.NewHeader("Info-Package", "foo")}, 469},
		{"application/dtmf-relay", "Signal=X\r\n", nil, 400},
		{"application/dtmf-relay", "Duration=160\r\n", nil, 400},
		{"application/dtmf", "12", nil, 400},
	} {
		if code := fromAlice(m.ctype, m.body, m.hdrs...); code != m.want {
			t.Errorf("INFO %q %q: %d; want %d", m.ctype, m.body, code, m.want)
		}
	}
	select {
	case d := <-callerKeys:
		t.Errorf("a refused INFO delivered key %c", d)
	default:
	}
	// The call is still up: audio crosses, and one more key arrives.
	expectAudio(t, c.rtp, in.rtp, ulawFrame(3), ulawFrame(3))
	fromAlice("application/dtmf", "0")
	expectKeys(t, callerKeys, "0")
	hangUp(t, e, c)
}

// The 415 names the types accepted.
func TestInfoWithAnotherBodyIs415WithAccept(t *testing.T) {
	e := newEnv(t)
	_, c, _ := establishedCall(t, e)
	req := sip.NewRequest(sip.INFO, c.dlg.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("x"))
	res, err := c.dlg.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if h := res.GetHeader("Accept"); res.StatusCode != 415 || h == nil ||
		!strings.Contains(h.Value(), "application/dtmf-relay") || !strings.Contains(h.Value(), "application/dtmf") {
		t.Fatalf("INFO text/plain: %d, Accept %v; want 415 accepting both DTMF types", res.StatusCode, h)
	}
	hangUp(t, e, c)
}

// offerWithoutEvents is the peer's offer of PCMU alone, without telephone-event: a phone
// or trunk that can only send tones.
func offerWithoutEvents(p *rtpPeer) []byte {
	var lines []string
	for _, l := range strings.Split(string(p.offer(0)), "\r\n") {
		if strings.Contains(l, ":101 ") {
			continue
		}
		lines = append(lines, strings.Replace(l, " 0 101", " 0", 1))
	}
	return []byte(strings.Join(lines, "\r\n"))
}

// sendTones sends audio to the PBX as a phone does, in 20 ms µ-law frames.
func sendTones(t *testing.T, p *rtpPeer, audio []int16) {
	t.Helper()
	for len(audio) > 0 {
		n := min(media.FrameSamples, len(audio))
		frame := make([]int16, media.FrameSamples)
		copy(frame, audio[:n])
		p.send(t, media.EncodeFrame(nil, media.PCMU, frame))
		audio = audio[n:]
		if len(audio)%(10*media.FrameSamples) == 0 {
			time.Sleep(time.Millisecond) // a burst of 1.3 s of audio must not overflow the socket
		}
	}
}

// A phone that offers no telephone-event and dials by tones in its G.711 audio: keys()
// of its leg yields the keys, once each.
func TestKeysFromInbandTones(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	peer := newRTPPeer(t, "127.0.0.1")
	c := alice.dialOffer(context.Background(), e, "1002", "alice", "alice-pw-1", peer, offerWithoutEvents(peer))
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	if strings.Contains(string(c.dlg.InviteResponse.Body()), "telephone-event") {
		t.Fatalf("the PBX answered with telephone-event to an offer without it:\n%s", c.dlg.InviteResponse.Body())
	}
	keys, _ := legKeys(t, e, true)
	sendTones(t, c.rtp, media.DTMFTones("123#"))
	expectKeys(t, keys, "123#")
	hangUp(t, e, c)
}

// A phone that sends each press both as RFC 4733 events and as a tone in its audio gets
// one key per press.
func TestKeysFromAPhoneSendingEventsAndTonesCountEachPressOnce(t *testing.T) {
	e := newEnv(t)
	_, c, _ := establishedCall(t, e) // alice offered telephone-event 101
	keys, _ := legKeys(t, e, true)
	for _, key := range "12" {
		ev, _ := media.EventForDigit(media.Digit(key))
		tone := media.DTMFTones(string(key))
		c.rtp.mu.Lock()
		start := c.rtp.ts
		c.rtp.mu.Unlock()
		for i := 0; i < len(tone); i += media.FrameSamples {
			c.rtp.send(t, media.EncodeFrame(nil, media.PCMU, tone[i:i+media.FrameSamples]))
			ends := 1
			if i+media.FrameSamples >= len(tone) {
				ends = 3 // the end packet, thrice
			}
			for range ends {
				sendEvent(t, c.rtp, start, media.TelephoneEvent{Event: ev, Volume: 10,
					Duration: uint16(i + media.FrameSamples), End: ends == 3})
			}
		}
	}
	expectKeys(t, keys, "12")
	hangUp(t, e, c)
}

// sendEvent sends one telephone-event packet (payload type 101) with the press's
// timestamp ts; it does not advance the peer's audio clock.
func sendEvent(t *testing.T, p *rtpPeer, ts uint32, ev media.TelephoneEvent) {
	t.Helper()
	p.mu.Lock()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: p.seq, Timestamp: ts,
		SSRC: p.ssrc}, Payload: ev.Marshal()}
	p.seq++
	remote := p.remote
	p.mu.Unlock()
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, remote); err != nil {
		t.Fatal(err)
	}
}

// A flood of 10,000 INFO key presses and 10,000 RFC 4733 presses that nobody reads: every
// INFO is answered, keys() holds its buffer's worth (the first presses) and counts the
// rest dropped, and the call still hangs up cleanly, closing keys().
func TestKeysFloodNeverBlocksAndStaysBounded(t *testing.T) {
	e := newEnv(t)
	_, c, in := establishedCall(t, e)
	keys, dropped := legKeys(t, e, true)
	const flood = 10000
	target := c.dlg.InviteResponse.Contact().Address
	for i := range flood {
		if code := info(t, c.dlg.Do, target, "application/dtmf", string("0123456789"[i%10])); code != 200 {
			t.Fatalf("INFO %d: %d; want 200", i, code)
		}
	}
	if n, capacity := len(keys), cap(keys); n != capacity || capacity > 64 {
		t.Fatalf("keys holds %d of %d; want a small buffer, full", n, capacity)
	}
	if d := dropped(); d != uint64(flood-cap(keys)) {
		t.Fatalf("dropped %d; want %d", d, flood-cap(keys))
	}
	for i := range flood { // RFC 4733: one press per timestamp, its end packet only
		sendEvent(t, c.rtp, uint32(i*1000), media.TelephoneEvent{Event: uint8(i % 10), End: true, Duration: 800})
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // keep the burst within the socket's buffer
		}
	}
	expectAudio(t, c.rtp, in.rtp, ulawFrame(4), ulawFrame(4)) // the media still flows
	if n := len(keys); n > cap(keys) {
		t.Fatalf("keys holds %d", n)
	}
	expectKeys(t, keys, "0123456789") // the first presses, in order

	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg after alice's BYE")
	if r := e.endedRecord(switchboard.CallOutbound); r.Disposition != switchboard.DispositionAnswered {
		t.Errorf("disposition %q; want answered", r.Disposition)
	}
	e.waitIdle()
	timeout := time.After(tstest.DefaultWait)
	for open := true; open; {
		select {
		case _, open = <-keys:
		case <-timeout:
			t.Fatal("keys() not closed after the call ended")
		}
	}
}

// A key alice presses by SIP INFO reaches bob across the bridge: as an RFC 4733
// telephone-event when bob's phone negotiated telephone-event, as the same INFO when it
// did not (a carrier's IVR behind a trunk must hear the key either way).
func TestSIPInfoKeyIsRelayedAcrossTheBridge(t *testing.T) {
	t.Run("as RFC 4733", func(t *testing.T) {
		e := newEnv(t)
		_, c, in := establishedCall(t, e)
		if code := info(t, c.dlg.Do, c.dlg.InviteResponse.Contact().Address, "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"); code != 200 {
			t.Fatalf("INFO: %d", code)
		}
		for end := time.Now().Add(tstest.DefaultWait); time.Now().Before(end); {
			pkt := in.rtp.recv(time.Second)
			if pkt == nil || pkt.PayloadType != 101 {
				continue
			}
			ev, err := media.ParseTelephoneEvent(pkt.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Event != 5 {
				t.Fatalf("bob received event %d; want 5", ev.Event)
			}
			return
		}
		t.Fatal("bob's phone received no telephone-event for alice's INFO key")
	})
	t.Run("as SIP INFO", func(t *testing.T) {
		e := newEnv(t)
		alice, bob, _, _ := twoPhones(t, e)
		c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
		in := bob.next()
		in.rtp = newRTPPeer(t, "127.0.0.1")
		in.rtp.setRemote(t, in.req.Body())
		var noEvents []string // bob's answer without telephone-event
		for _, line := range strings.Split(string(in.rtp.offer(0)), "\r\n") {
			if !strings.Contains(line, ":101 ") && line != "" {
				noEvents = append(noEvents, strings.Replace(line, " 0 101", " 0", 1))
			}
		}
		go func() { _ = in.dlg.RespondSDP([]byte(strings.Join(noEvents, "\r\n") + "\r\n")); in.finalSent() }()
		c.answered(t)
		endedOrConfirmed(t, in)
		if code := info(t, c.dlg.Do, c.dlg.InviteResponse.Contact().Address, "application/dtmf-relay", "Signal=7\r\nDuration=160\r\n"); code != 200 {
			t.Fatalf("INFO: %d", code)
		}
		select {
		case body := <-bob.infos:
			if !strings.Contains(body, "Signal=7") {
				t.Fatalf("bob's phone got INFO %q; want Signal=7", body)
			}
		case <-time.After(tstest.DefaultWait):
			t.Fatal("bob's phone got no INFO for alice's key")
		}
	})
}
