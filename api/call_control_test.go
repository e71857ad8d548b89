package api_test

import (
	"context"
	"testing"

	"switchboard"
	"switchboard/api"
)

// controller records what the API asked of the call engine and answers as the engine
// does for the call ids it knows (pbx's tests check the engine's side of the contract).
type controller struct {
	transferred []string // accountID:callID:to
	hungUp      []string
}

func (c *controller) TransferCall(_ context.Context, accountID int64, callID, to string) error {
	switch {
	case callID != "1705314600.1":
		return switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account", callID)
	case to == "4999":
		return switchboard.FieldError(switchboard.ENOTFOUND, "to", to+" is no extension, queue, ring group, number or park slot of this account")
	case to == "701":
		return switchboard.Errorf(switchboard.ECONFLICT, "Every park slot is taken")
	}
	c.transferred = append(c.transferred, callID+">"+to)
	return nil
}

func (c *controller) HangupCall(_ context.Context, accountID int64, callID string) error {
	if callID != "1705314600.1" {
		return switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account", callID)
	}
	c.hungUp = append(c.hungUp, callID)
	return nil
}

func TestTransferAndHangupRoutes(t *testing.T) {
	ctl := &controller{}
	e := newSQLiteEnv(t, func(c *api.Config) { c.CallControl = ctl })
	base := e.a.base(e.srv) + "/calls/"

	r := e.request("POST", base+"1705314600.1/transfer", e.a.devKey, map[string]any{"to": ""})
	expectError(t, r, 400, "BAD_REQUEST")
	if detail(r, "to") == "" {
		t.Errorf("details.to missing: %s", r.raw)
	}
	expectError(t, e.request("POST", base+"1.1/transfer", e.a.devKey, map[string]any{"to": "1002"}), 404, "NOT_FOUND")
	r = e.request("POST", base+"1705314600.1/transfer", e.a.devKey, map[string]any{"to": "4999"})
	expectError(t, r, 404, "NOT_FOUND")
	if detail(r, "to") == "" {
		t.Errorf("details.to missing for an unknown target: %s", r.raw)
	}
	expectError(t, e.request("POST", base+"1705314600.1/transfer", e.a.devKey, map[string]any{"to": "701"}), 409, "CONFLICT")

	r = e.request("POST", base+"1705314600.1/transfer", e.a.devKey, map[string]any{"to": "1002"})
	expectOK(t, r, 200, "Call transfer started")
	if r.result()["call_id"] != "1705314600.1" || r.result()["status"] != "transferring" {
		t.Errorf("transfer answer = %v", r.result())
	}
	if len(ctl.transferred) != 1 || ctl.transferred[0] != "1705314600.1>1002" {
		t.Errorf("engine asked %v", ctl.transferred)
	}

	expectError(t, e.request("POST", base+"1.1/hangup", e.a.devKey, nil), 404, "NOT_FOUND")
	r = e.request("POST", base+"1705314600.1/hangup", e.a.devKey, nil)
	expectOK(t, r, 200, "Call hanging up")
	if len(ctl.hungUp) != 1 {
		t.Errorf("engine asked to hang up %v", ctl.hungUp)
	}
}

func TestTransferWithoutEngineIsUnavailable(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("POST", e.a.base(e.srv)+"/calls/1705314600.1/transfer", e.a.devKey, map[string]any{"to": "1002"})
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
	r = e.request("POST", e.a.base(e.srv)+"/calls/1705314600.1/hangup", e.a.devKey, nil)
	expectError(t, r, 503, "SERVICE_UNAVAILABLE")
}
