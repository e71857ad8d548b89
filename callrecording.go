package switchboard

import "context"

// Actions on a call's recording while the call runs (POST /calls/{call_id}/recording).
// Pause makes the recording silent — for card numbers (PCI) — until resume; it lasts
// across transfers and holds and can be repeated. Stop ends the recording (it becomes
// available as usual); start begins a new one on a call that is not being recorded.
const (
	RecordingActionStart  = "start"
	RecordingActionStop   = "stop"
	RecordingActionPause  = "pause"
	RecordingActionResume = "resume"
)

// What a call's recording is doing now, as the call-control API answers.
const (
	CallRecordingRecording = "recording"
	CallRecordingPaused    = "paused"
	CallRecordingStopped   = "stopped"
)

// CallRecordingState is a call's recording after an action.
type CallRecordingState struct {
	CallID      string
	RecordingID string // the recording started, paused, resumed or stopped
	Status      string // CallRecordingRecording, CallRecordingPaused or CallRecordingStopped
}

// CallRecorder acts on the recordings of calls in progress (the call engine implements it).
type CallRecorder interface {
	// ControlCallRecording applies action (RecordingAction*) to the call's recording.
	// ENOTFOUND: no such call in progress in the account (another account's call, or one
	// that has ended); ECONFLICT: the action does not fit the call now (start while
	// recording, stop or pause while not, a call not answered or ending); EBADREQUEST: an
	// unknown action; EUNAVAILABLE: recordings are not stored on this server.
	ControlCallRecording(ctx context.Context, accountID int64, callID, action string) (*CallRecordingState, error)
}
