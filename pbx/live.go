package pbx

import (
	"context"
	"time"

	"switchboard"
)

var _ switchboard.LiveState = (*Engine)(nil)

// UserPresence is the SIP core's: registered devices, and the user's calls in the engine.
func (e *Engine) UserPresence(accountID, userID int64) (bool, []switchboard.Channel) {
	return e.sip.UserPresence(accountID, userID)
}

// QueueStats is the queue's live state: its agents (online = a registered phone; on call =
// a call in progress; available = online, not on a call, not in wrap-up, not paused), the
// callers in it, and today's (UTC) counts from its stays.
func (e *Engine) QueueStats(accountID, queueID int64) switchboard.QueueLiveStats {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	q, err := e.store.GetQueue(ctx, accountID, queueID)
	if err != nil {
		return switchboard.QueueLiveStats{}
	}
	members, err := e.queueMembers(ctx, accountID, queueID)
	if err != nil {
		e.log.Warn("queue stats: listing members failed", "queue_id", queueID, "error", err)
	}
	st := switchboard.QueueLiveStats{ServiceLevel: q.ServiceLevel}
	for _, s := range e.memberStatuses(q, members) {
		onCall := e.userBusy(accountID, s.m.UserID)
		if onCall {
			st.AgentsOnCall++
		}
		if s.online {
			st.AgentsOnline++
			if !s.m.LoggedOut && !s.m.Paused && !s.wrapUp && !onCall {
				st.AgentsAvailable++
			}
		}
	}
	now := e.now()
	e.queues.mu.Lock()
	if qs := e.queues.queues[queueID]; qs != nil {
		for _, w := range qs.waiting {
			if w.c.accountID != accountID {
				continue
			}
			st.ActiveCalls++
			if !w.connected {
				st.CallersWaiting++ // a pending callback keeps its place: it waits too
				if w.callback != nil {
					st.CallbacksPending++
				}
				st.LongestWaitSeconds = max(st.LongestWaitSeconds, int(now.Sub(w.entered)/time.Second))
			}
		}
	}
	e.queues.mu.Unlock()
	midnight := now.UTC().Truncate(24 * time.Hour)
	if st.Today, err = e.store.QueueDayStats(ctx, accountID, queueID, midnight, q.ServiceLevel); err != nil {
		e.log.Warn("queue stats: today's counts failed", "queue_id", queueID, "error", err)
	}
	return st
}
