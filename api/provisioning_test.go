package api_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/api"
	"switchboard/provision"
)

func TestUserCRUD(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/users", e.a.devKey, map[string]any{"presence_id": "1003", "first_name": "Grace",
		"last_name": "Hopper", "email": "grace@example.com", "time_zone": "Europe/London", "forward_number": "(555) 222-3333"})
	expectOK(t, r, 201, "User created")
	expectFields(t, "user", r.result(), map[string]string{"pk": "integer", "presence_id": "string", "callerID": "string",
		"first_name": "string", "last_name": "string", "email": "string", "time_zone": "string", "voicemail_enabled": "boolean",
		"forward_enabled": "boolean", "forward_number": "string", "ring_time": "integer", "max_outbound_calls": "integer",
		"max_outbound_minutes_per_hour": "integer", "do_not_disturb": "boolean", "call_waiting": "boolean",
		"created_at": "string", "updated_at": "string", "recording": "string"})
	u := r.result()
	if u["callerID"] != "Grace Hopper" || u["forward_number"] != "+15552223333" || u["voicemail_enabled"] != true || u["ring_time"] != float64(30) ||
		u["do_not_disturb"] != false || u["call_waiting"] != true {
		t.Errorf("created user = %v", u)
	}
	id := itoa(int64(u["pk"].(float64)))

	r = e.request("PATCH", base+"/users/"+id, e.a.devKey, map[string]any{"callerID": "Amazing Grace", "forward_enabled": true})
	expectOK(t, r, 200, "User updated")
	if r.result()["callerID"] != "Amazing Grace" || r.result()["forward_enabled"] != true || r.result()["first_name"] != "Grace" ||
		r.result()["email"] != "grace@example.com" {
		t.Errorf("patched user = %v (fields not given must stay)", r.result())
	}
	r = e.request("GET", base+"/users/"+id, e.a.devKey, nil)
	expectOK(t, r, 200, "User details")
	if r.result()["callerID"] != "Amazing Grace" {
		t.Errorf("stored user = %v", r.result())
	}
	// Do not disturb and call waiting: changed alone, and a wrong type is the client's mistake.
	r = e.request("PATCH", base+"/users/"+id, e.a.devKey, map[string]any{"do_not_disturb": true, "call_waiting": false})
	expectOK(t, r, 200, "User updated")
	if r.result()["do_not_disturb"] != true || r.result()["call_waiting"] != false || r.result()["callerID"] != "Amazing Grace" {
		t.Errorf("patched do_not_disturb and call_waiting: %v", r.result())
	}
	expectError(t, e.request("PATCH", base+"/users/"+id, e.a.devKey, map[string]any{"do_not_disturb": "yes"}), 400, "BAD_REQUEST")
	if r := e.request("GET", base+"/users/"+id, e.a.devKey, nil); r.result()["do_not_disturb"] != true || r.result()["call_waiting"] != false {
		t.Errorf("stored do_not_disturb and call_waiting: %v", r.result())
	}
	// Forwarding on with the number cleared is refused, and nothing changes.
	r = e.request("PATCH", base+"/users/"+id, e.a.devKey, map[string]any{"forward_number": "", "first_name": "Changed"})
	expectError(t, r, 400, "BAD_REQUEST")
	if r := e.request("GET", base+"/users/"+id, e.a.devKey, nil); r.result()["first_name"] != "Grace" {
		t.Errorf("a refused PATCH wrote: %v", r.result())
	}

	r = e.request("GET", base+"/users", e.a.devKey, nil)
	expectOK(t, r, 200, "List of users")
	if len(r.results()) != 3 {
		t.Errorf("users = %d, want 3", len(r.results()))
	}
	expectOK(t, e.request("DELETE", base+"/users/"+id, e.a.devKey, nil), 200, "User deleted")
	expectError(t, e.request("GET", base+"/users/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("DELETE", base+"/users/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
}

func TestDeviceCRUDAndPasswords(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	ctx := context.Background()
	r := e.request("POST", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, map[string]any{"name": "Softphone"})
	expectOK(t, r, 201, "Device created")
	d := r.result()
	password, _ := d["sip_password"].(string)
	username, _ := d["sip_username"].(string)
	if len(password) < 8 || len(username) < 3 || d["user_id"] != float64(e.a.jane.ID) || d["sip_realm"] != switchboard.SIPRealm {
		t.Fatalf("created device = %v", d)
	}
	id := int64(d["pk"].(float64))
	// The password is stored as digest hashes that match it.
	stored, err := e.store.GetDevice(ctx, e.a.account.ID, id)
	must(t, err)
	check := &switchboard.Device{SIPUsername: username}
	check.SetSIPPassword(password)
	if stored.HA1MD5 != check.HA1MD5 || stored.HA1SHA256 != check.HA1SHA256 {
		t.Error("stored hashes do not match the password returned")
	}

	r = e.request("GET", base+"/devices/"+itoa(id), e.a.devKey, nil)
	expectOK(t, r, 200, "Device details")
	if _, ok := r.result()["sip_password"]; ok || strings.Contains(r.raw, password) {
		t.Errorf("GET shows the password: %s", r.raw)
	}
	r = e.request("GET", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, nil)
	expectOK(t, r, 200, "List of devices")
	if len(r.results()) != 1 || strings.Contains(r.raw, password) {
		t.Errorf("device list = %s", r.raw)
	}

	r = e.request("POST", base+"/devices/"+itoa(id)+"/password", e.a.devKey, nil)
	expectOK(t, r, 200, "Device password reset")
	newPassword, _ := r.result()["sip_password"].(string)
	if newPassword == "" || newPassword == password {
		t.Fatalf("reset password = %q", newPassword)
	}
	stored, err = e.store.GetDevice(ctx, e.a.account.ID, id)
	must(t, err)
	check.SetSIPPassword(newPassword)
	if stored.HA1MD5 != check.HA1MD5 {
		t.Error("the reset password is not the stored one")
	}

	// A chosen username and password; renaming needs a new password.
	r = e.request("POST", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, map[string]any{"sip_username": "jane.desk", "sip_password": "s3cret-enough"})
	expectOK(t, r, 201, "Device created")
	if r.result()["sip_password"] != "s3cret-enough" || r.result()["sip_username"] != "jane.desk" {
		t.Errorf("chosen credentials = %v", r.result())
	}
	r = e.request("POST", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, map[string]any{"sip_username": "jane.desk"})
	expectError(t, r, 409, "CONFLICT")
	r = e.request("POST", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, map[string]any{"sip_password": "short"})
	expectError(t, r, 400, "BAD_REQUEST")
	r = e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"sip_username": "renamed"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "sip_password") == "" {
		t.Errorf("details.sip_password missing: %s", r.raw)
	}
	r = e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"name": "Laptop"})
	expectOK(t, r, 200, "Device updated")
	if r.result()["name"] != "Laptop" || r.result()["require_secure"] != false {
		t.Errorf("patched device = %v", r.result())
	}
	// The security policy: TLS and SRTP only, until switched off again.
	r = e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"require_secure": true})
	expectOK(t, r, 200, "Device updated")
	if r.result()["require_secure"] != true || r.result()["name"] != "Laptop" {
		t.Errorf("device after PATCH require_secure = %v", r.result())
	}
	if stored, err = e.store.GetDevice(ctx, e.a.account.ID, id); err != nil || !stored.RequireSecure {
		t.Errorf("stored device %+v, %v: want require_secure", stored, err)
	}
	expectError(t, e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"require_secure": "yes"}), 400, "BAD_REQUEST")
	r = e.request("POST", base+"/users/"+itoa(e.a.jane.ID)+"/devices", e.a.devKey, map[string]any{"require_secure": true})
	expectOK(t, r, 201, "Device created")
	if r.result()["require_secure"] != true {
		t.Errorf("created secure device = %v", r.result())
	}
	// The digest it must use: md5 by default, sha-256 on request, nothing else.
	if r.result()["digest_algorithm"] != "md5" {
		t.Errorf("new device digest_algorithm = %v, want md5", r.result()["digest_algorithm"])
	}
	r = e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"digest_algorithm": "sha-256"})
	expectOK(t, r, 200, "Device updated")
	if r.result()["digest_algorithm"] != "sha-256" {
		t.Errorf("device after PATCH digest_algorithm = %v", r.result())
	}
	if stored, err = e.store.GetDevice(ctx, e.a.account.ID, id); err != nil || !stored.RequiresSHA256() {
		t.Errorf("stored device %+v, %v: want digest sha-256", stored, err)
	}
	r = e.request("PATCH", base+"/devices/"+itoa(id), e.a.devKey, map[string]any{"digest_algorithm": "sha1"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "digest_algorithm") == "" {
		t.Errorf("details.digest_algorithm missing: %s", r.raw)
	}
	expectOK(t, e.request("DELETE", base+"/devices/"+itoa(id), e.a.devKey, nil), 200, "Device deleted")
	expectError(t, e.request("GET", base+"/devices/"+itoa(id), e.a.devKey, nil), 404, "NOT_FOUND")
}

func TestQueueAndMemberCRUD(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Support Queue", "extension": "8002",
		"strategy": "fewestcalls", "timeout": 30, "overflow": map[string]any{"type": "external", "number": "(555) 444-5555"}})
	expectOK(t, r, 201, "Queue created")
	expectFields(t, "queue", r.result(), queueFields)
	q := r.result()
	if q["strategy"] != "fewestcalls" || q["timeout"] != float64(30) || q["retry"] != float64(5) || q["musiconhold"] != "default" ||
		q["name"] != itoa(int64(q["pk"].(float64))) {
		t.Errorf("created queue = %v", q)
	}
	if ov := q["overflow"].(map[string]any); ov["type"] != "external" || ov["number"] != "+15554445555" {
		t.Errorf("overflow = %v", ov)
	}
	id := itoa(int64(q["pk"].(float64)))
	r = e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Bad", "extension": "8003", "strategy": "loudest", "joinempty": "maybe"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "strategy") == "" || detail(r, "joinempty") == "" {
		t.Errorf("details = %s", r.raw)
	}
	expectError(t, e.request("POST", base+"/queues", e.a.devKey, map[string]any{"queue_name": "Dup", "extension": "1001"}), 409, "CONFLICT")

	r = e.request("PATCH", base+"/queues/"+id, e.a.devKey, map[string]any{"wrapuptime": 15})
	expectOK(t, r, 200, "Queue updated")
	if r.result()["wrapuptime"] != float64(15) || r.result()["strategy"] != "fewestcalls" {
		t.Errorf("patched queue = %v", r.result())
	}

	r = e.request("POST", base+"/queues/"+id+"/members", e.a.devKey, map[string]any{"user_id": e.a.jane.ID, "penalty": 1})
	expectOK(t, r, 201, "Queue member added")
	if r.result()["presence_id"] != "1002" || r.result()["penalty"] != float64(1) || r.result()["paused"] != false {
		t.Errorf("member = %v", r.result())
	}
	r = e.request("PATCH", base+"/queues/"+id+"/members/"+itoa(e.a.jane.ID), e.a.devKey, map[string]any{"paused": true})
	expectOK(t, r, 200, "Queue member updated")
	if r.result()["paused"] != true || r.result()["penalty"] != float64(1) {
		t.Errorf("paused member = %v", r.result())
	}
	r = e.request("GET", base+"/queues/"+id+"/members", e.a.devKey, nil)
	expectOK(t, r, 200, "List of queue members")
	if len(r.results()) != 1 || r.results()[0].(map[string]any)["paused"] != true {
		t.Errorf("members = %s", r.raw)
	}
	expectError(t, e.request("PATCH", base+"/queues/"+id+"/members/"+itoa(e.a.john.ID), e.a.devKey, map[string]any{"paused": true}), 404, "NOT_FOUND")
	expectError(t, e.request("PATCH", base+"/queues/"+id+"/members/"+itoa(e.a.jane.ID), e.a.devKey, map[string]any{"penalty": 5000}), 400, "BAD_REQUEST")
	// The member's user is the path's: a PATCH cannot name another.
	r = e.request("PATCH", base+"/queues/"+id+"/members/"+itoa(e.a.jane.ID), e.a.devKey, map[string]any{"user_id": e.a.john.ID})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "user_id") == "" {
		t.Errorf("details = %s", r.raw)
	}
	expectOK(t, e.request("DELETE", base+"/queues/"+id+"/members/"+itoa(e.a.jane.ID), e.a.devKey, nil), 200, "Queue member removed")
	expectOK(t, e.request("DELETE", base+"/queues/"+id, e.a.devKey, nil), 200, "Queue deleted")
	expectError(t, e.request("GET", base+"/queues/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
}

func TestRingGroupCRUD(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/ring_groups", e.a.devKey, map[string]any{"name": "Sales Team", "extension": "8200",
		"strategy": "sequential", "members": []any{map[string]any{"user_id": e.a.jane.ID, "ring_time": 10}, map[string]any{"user_id": e.a.john.ID}},
		"fallback": map[string]any{"type": "queue", "id": e.a.sales.ID}})
	expectOK(t, r, 201, "Ring group created")
	expectFields(t, "ring group", r.result(), map[string]string{"pk": "integer", "name": "string", "extension": "string",
		"strategy": "string", "ring_time": "integer", "members": "array", "fallback": "object", "created_at": "string"})
	id := itoa(int64(r.result()["pk"].(float64)))
	if m := r.result()["members"].([]any); len(m) != 2 || m[0].(map[string]any)["user_id"] != float64(e.a.jane.ID) {
		t.Errorf("members = %v", m)
	}
	r = e.request("PATCH", base+"/ring_groups/"+id, e.a.devKey, map[string]any{"members": []any{map[string]any{"user_id": e.a.john.ID}}})
	expectOK(t, r, 200, "Ring group updated")
	if m := r.result()["members"].([]any); len(m) != 1 || r.result()["strategy"] != "sequential" {
		t.Errorf("patched group = %v", r.result())
	}
	r = e.request("PATCH", base+"/ring_groups/"+id, e.a.devKey, map[string]any{"fallback": map[string]any{"type": "voicemail"}})
	expectError(t, r, 400, "BAD_REQUEST")
	r = e.request("GET", base+"/ring_groups/"+id, e.a.devKey, nil)
	expectOK(t, r, 200, "Ring group details")
	if fb := r.result()["fallback"].(map[string]any); fb["type"] != "queue" || fb["id"] != float64(e.a.sales.ID) {
		t.Errorf("fallback = %v", fb)
	}
	r = e.request("GET", base+"/ring_groups", e.a.devKey, nil)
	expectOK(t, r, 200, "List of ring groups")
	if len(r.results()) != 2 {
		t.Errorf("ring groups = %s", r.raw)
	}
	expectOK(t, e.request("DELETE", base+"/ring_groups/"+id, e.a.devKey, nil), 200, "Ring group deleted")
	expectError(t, e.request("GET", base+"/ring_groups/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
}

func TestNumberCRUD(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/numbers", e.a.devKey, map[string]any{"number": "(555) 111-2222", "friendly_name": "AI Agent Line",
		"ai_agent_id": "agent-7", "sms_assigned_user_id": e.a.jane.ID, "sms_enabled": true, "target": map[string]any{"type": "ringgroup", "id": e.a.group.ID}})
	expectOK(t, r, 201, "Number created")
	n := r.result()
	if n["number"] != "+15551112222" || n["ai_agent_id"] != "agent-7" || n["sms_assigned_user_id"] != float64(e.a.jane.ID) || n["owner_id"] != nil {
		t.Errorf("created number = %v", n)
	}
	id := itoa(int64(n["pk"].(float64)))
	expectError(t, e.request("POST", base+"/numbers", e.a.devKey, map[string]any{"number": "+1 555 111 2222"}), 409, "CONFLICT")
	expectError(t, e.request("POST", base+"/numbers", e.a.devKey, map[string]any{"number": "12"}), 400, "BAD_REQUEST")
	expectError(t, e.request("POST", base+"/numbers", e.a.devKey, map[string]any{"number": "+15553334444", "mms_enabled": true}), 400, "BAD_REQUEST")

	r = e.request("GET", base+"/numbers?ai_agent_id=agent-7", e.a.devKey, nil)
	if len(r.results()) != 1 {
		t.Errorf("ai_agent_id filter = %s", r.raw)
	}
	r = e.request("GET", base+"/numbers?sms_assigned_user_id="+itoa(e.a.jane.ID), e.a.devKey, nil)
	if len(r.results()) != 1 {
		t.Errorf("sms_assigned_user_id filter = %s", r.raw)
	}
	// Jane now sees it as hers, and may send SMS from it.
	r = e.request("GET", base+"/user/numbers", e.a.janeKey, nil)
	if len(r.results()) != 1 || r.results()[0].(map[string]any)["number"] != "+15551112222" {
		t.Errorf("jane's numbers = %s", r.raw)
	}
	// Her list pages like every list: past her one number there is nothing, and a bad
	// cursor is refused naming it.
	r = e.request("GET", base+"/user/numbers?limit=1&after="+id, e.a.janeKey, nil)
	if len(r.results()) != 0 || r.header.Get("X-Next-Cursor") != "" {
		t.Errorf("jane's numbers after her last one = %s (X-Next-Cursor %q)", r.raw, r.header.Get("X-Next-Cursor"))
	}
	expectError(t, e.request("GET", base+"/user/numbers?after=abc", e.a.janeKey, nil), 400, "BAD_REQUEST")
	expectError(t, e.request("POST", base+"/sms/send", e.a.janeKey, map[string]any{"from": "+15551112222", "to": "+15551234567", "message": "hi"}), 503, "SERVICE_UNAVAILABLE")

	r = e.request("PATCH", base+"/numbers/"+id, e.a.devKey, map[string]any{"status": "suspended", "sms_assigned_user_id": 0})
	expectOK(t, r, 200, "Number updated")
	if r.result()["status"] != "suspended" || r.result()["sms_assigned_user_id"] != nil || r.result()["friendly_name"] != "AI Agent Line" {
		t.Errorf("patched number = %v", r.result())
	}
	// The number itself cannot change: PATCH refuses it rather than ignore it.
	r = e.request("PATCH", base+"/numbers/"+id, e.a.devKey, map[string]any{"number": "+15559990000"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "number") == "" {
		t.Errorf("details = %s", r.raw)
	}
	r = e.request("GET", base+"/numbers/"+id, e.a.devKey, nil)
	expectOK(t, r, 200, "Number details")
	if r.result()["number"] != "+15551112222" {
		t.Errorf("number after PATCH = %v", r.result()["number"])
	}
	expectOK(t, e.request("DELETE", base+"/numbers/"+id, e.a.devKey, nil), 200, "Number deleted")
	expectError(t, e.request("GET", base+"/numbers/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
}

func TestContactCRUDStoresEvents(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	ctx := context.Background()
	r := e.request("POST", base+"/contacts", e.a.devKey, map[string]any{"phone": "415-555-0100", "first_name": "Alan", "company": "Bletchley"})
	expectOK(t, r, 201, "Contact created")
	expectFields(t, "contact", r.result(), map[string]string{"pk": "integer", "phone": "string", "first_name": "string",
		"last_name": "string", "email": "string", "company": "string", "created_at": "string", "updated_at": "string"})
	if r.result()["phone"] != "+14155550100" {
		t.Errorf("phone = %v", r.result()["phone"])
	}
	id := itoa(int64(r.result()["pk"].(float64)))
	r = e.request("PATCH", base+"/contacts/"+id, e.a.devKey, map[string]any{"last_name": "Turing", "company": "Bletchley"})
	expectOK(t, r, 200, "Contact updated")
	if r.result()["last_name"] != "Turing" || r.result()["first_name"] != "Alan" {
		t.Errorf("patched contact = %v", r.result())
	}
	expectOK(t, e.request("GET", base+"/contacts/"+id, e.a.devKey, nil), 200, "Contact details")
	r = e.request("GET", base+"/contacts", e.a.devKey, nil)
	expectOK(t, r, 200, "List of contacts")
	expectOK(t, e.request("DELETE", base+"/contacts/"+id, e.a.devKey, nil), 200, "Contact deleted")

	events, err := e.store.ListEvents(ctx, e.a.account.ID, 0, 100)
	must(t, err)
	var names []string
	var updated []any
	for _, ev := range events {
		if ev.Data["contact_id"] == nil {
			continue
		}
		names = append(names, ev.Name)
		if ev.Name == switchboard.EventContactUpdated {
			updated, _ = ev.Data["updated_fields"].([]any)
			if updated == nil {
				if s, ok := ev.Data["updated_fields"].([]string); ok {
					for _, f := range s {
						updated = append(updated, f)
					}
				}
			}
		}
	}
	// The seeded contact's event comes first.
	want := []string{switchboard.EventContactCreated, switchboard.EventContactCreated, switchboard.EventContactUpdated, switchboard.EventContactDeleted}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("events = %v, want %v", names, want)
	}
	if len(updated) != 1 || updated[0] != "last_name" {
		t.Errorf("updated_fields = %v, want [last_name] (company did not change)", updated)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("POST", base+"/api_keys", e.a.devKey, map[string]any{"kind": "user", "user_id": e.a.jane.ID, "name": "Jane's CRM", "allowed_ips": []any{"127.0.0.1", "10.0.0.0/8"}})
	expectOK(t, r, 201, "API key created")
	expectFields(t, "created key", r.result(), map[string]string{"pk": "integer", "kind": "string", "user_id": "integer",
		"name": "string", "prefix": "string", "allowed_ips": "array", "created_at": "string", "revoked_at": "null", "key": "string"})
	key := r.result()["key"].(string)
	id := itoa(int64(r.result()["pk"].(float64)))
	if !strings.HasPrefix(key, r.result()["prefix"].(string)) {
		t.Errorf("prefix %v is not the key's start", r.result()["prefix"])
	}
	// The new key works at once, as Jane.
	r = e.request("GET", base+"/user/profile", key, nil)
	expectOK(t, r, 200, "User profile details")
	if r.result()["pk"] != float64(e.a.jane.ID) {
		t.Errorf("new key's profile = %v", r.result())
	}
	r = e.request("GET", base+"/api_keys", e.a.devKey, nil)
	expectOK(t, r, 200, "List of API keys")
	if strings.Contains(r.raw, key) || len(r.results()) != 4 {
		t.Errorf("key list shows the key or misses one: %s", r.raw)
	}
	expectOK(t, e.request("DELETE", base+"/api_keys/"+id, e.a.devKey, nil), 200, "API key revoked")
	expectError(t, e.request("GET", base+"/user/profile", key, nil), 403, "AUTH_INVALID")

	r = e.request("POST", base+"/api_keys", e.a.devKey, map[string]any{"kind": "developer"})
	expectOK(t, r, 201, "API key created")
	if dev := r.result()["key"].(string); !strings.HasPrefix(dev, "v360_dev_") {
		t.Errorf("developer key %q lacks the v360_dev_ prefix", dev)
	}
	for _, bad := range []map[string]any{
		{"kind": "admin"},
		{"kind": "user"},
		{"kind": "developer", "user_id": e.a.jane.ID},
		{"kind": "developer", "allowed_ips": []any{"not-an-ip"}},
	} {
		expectError(t, e.request("POST", base+"/api_keys", e.a.devKey, bad), 400, "BAD_REQUEST")
	}
}

func TestSettings(t *testing.T) {
	e := newSQLiteEnv(t)
	base := e.a.base(e.srv)
	r := e.request("GET", base+"/settings", e.a.devKey, nil)
	expectOK(t, r, 200, "Account settings")
	expectFields(t, "settings", r.result(), map[string]string{"account_id": "integer", "name": "string", "public_endpoints": "boolean",
		"sip_domain": "string", "max_outbound_calls": "integer", "max_outbound_minutes_per_hour": "integer", "country_code": "string",
		"allowed_countries": "array", "language": "string", "recording_default": "string", "recording_retention_days": "integer",
		"recording_consent_prompt_id": "integer", "transcription_enabled": "boolean", "redaction_enabled": "boolean"})
	if r.result()["public_endpoints"] != false {
		t.Errorf("settings = %v", r.result())
	}
	expectError(t, e.request("GET", base+"/availability", "", nil), 401, "AUTH_REQUIRED")
	r = e.request("PATCH", base+"/settings", e.a.devKey, map[string]any{"public_endpoints": true})
	expectOK(t, r, 200, "Account settings updated")
	if r.result()["public_endpoints"] != true {
		t.Errorf("patched settings = %v", r.result())
	}
	expectOK(t, e.request("GET", base+"/availability", "", nil), 200, "User availability data")
	expectError(t, e.request("PATCH", base+"/settings", e.a.devKey, map[string]any{"public_endpoints": "yes"}), 400, "BAD_REQUEST")
}

// Each account may set its SIP domain: a lowercase host name (given in any case), unique
// across accounts; a bad or taken one is refused naming the field and changes nothing.
func TestSettingsSIPDomain(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("PATCH", e.a.base(e.srv)+"/settings", e.a.devKey, map[string]any{"sip_domain": "Acme.PBX.example"})
	expectOK(t, r, 200, "Account settings updated")
	if r.result()["sip_domain"] != "acme.pbx.example" || r.result()["public_endpoints"] != false {
		t.Errorf("patched settings = %v; want the domain in lowercase and the rest unchanged", r.result())
	}
	for _, bad := range []string{"192.0.2.1", "localhost", "bad_domain.example", "-acme.example", "acme..example", "acme.example:5060"} {
		r := e.request("PATCH", e.b.base(e.srv)+"/settings", e.b.devKey, map[string]any{"sip_domain": bad})
		expectError(t, r, 400, "BAD_REQUEST")
		if d, _ := r.body["details"].(map[string]any); d["sip_domain"] == nil {
			t.Errorf("%q refused without naming sip_domain: %s", bad, r.raw)
		}
	}
	r = e.request("PATCH", e.b.base(e.srv)+"/settings", e.b.devKey, map[string]any{"sip_domain": "ACME.pbx.example"})
	expectError(t, r, 409, "CONFLICT")
	if d, _ := r.body["details"].(map[string]any); d["sip_domain"] == nil {
		t.Errorf("taken domain refused without naming sip_domain: %s", r.raw)
	}
	r = e.request("GET", e.b.base(e.srv)+"/settings", e.b.devKey, nil)
	if r.result()["sip_domain"] != "" {
		t.Errorf("B's settings after refusals = %v", r.result())
	}
	r = e.request("PATCH", e.a.base(e.srv)+"/settings", e.a.devKey, map[string]any{"sip_domain": ""})
	expectOK(t, r, 200, "Account settings updated")
	if r.result()["sip_domain"] != "" {
		t.Errorf("domain not removed: %v", r.result())
	}
}

// recordingEngine is the part of the call engine the API tells about member changes: it
// records the queues whose members it was told to read again.
type recordingEngine struct {
	switchboard.Offline
	mu      sync.Mutex
	queueID []int64
}

func (r *recordingEngine) InvalidateQueueMembers(queueID int64) {
	r.mu.Lock()
	r.queueID = append(r.queueID, queueID)
	r.mu.Unlock()
}

func (r *recordingEngine) InvalidateTrunks() {}

func (r *recordingEngine) told() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.queueID...)
}

// Deleting a user who is a queue member makes the engine re-read that queue's members, as
// pausing one does, so no queue call offers the deleted user afterwards.
func TestDeletingAQueueMemberTellsTheEngine(t *testing.T) {
	eng := &recordingEngine{}
	e := newSQLiteEnv(t, func(c *api.Config) {
		c.Calls = eng
		c.Provision = provision.New(provision.Config{Store: c.Store, Engine: eng})
	})
	r := e.request("DELETE", e.a.base(e.srv)+"/users/"+strconv.FormatInt(e.a.john.ID, 10), e.a.devKey, nil)
	expectOK(t, r, 200, "User deleted")
	if got := eng.told(); !slices.Contains(got, e.a.sales.ID) {
		t.Fatalf("engine told about queues %v, want the sales queue %d the user was a member of", got, e.a.sales.ID)
	}
	members, err := e.store.ListQueueMembers(context.Background(), e.a.account.ID, e.a.sales.ID)
	must(t, err)
	for _, m := range members {
		if m.UserID == e.a.john.ID {
			t.Fatal("the deleted user is still a member of the queue")
		}
	}
}
