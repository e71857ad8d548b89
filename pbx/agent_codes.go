package pbx

import (
	"context"

	"switchboard"
	"switchboard/media"
)

// Agent state feature codes (docs/agents.md), free in the feature code table:
//
//	*45  log in to every queue when logged out of all, else log out of every queue
//	*46  unpause where paused, else pause (without a reason) in every queue logged in to
const (
	agentLoginCode = "*45"
	agentPauseCode = "*46"
)

// AgentStates changes and reads agent states (provision.Service): the codes go through
// the same service as the API, so the same checks and agent.state.changed events apply.
type AgentStates interface {
	SetAgentState(ctx context.Context, accountID, userID int64, c switchboard.AgentStateChange) ([]switchboard.AgentQueueState, error)
	AgentStates(ctx context.Context, accountID, userID int64) ([]switchboard.AgentQueueState, error)
}

// SetAgentService gives the engine the service *45 and *46 change agent states through.
// Call it before the SIP server runs; without it those codes answer 503.
func (e *Engine) SetAgentService(s AgentStates) {
	e.usersMu.Lock()
	e.agents = s
	e.usersMu.Unlock()
}

func (e *Engine) agentService() AgentStates {
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	return e.agents
}

// agentCodeChanges is what the code does given the user's states now: the changes to make,
// in turn. A user in no queue gets none (the code is refused).
func agentCodeChanges(code string, states []switchboard.AgentQueueState) []switchboard.AgentStateChange {
	if len(states) == 0 {
		return nil
	}
	switch code {
	case agentLoginCode:
		for _, s := range states {
			if s.State != switchboard.AgentLoggedOut {
				return []switchboard.AgentStateChange{{State: switchboard.AgentLoggedOut}}
			}
		}
		return []switchboard.AgentStateChange{{State: switchboard.AgentAvailable}}
	case agentPauseCode:
		var paused, loggedIn []int64
		for _, s := range states {
			switch s.State {
			case switchboard.AgentPaused:
				paused = append(paused, s.QueueID)
			case switchboard.AgentAvailable:
				loggedIn = append(loggedIn, s.QueueID)
			}
		}
		state, queues := switchboard.AgentPaused, loggedIn
		if len(paused) > 0 {
			state, queues = switchboard.AgentAvailable, paused
		}
		var out []switchboard.AgentStateChange
		for _, q := range queues {
			out = append(out, switchboard.AgentStateChange{State: state, QueueID: q})
		}
		return out
	}
	return nil
}

// runAgentCode carries out *45 or *46 for the caller of leg a: the changes are written
// through the agent service, then the caller hears the confirmation tone. A user in no queue
// (or logged out of all, for *46) is refused 404; a failed change 500, unanswered.
func (c *call) runAgentCode(a *leg, answer []byte, p *plan) {
	svc := c.e.agentService()
	if svc == nil {
		a.reject(503, "Service Unavailable: agent feature codes are not configured")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	states, err := svc.AgentStates(ctx, p.user.AccountID, p.user.ID)
	if err != nil {
		c.e.log.Error("agent feature code: reading states failed", "code", p.feature.code, "user_id", p.user.ID, "error", err)
		a.reject(500, "Server Internal Error")
		return
	}
	changes := agentCodeChanges(p.feature.code, states)
	if len(changes) == 0 {
		a.reject(404, "Not Found: not logged in to any queue")
		return
	}
	for _, ch := range changes {
		if _, err := svc.SetAgentState(ctx, p.user.AccountID, p.user.ID, ch); err != nil {
			c.e.log.Error("agent feature code's change failed", "code", p.feature.code, "user_id", p.user.ID, "error", err)
			a.reject(500, "Server Internal Error")
			return
		}
	}
	cancel()
	c.e.log.Info("feature code", "code", p.feature.code, "account_id", p.user.AccountID, "user_id", p.user.ID)
	if err := c.answerCallerAndAwaitAck(a, answer, nil); err != nil {
		return
	}
	_ = a.media.Play(a.ctx(), media.PCM(confirmationTone()))
	a.hangup()
}
