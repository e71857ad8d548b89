package pbx

import "switchboard/media"

// keys is the stand-in for the DTMF branch's keys (RFC 4733, SIP INFO and in-band): RFC
// 4733 only until then. Replaced at merge.
func (l *leg) keys() <-chan media.Digit { return l.media.Digits() }
