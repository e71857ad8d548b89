package pbx

import (
	"context"
	"errors"

	"switchboard/media"
)

// Stand-ins for work of other branches, replaced at merge: the lead deletes this file when
// dtmf (pbx/keys.go), voicemail and conference are merged.

// keys is the caller's key presses; replaced at merge by pbx/keys.go (RFC 4733, SIP INFO
// and in-band merged). Here: RFC 4733 only.
func (l *leg) keys() <-chan media.Digit { return l.media.Digits() }

var errNotAvailableYet = errors.New("pbx: not available yet")

// Voicemail is replaced at merge by the voicemail branch (runVoicemail).
func (fc *flowCaller) Voicemail(ctx context.Context, boxID int64) error { return errNotAvailableYet }

// Conference is replaced at merge by the conference branch.
func (fc *flowCaller) Conference(ctx context.Context, roomID int64) error { return errNotAvailableYet }
