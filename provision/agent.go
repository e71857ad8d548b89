package provision

import (
	"context"
	"time"

	"switchboard"
)

var _ switchboard.AgentService = (*Service)(nil)

// agentStore is the store's side of agent states, or an error saying it is missing.
func (s *Service) agentStore() (switchboard.AgentStore, error) {
	if st, ok := s.store.(switchboard.AgentStore); ok {
		return st, nil
	}
	return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Agent states are not available on this store")
}

// SetAgentState puts the user in a state in one queue or all of theirs (the API and the
// feature codes *45 and *46 come here): the reason is checked against the account's list,
// the state, its period and the agent.state.changed event are written in one transaction,
// and the engine reads the queues' members again so that the next offer obeys it. It
// returns the user's states in every queue afterwards.
func (s *Service) SetAgentState(ctx context.Context, accountID, userID int64, c switchboard.AgentStateChange) ([]switchboard.AgentQueueState, error) {
	st, err := s.agentStore()
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, accountID, userID) // another account's user is not found, whatever the body
	if err != nil {
		return nil, err
	}
	reasons, err := st.PauseReasons(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(reasons); err != nil {
		return nil, err
	}
	ev := switchboard.NewEvent(accountID, switchboard.EventAgentStateChanged, map[string]any{
		"user_id": u.ID, "extension": u.Extension, "user_name": u.DisplayName(),
		"state": string(c.State), "reason": c.Reason,
	})
	changed, err := st.SetAgentState(ctx, accountID, userID, c, ev)
	if err != nil {
		return nil, err
	}
	for _, q := range changed {
		s.queueMembersChanged(q)
	}
	return s.AgentStates(ctx, accountID, userID)
}

// AgentStates returns the user's states, one per queue they are a member of; userID 0
// returns every member's.
func (s *Service) AgentStates(ctx context.Context, accountID, userID int64) ([]switchboard.AgentQueueState, error) {
	st, err := s.agentStore()
	if err != nil {
		return nil, err
	}
	all, err := st.ListAgentStates(ctx, accountID)
	if err != nil || userID == 0 {
		return all, err
	}
	out := []switchboard.AgentQueueState{}
	for _, a := range all {
		if a.UserID == userID {
			out = append(out, a)
		}
	}
	return out, nil
}

// PauseReasons returns the account's pause reasons.
func (s *Service) PauseReasons(ctx context.Context, accountID int64) ([]string, error) {
	st, err := s.agentStore()
	if err != nil {
		return nil, err
	}
	return st.PauseReasons(ctx, accountID)
}

// SetPauseReasons replaces the account's pause reasons.
func (s *Service) SetPauseReasons(ctx context.Context, accountID int64, reasons []string) error {
	st, err := s.agentStore()
	if err != nil {
		return err
	}
	if reasons == nil {
		reasons = []string{}
	}
	return st.SetPauseReasons(ctx, accountID, reasons)
}

// AgentStateTimes is the queue report's time per agent, state and reason.
func (s *Service) AgentStateTimes(ctx context.Context, accountID, queueID int64, from, to time.Time) ([]switchboard.AgentStateTime, error) {
	st, err := s.agentStore()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetQueue(ctx, accountID, queueID); err != nil {
		return nil, err
	}
	return st.AgentStateTimes(ctx, accountID, queueID, from, to)
}
