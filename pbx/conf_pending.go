package pbx

import "switchboard/media"

// keys is the leg's DTMF: RFC 4733 only, until the dtmf branch's keys (RFC 4733, SIP INFO
// and in-band merged) replaces this stand-in. Replaced at merge: delete this file.
func (l *leg) keys() <-chan media.Digit { return l.media.Digits() }
