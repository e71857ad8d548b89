package pbx

import (
	"context"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/media"
)

// Per-user call features: do not disturb and call waiting, the feature codes a phone
// dials to change them, and the one rule every route asks (takesCall). Pickup (*8) is in
// pickup.go. The codes follow Asterisk/FreePBX (docs/calls.md has the table):
//
//	*78  do not disturb on      *79  do not disturb off
//	*70  call waiting on        *71  call waiting off
//	*8   group pickup           *8<extension>  directed pickup

// featureCode is a feature code a phone dialled that changes the user's settings.
type featureCode struct {
	code   string
	change switchboard.UserChange
}

// settingCodes are the codes that change a setting of the user who dials them.
var settingCodes = map[string]switchboard.UserChange{
	"*78": {DoNotDisturb: ptrTo(true)},
	"*79": {DoNotDisturb: ptrTo(false)},
	"*70": {CallWaiting: ptrTo(true)},
	"*71": {CallWaiting: ptrTo(false)},
}

func ptrTo[T any](v T) *T { return &v }

// pickupCode is the prefix of the pickup codes: *8 alone (group) or *8 and an extension.
const pickupCode = "*8"

// routeFeature plans a feature code dialled by caller: a setting change, a pickup, or a
// 404 for a code the engine does not know.
func (e *Engine) routeFeature(ctx context.Context, caller *switchboard.User, dialled string) (*plan, error) {
	p := &plan{callInfo: callInfo{accountID: caller.AccountID, direction: switchboard.CallOutbound, user: caller,
		callerName: caller.DisplayName(), to: dialled, from: caller.Extension}}
	if change, ok := settingCodes[dialled]; ok {
		p.feature = &featureCode{code: dialled, change: change}
		return p, nil
	}
	if dialled == agentLoginCode || dialled == agentPauseCode {
		p.feature = &featureCode{code: dialled}
		return p, nil
	}
	if routeVoicemailCode(p, dialled) {
		return p, nil
	}
	if rest, ok := strings.CutPrefix(dialled, pickupCode); ok {
		pk, err := e.planPickup(ctx, caller, rest)
		if err != nil {
			return nil, err
		}
		p.pickup = pk
		return p, nil
	}
	return nil, refuse(404, "Not Found: unknown feature code "+dialled+" (see docs/calls.md)")
}

// SetUserService gives the engine the provisioning service that feature codes (*78, *79,
// *70, *71) change users through, so that the same defaults, checks and events apply as
// for the API. Call it before the SIP server runs; without it those codes answer 503.
func (e *Engine) SetUserService(s switchboard.UserService) {
	e.usersMu.Lock()
	e.users = s
	e.usersMu.Unlock()
}

func (e *Engine) userService() switchboard.UserService {
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	return e.users
}

// runFeature carries out a setting code for the caller's leg a: the change is written
// through the user service, then the caller is answered, hears the confirmation tone and
// gets a BYE. A failed change is refused (503) without answering. The call c is never
// started: a feature code leaves no call record, as it is no call.
func (c *call) runFeature(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	defer a.close()
	if p.feature.code == agentLoginCode || p.feature.code == agentPauseCode {
		c.runAgentCode(a, answer, p)
		return
	}
	users := c.e.userService()
	if users == nil {
		a.reject(503, "Service Unavailable: feature codes are not configured")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	_, err := users.UpdateUser(ctx, p.user.AccountID, p.user.ID, p.feature.change)
	cancel()
	if err != nil {
		c.e.log.Error("a feature code's change failed", "code", p.feature.code, "user_id", p.user.ID, "error", err)
		a.reject(500, "Server Internal Error")
		return
	}
	c.e.forgetUserFlags(p.user.AccountID, p.user.ID)
	c.e.log.Info("feature code", "code", p.feature.code, "account_id", p.user.AccountID, "user_id", p.user.ID)
	if err := c.answerCallerAndAwaitAck(a, answer, nil); err != nil {
		return // the change is made; the phone only missed the tone
	}
	// The tone lasts half a second: a shutdown meanwhile waits for it.
	_ = a.media.Play(a.ctx(), media.PCM(confirmationTone()))
	a.hangup()
}

// confirmationTone is what a phone hears after a feature code took effect: two short
// 880 Hz beeps (Asterisk plays a "feature activated" prompt; a tone needs no language).
var confirmationTone = sync.OnceValue(func() []int16 {
	return tones(4000, toneStep{880, 200}, toneStep{0, 100}, toneStep{880, 200}, toneStep{0, 100})
})

// takesCall reports whether user u accepts one more call now: not on do not disturb and,
// with call waiting off, not already on a call. Direct calls, ring groups and queues all ask
// it (planUser, and memberStatus through refusesQueueCall), so that the rule lives here.
func (e *Engine) takesCall(u *switchboard.User) bool {
	return !u.DoNotDisturb && (!u.CallWaitingOff || !e.userBusy(u.AccountID, u.ID))
}

// userFlagsTTL bounds how stale the queues' view of a member's do not disturb and call
// waiting may be after an API change (a feature code dialled here is seen at once); the
// same bound as the queue member list's.
const userFlagsTTL = membersTTL

type userFlags struct {
	dnd, waitingOff bool
	fetched         time.Time
}

// refusesQueueCall reports whether a queue member takes no queue call now (takesCall),
// reading the member's settings through a short cache: queue statuses are recomputed often
// and for every member.
func (e *Engine) refusesQueueCall(accountID, userID int64, onCall bool) bool {
	k := agentKey{accountID, userID}
	e.flagsMu.Lock()
	f, ok := e.flags[k]
	e.flagsMu.Unlock()
	if !ok || time.Since(f.fetched) >= userFlagsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		u, err := e.store.GetUser(ctx, accountID, userID)
		cancel()
		if err != nil {
			return false // as before this rule: the member's other statuses decide
		}
		f = userFlags{dnd: u.DoNotDisturb, waitingOff: u.CallWaitingOff, fetched: time.Now()}
		e.flagsMu.Lock()
		e.flags[k] = f
		e.flagsMu.Unlock()
	}
	return f.dnd || f.waitingOff && onCall
}

// forgetUserFlags drops the cached settings of a user whose settings changed.
func (e *Engine) forgetUserFlags(accountID, userID int64) {
	e.flagsMu.Lock()
	delete(e.flags, agentKey{accountID, userID})
	e.flagsMu.Unlock()
	e.queues.kickAll() // a member may be available, or not, now
}
