package provision

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"switchboard"
	"switchboard/flow"
)

// FlowRefChecker reports whether id is a row of its kind (a prompt, voicemail box,
// conference room …) in the account. Config.FlowRefs holds one per kind a flow node may
// name beyond queues, ring groups and users (which the store checks in the write's
// transaction); a kind without a checker is not checked.
type FlowRefChecker func(ctx context.Context, accountID, id int64) (bool, error)

// StoreFlowRefs checks the prompts, voicemail boxes and conference rooms flow nodes name
// against the store:
// what a server passes as Config.FlowRefs.
func StoreFlowRefs(st switchboard.Store) map[string]FlowRefChecker {
	exists := func(get func(ctx context.Context, accountID, id int64) error) FlowRefChecker {
		return func(ctx context.Context, accountID, id int64) (bool, error) {
			switch err := get(ctx, accountID, id); {
			case err == nil:
				return true, nil
			case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
				return false, nil
			default:
				return false, err
			}
		}
	}
	return map[string]FlowRefChecker{
		switchboard.FlowRefPrompt: exists(func(ctx context.Context, accountID, id int64) error {
			_, err := st.GetPrompt(ctx, accountID, id)
			return err
		}),
		switchboard.FlowRefVoicemail: exists(func(ctx context.Context, accountID, id int64) error {
			_, err := st.GetVoicemailBox(ctx, accountID, id)
			return err
		}),
		switchboard.FlowRefConference: exists(func(ctx context.Context, accountID, id int64) error {
			_, err := st.GetConferenceRoom(ctx, accountID, id)
			return err
		}),
	}
}

// flowRefWords name the kinds in messages.
var flowRefWords = map[string]string{switchboard.FlowRefPrompt: "prompt", switchboard.FlowRefVoicemail: "voicemail box",
	switchboard.FlowRefConference: "conference room", switchboard.FlowRefQueue: "queue",
	switchboard.FlowRefRingGroup: "ring group", switchboard.FlowRefUser: "user"}

// CreateCallFlow validates and stores a new flow of the account.
func (s *Service) CreateCallFlow(ctx context.Context, accountID int64, c switchboard.CallFlowChange) (*switchboard.CallFlow, error) {
	f := &switchboard.CallFlow{AccountID: accountID}
	if err := applyCallFlow(f, c); err != nil {
		return nil, err
	}
	if err := s.checkCallFlow(ctx, f); err != nil {
		return nil, err
	}
	s.sealTokens(f)
	if err := s.store.CreateCallFlow(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// UpdateCallFlow changes what c gives; nodes, when given, replace all the flow's nodes
// (overrides included: send back what GET shows to keep one).
func (s *Service) UpdateCallFlow(ctx context.Context, accountID, id int64, c switchboard.CallFlowChange) (*switchboard.CallFlow, error) {
	return s.store.UpdateCallFlowFunc(ctx, accountID, id, func(f *switchboard.CallFlow) error {
		if err := applyCallFlow(f, c); err != nil {
			return err
		}
		if err := s.checkCallFlow(ctx, f); err != nil {
			return err
		}
		s.sealTokens(f)
		return nil
	})
}

// sealTokens encrypts the webhook nodes' tokens not yet sealed (given in this write, or
// stored before tokens were sealed), so that the database never holds them in clear. A
// service without a Sealer (tests, tools) stores them as given.
func (s *Service) sealTokens(f *switchboard.CallFlow) {
	if s.sealer == nil {
		return
	}
	for name, n := range f.Nodes {
		if n.Token == "" || strings.HasPrefix(n.Token, switchboard.SealedTokenPrefix) {
			continue
		}
		n.Token = switchboard.SealedTokenPrefix + base64.StdEncoding.EncodeToString(s.sealer.Seal(n.Token))
		f.Nodes[name] = n
	}
}

// applyCallFlow copies the change into f. A webhook token sent back masked (as answers
// show it) keeps the token of the flow's node of that name; with none, it is refused.
func applyCallFlow(f *switchboard.CallFlow, c switchboard.CallFlowChange) error {
	set(&f.Name, c.Name)
	set(&f.Start, c.Start)
	if c.Nodes == nil {
		return nil
	}
	v := switchboard.ValidationErrors{}
	old := f.Nodes
	f.Nodes = make(map[string]switchboard.FlowNode, len(c.Nodes))
	for name, n := range c.Nodes {
		if c.KeepToken != "" && n.Token == c.KeepToken {
			n.Token = old[name].Token
			if n.Token == "" {
				v.Add("nodes."+name+".token", "is the masked value answers show, and the node has no token to keep: send the token itself")
			}
		}
		f.Nodes[name] = n
	}
	return v.Err()
}

// checkCallFlow validates the flow's shape, then that the prompts, voicemail boxes and
// conference rooms its nodes name are the account's (through Config.FlowRefs).
func (s *Service) checkCallFlow(ctx context.Context, f *switchboard.CallFlow) error {
	if err := f.Validate(); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	for _, r := range f.Refs() {
		check := s.flowRefs[r.Kind]
		if check == nil {
			continue
		}
		ok, err := check(ctx, f.AccountID, r.ID)
		if err != nil {
			return err
		}
		if !ok {
			v.Add(r.Field, fmt.Sprintf("no %s with id %d in this account", flowRefWords[r.Kind], r.ID))
		}
	}
	return v.Err()
}

// DeleteCallFlow deletes a flow; while a number, queue overflow or ring group fallback
// sends calls to it, it stays (CONFLICT naming them).
func (s *Service) DeleteCallFlow(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteCallFlow(ctx, accountID, id)
}

// SetFlowOverride sets or clears the manual override of the flow's time_condition node:
// "closed" (closed today, whatever the hours), "open", or "" (the hours decide again).
// With until, the override lapses then on its own.
func (s *Service) SetFlowOverride(ctx context.Context, accountID, id int64, node, state string, until *time.Time) (*switchboard.CallFlow, error) {
	switch state {
	case switchboard.OverrideNone, switchboard.OverrideOpen, switchboard.OverrideClosed:
	default:
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "state", `must be "open", "closed" or null`)
	}
	if until != nil && state == switchboard.OverrideNone {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "until", "needs a state to end")
	}
	return s.store.UpdateCallFlowFunc(ctx, accountID, id, func(f *switchboard.CallFlow) error {
		if node == "" {
			node = onlyTimeCondition(f)
		}
		n, ok := f.Nodes[node]
		if !ok || n.Type != switchboard.FlowNodeTimeCondition {
			return switchboard.FieldError(switchboard.EBADREQUEST, "node", fmt.Sprintf("must name a time_condition node of the flow (%q is not one)", node))
		}
		n.Override, n.OverrideUntil = state, until
		f.Nodes[node] = n
		return nil
	})
}

// onlyTimeCondition is the flow's time_condition node when it has exactly one, else "".
func onlyTimeCondition(f *switchboard.CallFlow) string {
	found := ""
	for name, n := range f.Nodes {
		if n.Type == switchboard.FlowNodeTimeCondition {
			if found != "" {
				return ""
			}
			found = name
		}
	}
	return found
}

// SimulateCallFlow answers the path a call to the flow would take at sim.Time from
// sim.Caller pressing sim.Keys, without placing one: the same interpreter as live calls,
// with a scripted caller. Extensions dialled directly are looked up in the account.
func (s *Service) SimulateCallFlow(ctx context.Context, accountID, id int64, sim flow.Simulation) (flow.SimulationResult, error) {
	f, err := s.store.GetCallFlow(ctx, accountID, id)
	if err != nil {
		return flow.SimulationResult{}, err
	}
	v := switchboard.ValidationErrors{}
	names := make([]string, 0, len(sim.Outcomes))
	for name := range sim.Outcomes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch f.Nodes[name].Type {
		case switchboard.FlowNodeQueue, switchboard.FlowNodeRingGroup, switchboard.FlowNodeUser, switchboard.FlowNodeForward, switchboard.FlowNodeIVR:
		default:
			v.Add("outcomes."+name, "must name a queue, ring_group, user, forward or ivr (direct dial) node of the flow")
		}
	}
	if len(sim.Keys) > 100 {
		v.Add("keys", "must be at most 100 keys")
	}
	for _, k := range sim.Keys {
		if !(k >= '0' && k <= '9' || k == '*' || k == '#' || k == '-') {
			v.Add("keys", "must be keys 0-9, * and #, with - for waiting without a key")
		}
	}
	if sim.Time.IsZero() {
		sim.Time = time.Now()
	}
	if err := v.Err(); err != nil {
		return flow.SimulationResult{}, err
	}
	var lookupErr error
	resolve := func(ext string) (switchboard.Target, bool) {
		t, err := s.extensionTarget(ctx, accountID, ext)
		if err != nil && lookupErr == nil {
			lookupErr = err
		}
		return t, err == nil && t.Type != switchboard.TargetNone
	}
	res, err := sim.Run(ctx, f, flow.Options{ResolveExtension: resolve})
	if err == nil {
		err = lookupErr
	}
	return res, err
}

// extensionTarget finds what the account's extension reaches; a zero Target when nothing.
func (s *Service) extensionTarget(ctx context.Context, accountID int64, ext string) (switchboard.Target, error) {
	if !switchboard.ValidExtension(ext) {
		return switchboard.Target{}, nil
	}
	return s.store.ExtensionTarget(ctx, accountID, ext)
}

// FlowReferences answers what leads to the account's user, queue, ring group or call flow:
// numbers routing to it, queue overflows and ring group fallbacks pointing at it, and flow
// nodes naming it. A target of another account is NOT_FOUND.
func (s *Service) FlowReferences(ctx context.Context, accountID int64, t switchboard.TargetType, id int64) ([]switchboard.FlowUse, error) {
	var err error
	switch t {
	case switchboard.TargetUser:
		_, err = s.store.GetUser(ctx, accountID, id)
	case switchboard.TargetQueue:
		_, err = s.store.GetQueue(ctx, accountID, id)
	case switchboard.TargetRingGroup:
		_, err = s.store.GetRingGroup(ctx, accountID, id)
	case switchboard.TargetCallFlow:
		_, err = s.store.GetCallFlow(ctx, accountID, id)
	default:
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "type", "must be one of user, queue, ringgroup, callflow")
	}
	if err != nil {
		return nil, err
	}
	return s.store.FlowReferences(ctx, accountID, t, id)
}
