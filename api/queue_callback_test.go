package api_test

import "testing"

// The callback settings of a queue: defaults on create, a PATCH that changes only them, and
// bad values refused with the field named, changing nothing.
func TestQueueCallbackSettings(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Sales", "extension": "8005"})
	expectOK(t, r, 201, "Queue created")
	q := r.result()
	if q["callback_enabled"] != false || q["callback_key"] != "1" || q["callback_after_s"] != float64(0) ||
		q["callback_max"] != float64(0) || q["callback_retries"] != float64(1) {
		t.Errorf("callback defaults = %v; want off, key 1, at once, no limit, 1 retry", q)
	}
	id := itoa(int64(q["pk"].(float64)))
	r = e.request("PATCH", base+"/queues/"+id, e.a.devKey, map[string]any{"callback_enabled": true, "callback_key": "*",
		"callback_after_s": 60, "callback_max": 5, "callback_retries": 0})
	expectOK(t, r, 200, "Queue updated")
	q = r.result()
	if q["callback_enabled"] != true || q["callback_key"] != "*" || q["callback_after_s"] != float64(60) ||
		q["callback_max"] != float64(5) || q["callback_retries"] != float64(0) || q["queue_name"] != "Sales" {
		t.Errorf("patched queue = %v", q)
	}
	for field, bad := range map[string]any{"callback_key": "12", "callback_after_s": -1, "callback_max": 100000,
		"callback_retries": 11} {
		r = e.request("PATCH", base+"/queues/"+id, e.a.devKey, map[string]any{field: bad, "callback_enabled": false})
		expectError(t, r, 400, "BAD_REQUEST")
		if detail(r, field) == "" {
			t.Errorf("%s = %v: details = %s; want the field named", field, bad, r.raw)
		}
	}
	r = e.request("GET", base+"/queues/"+id, e.a.devKey, nil)
	if q := r.result(); q["callback_enabled"] != true || q["callback_key"] != "*" {
		t.Errorf("a refused PATCH changed the queue: %v", q)
	}
	r = e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Bad", "extension": "8006", "callback_key": "x"})
	expectError(t, r, 400, "BAD_REQUEST")
}
