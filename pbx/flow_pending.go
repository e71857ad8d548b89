package pbx

import (
	"context"
	"errors"
)

// Stand-ins for work of other branches, replaced at merge: the lead deletes this file when
// voicemail and conference are merged.

var errNotAvailableYet = errors.New("pbx: not available yet")

// Voicemail is replaced at merge by the voicemail branch (runVoicemail).
func (fc *flowCaller) Voicemail(ctx context.Context, boxID int64) error { return errNotAvailableYet }
