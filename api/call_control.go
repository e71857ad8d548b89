package api

import (
	"net/http"
	"strings"
)

// Acting on calls in progress: a blind transfer and a hangup. The call engine decides
// everything (which party leaves, what the target is); the handlers decode, call and encode.

type callTransferJSON struct {
	To string `json:"to" doc:"Where to transfer the call: an extension of a user, queue or ring group, a phone number, or a park slot (701-720; 700 = the first free one)" required:"true"`
}

type callActionResultJSON struct {
	CallID string `json:"call_id" doc:"The call's unique id"`
	Status string `json:"status" doc:"transferring or hanging_up"`
}

func (s *Server) callControlRoutes() {
	s.handleAPI(route{Method: "POST", Path: "/calls/{call_id}/transfer", Access: accessDeveloper, Tag: "Calls", Needs: needsCallControl,
		Summary: "Transfer a call",
		Description: "Transfers an answered call blind: the party of the user the call's record names leaves, the other party is put through to `to`. " +
			"The outcome is the call.transferred event (or call.parked for a park slot). 404 NOT_FOUND: no such call in progress, or no such target; " +
			"409 CONFLICT: the call is not answered, is already being transferred, or the park lot is full.",
		Message: "Call transfer started", Request: callTransferJSON{}, Result: callActionResultJSON{}}, s.transferCall)
	s.handleAPI(route{Method: "POST", Path: "/calls/{call_id}/hangup", Access: accessDeveloper, Tag: "Calls", Needs: needsCallControl,
		Summary: "Hang up a call", Description: "Ends a call in progress (BYE to answered parties, CANCEL to ringing ones). 404 NOT_FOUND: no such call in progress.",
		Message: "Call hanging up", Result: callActionResultJSON{}}, s.hangupCall)
}

func (s *Server) transferCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body callTransferJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	to := strings.TrimSpace(body.To)
	if to == "" {
		return badRequest("to", "is required: an extension, a phone number or a park slot")
	}
	callID := r.PathValue("call_id")
	if err := s.callControl.TransferCall(r.Context(), c.accountID, callID, to); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Call transfer started", callActionResultJSON{CallID: callID, Status: "transferring"})
	return nil
}

func (s *Server) hangupCall(w http.ResponseWriter, r *http.Request, c *caller) error {
	callID := r.PathValue("call_id")
	if err := s.callControl.HangupCall(r.Context(), c.accountID, callID); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Call hanging up", callActionResultJSON{CallID: callID, Status: "hanging_up"})
	return nil
}
