package switchboard

import (
	"context"
	"time"
)

// CallTraceStep is one step of what a call flow did with a call: a node entered, a key
// pressed, a decision and its reason, a timeout, an outcome.
type CallTraceStep struct {
	At     time.Time `json:"at"`
	Node   string    `json:"node"`
	Type   string    `json:"type,omitempty"`   // the node's type
	Kind   string    `json:"kind"`             // entered, key, decision, invalid, timeout, outcome, end
	Key    string    `json:"key,omitempty"`    // the key pressed, for kind key
	Detail string    `json:"detail,omitempty"` // the decision's reason, the outcome
}

// CallTrace is the trace of the call flows a call ran: every step in order. A call that ran
// no flow has none.
type CallTrace struct {
	AccountID  int64
	CallID     string // the call's uniqueid
	CallFlowID int64  // the first flow the call ran
	Steps      []CallTraceStep
	CreatedAt  time.Time
}

// MaxCallTraceSteps bounds a stored trace: the interpreter's step cap keeps traces well
// below it; a longer one keeps its first steps and ends with a "truncated" step.
const MaxCallTraceSteps = 1000

// CallTraceStore stores call traces. store.DB implements it.
type CallTraceStore interface {
	// SaveCallTrace stores (or replaces) the trace of the call tr.CallID.
	SaveCallTrace(ctx context.Context, tr *CallTrace) error
	// GetCallTrace returns the account's trace of the call; ENOTFOUND when the call ran no
	// flow or is another account's.
	GetCallTrace(ctx context.Context, accountID int64, callID string) (*CallTrace, error)
}
