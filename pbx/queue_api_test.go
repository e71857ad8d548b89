package pbx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"switchboard"
	"switchboard/api"
)

// Pausing, unpausing and removing a member through the API reaches the engine at once: the
// very next queue call skips a member paused a moment ago, although the engine had just
// read the queue's members (its member cache would otherwise keep them for a second).
func TestQueueMemberChangesThroughTheAPIReachTheEngineAtOnce(t *testing.T) {
	q := newQueueEnv(t, 2)
	qu := q.queue(func(qu *switchboard.Queue) { qu.Strategy = switchboard.StrategyLinear })
	apiSrv := httptest.NewServer(api.New(api.Config{Store: q.db, Calls: q.eng, Live: q.eng, QueueMembers: q.eng}))
	t.Cleanup(apiSrv.Close)
	key, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.Name = q.account.ID, "backend"
	if err := q.db.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	member := func(method string, a *agent, body any) {
		t.Helper()
		var buf bytes.Buffer
		if body != nil {
			_ = json.NewEncoder(&buf).Encode(body)
		}
		url := fmt.Sprintf("%s/v3/voice/%d/queues/%d/members/%d", apiSrv.URL, q.account.ID, qu.ID, a.u.ID)
		req, _ := http.NewRequest(method, url, &buf)
		req.Header.Set("X-API-Key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
		}
	}
	// callRings places a queue call, returns which agent the queue offers it to first, and
	// ends it from the caller's side while that agent rings.
	callRings := func() int {
		t.Helper()
		c := q.callIn()
		n, in := q.ringing()
		if err := c.dlg.Bye(context.Background()); err != nil {
			t.Fatalf("BYE: %v", err)
		}
		endedWithin(t, in.dlg.Context(), "the ringing agent after the caller left")
		in.finalSent()
		q.waitIdle()
		return n
	}

	if n := callRings(); n != 1 { // linear: agent 1 first; the engine has now read the members
		t.Fatalf("agent %d rang first; want 1", n)
	}
	member("PATCH", q.agents[0], map[string]any{"paused": true})
	if n := callRings(); n != 2 {
		t.Errorf("after pausing agent 1 through the API, agent %d rang first; want 2", n)
	}
	member("PATCH", q.agents[0], map[string]any{"paused": false})
	if n := callRings(); n != 1 {
		t.Errorf("after unpausing agent 1 through the API, agent %d rang first; want 1", n)
	}
	member("DELETE", q.agents[0], nil)
	if n := callRings(); n != 2 {
		t.Errorf("after removing agent 1 through the API, agent %d rang first; want 2", n)
	}
	q.quiet("after the last call")
}
