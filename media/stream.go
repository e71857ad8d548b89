package media

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/pion/rtp"
)

// maxDatagram bounds what a session reads and writes; RTP over UDP stays below the MTU, and
// anything larger than this was not audio we can carry.
const maxDatagram = 2048

// outStream is the one RTP stream a session sends: its own SSRC, with sequence numbers and
// timestamps that stay continuous whatever feeds it — the other leg's packets (whose SSRC
// may change, e.g. after the other leg is transferred) or local playback. Each time the
// source changes the stream re-anchors: the new source's numbers are offset so that they
// continue from ours, and the marker bit flags the discontinuity. Within one source the
// offsets are fixed, so gaps and reordering pass through unchanged for the far end's jitter
// buffer to see.
type outStream struct {
	ssrc     uint32
	seq      uint16 // highest sequence number sent
	ts       uint32 // highest timestamp sent
	lastSent time.Time
	sent     bool // seq, ts and lastSent are meaningful

	// the relayed source the offsets belong to; srcValid is false after local frames
	srcValid  bool
	srcSSRC   uint32
	seqOffset uint16
	tsOffset  uint32

	buf [maxDatagram]byte
}

func (o *outStream) init() {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	o.ssrc = binary.BigEndian.Uint32(b[0:4])
	// RFC 3550 5.1: random initial sequence number and timestamp
	o.seq = binary.BigEndian.Uint16(b[4:6])
	o.ts = binary.BigEndian.Uint32(b[6:10])
}

// nextPosition is where the stream continues after a change of source: the next sequence
// number, and a timestamp advanced by the wall time since the last packet (at least one
// frame), so that the far end's jitter buffer sees time pass rather than a jump back.
func (o *outStream) nextPosition(now time.Time) (uint16, uint32) {
	if !o.sent {
		return o.seq, o.ts
	}
	advance := uint32(FrameSamples)
	if elapsed := now.Sub(o.lastSent); elapsed > 0 {
		if samples := elapsed * SampleRate / time.Second; samples > FrameSamples && samples < 1<<31 {
			advance = uint32(samples)
		}
	}
	return o.seq + 1, o.ts + advance
}

// mapRelayed returns the sequence number and timestamp in our stream of a packet from the
// other leg, and whether it starts a new source.
func (o *outStream) mapRelayed(pkt *rtp.Packet, now time.Time) (seq uint16, ts uint32, marker bool) {
	if !o.srcValid || pkt.SSRC != o.srcSSRC {
		nextSeq, nextTS := o.nextPosition(now)
		o.srcValid, o.srcSSRC = true, pkt.SSRC
		o.seqOffset = nextSeq - pkt.SequenceNumber
		o.tsOffset = nextTS - pkt.Timestamp
		marker = true
	}
	seq = pkt.SequenceNumber + o.seqOffset
	ts = pkt.Timestamp + o.tsOffset
	o.advance(seq, ts, now)
	return seq, ts, marker
}

// nextLocal returns the numbers of the next locally generated frame of samples samples.
func (o *outStream) nextLocal(samples int, now time.Time) (seq uint16, ts uint32, marker bool) {
	if o.srcValid || !o.sent {
		// switching from relayed audio (or starting): continue after it
		seq, ts = o.nextPosition(now)
		marker = true
	} else {
		seq, ts = o.seq+1, o.ts+uint32(samples)
	}
	o.srcValid = false
	o.advance(seq, ts, now)
	return seq, ts, marker
}

// startEvent returns the numbers of a telephone-event that starts now: the next sequence
// number, and a timestamp advanced by the wall time as after a change of source. What
// follows (local frames, relayed audio) continues after it.
func (o *outStream) startEvent(now time.Time) (seq uint16, ts uint32) {
	seq, ts = o.nextPosition(now)
	o.srcValid = false
	o.advance(seq, ts, now)
	return seq, ts
}

// advance records a sent packet, keeping the highest sequence number and timestamp in
// serial-number order (a late, reordered packet does not move them back).
func (o *outStream) advance(seq uint16, ts uint32, now time.Time) {
	if !o.sent || int16(seq-o.seq) > 0 {
		o.seq = seq
	}
	if !o.sent || int32(ts-o.ts) > 0 {
		o.ts = ts
	}
	o.lastSent = now
	o.sent = true
}
