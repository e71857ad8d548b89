package pbx

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard/media"
)

// Keys: phones send DTMF three ways, and a leg's keys() merges them into one stream, one
// digit per press:
//
//   - RFC 4733 telephone-events in the RTP stream (media.Session.Digits); most phones and
//     carriers. Relayed to the other leg of a bridged call as well (media.Bridge).
//   - SIP INFO in the leg's dialog, application/dtmf-relay (Signal=5) or application/dtmf
//     (5): older phones and some PBXs. Relayed to the other leg of a bridged call as
//     RFC 4733 where that leg negotiated telephone-event, else as the same INFO (relayKey).
//   - In-band tones in the audio (media.Session.DetectInband): trunks and phones that send
//     nothing else. On a leg whose SDP negotiated telephone-event a tone's key counts only
//     when no telephone-event comes with it, so a phone sending both counts once.
//
// In-band detection costs CPU per leg (eight Goertzel filters over every sample), so it
// runs from the first keys() call on a leg until the leg ends: on legs an application
// listens to (IVR, voicemail, conference, queue), not on every bridged call. It runs on
// every such leg, trunk or phone, telephone-event negotiated or not, because gateways that
// negotiate telephone-event and then pass tones in the audio are common.

// keyBuffer is how many presses a leg's keys() holds for a reader that is busy (playing a
// prompt, say): a caller typing ahead is kept, a flood is dropped and counted.
const keyBuffer = 32

// keypad is a leg's merged keys. Its zero value is ready: the channel and the goroutine
// that forwards the media session's digits into it start on first use.
type keypad struct {
	start  sync.Once
	inband sync.Once
	ch     chan media.Digit

	mu      sync.Mutex // orders pushes before the close of ch
	closed  bool
	dropped atomic.Uint64 // presses lost because keys() was not read
}

// keys is the leg's key presses, RFC 4733, SIP INFO and in-band tones merged, one digit
// per press, buffered up to keyBuffer (beyond that, presses are dropped and counted). It
// is closed when the leg's media closes (the leg ended). The first call switches in-band
// detection on for the rest of the leg. Read it from one place at a time: each press is
// delivered once.
func (l *leg) keys() <-chan media.Digit {
	kp := l.keypadStarted()
	kp.inband.Do(func() {
		l.media.DetectInband() // stops with the media session, when the leg ends
	})
	return kp.ch
}

// keypadStarted makes the leg's keypad ready: its channel, and a goroutine moving the
// media session's digits (RFC 4733 and in-band) into it until the session closes.
func (l *leg) keypadStarted() *keypad {
	kp := &l.keypad
	kp.start.Do(func() {
		kp.ch = make(chan media.Digit, keyBuffer)
		go func() {
			for d := range l.media.Digits() {
				kp.push(d)
			}
			kp.mu.Lock()
			kp.closed = true
			close(kp.ch)
			kp.mu.Unlock()
			if n := kp.dropped.Load() + l.media.Stats().DigitsDropped; n > 0 {
				l.c.e.log.Info("key presses dropped: nobody read them", "uniqueid", l.c.id, "dropped", n)
			}
		}()
	})
	return kp
}

// push delivers a press without ever blocking: when the buffer is full it is dropped.
func (kp *keypad) push(d media.Digit) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if kp.closed {
		return
	}
	select {
	case kp.ch <- d:
	default:
		kp.dropped.Add(1)
	}
}

// The bodies of DTMF in SIP INFO (no RFC; what phones send): application/dtmf-relay is
// "Signal=5\r\nDuration=160", application/dtmf is "5".
const (
	typeDTMFRelay = "application/dtmf-relay"
	typeDTMF      = "application/dtmf"
)

// readInfo answers an INFO in leg l's dialog. A DTMF body is a key press of the leg: 200
// and the key on keys(). An INFO without a body (a keep-alive, as some phones and SBCs
// send) is 200 too. A body of another type is 415 with the types accepted, or 469 when it
// belongs to an Info Package (RFC 6086: we announce none); a DTMF body without a key is
// 400. None of these end the dialog (RFC 6086 section 4.2.2).
func (l *leg) readInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	reply := func(code int, reason string, hdrs ...sipmsg.Header) {
		res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		_ = tx.Respond(res)
	}
	body := req.Body()
	var ctype string
	if h := req.ContentType(); h != nil {
		ctype, _, _ = strings.Cut(h.Value(), ";")
		ctype = strings.ToLower(strings.TrimSpace(ctype))
	}
	switch {
	case ctype == typeDTMFRelay || ctype == typeDTMF:
		key, ok := infoKey(ctype, string(body))
		if !ok {
			reply(400, "No DTMF Key In Body")
			return
		}
		l.keypadStarted().push(key)
		reply(200, "OK")
		l.relayKey(key, req)
	case len(strings.TrimSpace(string(body))) == 0:
		reply(200, "OK")
	case req.GetHeader("Info-Package") != nil:
		reply(469, "Bad Info Package")
	default:
		reply(415, "Unsupported Media Type", sipmsg.NewHeader("Accept", typeDTMFRelay+", "+typeDTMF))
	}
}

// relayKey passes a key pressed by SIP INFO on leg l to the leg across the bridge, if the
// call is bridged: whoever listens there (a carrier's IVR, a bank's menu) must hear it. It
// goes as RFC 4733 where that leg negotiated telephone-event, else as an INFO with the same
// body, sent in the background (the phone's INFO is already answered).
func (l *leg) relayKey(key media.Digit, req *sipmsg.Request) {
	o := l.owner().bridgedTo(l)
	if o == nil || o.media.SendDigit(key) {
		return
	}
	info := sipmsg.NewRequest(sipmsg.INFO, sipmsg.Uri{})
	info.AppendHeader(sipmsg.NewHeader("Content-Type", req.ContentType().Value()))
	info.SetBody(req.Body())
	go func() {
		if res, err := o.request(info, infoTimeout); err != nil || !res.IsSuccess() {
			l.c.e.log.Debug("relaying a SIP INFO key failed", "uniqueid", l.c.id, "error", err)
		}
	}()
}

// infoTimeout bounds a relayed INFO's transaction.
const infoTimeout = 5 * time.Second

// infoKey reads the key of a DTMF INFO body. Both types are read leniently, as phones
// vary: "Signal=5" or a bare "5", any case, with or without line breaks; RFC 4733 event
// codes 10 and 11 (sent by some for * and #) are taken as those keys.
func infoKey(ctype, body string) (media.Digit, bool) {
	value := strings.TrimSpace(body)
	if ctype == typeDTMFRelay || strings.Contains(value, "=") {
		value = ""
		for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\r' || r == '\n' }) {
			name, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "Signal") {
				value = strings.TrimSpace(v)
				break
			}
		}
	}
	switch value {
	case "10":
		return '*', true
	case "11":
		return '#', true
	}
	if len(value) != 1 {
		return 0, false
	}
	key := media.Digit(strings.ToUpper(value)[0])
	if _, err := media.EventForDigit(key); err != nil {
		return 0, false
	}
	return key, true
}
