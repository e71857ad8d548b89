package switchboard

import (
	"context"
	"slices"
	"strings"
	"time"
)

// EventAgentStateChanged: an agent logged in or out of queues, paused (with a reason) or
// became available again. Data: user_id, extension, state, reason ("" when none),
// queue_ids (the queues whose state changed), previous_states (queue id → the state before).
const EventAgentStateChanged = "agent.state.changed"

// AgentState is a queue member's state. Wrap-up is not stored: it is the time after a
// queue call during which the engine offers the member no call (the queue's wrapuptime).
type AgentState string

const (
	AgentAvailable AgentState = "available"
	AgentPaused    AgentState = "paused"
	AgentLoggedOut AgentState = "logged_out"
)

// AgentStates lists the states an agent can be put in.
var AgentStates = []AgentState{AgentAvailable, AgentPaused, AgentLoggedOut}

// State is the member's agent state.
func (m *QueueMember) State() AgentState {
	switch {
	case m.LoggedOut:
		return AgentLoggedOut
	case m.Paused:
		return AgentPaused
	}
	return AgentAvailable
}

// AgentStateChange puts a user in a state in one queue (QueueID) or in every queue they are
// a member of (QueueID 0). Reason goes with paused only.
type AgentStateChange struct {
	State   AgentState
	Reason  string
	QueueID int64
}

// MaxPauseReasons and MaxPauseReasonLength bound an account's list of pause reasons.
const (
	MaxPauseReasons      = 50
	MaxPauseReasonLength = 40
)

// Validate checks the change against the account's pause reasons.
func (c *AgentStateChange) Validate(reasons []string) error {
	if !slices.Contains(AgentStates, c.State) {
		return FieldError(EBADREQUEST, "state", "is required: available, paused or logged_out")
	}
	if c.Reason != "" && c.State != AgentPaused {
		return FieldError(EBADREQUEST, "reason", "goes with state paused only")
	}
	if c.Reason != "" && !slices.Contains(reasons, c.Reason) {
		if len(reasons) == 0 {
			return FieldError(EBADREQUEST, "reason", "is not allowed: the account has no pause reasons (set them with PUT /agents/pause_reasons)")
		}
		return FieldError(EBADREQUEST, "reason", "must be one of the account's pause reasons: "+strings.Join(reasons, ", "))
	}
	if c.QueueID < 0 {
		return FieldError(EBADREQUEST, "queue_id", "must be a queue id, or absent for every queue")
	}
	return nil
}

// ValidatePauseReasons checks an account's list of pause reasons.
func ValidatePauseReasons(reasons []string) error {
	if len(reasons) > MaxPauseReasons {
		return FieldError(EBADREQUEST, "reasons", "may hold at most 50 reasons")
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if strings.TrimSpace(r) != r || r == "" || len(r) > MaxPauseReasonLength || strings.ContainsFunc(r, isControl) {
			return FieldError(EBADREQUEST, "reasons", "each reason is 1 to 40 printable characters without leading or trailing spaces")
		}
		if seen[r] {
			return FieldError(EBADREQUEST, "reasons", "lists "+r+" twice")
		}
		seen[r] = true
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// AgentQueueState is a user's state in one queue, and since when (zero: never changed
// through the agent state API).
type AgentQueueState struct {
	QueueID int64
	UserID  int64
	State   AgentState
	Reason  string
	Since   time.Time
}

// AgentStateTime is how long an agent spent in a state (and reason) in a queue within a
// report's period.
type AgentStateTime struct {
	UserID  int64
	State   AgentState
	Reason  string
	Seconds float64
}

// AgentStore keeps agent states, their history and the account's pause reasons (store.DB).
type AgentStore interface {
	// SetAgentState applies the change to the user's memberships, records the periods and
	// stores ev (filled with queue_ids and previous_states) in the same transaction, and
	// returns the queues that changed. A change to the state they are in already changes
	// nothing and stores no event.
	SetAgentState(ctx context.Context, accountID, userID int64, c AgentStateChange, ev *Event) ([]int64, error)
	// ListAgentStates returns the states of the account's queue members, by user then queue.
	ListAgentStates(ctx context.Context, accountID int64) ([]AgentQueueState, error)
	PauseReasons(ctx context.Context, accountID int64) ([]string, error)
	SetPauseReasons(ctx context.Context, accountID int64, reasons []string) error
	// AgentStateTimes sums the time the queue's agents spent per state and reason between
	// from and to (periods still open count up to to).
	AgentStateTimes(ctx context.Context, accountID, queueID int64, from, to time.Time) ([]AgentStateTime, error)
}

// AgentService changes agent states: the API and the feature codes go through it.
// provision.Service implements it.
type AgentService interface {
	SetAgentState(ctx context.Context, accountID, userID int64, c AgentStateChange) ([]AgentQueueState, error)
}
