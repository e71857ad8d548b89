package api_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/api"
)

// recorderCtl answers as the call engine does for the one call it knows, of account 1's
// fixture ("1705314600.1"), and keeps the actions it was asked for.
type recorderCtl struct {
	accountID int64
	actions   []string
}

func (r *recorderCtl) ControlCallRecording(_ context.Context, accountID int64, callID, action string) (*switchboard.CallRecordingState, error) {
	if callID != "1705314600.1" || accountID != r.accountID {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account (it may have ended)", callID)
	}
	if action == "stop" && len(r.actions) == 0 {
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s is not being recorded: start a recording first", callID)
	}
	r.actions = append(r.actions, action)
	status := map[string]string{"start": "recording", "resume": "recording", "pause": "paused", "stop": "stopped"}[action]
	return &switchboard.CallRecordingState{CallID: callID, RecordingID: "rec_0123456789abcdef0123456789abcdef", Status: status}, nil
}

func TestCallRecordingRoute(t *testing.T) {
	ctl := &recorderCtl{}
	e := newSQLiteEnv(t, func(c *api.Config) { c.CallRecording = ctl })
	ctl.accountID = e.a.account.ID
	base := e.a.base(e.srv) + "/calls/"

	expectError(t, e.request("POST", base+"1705314600.1/recording", e.a.devKey, map[string]any{}), 400, "BAD_REQUEST")
	r := e.request("POST", base+"1705314600.1/recording", e.a.devKey, map[string]any{"action": "rewind"})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "action") == "" {
		t.Errorf("details.action missing: %s", r.raw)
	}
	expectError(t, e.request("POST", base+"1705314600.1/recording", e.a.devKey, map[string]any{"action": "stop"}), 409, "CONFLICT")
	expectError(t, e.request("POST", base+"1.1/recording", e.a.devKey, map[string]any{"action": "start"}), 404, "NOT_FOUND")
	// Another account's key never reaches the call.
	expectError(t, e.request("POST", e.b.base(e.srv)+"/calls/1705314600.1/recording", e.b.devKey, map[string]any{"action": "pause"}), 404, "NOT_FOUND")

	for _, tc := range []struct{ action, status string }{{"start", "recording"}, {"PAUSE", "paused"}, {"resume", "recording"}, {"stop", "stopped"}} {
		r := e.request("POST", base+"1705314600.1/recording", e.a.devKey, map[string]any{"action": tc.action})
		expectOK(t, r, 200, "Call recording updated")
		if got := r.result(); got["status"] != tc.status || got["call_id"] != "1705314600.1" || got["recording_id"] != "rec_0123456789abcdef0123456789abcdef" {
			t.Errorf("%s: answer %v", tc.action, got)
		}
	}
	if len(ctl.actions) != 4 || ctl.actions[1] != "pause" {
		t.Errorf("engine asked %v", ctl.actions)
	}
}

func TestCallRecordingWithoutEngineIsUnavailable(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("POST", e.a.base(e.srv)+"/calls/1705314600.1/recording", e.a.devKey, map[string]any{"action": "start"})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
}
