package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// The toll-fraud settings: an account created now calls only its own country (1 by
// default) with no concurrency limit; PATCH /settings sets the limit and the allowed
// countries, PATCH /users/{id} a user's own limit, and bad values are refused naming the
// field, changing nothing.
func TestTollFraudSettings(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("GET", base+"/settings", key, nil)
	expectOK(t, r, http.StatusOK, "Account settings")
	got := r.result()
	if got["max_outbound_calls"] != float64(0) || got["country_code"] != "1" || len(got["allowed_countries"].([]any)) != 0 {
		t.Errorf("new account's guards = %v; want no limit, country 1, no other country", got)
	}

	r = e.request("PATCH", base+"/settings", key, map[string]any{"max_outbound_calls": 5, "max_outbound_minutes_per_hour": 600, "country_code": "44",
		"allowed_countries": []any{"+1", "33", "33"}})
	expectOK(t, r, http.StatusOK, "Account settings updated")
	got = r.result()
	if got["max_outbound_calls"] != float64(5) || got["max_outbound_minutes_per_hour"] != float64(600) || got["country_code"] != "44" {
		t.Errorf("patched = %v", got)
	}
	if diff := cmp.Diff([]any{"1", "33"}, got["allowed_countries"]); diff != "" {
		t.Errorf("allowed_countries (-want +got):\n%s", diff)
	}

	for field, bad := range map[string]any{"max_outbound_calls": -1, "max_outbound_minutes_per_hour": 100001, "country_code": "044", "allowed_countries": []any{"UK"}} {
		r := e.request("PATCH", base+"/settings", key, map[string]any{field: bad})
		expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
		if detail(r, field) == "" {
			t.Errorf("%s=%v: no details[%s]: %s", field, bad, field, r.raw)
		}
	}
	r = e.request("GET", base+"/settings", key, nil)
	if r.result()["max_outbound_calls"] != float64(5) || r.result()["country_code"] != "44" {
		t.Errorf("refused PATCHes changed the settings: %v", r.result())
	}

	user := base + "/users/" + itoa(e.a.john.ID)
	r = e.request("PATCH", user, key, map[string]any{"max_outbound_calls": 2, "max_outbound_minutes_per_hour": 60})
	expectOK(t, r, http.StatusOK, "User updated")
	if r.result()["max_outbound_calls"] != float64(2) || r.result()["max_outbound_minutes_per_hour"] != float64(60) {
		t.Errorf("user = %v", r.result())
	}
	r = e.request("PATCH", user, key, map[string]any{"max_outbound_calls": -3})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if detail(r, "max_outbound_calls") == "" {
		t.Errorf("no details[max_outbound_calls]: %s", r.raw)
	}
}
