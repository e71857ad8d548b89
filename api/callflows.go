package api

import (
	"net/http"
	"time"

	"switchboard"
	"switchboard/flow"
)

func (s *Server) callFlowRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/callflows", summary: "List call flows (paged)", message: "List of call flows",
			result: []callFlowJSON{}, query: pageQuery,
			serve: listPaged(&s.store, switchboard.Store.PageCallFlows, callFlowID, toCallFlowJSON)},
		{method: "POST", path: "/callflows", summary: "Create a call flow", message: "Call flow created", status: http.StatusCreated,
			description: "A named graph of nodes a call walks from start (see docs/callflows.md for the node types). It is " +
				"validated as a whole: every node reachable from start, every reference to a node, queue, ring group, user, " +
				"prompt, voicemail box or conference room of the account, loops only through an ivr. A problem answers 400 " +
				"naming the node and field, e.g. nodes.menu.options.1. Route a number to it with PATCH /numbers/{id} {\"callflow_id\": id}.",
			request: createBody(callFlowRequestJSON{}), result: callFlowJSON{},
			serve: createHandler[callFlowRequestJSON](&s.provision, ProvisioningService.CreateCallFlow, toCallFlowJSON)},
		{method: "GET", path: "/callflows/{callflow_id}", summary: "Get a call flow", message: "Call flow details",
			result: callFlowJSON{}, serve: getByID(&s.store, "callflow_id", switchboard.Store.GetCallFlow, toCallFlowJSON)},
		{method: "PATCH", path: "/callflows/{callflow_id}", summary: "Change a call flow (only the fields given)", message: "Call flow updated",
			description: "nodes, when given, replace all the nodes. A webhook token shown masked may be sent back as it is: " +
				"the stored token stays.",
			request: patchBody(callFlowRequestJSON{}), result: callFlowJSON{},
			serve: updateHandler[callFlowRequestJSON](&s.provision, "callflow_id", ProvisioningService.UpdateCallFlow, toCallFlowJSON)},
		{method: "DELETE", path: "/callflows/{callflow_id}", summary: "Delete a call flow", message: "Call flow deleted",
			description: "Refused with 409 naming them while numbers, queue overflows or ring group fallbacks send calls to it.",
			result:      deletedJSON{}, serve: deleteByID(&s.provision, "callflow_id", ProvisioningService.DeleteCallFlow)},
		{method: "PUT", path: "/callflows/{callflow_id}/override", summary: "Set the manual override of a time condition",
			message: "Override set", description: "\"closed\" closes (\"closed today\"), \"open\" opens, whatever the hours; " +
				"null gives the decision back to the hours. node may be left out when the flow has one time_condition.",
			request: overrideRequestJSON{}, result: callFlowJSON{}, serve: s.setFlowOverride},
		{method: "POST", path: "/callflows/{callflow_id}/simulate", summary: "Dry-run a call through a call flow",
			message: "Simulated call", description: "The path a call would take at time from caller pressing keys, with the " +
				"decisions and their reasons, without placing a call.",
			request: simulateRequestJSON{}, result: simulationJSON{}, serve: s.simulateCallFlow},
		s.referencesRoute("/users/{user_id}/references", "user", "user_id", switchboard.TargetUser),
		s.referencesRoute("/queues/{queue_id}/references", "queue", "queue_id", switchboard.TargetQueue),
		s.referencesRoute("/ring_groups/{ring_group_id}/references", "ring group", "ring_group_id", switchboard.TargetRingGroup),
		s.referencesRoute("/callflows/{callflow_id}/references", "call flow", "callflow_id", switchboard.TargetCallFlow),
	}
}

// referencesRoute is GET …/{param}/references: what leads to the user, queue, ring group
// or call flow.
func (s *Server) referencesRoute(path, what, param string, t switchboard.TargetType) resourceRoute {
	return resourceRoute{method: "GET", path: path, summary: "What leads to this " + what, message: "References",
		description: "The numbers routing to the " + what + ", the queues whose overflow and ring groups whose fallback " +
			"point at it, and the call flow nodes naming it.",
		result: []flowUseJSON{}, serve: func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
			id, err := pathID(r, param)
			if err != nil {
				return nil, err
			}
			uses, err := s.provision.FlowReferences(r.Context(), c.accountID, t, id)
			if err != nil {
				return nil, err
			}
			out := make([]flowUseJSON, len(uses))
			for i, u := range uses {
				out[i] = flowUseJSON{Kind: u.Kind, ID: u.ID, Name: u.Name, Node: u.Node, Field: u.Field}
			}
			return out, nil
		}}
}

// maskedToken stands for a webhook node's token in answers: the token authenticates the
// PBX to the receiver, and reading a flow must not give it away.
const maskedToken = "********"

type callFlowJSON struct {
	PK        int64                           `json:"pk" doc:"Call flow ID"`
	Name      string                          `json:"name" doc:"Name, unique in the account"`
	Start     string                          `json:"start" doc:"The first node"`
	Nodes     map[string]switchboard.FlowNode `json:"nodes" doc:"The nodes by name (docs/callflows.md); webhook tokens masked"`
	CreatedAt string                          `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt string                          `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func callFlowID(f *switchboard.CallFlow) int64 { return f.ID }

func toCallFlowJSON(f *switchboard.CallFlow) callFlowJSON {
	nodes := make(map[string]switchboard.FlowNode, len(f.Nodes))
	for name, n := range f.Nodes {
		if n.Token != "" {
			n.Token = maskedToken
		}
		nodes[name] = n
	}
	return callFlowJSON{PK: f.ID, Name: f.Name, Start: f.Start, Nodes: nodes,
		CreatedAt: formatTime(f.CreatedAt), UpdatedAt: formatTime(f.UpdatedAt)}
}

type callFlowRequestJSON struct {
	Name  *string                         `json:"name" doc:"Name, unique in the account" create:"required"`
	Start *string                         `json:"start" doc:"The first node's name" create:"required"`
	Nodes map[string]switchboard.FlowNode `json:"nodes" doc:"The nodes by name; on PATCH they replace all nodes" create:"required"`
}

func (b callFlowRequestJSON) change() switchboard.CallFlowChange {
	return switchboard.CallFlowChange{Name: b.Name, Start: b.Start, Nodes: b.Nodes, KeepToken: maskedToken}
}

type overrideRequestJSON struct {
	Node  string  `json:"node" doc:"The time_condition node; may be left out when the flow has one"`
	State *string `json:"state" doc:"open, closed, or null to clear"`
	Until *string `json:"until" doc:"RFC 3339 time the override lapses; null = until cleared"`
}

func (s *Server) setFlowOverride(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "callflow_id")
	if err != nil {
		return nil, err
	}
	var body overrideRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	state := ""
	if body.State != nil {
		state = *body.State
	}
	var until *time.Time
	if body.Until != nil {
		t, err := time.Parse(time.RFC3339, *body.Until)
		if err != nil {
			return nil, badRequest("until", "must be an RFC 3339 time such as 2026-12-24T18:00:00+01:00")
		}
		until = &t
	}
	f, err := s.provision.SetFlowOverride(r.Context(), c.accountID, id, body.Node, state, until)
	return rendered(f, err, toCallFlowJSON)
}

type simulateRequestJSON struct {
	Time     *string           `json:"time" doc:"RFC 3339 time of the call; now when left out"`
	Caller   string            `json:"caller" doc:"The caller's number"`
	Keys     string            `json:"keys" doc:"Keys pressed, in order, one per menu read; - waits without a key (a timeout)"`
	Outcomes map[string]string `json:"outcomes" doc:"By node name: answered, no_answer, busy, unavailable (answered when not given)"`
}

type stepJSON struct {
	At     string `json:"at" doc:"RFC 3339 time (simulated: waits move it on)"`
	Node   string `json:"node" doc:"Node name"`
	Type   string `json:"type" doc:"Node type"`
	Kind   string `json:"kind" doc:"entered, key, decision, invalid, timeout, outcome, end"`
	Key    string `json:"key,omitempty" doc:"The key (or extension) of a key or invalid step"`
	Detail string `json:"detail,omitempty" doc:"What happened, e.g. open: Mon 09:00-17:00 Europe/Berlin -> menu"`
}

type simulationJSON struct {
	Steps     []stepJSON `json:"steps" doc:"The path, step by step"`
	Actions   []string   `json:"actions" doc:"What the call did, in order: play prompt 3, connect queue 7, hangup …"`
	StepLimit bool       `json:"step_limit" doc:"The call was hung up at the step limit"`
}

func toStepsJSON(t flow.Trace) []stepJSON {
	out := make([]stepJSON, len(t))
	for i, st := range t {
		out[i] = stepJSON{At: st.At.UTC().Format(time.RFC3339), Node: st.Node, Type: st.Type, Kind: st.Kind, Key: st.Key, Detail: st.Detail}
	}
	return out
}

func (s *Server) simulateCallFlow(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "callflow_id")
	if err != nil {
		return nil, err
	}
	var body simulateRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	sim := flow.Simulation{Caller: body.Caller, Keys: body.Keys, Outcomes: map[string]flow.Outcome{}}
	if body.Time != nil {
		if sim.Time, err = time.Parse(time.RFC3339, *body.Time); err != nil {
			return nil, badRequest("time", "must be an RFC 3339 time such as 2026-12-24T10:00:00+01:00")
		}
	}
	for node, o := range body.Outcomes {
		out, ok := flow.ParseOutcome(o)
		if !ok {
			return nil, badRequest("outcomes."+node, "must be answered, no_answer, busy or unavailable")
		}
		sim.Outcomes[node] = out
	}
	res, err := s.provision.SimulateCallFlow(r.Context(), c.accountID, id, sim)
	if err != nil {
		return nil, err
	}
	actions := res.Actions
	if actions == nil {
		actions = []string{}
	}
	return simulationJSON{Steps: toStepsJSON(res.Trace), Actions: actions, StepLimit: res.StepLimit}, nil
}

type flowUseJSON struct {
	Kind  string `json:"kind" doc:"number, queue (its overflow), ring_group (its fallback) or callflow (a node)"`
	ID    int64  `json:"id" doc:"The number, queue, ring group or call flow ID"`
	Name  string `json:"name" doc:"The number (E.164), the queue's or ring group's name, the flow's name"`
	Node  string `json:"node,omitempty" doc:"The flow node, for kind callflow"`
	Field string `json:"field" doc:"What points: target, overflow, fallback, or the node's field (queue_id …)"`
}
