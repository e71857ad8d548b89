package web

import (
	"context"
	"net/http"
	"strings"

	"switchboard"
)

// Agent states: an administrator's Agents page sets any agent's state, a user's /me page
// their own, both through the agent-state service (provision.SetAgentState) that the API
// and the feature codes *45/*46 use, so every change is the same agent.state.changed event.

// agentQueue is an agent's state in one queue.
type agentQueue struct {
	switchboard.AgentQueueState
	QueueName string
}

// agentRow is one agent (a user who is a member of queues) and their states.
type agentRow struct {
	User   *switchboard.User
	Queues []agentQueue
}

type agentsData struct {
	Agents  []agentRow
	Reasons []string
	States  []switchboard.AgentState
	// Self: the user's own controls on /me (their form posts to /me/agent-state).
	Self bool
}

// agentForm is what the agentform template gets.
type agentForm struct {
	Action, CSRF string
	Agent        agentRow
	Reasons      []string
	States       []switchboard.AgentState
	Self         bool
}

// agents reads the agents' states: userID 0 for every agent, else that user's.
func (h *Handler) agents(ctx context.Context, accountID, userID int64) (*agentsData, error) {
	states, err := h.provision.AgentStates(ctx, accountID, userID)
	if err != nil {
		return nil, err
	}
	reasons, err := h.provision.PauseReasons(ctx, accountID)
	if err != nil {
		return nil, err
	}
	queues, err := h.store.ListQueues(ctx, accountID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, q := range queues {
		names[q.ID] = q.QueueName
	}
	byID, _, err := h.usersByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	d := &agentsData{Reasons: reasons, States: switchboard.AgentStates, Self: userID != 0}
	for _, st := range states { // by user, then queue
		u := byID[st.UserID]
		if u == nil {
			continue
		}
		if len(d.Agents) == 0 || d.Agents[len(d.Agents)-1].User.ID != u.ID {
			d.Agents = append(d.Agents, agentRow{User: u})
		}
		a := &d.Agents[len(d.Agents)-1]
		a.Queues = append(a.Queues, agentQueue{AgentQueueState: st, QueueName: names[st.QueueID]})
	}
	return d, nil
}

func (h *Handler) loadAgents(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	d, err := h.agents(ctx, s.Login.AccountID, 0)
	return "Agents", d, err
}

func (h *Handler) agentRoutes() {
	h.get("/agents", true, h.detailPage("agents", h.loadAgents))
	h.post("/agents/{id}/state", true, func(w http.ResponseWriter, r *http.Request, s *session) {
		h.changed(w, r, s, "agents", "/agents", h.loadAgents, h.setAgentState(r, s, pathID(r, "id")))
	})
	h.post("/agents/pause-reasons", true, h.pauseReasonsUpdate)
	h.post("/me/agent-state", false, h.meAgentState)
}

// setAgentState applies the form's state (available, paused with a reason, logged_out)
// to the user in the chosen queue, or in all of theirs (queue_id empty).
func (h *Handler) setAgentState(r *http.Request, s *session, userID int64) error {
	c := switchboard.AgentStateChange{State: switchboard.AgentState(r.PostForm.Get("state")), Reason: r.PostForm.Get("reason")}
	if q := strings.TrimSpace(r.PostForm.Get("queue_id")); q != "" {
		id, err := formID(r, "queue_id")
		if err != nil {
			return err
		}
		c.QueueID = id
	}
	_, err := h.provision.SetAgentState(r.Context(), s.Login.AccountID, userID, c)
	return err
}

// pauseReasonsUpdate replaces the account's pause reasons: one a line.
func (h *Handler) pauseReasonsUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	reasons := []string{}
	for _, line := range strings.Split(r.PostForm.Get("reasons"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			reasons = append(reasons, line)
		}
	}
	h.changed(w, r, s, "agents", "/agents", h.loadAgents, h.provision.SetPauseReasons(r.Context(), s.Login.AccountID, reasons))
}

// meAgentState sets the signed-in user's own state.
func (h *Handler) meAgentState(w http.ResponseWriter, r *http.Request, s *session) {
	if s.Login.UserID == 0 {
		h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", S: s})
		return
	}
	err := h.setAgentState(r, s, s.Login.UserID)
	h.changed(w, r, s, "me", "/me", func(ctx context.Context, r *http.Request, s *session) (string, any, error) {
		d, err := h.meData(r, s)
		return "My settings", d, err
	}, err)
}
