package pbx

import (
	"testing"
	"time"
)

// The minutes ledger counts, for the hour ending now, the time of calls in progress and of
// ended calls — exact to the second inside the window, the oldest minute in proportion —
// and forgets what ended before the window, however many calls there were.
func TestMinuteLedgerCountsTheLastHour(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	k := agentKey{1, 0}
	l := minuteLedgers{}
	call := func(start, end time.Time) {
		s := &outboundSlot{start: start}
		l.begin(k, s)
		l.end(k, s, end)
	}
	call(t0, t0.Add(90*time.Second))                                    // 1.5 min
	call(t0.Add(10*time.Minute), t0.Add(13*time.Minute+30*time.Second)) // 3.5 min
	up := &outboundSlot{start: t0.Add(20 * time.Minute)}
	l.begin(k, up)
	for _, tc := range []struct {
		at   time.Time
		want time.Duration
	}{
		{t0.Add(30 * time.Minute), 5*time.Minute + 10*time.Minute}, // both ended calls, 10 min of the live one
		// the window starts 30 s into the first call: 60 of its 90 s count
		{t0.Add(60*time.Minute + 30*time.Second), time.Minute + 3*time.Minute + 30*time.Second + 40*time.Minute + 30*time.Second},
		{t0.Add(71 * time.Minute), 2*time.Minute + 30*time.Second + 51*time.Minute}, // the first call out; 2.5 of the second
		{t0.Add(200 * time.Minute), 60 * time.Minute},                               // only the live call, capped at the hour
	} {
		if got := l.used(k, tc.at); got != tc.want {
			t.Errorf("used at +%v = %v, want %v", tc.at.Sub(t0), got, tc.want)
		}
	}
	l.end(k, up, t0.Add(200*time.Minute))
	if got := l.used(k, t0.Add(261*time.Minute)); got != 0 {
		t.Errorf("an hour after every call ended: %v used, want 0", got)
	}
}
