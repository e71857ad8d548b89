package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"switchboard"
	"switchboard/api"
	"switchboard/provision"
	"switchboard/webhook"
)

// docsExample is the paste-able flow of docs/callflows.md with the tenant's ids in place
// of the example's: the docs' example is what this test creates.
func docsExample(t *testing.T, tn *tenant) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/callflows.md")
	must(t, err)
	_, rest, ok := strings.Cut(string(doc), "## A complete example")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	body, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/callflows.md has no complete example")
	}
	return strings.NewReplacer(
		`"queue_id": 1`, fmt.Sprintf(`"queue_id": %d`, tn.sales.ID),
		`"ring_group_id": 1`, fmt.Sprintf(`"ring_group_id": %d`, tn.group.ID),
		`"user_id": 1`, fmt.Sprintf(`"user_id": %d`, tn.john.ID),
	).Replace(body)
}

// The docs' example flow is created, read, listed, changed and deleted; a webhook token is
// never shown, and sent back masked it stays.
func TestCallFlowCRUD(t *testing.T) {
	sealer, err := webhook.NewSealer(make([]byte, 32))
	must(t, err)
	e := newSQLiteEnv(t, func(c *api.Config) {
		c.Provision = provision.New(provision.Config{Store: c.Store, Sealer: sealer})
	})
	base, key := e.a.base(e.srv), e.a.devKey

	r := e.request("POST", base+"/callflows", key, docsExample(t, e.a))
	expectOK(t, r, http.StatusCreated, "Call flow created")
	created := r.result()
	id := int64(created["pk"].(float64))
	nodes := created["nodes"].(map[string]any)
	if created["name"] != "Main line" || created["start"] != "hours" || len(nodes) != 8 {
		t.Fatalf("created %v", created)
	}
	if menu := nodes["menu"].(map[string]any); menu["options"].(map[string]any)["1"] != "sales" || menu["direct_dial"] != true {
		t.Fatalf("menu %v", menu)
	}
	flowURL := fmt.Sprintf("%s/callflows/%d", base, id)
	r = e.request("GET", flowURL, key, nil)
	expectOK(t, r, http.StatusOK, "Call flow details")
	if r.result()["nodes"].(map[string]any)["hours"].(map[string]any)["time_zone"] != "Europe/Berlin" {
		t.Fatalf("got %v", r.result())
	}
	r = e.request("GET", base+"/callflows?limit=10", key, nil)
	expectOK(t, r, http.StatusOK, "List of call flows")
	if len(r.results()) != 1 {
		t.Fatalf("list %v", r.results())
	}

	// The name is unique in the account.
	expectError(t, e.request("POST", base+"/callflows", key, docsExample(t, e.a)), http.StatusConflict, "CONFLICT")

	hook := map[string]any{"start": "hook", "nodes": map[string]any{
		"hook": map[string]any{"type": "webhook", "url": "https://crm.example.com/hook", "token": "s3cret", "headers": map[string]string{"X-Crm": "1"}, "next": "bye"},
		"bye":  map[string]any{"type": "hangup"},
	}}
	r = e.request("PATCH", flowURL, key, hook)
	expectOK(t, r, http.StatusOK, "Call flow updated")
	shown := r.result()["nodes"].(map[string]any)["hook"].(map[string]any)
	if shown["token"] != "********" || r.result()["name"] != "Main line" || len(r.result()["nodes"].(map[string]any)) != 2 {
		t.Fatalf("after PATCH %v", r.result())
	}
	// GET, then PATCH back what it showed: the token stays.
	r = e.request("PATCH", flowURL, key, map[string]any{"name": "Hook line", "nodes": e.request("GET", flowURL, key, nil).result()["nodes"]})
	expectOK(t, r, http.StatusOK, "Call flow updated")
	stored, err := e.store.GetCallFlow(context.Background(), e.a.account.ID, id)
	must(t, err)
	// The database holds the token sealed with the server's key, never in clear.
	sealed, ok := strings.CutPrefix(stored.Nodes["hook"].Token, switchboard.SealedTokenPrefix)
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	if opened, err := sealer.Open(raw); !ok || err != nil || opened != "s3cret" || stored.Name != "Hook line" {
		t.Fatalf("stored token %q (opens to %q, %v), name %q", stored.Nodes["hook"].Token, opened, err, stored.Name)
	}
	// A masked token for a node that had none is refused.
	hook["nodes"].(map[string]any)["hook2"] = map[string]any{"type": "webhook", "url": "https://crm.example.com/2", "token": "********"}
	hook["nodes"].(map[string]any)["bye"] = map[string]any{"type": "hangup"}
	hook["nodes"].(map[string]any)["hook"].(map[string]any)["next"] = "hook2"
	hook["nodes"].(map[string]any)["hook2"].(map[string]any)["next"] = "bye"
	r = e.request("PATCH", flowURL, key, hook)
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if !strings.Contains(detail(r, "nodes.hook2.token"), "masked") {
		t.Fatalf("details %v", r.body["details"])
	}

	r = e.request("DELETE", flowURL, key, nil)
	expectOK(t, r, http.StatusOK, "Call flow deleted")
	expectError(t, e.request("GET", flowURL, key, nil), http.StatusNotFound, "NOT_FOUND")
}

// A bad flow is refused with 400 naming node and field, and nothing is stored.
func TestCallFlowValidationAnswers(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	body := strings.Replace(docsExample(t, e.a), `"1": "sales"`, `"1": "salez"`, 1)
	r := e.request("POST", base+"/callflows", key, body)
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if got := detail(r, "nodes.menu.options.1"); got != `node "salez" does not exist` {
		t.Fatalf("details %v", r.body["details"])
	}
	body = strings.Replace(docsExample(t, e.a), `"Europe/Berlin"`, `"Europe/Berlim"`, 1)
	r = e.request("POST", base+"/callflows", key, body)
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if !strings.Contains(detail(r, "nodes.hours.time_zone"), "not an IANA time zone") {
		t.Fatalf("details %v", r.body["details"])
	}
	r = e.request("POST", base+"/callflows", key, `{"name": "x", "start": "a", "nodes": {"a": {"type": "hangup", "colour": "red"}}}`)
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	flows, _, err := e.store.PageCallFlows(context.Background(), e.a.account.ID, switchboard.Page{})
	must(t, err)
	if len(flows) != 0 {
		t.Fatalf("a refused flow was stored: %+v", flows)
	}
}

// A number routes to a flow by callflow_id; a flow in use cannot be deleted (409 naming
// the number and the queue whose overflow points at it); cleared, it can.
func TestCallFlowNumbersAndInUse(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("POST", base+"/callflows", key, docsExample(t, e.a))
	expectOK(t, r, http.StatusCreated, "Call flow created")
	id := int64(r.result()["pk"].(float64))
	numberURL := fmt.Sprintf("%s/numbers/%d", base, e.a.mainLine.ID)
	r = e.request("PATCH", numberURL, key, map[string]any{"callflow_id": id})
	expectOK(t, r, http.StatusOK, "Number updated")
	if r.result()["callflow_id"] != float64(id) || r.result()["target"].(map[string]any)["type"] != "callflow" {
		t.Fatalf("number %v", r.result())
	}
	r = e.request("PATCH", numberURL, key, map[string]any{"callflow_id": id, "target": map[string]any{"type": "queue", "id": e.a.sales.ID}})
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if detail(r, "callflow_id") == "" {
		t.Fatalf("details %v", r.body["details"])
	}
	ctx := context.Background()
	e.a.sales.Overflow = switchboard.Target{Type: switchboard.TargetCallFlow, ID: id}
	must(t, e.store.UpdateQueue(ctx, e.a.sales))

	flowURL := fmt.Sprintf("%s/callflows/%d", base, id)
	r = e.request("DELETE", flowURL, key, nil)
	expectError(t, r, http.StatusConflict, "CONFLICT")
	msg := r.body["message"].(string)
	if !strings.Contains(msg, "number "+e.a.mainLine.Number) || !strings.Contains(msg, `queue "Sales Queue" (overflow)`) {
		t.Fatalf("conflict message %q", msg)
	}
	r = e.request("PATCH", numberURL, key, map[string]any{"callflow_id": 0})
	expectOK(t, r, http.StatusOK, "Number updated")
	if r.result()["callflow_id"] != nil || r.result()["target"].(map[string]any)["type"] != "" {
		t.Fatalf("cleared number %v", r.result())
	}
	e.a.sales.Overflow = switchboard.Target{}
	must(t, e.store.UpdateQueue(ctx, e.a.sales))
	expectOK(t, e.request("DELETE", flowURL, key, nil), http.StatusOK, "Call flow deleted")
}

// Account B cannot read, change, delete, simulate or route to A's flow, cannot name A's
// queue in its own flow, and cannot ask what leads to A's queue.
func TestCallFlowIsolation(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("POST", e.a.base(e.srv)+"/callflows", e.a.devKey, docsExample(t, e.a))
	expectOK(t, r, http.StatusCreated, "Call flow created")
	id := int64(r.result()["pk"].(float64))
	bBase, bKey := e.b.base(e.srv), e.b.devKey
	aFlowAsB := fmt.Sprintf("%s/callflows/%d", bBase, id)
	expectError(t, e.request("GET", aFlowAsB, bKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("PATCH", aFlowAsB, bKey, map[string]any{"name": "mine"}), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("DELETE", aFlowAsB, bKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("PUT", aFlowAsB+"/override", bKey, map[string]any{"state": "closed"}), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("POST", aFlowAsB+"/simulate", bKey, map[string]any{}), http.StatusNotFound, "NOT_FOUND")
	// A's key on B's URL is refused before anything is looked up.
	if r := e.request("GET", aFlowAsB, e.a.devKey, nil); r.status == http.StatusOK {
		t.Fatalf("A's key read through B's account: %s", r.raw)
	}
	r = e.request("PATCH", fmt.Sprintf("%s/numbers/%d", bBase, e.b.mainLine.ID), bKey, map[string]any{"callflow_id": id})
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	r = e.request("POST", bBase+"/callflows", bKey, docsExample(t, e.a)) // A's queue, ring group and user ids
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if !strings.Contains(detail(r, "nodes.operator.user_id")+detail(r, "nodes.sales.queue_id")+detail(r, "nodes.support.ring_group_id"), "in this account") {
		t.Fatalf("details %v", r.body["details"])
	}
	r = e.request("GET", fmt.Sprintf("%s/queues/%d/references", bBase, e.a.sales.ID), bKey, nil)
	expectError(t, r, http.StatusNotFound, "NOT_FOUND")
	r = e.request("GET", bBase+"/callflows", bKey, nil)
	expectOK(t, r, http.StatusOK, "List of call flows")
	if len(r.results()) != 0 {
		t.Fatalf("B lists A's flows: %v", r.results())
	}
}

// The simulator answers the path with decisions and reasons, for open and closed hours,
// keys, outcomes and the manual override.
func TestCallFlowSimulateAndOverride(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("POST", base+"/callflows", key, docsExample(t, e.a))
	expectOK(t, r, http.StatusCreated, "Call flow created")
	flowURL := fmt.Sprintf("%s/callflows/%d", base, int64(r.result()["pk"].(float64)))

	simulate := func(body map[string]any) (string, []any) {
		t.Helper()
		r := e.request("POST", flowURL+"/simulate", key, body)
		expectOK(t, r, http.StatusOK, "Simulated call")
		var path []string
		for _, s := range r.result()["steps"].([]any) {
			st := s.(map[string]any)
			w := st["node"].(string) + ":" + st["kind"].(string)
			if d, _ := st["detail"].(string); d != "" {
				w += "(" + d + ")"
			}
			path = append(path, w)
		}
		return strings.Join(path, " "), r.result()["actions"].([]any)
	}
	path, actions := simulate(map[string]any{"time": "2026-06-01T10:00:00+02:00", "caller": "+4930123456", "keys": "1",
		"outcomes": map[string]string{"sales": "no_answer"}})
	want := "hours:entered hours:decision(open: Mon 09:00-17:00 Europe/Berlin -> welcome) welcome:entered menu:entered " +
		"menu:key(option 1 -> sales) sales:entered sales:outcome(no_answer -> mailbox) mailbox:entered mailbox:end(voicemail box 1)"
	if path != want {
		t.Fatalf("path\n got %s\nwant %s", path, want)
	}
	if fmt.Sprint(actions) != fmt.Sprintf("[caller name Main:  play prompt 1 connect queue %d voicemail 1]", e.a.sales.ID) {
		t.Fatalf("actions %v", actions)
	}
	path, _ = simulate(map[string]any{"time": "2026-12-25T10:00:00+01:00"})
	if !strings.HasPrefix(path, "hours:entered hours:decision(closed: holiday 2026-12-25 Christmas -> closed) closed:entered") {
		t.Fatalf("Christmas: %s", path)
	}
	path, _ = simulate(map[string]any{"time": "2026-06-01T10:00:00+02:00", "keys": "--"})
	if !strings.Contains(path, "menu:timeout(no input 3 times -> mailbox) mailbox:entered") {
		t.Fatalf("no input: %s", path)
	}
	// Direct dial of Jane's extension (1002: 1 is an option, so dial from 2 … no: a digit
	// that is an option is the option). 8100 is the ring group.
	path, _ = simulate(map[string]any{"time": "2026-06-01T10:00:00+02:00", "keys": "8100#"})
	if !strings.Contains(path, fmt.Sprintf("menu:key(direct dial 8100 -> ringgroup %d)", e.a.group.ID)) {
		t.Fatalf("direct dial: %s", path)
	}

	r = e.request("PUT", flowURL+"/override", key, map[string]any{"node": "hours", "state": "closed"})
	expectOK(t, r, http.StatusOK, "Override set")
	if r.result()["nodes"].(map[string]any)["hours"].(map[string]any)["override"] != "closed" {
		t.Fatalf("after override %v", r.result())
	}
	path, _ = simulate(map[string]any{"time": "2026-06-01T10:00:00+02:00", "keys": "1"})
	if !strings.HasPrefix(path, "hours:entered hours:decision(closed: override -> closed)") {
		t.Fatalf("override closed: %s", path)
	}
	expectOK(t, e.request("PUT", flowURL+"/override", key, map[string]any{"state": nil}), http.StatusOK, "Override set")
	path, _ = simulate(map[string]any{"time": "2026-06-01T10:00:00+02:00", "keys": "1"})
	if !strings.HasPrefix(path, "hours:entered hours:decision(open: Mon") {
		t.Fatalf("override cleared: %s", path)
	}

	for body, field := range map[string]string{
		`{"state": "shut"}`:                  "state",
		`{"node": "menu", "state": "open"}`:  "node",
		`{"state": "open", "until": "soon"}`: "until",
	} {
		r := e.request("PUT", flowURL+"/override", key, body)
		expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
		if detail(r, field) == "" {
			t.Errorf("%s: details %v", body, r.body["details"])
		}
	}
	for body, field := range map[string]string{
		`{"time": "tomorrow"}`:                   "time",
		`{"keys": "1x"}`:                         "keys",
		`{"outcomes": {"sales": "maybe"}}`:       "outcomes.sales",
		`{"outcomes": {"mailbox": "no_answer"}}`: "outcomes.mailbox",
	} {
		r := e.request("POST", flowURL+"/simulate", key, body)
		expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
		if detail(r, field) == "" {
			t.Errorf("%s: details %v", body, r.body["details"])
		}
	}
}

// references names the numbers, overflows, fallbacks and flow nodes leading to a queue.
func TestCallFlowReferences(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("POST", base+"/callflows", key, docsExample(t, e.a))
	expectOK(t, r, http.StatusCreated, "Call flow created")
	flowID := r.result()["pk"].(float64)
	expectOK(t, e.request("PATCH", fmt.Sprintf("%s/numbers/%d", base, e.a.supportLine.ID), key,
		map[string]any{"target": map[string]any{"type": "queue", "id": e.a.sales.ID}}), http.StatusOK, "Number updated")
	e.a.group.Fallback = switchboard.Target{Type: switchboard.TargetQueue, ID: e.a.sales.ID}
	must(t, e.store.UpdateRingGroup(context.Background(), e.a.group))

	r = e.request("GET", fmt.Sprintf("%s/queues/%d/references", base, e.a.sales.ID), key, nil)
	expectOK(t, r, http.StatusOK, "References")
	want := fmt.Sprintf("[map[field:target id:%d kind:number name:%s] map[field:fallback id:%d kind:ring_group name:Front Desk] "+
		"map[field:queue_id id:%v kind:callflow name:Main line node:sales]]", e.a.supportLine.ID, e.a.supportLine.Number, e.a.group.ID, flowID)
	if got := fmt.Sprint(r.results()); got != want {
		t.Fatalf("references\n got %s\nwant %s", got, want)
	}
	r = e.request("GET", fmt.Sprintf("%s/users/%d/references", base, e.a.john.ID), key, nil)
	expectOK(t, r, http.StatusOK, "References")
	if got := fmt.Sprint(r.results()); got != fmt.Sprintf("[map[field:user_id id:%v kind:callflow name:Main line node:operator]]", flowID) {
		t.Fatalf("user references %s", got)
	}
	r = e.request("GET", fmt.Sprintf("%s/ring_groups/%d/references", base, e.a.group.ID), key, nil)
	expectOK(t, r, http.StatusOK, "References")
	if got := fmt.Sprint(r.results()); got != fmt.Sprintf("[map[field:ring_group_id id:%v kind:callflow name:Main line node:support]]", flowID) {
		t.Fatalf("ring group references %s", got)
	}
	expectOK(t, e.request("PATCH", fmt.Sprintf("%s/numbers/%d", base, e.a.mainLine.ID), key, map[string]any{"callflow_id": flowID}), http.StatusOK, "Number updated")
	r = e.request("GET", fmt.Sprintf("%s/callflows/%v/references", base, flowID), key, nil)
	expectOK(t, r, http.StatusOK, "References")
	if got := fmt.Sprint(r.results()); got != fmt.Sprintf("[map[field:target id:%d kind:number name:%s]]", e.a.mainLine.ID, e.a.mainLine.Number) {
		t.Fatalf("flow references %s", got)
	}
	expectError(t, e.request("GET", base+"/queues/999/references", key, nil), http.StatusNotFound, "NOT_FOUND")
}

// Prompts, voicemail boxes and conference rooms are checked through provision's FlowRefs:
// a prompt the checker does not know is refused naming the node's field.
func TestCallFlowRefCheckers(t *testing.T) {
	prompts := map[int64]bool{1: true, 2: true}
	e := newSQLiteEnv(t, func(c *api.Config) {
		c.Provision = provision.New(provision.Config{Store: c.Store, FlowRefs: map[string]provision.FlowRefChecker{
			switchboard.FlowRefPrompt: func(_ context.Context, accountID, id int64) (bool, error) {
				return accountID == 61 && prompts[id], nil
			},
		}})
	})
	base, key := e.a.base(e.srv), e.a.devKey
	expectOK(t, e.request("POST", base+"/callflows", key, docsExample(t, e.a)), http.StatusCreated, "Call flow created")
	body := strings.Replace(docsExample(t, e.a), `"prompt_id": 2`, `"prompt_id": 3`, 1)
	body = strings.Replace(body, `"Main line"`, `"Second line"`, 1)
	r := e.request("POST", base+"/callflows", key, body)
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if got := detail(r, "nodes.closed.prompt_id"); got != "no prompt with id 3 in this account" {
		t.Fatalf("details %v", r.body["details"])
	}
}
