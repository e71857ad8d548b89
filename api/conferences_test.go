package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Rooms are created, read, changed and deleted; the PIN is stored hashed and never shown;
// the room number shares the account's extensions; bad fields are 400 naming them; another
// account's room is 404; the live routes answer 503 while no call engine runs.
func TestConferenceRoomsCRUD(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("POST", base+"/conferences", key, map[string]any{"name": "Board room", "extension": "800", "pin": "4321"})
	expectOK(t, r, http.StatusCreated, "Conference room created")
	room := r.result()
	if room["has_pin"] != true || room["max_participants"] != float64(50) || room["announce_join_leave"] != true || room["mute_on_join"] != false {
		t.Fatalf("created %v", room)
	}
	if strings.Contains(r.raw, "4321") {
		t.Fatal("the answer shows the PIN")
	}
	id := strconv.FormatInt(int64(room["pk"].(float64)), 10)
	stored, err := e.store.GetConferenceRoom(context.Background(), e.a.account.ID, int64(room["pk"].(float64)))
	must(t, err)
	if strings.Contains(stored.PINHash, "4321") || !stored.CheckPIN("4321") {
		t.Fatalf("stored PIN %q: not a hash of the PIN", stored.PINHash)
	}

	expectError(t, e.request("POST", base+"/conferences", key, map[string]any{"name": "x", "extension": "1001"}), http.StatusConflict, "CONFLICT")
	r = e.request("POST", base+"/conferences", key, map[string]any{"name": "x", "extension": "801", "pin": "12"})
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if detail(r, "pin") == "" {
		t.Fatalf("a two-digit PIN: %s", r.raw)
	}
	r = e.request("POST", base+"/conferences", key, map[string]any{"name": "x", "extension": "801", "max_participants": 1000})
	expectError(t, r, http.StatusBadRequest, "BAD_REQUEST")
	if detail(r, "max_participants") == "" {
		t.Fatalf("1000 places: %s", r.raw)
	}
	// A user cannot take the room's number either.
	expectError(t, e.request("POST", base+"/users", key, map[string]any{"first_name": "A", "last_name": "B", "presence_id": "800",
		"email": "ab@example.com"}), http.StatusConflict, "CONFLICT")

	r = e.request("PATCH", base+"/conferences/"+id, key, map[string]any{"pin": "", "mute_on_join": true})
	expectOK(t, r, http.StatusOK, "Conference room updated")
	if got := r.result(); got["has_pin"] != false || got["mute_on_join"] != true || got["extension"] != "800" {
		t.Fatalf("patched %v", got)
	}
	r = e.request("GET", base+"/conferences", key, nil)
	expectOK(t, r, http.StatusOK, "List of conference rooms")
	if len(r.results()) != 1 {
		t.Fatalf("listed %v", r.results())
	}

	// Account B sees none of it.
	bBase, bKey := e.b.base(e.srv), e.b.devKey
	expectError(t, e.request("GET", bBase+"/conferences/"+id, bKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("PATCH", bBase+"/conferences/"+id, bKey, map[string]any{"name": "mine"}), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("DELETE", bBase+"/conferences/"+id, bKey, nil), http.StatusNotFound, "NOT_FOUND")
	if r := e.request("GET", bBase+"/conferences", bKey, nil); len(r.results()) != 0 {
		t.Fatalf("B lists A's rooms: %v", r.results())
	}

	expectError(t, e.request("GET", base+"/conferences/"+id+"/participants", key, nil), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	expectOK(t, e.request("DELETE", base+"/conferences/"+id, key, nil), http.StatusOK, "Conference room deleted")
	expectError(t, e.request("GET", base+"/conferences/"+id, key, nil), http.StatusNotFound, "NOT_FOUND")
}
