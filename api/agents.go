package api

import (
	"context"
	"net/http"
	"time"

	"switchboard"
)

// AgentService changes and reports agent states (provision.Service).
type AgentService interface {
	switchboard.AgentService
	AgentStates(ctx context.Context, accountID, userID int64) ([]switchboard.AgentQueueState, error)
	PauseReasons(ctx context.Context, accountID int64) ([]string, error)
	SetPauseReasons(ctx context.Context, accountID int64, reasons []string) error
	AgentStateTimes(ctx context.Context, accountID, queueID int64, from, to time.Time) ([]switchboard.AgentStateTime, error)
}

type agentStateRequestJSON struct {
	State   *string `json:"state" doc:"available, paused or logged_out" required:"true"`
	Reason  *string `json:"reason" doc:"With paused: one of the account's pause reasons (GET /agents/pause_reasons); absent for none"`
	QueueID *int64  `json:"queue_id" doc:"The one queue to change; absent for every queue the user is a member of"`
}

type agentQueueStateJSON struct {
	QueueID int64   `json:"queue_id" doc:"The queue"`
	State   string  `json:"state" doc:"available, paused or logged_out"`
	Reason  string  `json:"reason" doc:"The pause reason; empty when none"`
	Since   *string `json:"since" doc:"When the agent entered this state through the agent state API or a feature code; null when never"`
}

type agentJSON struct {
	UserID int64                 `json:"user_id" doc:"The agent (user)"`
	Queues []agentQueueStateJSON `json:"queues" doc:"The agent's state in each queue they are a member of"`
}

type pauseReasonsJSON struct {
	Reasons []string `json:"reasons" doc:"The reasons agents may pause with, in the order shown to them (at most 50, 1-40 characters each)" required:"true"`
}

type agentTimeJSON struct {
	UserID  int64   `json:"user_id" doc:"The agent"`
	State   string  `json:"state" doc:"available, paused or logged_out"`
	Reason  string  `json:"reason" doc:"The pause reason; empty when none"`
	Seconds float64 `json:"seconds" doc:"Time spent in the state (and reason) within the period"`
}

type agentReportJSON struct {
	QueueID int64           `json:"queue_id" doc:"The queue"`
	From    string          `json:"from" doc:"Start of the period (RFC 3339)"`
	To      string          `json:"to" doc:"End of the period (RFC 3339)"`
	Times   []agentTimeJSON `json:"times" doc:"Time per agent, state and pause reason"`
}

func (s *Server) agentRoutes() {
	const tag = "Agents"
	s.handleAPI(route{Method: "POST", Path: "/agents/{user_id}/state", Access: accessUserOrDeveloper, Tag: tag,
		Summary: "Set an agent's state: available, paused (with a reason) or logged_out, in one queue or all",
		Description: "A paused, logged-out or wrapping-up member is not offered queue calls. Every change is an agent.state.changed event; " +
			"a change to the state the agent is in already changes nothing. A user key may set its own user's state only.",
		Message: "Agent state", Request: agentStateRequestJSON{}, Result: agentJSON{}}, s.setAgentState)
	s.handleAPI(route{Method: "GET", Path: "/agents", Access: accessDeveloper, Tag: tag,
		Summary: "List the agents (queue members) and their state in each queue", Message: "Agents", Result: []agentJSON{}}, s.listAgents)
	s.handleAPI(route{Method: "GET", Path: "/agents/pause_reasons", Access: accessUserOrDeveloper, Tag: tag,
		Summary: "The account's pause reasons", Message: "Pause reasons", Result: pauseReasonsJSON{}}, s.getPauseReasons)
	s.handleAPI(route{Method: "PUT", Path: "/agents/pause_reasons", Access: accessDeveloper, Tag: tag,
		Summary: "Replace the account's pause reasons", Description: "Agents paused with a reason taken off the list stay paused with it.",
		Message: "Pause reasons", Request: pauseReasonsJSON{}, Result: pauseReasonsJSON{}}, s.putPauseReasons)
	s.handleAPI(route{Method: "GET", Path: "/queues/{queue_id}/agents/report", Access: accessDeveloper, Tag: tag,
		Summary:     "Time the queue's agents spent per state and pause reason",
		Description: "Sums the recorded state periods (from agent state changes) that overlap the period; a state still current counts up to to.",
		Message:     "Agent report", Result: agentReportJSON{},
		Query: []queryParam{{"from", "Start (RFC 3339; default 24 hours before to)"}, {"to", "End (RFC 3339; default now)"}}}, s.agentReport)
}

func (s *Server) agentService() (AgentService, error) {
	if s.agents == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Agent states are not available: no provisioning service is configured on this server")
	}
	return s.agents, nil
}

func toAgentsJSON(states []switchboard.AgentQueueState) []agentJSON {
	out := []agentJSON{}
	for _, st := range states {
		if len(out) == 0 || out[len(out)-1].UserID != st.UserID {
			out = append(out, agentJSON{UserID: st.UserID, Queues: []agentQueueStateJSON{}})
		}
		a := &out[len(out)-1]
		q := agentQueueStateJSON{QueueID: st.QueueID, State: string(st.State), Reason: st.Reason}
		if !st.Since.IsZero() {
			t := formatTime(st.Since)
			q.Since = &t
		}
		a.Queues = append(a.Queues, q)
	}
	return out
}

func (s *Server) setAgentState(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.agentService()
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if !c.isDeveloper() && (c.key == nil || c.key.UserID != userID) {
		return switchboard.Errorf(switchboard.EAUTHINVALID, "A user key may set its own user's agent state only (user %d)", c.key.UserID)
	}
	var body agentStateRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	states, err := svc.SetAgentState(r.Context(), c.accountID, userID, switchboard.AgentStateChange{
		State: switchboard.AgentState(deref(body.State)), Reason: deref(body.Reason), QueueID: deref(body.QueueID)})
	if err != nil {
		return err
	}
	agent := agentJSON{UserID: userID, Queues: []agentQueueStateJSON{}}
	if a := toAgentsJSON(states); len(a) > 0 {
		agent = a[0]
	}
	s.writeResult(w, http.StatusOK, "Agent state", agent)
	return nil
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.agentService()
	if err != nil {
		return err
	}
	states, err := svc.AgentStates(r.Context(), c.accountID, 0)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Agents", toAgentsJSON(states))
	return nil
}

func (s *Server) getPauseReasons(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.agentService()
	if err != nil {
		return err
	}
	reasons, err := svc.PauseReasons(r.Context(), c.accountID)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Pause reasons", pauseReasonsJSON{Reasons: reasons})
	return nil
}

func (s *Server) putPauseReasons(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.agentService()
	if err != nil {
		return err
	}
	var body pauseReasonsJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := svc.SetPauseReasons(r.Context(), c.accountID, body.Reasons); err != nil {
		return err
	}
	return s.getPauseReasons(w, r, c)
}

func (s *Server) agentReport(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.agentService()
	if err != nil {
		return err
	}
	queueID, err := pathID(r, "queue_id")
	if err != nil {
		return err
	}
	to, from := s.now().UTC(), time.Time{}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"to", &to}, {"from", &from}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return switchboard.FieldError(switchboard.EBADREQUEST, p.name, "must be a time in RFC 3339, e.g. 2026-01-02T03:04:05Z")
			}
			*p.dst = t
		}
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !from.Before(to) {
		return switchboard.FieldError(switchboard.EBADREQUEST, "from", "must be before to")
	}
	times, err := svc.AgentStateTimes(r.Context(), c.accountID, queueID, from, to)
	if err != nil {
		return err
	}
	out := agentReportJSON{QueueID: queueID, From: formatTime(from), To: formatTime(to), Times: []agentTimeJSON{}}
	for _, t := range times {
		out.Times = append(out.Times, agentTimeJSON{UserID: t.UserID, State: string(t.State), Reason: t.Reason, Seconds: t.Seconds})
	}
	s.writeResult(w, http.StatusOK, "Agent report", out)
	return nil
}
