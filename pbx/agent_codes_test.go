package pbx_test

import (
	"context"
	"fmt"
	"testing"

	"switchboard"
	"switchboard/internal/tstest"
)

// *45 logs an agent out of every queue and back in; *46 pauses and unpauses. Each change
// is an agent.state.changed event, and a logged-out agent's phone is not offered the
// queue's calls.
func TestAgentFeatureCodes(t *testing.T) {
	q := newQueueEnv(t, 2)
	svc := withUsers(q.env)
	q.eng.SetAgentService(svc)
	out := q.agents[0]
	state := func() switchboard.AgentState {
		t.Helper()
		st, err := svc.AgentStates(context.Background(), q.account.ID, out.u.ID)
		if err != nil || len(st) != 1 {
			t.Fatalf("states %v, %v", st, err)
		}
		return st[0].State
	}
	// linear would offer agent 1 first.
	q.queue(func(qu *switchboard.Queue) { qu.Strategy = switchboard.StrategyLinear })
	user, pw := "agent1", "agent1-pw-1"
	dialFeature(t, q.env, out.ua, "*45", user, pw)
	if s := state(); s != switchboard.AgentLoggedOut {
		t.Fatalf("after *45: %s, want logged_out", s)
	}

	c := q.callIn() // agent 1, logged out, is skipped
	n, in := q.ringing()
	if n != 2 {
		t.Fatalf("the queue offered agent %d; want agent 2 (agent 1 is logged out)", n)
	}
	in.reject(t, 486, "Busy Here")
	tstest.Never(t, quietFor, "the queue offering the logged-out agent", func() bool { return len(out.ua.incoming) > 0 })
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.waitIdle()

	dialFeature(t, q.env, out.ua, "*45", user, pw)
	if s := state(); s != switchboard.AgentAvailable {
		t.Fatalf("after the second *45: %s, want available", s)
	}
	dialFeature(t, q.env, out.ua, "*46", user, pw)
	if s := state(); s != switchboard.AgentPaused {
		t.Fatalf("after *46: %s, want paused", s)
	}
	dialFeature(t, q.env, out.ua, "*46", user, pw)
	if s := state(); s != switchboard.AgentAvailable {
		t.Fatalf("after the second *46: %s, want available", s)
	}
	var got []string
	for _, ev := range q.eventsNamed(switchboard.EventAgentStateChanged) {
		got = append(got, ev.Data["state"].(string))
	}
	if want := "[logged_out available paused available]"; fmt.Sprint(got) != want {
		t.Errorf("agent.state.changed states %v, want %s", got, want)
	}
}
