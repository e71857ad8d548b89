package pbx

import (
	"context"
	"strconv"

	"switchboard"
	"switchboard/media"
)

// The manual override of a flow's business hours by phone ("closed today"), the feature
// code *60:
//
//	*60          toggles the flow of the number the caller owns (when they own numbers of
//	             exactly one flow)
//	*60<flow id> toggles that flow
//
// Toggling closes every time_condition node of the flow (override "closed") unless one is
// closed already, in which case every override is cleared and the hours decide again. Only
// the owner of a number that routes to the flow may flip it (the number's owner_id: the
// manager of that line); anyone else gets 403. The change goes through the same provision
// method as PUT /callflows/{id}/override (SetFlowOverride), so the same checks and
// validation apply. Confirmation: the two-beep tone of the other feature codes after a
// close, one long beep after a reopen.

// flowOverrideCode is the feature code's prefix.
const flowOverrideCode = "*60"

// flowOverridePlan is a *60 call: the flow whose override the caller flips.
type flowOverridePlan struct {
	flowID int64
}

// SetCallFlowService gives the engine the provisioning service that *60 changes flows
// through. Call it before the SIP server runs; without it *60 answers 503.
func (e *Engine) SetCallFlowService(s switchboard.CallFlowService) {
	e.usersMu.Lock()
	e.flows = s
	e.usersMu.Unlock()
}

func (e *Engine) callFlowService() switchboard.CallFlowService {
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	return e.flows
}

// planFlowOverride plans a *60 call of caller: which flow (rest: its id, or "" for the
// flow of the caller's numbers), refused unless the caller owns a number routing to it.
func (e *Engine) planFlowOverride(ctx context.Context, caller *switchboard.User, dialled, rest string) (*plan, error) {
	owned, err := e.store.ListNumbers(ctx, caller.AccountID, switchboard.NumberFilter{OwnerUserID: caller.ID})
	if err != nil {
		return nil, err
	}
	flows := map[int64]bool{}
	for _, n := range owned {
		if n.Target.Type == switchboard.TargetCallFlow {
			flows[n.Target.ID] = true
		}
	}
	var flowID int64
	if rest == "" {
		if len(flows) != 1 {
			return nil, refuse(404, "Not Found: dial *60 and the call flow's id (you own numbers of "+strconv.Itoa(len(flows))+" flows)")
		}
		for id := range flows {
			flowID = id
		}
	} else {
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || id <= 0 {
			return nil, refuse(404, "Not Found: *60 takes a call flow id")
		}
		if !flows[id] {
			return nil, refuse(403, "Forbidden: only the owner of a number of the call flow may override its hours")
		}
		flowID = id
	}
	p := &plan{callInfo: callInfo{accountID: caller.AccountID, direction: switchboard.CallOutbound, user: caller,
		callerName: caller.DisplayName(), to: dialled, from: caller.Extension},
		flowOverride: &flowOverridePlan{flowID: flowID}}
	return p, nil
}

// runFlowOverride flips the flow's override for the caller's leg a, then answers with the
// confirmation and hangs up. Like the other feature codes it leaves no call record.
func (c *call) runFlowOverride(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	defer a.close()
	svc := c.e.callFlowService()
	if svc == nil {
		a.reject(503, "Service Unavailable: call flow overrides are not configured")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	closed, err := c.e.toggleFlowOverride(ctx, svc, c.accountID, p.flowOverride.flowID)
	cancel()
	if err != nil {
		c.e.log.Error("*60 override failed", "callflow_id", p.flowOverride.flowID, "user_id", p.user.ID, "error", err)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND || switchboard.ErrorCode(err) == switchboard.EBADREQUEST {
			a.reject(404, "Not Found: the call flow has no time condition")
			return
		}
		a.reject(500, "Server Internal Error")
		return
	}
	c.e.log.Info("flow override by phone", "account_id", c.accountID, "callflow_id", p.flowOverride.flowID,
		"user_id", p.user.ID, "closed", closed)
	if err := c.answerCallerAndAwaitAck(a, answer, nil); err != nil {
		return // the change is made; the phone only missed the tone
	}
	tone := confirmationTone()
	if !closed {
		tone = tones(6000, toneStep{880, 600})
	}
	_ = a.media.Play(a.ctx(), media.PCM(tone))
	a.hangup()
}

// toggleFlowOverride closes every time_condition of the flow, or reopens them all when one
// is closed already; closed says which.
func (e *Engine) toggleFlowOverride(ctx context.Context, svc switchboard.CallFlowService, accountID, flowID int64) (closed bool, err error) {
	f, err := e.store.GetCallFlow(ctx, accountID, flowID)
	if err != nil {
		return false, err
	}
	var nodes []string
	closed = true
	for name, n := range f.Nodes {
		if n.Type != switchboard.FlowNodeTimeCondition {
			continue
		}
		nodes = append(nodes, name)
		if n.Override == switchboard.OverrideClosed {
			closed = false
		}
	}
	if len(nodes) == 0 {
		return false, switchboard.Errorf(switchboard.ENOTFOUND, "call flow %d has no time condition", flowID)
	}
	state := switchboard.OverrideNone
	if closed {
		state = switchboard.OverrideClosed
	}
	for _, name := range nodes {
		if _, err := svc.SetFlowOverride(ctx, accountID, flowID, name, state, nil); err != nil {
			return false, err
		}
	}
	return closed, nil
}
