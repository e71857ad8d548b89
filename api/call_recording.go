package api

import (
	"net/http"
	"strings"

	"switchboard"
)

// Acting on the recording of a call in progress: start, stop, pause (PCI: card numbers must
// not be recorded) and resume. The call engine decides everything; the handler decodes,
// calls and encodes.

type callRecordingJSON struct {
	Action string `json:"action" doc:"What to do with the call's recording: start, stop, pause or resume" required:"true"`
}

type callRecordingResultJSON struct {
	CallID      string `json:"call_id" doc:"The call's unique id"`
	RecordingID string `json:"recording_id" doc:"The recording acted on (rec_…); after stop it becomes available under /recordings"`
	Status      string `json:"status" doc:"recording, paused or stopped"`
}

func (s *Server) callRecordingRoutes() {
	s.handleAPI(route{Method: "POST", Path: "/calls/{call_id}/recording", Access: accessDeveloper, Tag: "Calls",
		Summary: "Start, stop, pause or resume a call's recording",
		Description: "Acts on the recording of an answered call in progress. `pause` makes the recording silent until `resume` " +
			"(for card numbers: nothing the parties say or key in band meanwhile is stored, and transcripts hear silence); a pause " +
			"lasts across transfers and holds and can be repeated; pausing a paused recording or resuming a running one changes nothing. " +
			"`stop` ends the recording (recording.available follows); `start` begins a new one on a call not being recorded. " +
			"404 NOT_FOUND: no such call in progress in this account (it may have ended); 409 CONFLICT: the action does not fit " +
			"(start while recording, stop or pause while not, a call not answered yet or ending); 503: recordings are not stored on this server.",
		Message: "Call recording updated", Request: callRecordingJSON{}, Result: callRecordingResultJSON{}}, s.controlCallRecording)
}

func (s *Server) controlCallRecording(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body callRecordingJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	action := strings.ToLower(strings.TrimSpace(body.Action))
	switch action {
	case switchboard.RecordingActionStart, switchboard.RecordingActionStop, switchboard.RecordingActionPause, switchboard.RecordingActionResume:
	case "":
		return badRequest("action", "is required: start, stop, pause or resume")
	default:
		return badRequest("action", "must be start, stop, pause or resume")
	}
	if s.callRecording == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Call recording is not available: no call engine with recording storage is running on this server")
	}
	st, err := s.callRecording.ControlCallRecording(r.Context(), c.accountID, r.PathValue("call_id"), action)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Call recording updated", callRecordingResultJSON{CallID: st.CallID,
		RecordingID: st.RecordingID, Status: st.Status})
	return nil
}
