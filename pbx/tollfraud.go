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
// refused 403 and a limit.tripped event is stored. Taking the slot happens under the
// engine's lock with the check, so a burst of simultaneous INVITEs cannot overshoot. The
// minutes are counted in this process: a call that is up when the hour's minutes run out is
// not cut off, and a restart (or another node) starts from zero.

// Limits named in limit.tripped.
const (
	limitAccountCalls = "account_concurrent_calls"
	limitUserCalls    = "user_concurrent_calls"
	limitCountry      = "destination_country"
	limitAccountMins  = "account_minutes_per_hour"
	limitUserMins     = "user_minutes_per_hour"
)

// minutesWindow is the window MaxOutMinutes counts in.
const minutesWindow = time.Hour

// minuteLedgers count the outbound trunk minutes of accounts (user 0) and of users over the
// last hour, at a cost that does not grow with the number of calls: the calls in progress
// are kept (at most the concurrency), the ended ones are added up in one bucket per
// minute. A call's time is exact to the second; the oldest minute of the window is counted
// in proportion. Under the engine's mu.
type minuteLedgers map[agentKey]*minuteLedger

type minuteLedger struct {
	active  map[*outboundSlot]bool
	buckets [60]minuteBucket // by unix minute modulo 60
}

type minuteBucket struct {
	minute int64 // unix minute the bucket holds; another one means it is stale
	used   time.Duration
}

func (l minuteLedgers) begin(k agentKey, s *outboundSlot) {
	led := l[k]
	if led == nil {
		led = &minuteLedger{active: map[*outboundSlot]bool{}}
		l[k] = led
	}
	led.active[s] = true
}

// end moves the slot's time, up to now, from the calls in progress to the minute buckets.
func (l minuteLedgers) end(k agentKey, s *outboundSlot, now time.Time) {
	led := l[k]
	if led == nil {
		return
	}
	delete(led.active, s)
	from := maxTime(s.start, now.Add(-minutesWindow))
	for t := from; t.Before(now); {
		next := t.Truncate(time.Minute).Add(time.Minute)
		if next.After(now) {
			next = now
		}
		m := t.Unix() / 60
		b := &led.buckets[m%60]
		if b.minute != m {
			*b = minuteBucket{minute: m}
		}
		b.used += next.Sub(t)
		t = next
	}
}

// used is the time of k's outbound trunk calls inside the hour ending at now.
func (l minuteLedgers) used(k agentKey, now time.Time) time.Duration {
	led := l[k]
	if led == nil {
		return 0
	}
	from := now.Add(-minutesWindow)
	var used time.Duration
	for s := range led.active {
		used += now.Sub(maxTime(s.start, from))
	}
	first, last := from.Unix()/60, now.Unix()/60
	for _, b := range led.buckets {
		switch {
		case b.minute == first:
			// The window starts inside this minute: count the part after its start.
			inside := time.Unix((first+1)*60, 0).Sub(from)
			used += time.Duration(float64(b.used) * float64(inside) / float64(time.Minute))
		case b.minute > first && b.minute <= last:
			used += b.used
		}
	}
	return used
}

// outboundSlot is one outbound trunk call counted against the limits; release gives it
// back, once, however many of the call's paths call it.
type outboundSlot struct {
	e         *Engine
	accountID int64
	userID    int64
	once      sync.Once
	start     time.Time // when the slot was taken, for the minutes per hour
}

func (s *outboundSlot) release() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		e := s.e
		e.mu.Lock()
		defer e.mu.Unlock()
		now := e.now()
		if e.outAccount[s.accountID]--; e.outAccount[s.accountID] <= 0 {
			delete(e.outAccount, s.accountID)
		}
		e.outMinutes.end(agentKey{s.accountID, 0}, s, now)
		if s.userID != 0 {
			k := agentKey{s.accountID, s.userID}
			if e.outUser[k]--; e.outUser[k] <= 0 {
				delete(e.outUser, k)
			}
			e.outMinutes.end(k, s, now)
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
		ev := switchboard.NewEvent(accountID, switchboard.EventLimitTripped, data)
		ev.OccurredAt = e.now().UTC()
		if err := e.store.AppendEvents(ctx, ev); err != nil {
			e.log.Error("storing limit.tripped failed", "account_id", accountID, "error", err)
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
	case acct.MaxOutMinutes > 0 && e.outMinutes.used(agentKey{accountID, 0}, now) >= minutes(acct.MaxOutMinutes):
		e.mu.Unlock()
		return nil, refused(limitAccountMins, map[string]any{events.FieldMax: acct.MaxOutMinutes},
			"the account used its "+strconv.Itoa(acct.MaxOutMinutes)+" outbound minutes of the last hour")
	case u != nil && u.MaxOutMinutes > 0 && e.outMinutes.used(agentKey{accountID, u.ID}, now) >= minutes(u.MaxOutMinutes):
		e.mu.Unlock()
		return nil, refused(limitUserMins, map[string]any{events.FieldMax: u.MaxOutMinutes},
			"the user used their "+strconv.Itoa(u.MaxOutMinutes)+" outbound minutes of the last hour")
	}
	// Every slot is counted, limit or not, so that a limit set later counts the hour's calls.
	s := &outboundSlot{e: e, accountID: accountID, start: now}
	e.outAccount[accountID]++
	e.outMinutes.begin(agentKey{accountID, 0}, s)
	if u != nil {
		s.userID = u.ID
		e.outUser[agentKey{accountID, u.ID}]++
		e.outMinutes.begin(agentKey{accountID, u.ID}, s)
	}
	e.mu.Unlock()
	return s, nil
}
