package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"switchboard"
	"switchboard/store/storetest"
)

func TestTenantIsolationSQLite(t *testing.T) {
	testTenantIsolation(t, newEnv(t, storetest.NewSQLite(t)))
}

func TestTenantIsolationPostgres(t *testing.T) {
	testTenantIsolation(t, newEnv(t, storetest.NewPostgres(t)))
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// testTenantIsolation walks every account operation of the OpenAPI document, every method,
// with account A's developer and user keys against account B: B's path, and A's path with
// B's ids (and bodies naming B's users and numbers). No answer may carry B's data (every B
// name carries the tag "Bx", every B number starts +1666), and B's state must not change.
func testTenantIsolation(t *testing.T, e *env) {
	before := snapshot(t, e.store, e.b.account.ID)

	spec := e.request("GET", e.srv.URL+"/v3/openapi.json", "", nil)
	paths, _ := spec.body["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatalf("no paths in the OpenAPI document: %.200s", spec.raw)
	}
	bIDs := map[string]int64{"user_id": e.b.john.ID, "queue_id": e.b.sales.ID, "device_id": e.b.device.ID,
		"number_id": e.b.mainLine.ID, "ring_group_id": e.b.group.ID, "contact_id": e.b.contact.ID, "key_id": e.b.devKeyID}
	// Bodies valid in shape, aimed at B: changing B's things, or making A's things point at B's.
	bodies := map[string]any{
		"PATCH /users/{user_id}":                        map[string]any{"first_name": "Hacked"},
		"POST /users":                                   map[string]any{"presence_id": "1009", "first_name": "Hacked"},
		"POST /users/{user_id}/devices":                 map[string]any{"name": "Hacked"},
		"PATCH /devices/{device_id}":                    map[string]any{"name": "Hacked"},
		"POST /queues":                                  map[string]any{"queue_name": "Hacked", "extension": "8009", "overflow": map[string]any{"type": "user", "id": e.b.john.ID}},
		"PATCH /queues/{queue_id}":                      map[string]any{"queue_name": "Hacked"},
		"POST /queues/{queue_id}/members":               map[string]any{"user_id": e.b.jane.ID},
		"PATCH /queues/{queue_id}/members/{user_id}":    map[string]any{"paused": true},
		"POST /ring_groups":                             map[string]any{"name": "Hacked", "extension": "8109", "members": []any{map[string]any{"user_id": e.b.john.ID}}},
		"PATCH /ring_groups/{ring_group_id}":            map[string]any{"name": "Hacked"},
		"POST /numbers":                                 map[string]any{"number": "+17775550000", "owner_id": e.b.john.ID},
		"PATCH /numbers/{number_id}":                    map[string]any{"friendly_name": "Hacked"},
		"POST /contacts":                                map[string]any{"phone": "+14155550000", "first_name": "Hacked"},
		"PATCH /contacts/{contact_id}":                  map[string]any{"first_name": "Hacked"},
		"POST /api_keys":                                map[string]any{"kind": "user", "user_id": e.b.john.ID},
		"PATCH /settings":                               map[string]any{"public_endpoints": true},
		"POST /call/outbound":                           map[string]any{"from": "1001", "to": "+15551234567", "caller_id": e.b.mainLine.Number},
		"POST /sms/send":                                map[string]any{"from": e.b.mainLine.Number, "to": "+15551234567", "message": "hi"},
		"POST /webhooks":                                map[string]any{"name": "Hacked", "url": "https://example.com/hook", "events": []any{"*"}},
		"PATCH /webhooks/{webhook_id}":                  map[string]any{"name": "Hacked"},
		"POST /webhook_deliveries/resend":               map[string]any{"ids": []any{1, 2, 3}},
		"POST /webhooks/{webhook_id}/test":              map[string]any{"event": "contact.created"},
		"POST /webhooks/{webhook_id}/rotate":            map[string]any{},
		"POST /devices/{device_id}/password":            nil,
		"POST /webhook_deliveries/{delivery_id}/resend": nil,
	}
	keys := map[string]string{"developer key": e.a.devKey, "user key": e.a.userKey}
	walked := 0
	var ops []string
	for path, item := range paths {
		if !strings.HasPrefix(path, "/v3/voice/{account_id}") {
			continue
		}
		for method := range item.(map[string]any) {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(ops)
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		rel := strings.TrimPrefix(path, "/v3/voice/{account_id}")
		body := bodies[method+" "+rel]
		hasIDs := len(pathParamRE.FindAllString(rel, -1)) > 0
		for keyName, key := range keys {
			for _, target := range []string{"B's account", "A's account with B's ids"} {
				account := e.b.account.ID
				if target != "B's account" {
					account = e.a.account.ID
				}
				url := e.srv.URL + pathParamRE.ReplaceAllStringFunc(path, func(p string) string {
					name := p[1 : len(p)-1]
					if name == "account_id" {
						return itoa(account)
					}
					if id, ok := bIDs[name]; ok {
						return itoa(id)
					}
					return "999999" // webhooks and deliveries: B has none, and none of A has this id
				})
				var r response
				if body == nil && (method == "POST" || method == "PATCH") {
					r = e.request(method, url, key, "{}")
				} else {
					r = e.request(method, url, key, body)
				}
				walked++
				where := fmt.Sprintf("%s with A's %s on %s", op, keyName, target)
				if target == "B's account" && r.status != 403 {
					t.Errorf("%s: status %d, want 403: %.300s", where, r.status, r.raw)
				}
				if target != "B's account" && hasIDs && r.status < 400 {
					t.Errorf("%s: status %d, want a refusal: %.300s", where, r.status, r.raw)
				}
				if strings.Contains(r.raw, "Bx") || strings.Contains(r.raw, "+1666") || strings.Contains(r.raw, "desk62") {
					t.Errorf("%s: B's data in the answer: %.300s", where, r.raw)
				}
			}
		}
	}
	if walked < 200 {
		t.Errorf("walked only %d requests", walked)
	}
	if after := snapshot(t, e.store, e.b.account.ID); after != before {
		t.Errorf("account B changed:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot serialises everything of an account, to compare before and after.
func snapshot(t *testing.T, st switchboard.Store, accountID int64) string {
	t.Helper()
	ctx := context.Background()
	var parts []any
	add := func(v any, err error) {
		must(t, err)
		parts = append(parts, v)
	}
	add(st.GetAccount(ctx, accountID))
	add(st.ListUsers(ctx, accountID))
	add(st.ListDevices(ctx, accountID, 0))
	queues, err := st.ListQueues(ctx, accountID)
	add(queues, err)
	for _, q := range queues {
		add(st.ListQueueMembers(ctx, accountID, q.ID))
	}
	add(st.ListRingGroups(ctx, accountID))
	add(st.ListNumbers(ctx, accountID, switchboard.NumberFilter{}))
	add(st.ListContacts(ctx, accountID))
	add(st.ListAPIKeys(ctx, accountID))
	events, err := st.ListEvents(ctx, accountID, 0, 1000)
	add(len(events), err)
	b, err := json.Marshal(parts)
	must(t, err)
	return string(b)
}
