package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/pion/rtp"
)

// The seed corpora live in testdata/fuzz/<target>/ and run with every `go test`; run a
// target for longer with e.g. `go test -run '^$' -fuzz FuzzParseSDP -fuzztime 20s ./media`.

// FuzzParseSDP: any body either fails with ErrInvalidSDP or ErrNoCommonCodec, or yields an
// offer whose answer is valid SDP that reads back as our address and the chosen codec.
func FuzzParseSDP(f *testing.F) {
	local := netip.MustParseAddrPort("203.0.113.5:10002")
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidSDP) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !r.Codec.Valid() || r.Addr.Port() == 0 {
			t.Fatalf("accepted an offer without a codec or port: %+v", r)
		}
		answer, err := r.Answer(local, Origin{SessionID: 1, Version: 1})
		if err != nil {
			t.Fatalf("no answer for an accepted offer: %v", err)
		}
		back, err := ParseSDP(answer)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\noffer:\n%s\nanswer:\n%s", err, body, answer)
		}
		if back.Addr != local || back.Codec != r.Codec || back.TelephoneEvent != r.TelephoneEvent {
			t.Fatalf("answer reads back as %+v, offer chose %+v", back, r)
		}
	})
}

// FuzzRTPPacket feeds any datagram through a bridged session's receive path (parsing,
// source checks, telephone-events, transcoding, stream rewriting) and checks what reaches
// the other leg: valid RTP in that leg's own stream, the payload's length kept.
func FuzzRTPPacket(f *testing.F) {
	pool, err := NewPortPool(testPortMin, manySessionsPortMin-1)
	if err != nil {
		f.Fatal(err)
	}
	mk := func() *Session {
		s, err := NewSession(SessionConfig{Pool: pool, LocalIP: loopback})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { s.Close() })
		return s
	}
	a, b := mk(), mk()
	phone := netip.MustParseAddrPort("127.0.0.1:9") // discard: what b sends is checked below, not received
	if err := a.SetRemote(&Remote{Addr: phone, Codec: pcmu, TelephoneEvent: 101}); err != nil {
		f.Fatal(err)
	}
	if err := b.SetRemote(&Remote{Addr: phone, Codec: pcma, TelephoneEvent: 96}); err != nil {
		f.Fatal(err)
	}
	relay, err := Bridge(a, b)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { relay.Close() })

	f.Fuzz(func(t *testing.T, datagram []byte, fromOther bool) {
		if len(datagram) > maxDatagram {
			datagram = datagram[:maxDatagram] // what the session's socket read keeps
		}
		src := phone
		if fromOther {
			src = netip.MustParseAddrPort("127.0.0.2:9")
		}
		before := b.Stats().PacketsOut
		var pkt rtp.Packet
		a.receive(datagram, src, &pkt) // a's reader owns pkt and the detector; tests share them here

		var in rtp.Packet
		if in.Unmarshal(datagram) != nil || in.Version != 2 || fromOther {
			if b.Stats().PacketsOut != before {
				t.Fatal("an invalid or foreign datagram was relayed")
			}
			return
		}
		if in.PayloadType != 0 && in.PayloadType != 101 {
			return
		}
		if b.Stats().PacketsOut != before+1 {
			t.Fatalf("a valid packet of type %d was not relayed", in.PayloadType)
		}
		b.sendMu.Lock()
		var out rtp.Packet
		err := out.Unmarshal(b.out.buf[:rtp.Header{}.MarshalSize()+len(in.Payload)])
		ssrc := b.out.ssrc
		b.sendMu.Unlock()
		if err != nil {
			t.Fatalf("the relayed packet is not RTP: %v", err)
		}
		if out.SSRC != ssrc || len(out.Payload) != len(in.Payload) || out.Extension || out.Padding || len(out.CSRC) != 0 {
			t.Fatalf("relayed header %+v, payload %d bytes of %d", out.Header, len(out.Payload), len(in.Payload))
		}
		if want := map[uint8]uint8{0: 8, 101: 96}[in.PayloadType]; out.PayloadType != want {
			t.Fatalf("payload type %d relayed as %d, want %d", in.PayloadType, out.PayloadType, want)
		}
		if in.PayloadType == 101 && !bytes.Equal(out.Payload, in.Payload) {
			t.Fatal("a telephone-event payload was changed")
		}
	})
}

// FuzzTelephoneEvent decodes any payload, and runs any sequence of (timestamp, payload)
// packets through the digit detector: it must report only keys, and at most one per press.
func FuzzTelephoneEvent(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if ev, err := ParseTelephoneEvent(data); err == nil {
			if got, _ := ParseTelephoneEvent(ev.Marshal()); got != ev {
				t.Fatalf("%+v does not survive Marshal", ev)
			}
		} else if len(data) >= 4 {
			t.Fatalf("a %d-byte payload was refused: %v", len(data), err)
		}
		// A run is consecutive packets with one timestamp: one press at most. A report comes
		// at the end of its press's run or at the start of the next, never twice for one run.
		var d digitDetector
		runs, reports := 0, 0
		var lastTS uint32
		for len(data) >= 6 { // each packet: 2 bytes of timestamp, 4 of payload
			ts := uint32(binary.BigEndian.Uint16(data))
			if runs == 0 || ts != lastTS {
				runs++
			}
			lastTS = ts
			for _, k := range d.observe(ts, data[2:6]) {
				if _, err := EventForDigit(k); err != nil {
					t.Fatalf("reported %q, not a key", byte(k))
				}
				reports++
			}
			if reports > runs {
				t.Fatalf("%d digits reported from %d presses", reports, runs)
			}
			data = data[6:]
		}
	})
}
