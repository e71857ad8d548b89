package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/store"
	"switchboard/store/storetest"
)

func newAgentEnv(t *testing.T, db *store.DB) *env {
	return newEnv(t, db, func(c *api.Config) { c.Agents = c.Provision.(api.AgentService) })
}

// agentEvents returns the account's agent.state.changed events.
func agentEvents(t *testing.T, e *env, accountID int64) []*switchboard.Event {
	t.Helper()
	evs, err := e.store.ListEvents(context.Background(), accountID, 0, 1000)
	must(t, err)
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == switchboard.EventAgentStateChanged {
			out = append(out, ev)
		}
	}
	return out
}

// TestAgentStates: pause with a reason from the account's list, every change one event,
// refusals change nothing, a user key sets its own state only, and GET /agents shows it.
func TestAgentStatesSQLite(t *testing.T)   { testAgentStates(t, storetest.NewSQLite(t)) }
func TestAgentStatesPostgres(t *testing.T) { testAgentStates(t, storetest.NewPostgres(t)) }

func testAgentStates(t *testing.T, db *store.DB) {
	e := newAgentEnv(t, db)
	base := e.a.base(e.srv)
	john := fmt.Sprint(e.a.john.ID)
	sales := e.a.sales.ID

	// No list yet: a reason is refused.
	r := e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "paused", "reason": "Lunch"})
	if r.status != 400 {
		t.Fatalf("pause with a reason and no list: %d %s", r.status, r.raw)
	}
	r = e.request("PUT", base+"/agents/pause_reasons", e.a.devKey, map[string]any{"reasons": []string{"Lunch", "Training"}})
	if r.status != 200 {
		t.Fatalf("PUT pause_reasons: %d %s", r.status, r.raw)
	}
	for _, bad := range []map[string]any{
		{"state": "paused", "reason": "Coffee"},       // not on the list
		{"state": "sleeping"},                         // no such state
		{"state": "available", "reason": "Lunch"},     // a reason without a pause
		{"state": "paused", "queue_id": e.b.sales.ID}, // another account's queue
		{},
	} {
		r = e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, bad)
		if r.status != 400 && r.status != 404 {
			t.Errorf("%v: %d %s, want 400 or 404", bad, r.status, r.raw)
		}
	}
	if n := len(agentEvents(t, e, e.a.account.ID)); n != 0 {
		t.Fatalf("refused changes stored %d events", n)
	}

	r = e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "paused", "reason": "Lunch"})
	if r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	q := r.result()["queues"].([]any)[0].(map[string]any)
	if q["state"] != "paused" || q["reason"] != "Lunch" || q["queue_id"] != float64(sales) || q["since"] == nil {
		t.Errorf("after pausing: %v", q)
	}
	// The same again changes nothing: no second event.
	e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "paused", "reason": "Lunch"})
	evs := agentEvents(t, e, e.a.account.ID)
	if len(evs) != 1 {
		t.Fatalf("%d agent events, want 1", len(evs))
	}
	d := evs[0].Data
	if d["state"] != "paused" || d["reason"] != "Lunch" || d["user_id"] != float64(e.a.john.ID) ||
		fmt.Sprint(d["queue_ids"]) != fmt.Sprint([]any{float64(sales)}) ||
		fmt.Sprint(d["previous_states"]) != fmt.Sprint(map[string]any{fmt.Sprint(sales): "available"}) {
		t.Errorf("event data %v", d)
	}

	// A user key: its own state only.
	r = e.request("POST", base+"/agents/"+fmt.Sprint(e.a.jane.ID)+"/state", e.a.userKey, map[string]any{"state": "logged_out"})
	if r.status != http.StatusForbidden {
		t.Errorf("John's key setting Jane's state: %d", r.status)
	}
	r = e.request("POST", base+"/agents/"+john+"/state", e.a.userKey, map[string]any{"state": "logged_out"})
	if r.status != 200 {
		t.Fatalf("John logs himself out: %d %s", r.status, r.raw)
	}
	r = e.request("GET", base+"/agents", e.a.devKey, nil)
	agents := r.results()
	if len(agents) != 1 {
		t.Fatalf("GET /agents: %s", r.raw)
	}
	got := agents[0].(map[string]any)["queues"].([]any)[0].(map[string]any)
	if got["state"] != "logged_out" || got["reason"] != "" {
		t.Errorf("GET /agents after logging out: %v", got)
	}
	m, err := e.store.ListQueueMembers(context.Background(), e.a.account.ID, sales)
	must(t, err)
	if !m[0].LoggedOut || m[0].Paused {
		t.Errorf("the member as the engine reads it: %+v", m[0])
	}
}

// TestAgentReport: the queue's report sums each state's recorded time within the period.
func TestAgentReportSQLite(t *testing.T)   { testAgentReport(t, storetest.NewSQLite(t)) }
func TestAgentReportPostgres(t *testing.T) { testAgentReport(t, storetest.NewPostgres(t)) }

func testAgentReport(t *testing.T, db *store.DB) {
	e := newAgentEnv(t, db)
	base := e.a.base(e.srv)
	john := fmt.Sprint(e.a.john.ID)
	e.request("PUT", base+"/agents/pause_reasons", e.a.devKey, map[string]any{"reasons": []string{"Lunch"}})
	r := e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "paused", "reason": "Lunch"})
	since, err := time.Parse(time.RFC3339Nano, r.result()["queues"].([]any)[0].(map[string]any)["since"].(string))
	must(t, err)
	e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "available"})
	e.request("POST", base+"/agents/"+john+"/state", e.a.devKey, map[string]any{"state": "logged_out"})

	report := func(to time.Time) (float64, map[string]bool) {
		r := e.request("GET", base+fmt.Sprintf("/queues/%d/agents/report?from=%s&to=%s", e.a.sales.ID,
			since.Add(-time.Hour).Format(time.RFC3339Nano), to.Format(time.RFC3339Nano)), e.a.devKey, nil)
		if r.status != 200 {
			t.Fatalf("report: %d %s", r.status, r.raw)
		}
		total, states := 0.0, map[string]bool{}
		for _, x := range r.result()["times"].([]any) {
			row := x.(map[string]any)
			total += row["seconds"].(float64)
			states[row["state"].(string)+"/"+row["reason"].(string)] = true
		}
		return total, states
	}
	// since is shown to the second: the first change was within the second after it.
	to := since.Add(time.Hour)
	total, states := report(to)
	if !states["paused/Lunch"] || !states["available/"] || !states["logged_out/"] || len(states) != 3 {
		t.Errorf("report rows: %v", states)
	}
	if max := to.Sub(since).Seconds(); total > max || total < max-1 {
		t.Errorf("report sums %.3f s, want the time from the first change to the end (%.0f s at most, 1 s less at least)", total, max)
	}
	// The current state counts up to the end of the report: 30 minutes more, 1,800 s more.
	if later, _ := report(to.Add(30 * time.Minute)); later-total < 1800-0.002 || later-total > 1800+0.002 {
		t.Errorf("30 minutes later the report sums %.3f s, %.3f s more; want 1800", later, later-total)
	}
	r = e.request("GET", base+fmt.Sprintf("/queues/%d/agents/report?from=x", e.a.sales.ID), e.a.devKey, nil)
	if r.status != 400 {
		t.Errorf("bad from: %d", r.status)
	}
}
