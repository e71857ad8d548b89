package api_test

import (
	"net/http"
	"strings"
	"testing"

	"switchboard"
	"switchboard/store/storetest"
)

func TestControlCharactersRefusedSQLite(t *testing.T) {
	testControlCharactersRefused(t, newIsolationEnv(t, storetest.NewSQLite(t)))
}

func TestControlCharactersRefusedPostgres(t *testing.T) {
	testControlCharactersRefused(t, newIsolationEnv(t, storetest.NewPostgres(t)))
}

// testControlCharactersRefused sends a NUL (and an ESC) in each name-like field of every
// resource, on create and on change: each is answered 400 BAD_REQUEST naming the field
// (issue 14, F3: PostgreSQL answered 500 to NUL), and nothing is written — the lists stay
// as long and the changed thing keeps its name.
func testControlCharactersRefused(t *testing.T, e *isolationEnv) {
	base, key, ids := e.a.base(e.srv), e.a.devKey, e.aIDs
	at := func(path string) string {
		return base + pathParamRE.ReplaceAllStringFunc(path, func(p string) string { return itoa(ids[p[1:len(p)-1]]) })
	}
	cases := []struct {
		method, path, list string
		body               map[string]any
		field              string
	}{
		{"POST", "/users", "/users", map[string]any{"presence_id": "1077", "first_name": "A\x00"}, "first_name"},
		{"PATCH", "/users/{user_id}", "", map[string]any{"last_name": "B\x1b[31m"}, "last_name"},
		{"POST", "/users/{user_id}/devices", "/users/{user_id}/devices", map[string]any{"name": "Desk\x00"}, "name"},
		{"PATCH", "/devices/{device_id}", "", map[string]any{"name": "\x00"}, "name"},
		{"POST", "/queues", "/queues", map[string]any{"queue_name": "Q\x00", "extension": "8077"}, "queue_name"},
		{"PATCH", "/queues/{queue_id}", "", map[string]any{"queue_name": "Q\x00"}, "queue_name"},
		{"POST", "/ring_groups", "/ring_groups", map[string]any{"name": "G\x00", "extension": "8177"}, "name"},
		{"PATCH", "/ring_groups/{ring_group_id}", "", map[string]any{"name": "G\x00"}, "name"},
		{"POST", "/numbers", "/numbers", map[string]any{"number": "+17775550077", "friendly_name": "N\x00"}, "friendly_name"},
		{"PATCH", "/numbers/{number_id}", "", map[string]any{"friendly_name": "N\x00"}, "friendly_name"},
		{"POST", "/contacts", "/contacts", map[string]any{"phone": "+14155550077", "first_name": "C\x00"}, "first_name"},
		{"PATCH", "/contacts/{contact_id}", "", map[string]any{"company": "C\x00"}, "company"},
		{"POST", "/api_keys", "/api_keys", map[string]any{"kind": "developer", "name": "K\x00"}, "name"},
		{"POST", "/webhooks", "/webhooks", map[string]any{"name": "W\x00", "url": e.recv.URL + "/x", "events": []any{"*"}}, "name"},
		{"PATCH", "/webhooks/{webhook_id}", "", map[string]any{"name": "W\x00"}, "name"},
		{"POST", "/trunks", "/trunks", map[string]any{"name": "T\x00", "host": "192.0.2.77"}, "name"},
		{"PUT", "/trunks/{trunk_id}", "", map[string]any{"name": "T", "host": "192.0.2.77", "inbound_addresses": []any{"192.0.2.78\x00"}}, "inbound_addresses[0]"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path+" "+c.field, func(t *testing.T) {
			var before response
			if c.list != "" {
				before = e.request("GET", at(c.list), key, nil)
			} else {
				before = e.request("GET", at(c.path), key, nil)
			}
			r := e.request(c.method, at(c.path), key, c.body)
			expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
			if d := detail(r, c.field); !strings.Contains(d, "control character") {
				t.Errorf("details[%q] = %q; want it to name the control character (%s)", c.field, d, r.raw)
			}
			var after response
			if c.list != "" {
				after = e.request("GET", at(c.list), key, nil)
				if len(after.results()) != len(before.results()) {
					t.Errorf("%s holds %d items after the refused create; want %d", c.list, len(after.results()), len(before.results()))
				}
			} else {
				after = e.request("GET", at(c.path), key, nil)
				if after.raw[strings.Index(after.raw, `"result"`):strings.LastIndex(after.raw, `"timestamp"`)] !=
					before.raw[strings.Index(before.raw, `"result"`):strings.LastIndex(before.raw, `"timestamp"`)] {
					t.Errorf("the refused change was written:\nbefore %s\nafter  %s", before.raw, after.raw)
				}
			}
		})
	}
	// Tab and line feed are text, not control of anything: an SMS or a name may hold them.
	r := e.request("PATCH", at("/contacts/{contact_id}"), key, map[string]any{"company": "Line one\nLine\ttwo"})
	expectOK(t, r, http.StatusOK, "Contact updated")
}
