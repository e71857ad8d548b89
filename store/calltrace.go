package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"switchboard"
)

// SaveCallTrace stores the trace of a call, replacing the one stored before for the same
// call (a call's trace is written once, when it ends; a replay of that write changes
// nothing). A trace longer than MaxCallTraceSteps keeps its first steps and a last
// "truncated" step.
func (db *DB) SaveCallTrace(ctx context.Context, tr *switchboard.CallTrace) error {
	if tr.CallID == "" {
		return switchboard.Errorf(switchboard.EBADREQUEST, "a call trace needs the call's id")
	}
	steps := tr.Steps
	if len(steps) > switchboard.MaxCallTraceSteps {
		last := steps[switchboard.MaxCallTraceSteps-1]
		steps = append(steps[:switchboard.MaxCallTraceSteps-1:switchboard.MaxCallTraceSteps-1],
			switchboard.CallTraceStep{At: last.At, Node: last.Node, Kind: "end", Detail: "truncated"})
	}
	if steps == nil {
		steps = []switchboard.CallTraceStep{}
	}
	raw, err := json.Marshal(steps)
	if err != nil {
		return internal("SaveCallTrace", err)
	}
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO call_traces (account_id, call_id, callflow_id, steps, created_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, call_id) DO UPDATE SET callflow_id = excluded.callflow_id, steps = excluded.steps`,
			tr.AccountID, tr.CallID, tr.CallFlowID, string(raw), toMS(t))
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", tr.AccountID)
		}
		if err != nil {
			return internal("SaveCallTrace", err)
		}
		tr.CreatedAt = t
		return nil
	})
}

// GetCallTrace returns the account's trace of the call; another account's call, or a call
// that ran no flow, is NOT_FOUND.
func (db *DB) GetCallTrace(ctx context.Context, accountID int64, callID string) (*switchboard.CallTrace, error) {
	tr := &switchboard.CallTrace{AccountID: accountID, CallID: callID}
	var raw string
	var created int64
	err := db.queryRow(ctx, db.read, `SELECT callflow_id, steps, created_at FROM call_traces
		WHERE account_id = ? AND call_id = ?`, accountID, callID).Scan(&tr.CallFlowID, &raw, &created)
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No call flow trace for call %s in this account", callID)
	}
	if err != nil {
		return nil, internal("GetCallTrace", err)
	}
	if err := json.Unmarshal([]byte(raw), &tr.Steps); err != nil {
		return nil, internal("GetCallTrace", err)
	}
	tr.CreatedAt = fromMS(created)
	return tr, nil
}

var _ switchboard.CallTraceStore = (*DB)(nil)
