package media

import (
	"errors"
	"fmt"
)

// TelephoneEvent is one RFC 4733 telephone-event payload (section 2.3):
//
//	 0                   1                   2                   3
//	|     event     |E|R| volume    |          duration             |
type TelephoneEvent struct {
	Event    uint8  // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash; others are not DTMF
	End      bool   // the E bit: the last packets of the event carry it
	Volume   uint8  // 0-63, in -dBm0
	Duration uint16 // in timestamp units since the event's RTP timestamp
}

// ErrShortTelephoneEvent is returned for payloads shorter than the 4 bytes of an event.
var ErrShortTelephoneEvent = errors.New("media: telephone-event payload shorter than 4 bytes")

// ParseTelephoneEvent decodes the first event of an RFC 4733 payload. Payloads may carry
// several events back to back (redundancy); the first is the current one.
func ParseTelephoneEvent(payload []byte) (TelephoneEvent, error) {
	if len(payload) < 4 {
		return TelephoneEvent{}, ErrShortTelephoneEvent
	}
	return TelephoneEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3F,
		Duration: uint16(payload[2])<<8 | uint16(payload[3]),
	}, nil
}

// Marshal encodes the event as a 4-byte payload (the R bit is always zero).
func (e TelephoneEvent) Marshal() []byte {
	b := [4]byte{e.Event, e.Volume & 0x3F, byte(e.Duration >> 8), byte(e.Duration)}
	if e.End {
		b[1] |= 0x80
	}
	return b[:]
}

// Digit is a DTMF key: one of 0-9, *, #, A-D.
type Digit byte

// dtmfKeys maps RFC 4733 event codes 0-15 to keys.
const dtmfKeys = "0123456789*#ABCD"

// DigitForEvent returns the key of a DTMF event code, false for codes that are not keys
// (flash and the other events of the registry).
func DigitForEvent(event uint8) (Digit, bool) {
	if int(event) < len(dtmfKeys) {
		return Digit(dtmfKeys[event]), true
	}
	return 0, false
}

// EventForDigit returns the RFC 4733 event code of a key.
func EventForDigit(d Digit) (uint8, error) {
	for i := range len(dtmfKeys) {
		if dtmfKeys[i] == byte(d) {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("media: %q is not a DTMF key (0-9, *, #, A-D)", byte(d))
}

func (d Digit) String() string { return string(rune(d)) }

// digitDetector turns a stream of telephone-event packets into one Digit per key press.
// A press is one RTP timestamp (RFC 4733 2.5.1: all packets of an event share the event's
// start timestamp). It is reported when its first end packet arrives; the end packet's
// retransmissions (usually three) and late packets of the press are ignored. If every end
// packet of a press is lost, the press is reported when the next press begins, so that a
// lossy network costs latency, not digits.
type digitDetector struct {
	active     bool   // a press has started and not yet been reported
	activeTS   uint32 // its timestamp
	activeKey  Digit
	reported   bool // reportedTS is meaningful
	reportedTS uint32
}

// observe feeds one telephone-event packet; it returns the digits completed by it
// (at most two: a press whose end was lost, and this one).
func (d *digitDetector) observe(timestamp uint32, payload []byte) (done []Digit) {
	ev, err := ParseTelephoneEvent(payload)
	if err != nil {
		return nil
	}
	key, isKey := DigitForEvent(ev.Event)
	if !isKey {
		return nil
	}
	if d.reported && timestamp == d.reportedTS {
		return nil // a retransmitted end, or a late packet of a press already reported
	}
	if d.active && timestamp != d.activeTS {
		done = append(done, d.activeKey) // the previous press never showed its end
		d.reported, d.reportedTS = true, d.activeTS
		d.active = false
	}
	if ev.End {
		done = append(done, key)
		d.reported, d.reportedTS = true, timestamp
		d.active = false
		return done
	}
	d.active, d.activeTS, d.activeKey = true, timestamp, key
	return done
}
