package pbx

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"switchboard"
	"switchboard/events"
)

// Toll-fraud guards. A call that leaves through a trunk costs the account money, and a
// stolen SIP password is classically used to pump calls to premium numbers abroad. Before
// such a call is dialled — from a phone, by click-to-call, by forwarding, or as a number's,
// queue's or ring group's external target — guardOutbound checks, in this order:
//
//   - the destination's country calling code is the account's own, or in its
//     AllowedCountries ("*" = any);
//   - the account has fewer concurrent outbound trunk calls than its MaxOutboundCalls;
//   - the user charged (who dialled, or whose forward it is) has fewer than theirs;
//   - the account's, and the user's, outbound trunk calls of the last 60 minutes (the part
//     of each call inside that window, calls in progress up to now) add up to less than
//     their MaxOutMinutes.
//
// A call that passes takes a slot, counted until the call ends; one that does not is
// refused 403 and a call.limit_exceeded event is stored. Taking the slot happens under the
// engine's lock with the check, so a burst of simultaneous INVITEs cannot overshoot. The
// minutes are counted in this process: a call that is up when the hour's minutes run out is
// not cut off, and a restart (or another node) starts from zero.

// Limits named in call.limit_exceeded.
const (
	limitAccountCalls = "account_concurrent_calls"
	limitUserCalls    = "user_concurrent_calls"
	limitCountry      = "destination_country"
	limitAccountMins  = "account_minutes_per_hour"
	limitUserMins     = "user_minutes_per_hour"
)

// minutesWindow is the window MaxOutMinutes counts in.
const minutesWindow = time.Hour

// outboundSlot is one outbound trunk call counted against the limits; release gives it
// back, once, however many of the call's paths call it.
type outboundSlot struct {
	e         *Engine
	accountID int64
	userID    int64
	once      sync.Once
	// start and end (zero while the call is up) bound the slot's time, for the minutes per
	// hour; under the engine's mu.
	start, end time.Time
}

func (s *outboundSlot) release() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		e := s.e
		e.mu.Lock()
		defer e.mu.Unlock()
		s.end = e.now()
		if e.outAccount[s.accountID]--; e.outAccount[s.accountID] <= 0 {
			delete(e.outAccount, s.accountID)
		}
		if s.userID != 0 {
			k := agentKey{s.accountID, s.userID}
			if e.outUser[k]--; e.outUser[k] <= 0 {
				delete(e.outUser, k)
			}
		}
	})
}

// releaseSlots gives back every slot in slots.
func releaseSlots(slots []*outboundSlot) {
	for _, s := range slots {
		s.release()
	}
}

// OutboundCalls is the number of the account's outbound trunk calls in progress.
func (e *Engine) OutboundCalls(accountID int64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outAccount[accountID]
}

// usedMinutesLocked is the time of the account's outbound trunk calls (of userID only,
// unless 0) inside the window ending at now. It drops the slots that ended before the
// window. e.mu is held.
func (e *Engine) usedMinutesLocked(accountID, userID int64, now time.Time) time.Duration {
	from := now.Add(-minutesWindow)
	kept := e.outHistory[accountID][:0]
	var used time.Duration
	for _, s := range e.outHistory[accountID] {
		end := s.end
		if end.IsZero() {
			end = now
		}
		if end.Before(from) {
			continue
		}
		kept = append(kept, s)
		if userID != 0 && s.userID != userID {
			continue
		}
		if start := maxTime(s.start, from); end.After(start) {
			used += end.Sub(start)
		}
	}
	if len(kept) == 0 {
		delete(e.outHistory, accountID)
	} else {
		e.outHistory[accountID] = kept
	}
	return used
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// callingCode is the country calling code of an E.164 number ("" if it has none).
func callingCode(number string) string {
	n, err := phonenumbers.Parse(number, "")
	if err != nil || n.GetCountryCode() == 0 {
		return ""
	}
	return strconv.Itoa(int(n.GetCountryCode()))
}

// guardOutbound checks the guards for a call of the account to number through a trunk,
// charged to u (nil: no user, such as a number whose target is external), and takes a slot
// for it. A refusal is a 403 *refusal, after its event is stored.
func (e *Engine) guardOutbound(ctx context.Context, accountID int64, u *switchboard.User, number string) (*outboundSlot, error) {
	acct, err := e.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	refused := func(limit string, data map[string]any, reason string) error {
		data[events.FieldLimit] = limit
		data[events.FieldTo] = number
		data[events.FieldDirection] = events.DirectionOutbound
		if u != nil {
			data[events.FieldUserID] = u.ID
			data[events.FieldExtension] = u.Extension
			data[events.FieldUserName] = u.DisplayName()
		}
		ev := switchboard.NewEvent(accountID, switchboard.EventCallLimitExceeded, data)
		ev.OccurredAt = e.now().UTC()
		if err := e.store.AppendEvents(ctx, ev); err != nil {
			e.log.Error("storing call.limit_exceeded failed", "account_id", accountID, "error", err)
		}
		e.log.Warn("outbound call refused by a toll-fraud guard", "account_id", accountID, "limit", limit, "to", number)
		return refuse(403, "Forbidden: "+reason)
	}
	if cc := callingCode(number); !acct.AllowsCountry(cc) {
		return nil, refused(limitCountry, map[string]any{events.FieldCountryCode: cc},
			"calls to country code +"+cc+" are not allowed for this account")
	}
	now := e.now()
	minutes := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	e.mu.Lock()
	switch {
	case acct.MaxOutboundCalls > 0 && e.outAccount[accountID] >= acct.MaxOutboundCalls:
		e.mu.Unlock()
		return nil, refused(limitAccountCalls, map[string]any{events.FieldMax: acct.MaxOutboundCalls},
			"the account has "+strconv.Itoa(acct.MaxOutboundCalls)+" outbound calls in progress, its limit")
	case u != nil && u.MaxOutboundCalls > 0 && e.outUser[agentKey{accountID, u.ID}] >= u.MaxOutboundCalls:
		e.mu.Unlock()
		return nil, refused(limitUserCalls, map[string]any{events.FieldMax: u.MaxOutboundCalls},
			"the user has "+strconv.Itoa(u.MaxOutboundCalls)+" outbound calls in progress, their limit")
	case acct.MaxOutMinutes > 0 && e.usedMinutesLocked(accountID, 0, now) >= minutes(acct.MaxOutMinutes):
		e.mu.Unlock()
		return nil, refused(limitAccountMins, map[string]any{events.FieldMax: acct.MaxOutMinutes},
			"the account used its "+strconv.Itoa(acct.MaxOutMinutes)+" outbound minutes of the last hour")
	case u != nil && u.MaxOutMinutes > 0 && e.usedMinutesLocked(accountID, u.ID, now) >= minutes(u.MaxOutMinutes):
		e.mu.Unlock()
		return nil, refused(limitUserMins, map[string]any{events.FieldMax: u.MaxOutMinutes},
			"the user used their "+strconv.Itoa(u.MaxOutMinutes)+" outbound minutes of the last hour")
	}
	s := &outboundSlot{e: e, accountID: accountID, start: now}
	// Every slot is kept for an hour after it ends, so that a limit set later counts it;
	// usedMinutesLocked drops older ones as it goes.
	e.usedMinutesLocked(accountID, 0, now)
	e.outHistory[accountID] = append(e.outHistory[accountID], s)
	e.outAccount[accountID]++
	if u != nil {
		s.userID = u.ID
		e.outUser[agentKey{accountID, u.ID}]++
	}
	e.mu.Unlock()
	return s, nil
}
