package media

import (
	"bytes"
	"testing"
)

func TestTelephoneEventPayload(t *testing.T) {
	ev := TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 1000}
	b := ev.Marshal()
	if !bytes.Equal(b, []byte{11, 0x80 | 10, 0x03, 0xE8}) {
		t.Fatalf("marshal: % x", b)
	}
	got, err := ParseTelephoneEvent(b)
	if err != nil || got != ev {
		t.Fatalf("parse: %+v, %v", got, err)
	}
	// The R bit is ignored; redundant events after the first are ignored.
	got, err = ParseTelephoneEvent([]byte{3, 0x40 | 7, 0, 160, 9, 9, 9, 9})
	if err != nil || got != (TelephoneEvent{Event: 3, Volume: 7, Duration: 160}) {
		t.Fatalf("parse with R bit: %+v, %v", got, err)
	}
	if _, err := ParseTelephoneEvent([]byte{1, 2, 3}); err != ErrShortTelephoneEvent {
		t.Fatalf("short payload: %v", err)
	}
}

func TestDigitsAndEventCodes(t *testing.T) {
	for code, key := range "0123456789*#ABCD" {
		d, ok := DigitForEvent(uint8(code))
		if !ok || d != Digit(key) {
			t.Errorf("event %d: %c %v, want %c", code, d, ok, key)
		}
		if back, err := EventForDigit(Digit(key)); err != nil || back != uint8(code) {
			t.Errorf("key %c: %d %v", key, back, err)
		}
	}
	if _, ok := DigitForEvent(16); ok {
		t.Error("flash (16) is not a key")
	}
	if _, err := EventForDigit('x'); err == nil {
		t.Error("x is not a key")
	}
}

func TestDigitDetector(t *testing.T) {
	pkt := func(event uint8, end bool, dur uint16) []byte {
		return TelephoneEvent{Event: event, End: end, Duration: dur}.Marshal()
	}
	type step struct {
		ts      uint32
		payload []byte
	}
	for _, c := range []struct {
		name  string
		steps []step
		want  string
	}{
		{"one press, end sent three times", []step{
			{100, pkt(5, false, 160)}, {100, pkt(5, false, 320)},
			{100, pkt(5, true, 480)}, {100, pkt(5, true, 480)}, {100, pkt(5, true, 480)},
		}, "5"},
		{"same key twice", []step{
			{100, pkt(1, false, 160)}, {100, pkt(1, true, 400)}, {100, pkt(1, true, 400)},
			{900, pkt(1, false, 160)}, {900, pkt(1, true, 400)},
		}, "11"},
		{"end packets only (short press)", []step{{100, pkt(10, true, 80)}, {100, pkt(10, true, 80)}}, "*"},
		{"every end packet lost: reported when the next press starts", []step{
			{100, pkt(2, false, 160)}, {100, pkt(2, false, 320)},
			{900, pkt(3, false, 160)}, {900, pkt(3, true, 400)},
		}, "23"},
		{"a late start packet after the end is not a new press", []step{
			{100, pkt(4, true, 400)}, {100, pkt(4, false, 160)},
		}, "4"},
		{"flash and short payloads are ignored", []step{
			{100, pkt(16, true, 400)}, {200, []byte{1, 2}}, {300, pkt(12, true, 400)},
		}, "A"},
	} {
		var d digitDetector
		var got []byte
		for _, s := range c.steps {
			for _, k := range d.observe(s.ts, s.payload) {
				got = append(got, byte(k))
			}
		}
		if string(got) != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
