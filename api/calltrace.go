package api

import (
	"context"
	"net/http"

	"switchboard"
)

// A call's flow trace: what the call flows it ran did with it, step by step (nodes entered,
// keys pressed, decisions with their reasons, outcomes). The call engine writes it
// (pbx/flowcall.go); the call records store keeps it.

// CallTraceReader reads call traces: store.DB implements it. The route asks the server's
// CallRecords for it, so that no new Config field is needed.
type CallTraceReader interface {
	GetCallTrace(ctx context.Context, accountID int64, callID string) (*switchboard.CallTrace, error)
}

type callTraceStepJSON struct {
	At     string `json:"at" doc:"When the step happened (RFC 3339, UTC, milliseconds)"`
	Node   string `json:"node" doc:"The flow node's name"`
	Type   string `json:"type" doc:"The node's type (ivr, time_condition, queue, …)"`
	Kind   string `json:"kind" doc:"entered, key, decision, invalid, timeout, outcome or end"`
	Key    string `json:"key,omitempty" doc:"The key pressed (key and invalid steps); an extension for direct dial"`
	Detail string `json:"detail,omitempty" doc:"What was decided and why, where the call went, or the outcome"`
}

type callTraceJSON struct {
	CallID     string              `json:"call_id" doc:"The call's unique id"`
	CallFlowID int64               `json:"callflow_id" doc:"The call flow the call entered first"`
	Steps      []callTraceStepJSON `json:"steps" doc:"The steps in order"`
}

func (s *Server) callTraceRoutes() {
	s.handleAPI(route{Method: "GET", Path: "/calls/{call_id}/trace", Needs: needsCallRecords, Access: accessDeveloper, Tag: "Call records",
		Summary: "Get a call's flow trace",
		Description: "What the call flows a call ran did with it: every node entered, key pressed, decision with its reason " +
			"(\"open: Mon 09:00-17:00 Europe/Berlin\"), timeout and outcome, in order. Written when the flow ends. " +
			"404 NOT_FOUND: no such call in this account, or the call ran no flow.",
		Message: "Call trace", Result: callTraceJSON{}}, s.getCallTrace)
}

func (s *Server) getCallTrace(w http.ResponseWriter, r *http.Request, c *caller) error {
	traces, ok := s.callRecords.(CallTraceReader)
	if !ok {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Call traces are not available on this store")
	}
	tr, err := traces.GetCallTrace(r.Context(), c.accountID, r.PathValue("call_id"))
	if err != nil {
		return err
	}
	out := callTraceJSON{CallID: tr.CallID, CallFlowID: tr.CallFlowID, Steps: make([]callTraceStepJSON, 0, len(tr.Steps))}
	for _, st := range tr.Steps {
		out.Steps = append(out.Steps, callTraceStepJSON{At: st.At.UTC().Format("2006-01-02T15:04:05.000Z"), Node: st.Node,
			Type: st.Type, Kind: st.Kind, Key: st.Key, Detail: st.Detail})
	}
	s.writeResult(w, http.StatusOK, "Call trace", out)
	return nil
}
