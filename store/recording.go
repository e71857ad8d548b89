package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"switchboard"
)

const recordingColumns = `id, account_id, call_id, user_id, queue_id, direction, status, blob_key, size, duration_ms, paused_ms, started_at, ended_at, error`

func scanRecording(s interface{ Scan(...any) error }) (*switchboard.Recording, error) {
	var r switchboard.Recording
	var started, ended int64
	if err := s.Scan(&r.ID, &r.AccountID, &r.CallID, &r.UserID, &r.QueueID, &r.Direction, &r.Status, &r.BlobKey,
		&r.Size, &r.DurationMs, &r.PausedMs, &started, &ended, &r.Error); err != nil {
		return nil, err
	}
	r.StartedAt, r.EndedAt = fromMS(started), fromMS(ended)
	return &r, nil
}

// storeTx is the switchboard.StoreTx the store hands to hooks: the open transaction.
type storeTx struct{ tx *sql.Tx }

func (storeTx) IsStoreTx() {}

// sqlTx takes back the transaction a hook was given; store methods that write inside a
// hook's transaction (a transcription job) start with it.
func sqlTx(t switchboard.StoreTx) (*sql.Tx, error) {
	st, ok := t.(storeTx)
	if !ok || st.tx == nil {
		return nil, errors.New("store: not a transaction of this store")
	}
	return st.tx, nil
}

// The transcription store (transcribe helper, same package) writes its job through sqlTx.
var _ = sqlTx

func recordingNotFound(id string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No recording with id %s in this account", id)
}

// CreateRecording stores a new recording row.
func (db *DB) CreateRecording(ctx context.Context, r *switchboard.Recording) error {
	if !switchboard.ValidRecordingID(r.ID) {
		return badRequest("id", "is not a recording id")
	}
	if r.CallID == "" || r.BlobKey == "" || r.StartedAt.IsZero() {
		return badRequest("call_id", "a recording needs its call, blob key and start")
	}
	if r.Status == "" {
		r.Status = switchboard.RecordingActive
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO recordings (id, account_id, call_id, user_id, queue_id, direction, status,
			blob_key, size, duration_ms, paused_ms, started_at, ended_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.AccountID, r.CallID, r.UserID, r.QueueID, r.Direction, r.Status, r.BlobKey, r.Size, r.DurationMs,
			r.PausedMs, toMS(r.StartedAt), toMS(r.EndedAt), r.Error)
		switch {
		case isUniqueViolation(err):
			return conflict("id", "is already a recording's id")
		case isForeignKeyViolation(err):
			return noAccount(r.AccountID)
		}
		return internal("CreateRecording", err)
	})
}

// GetRecording returns the account's recording with the id.
func (db *DB) GetRecording(ctx context.Context, accountID int64, id string) (*switchboard.Recording, error) {
	r, err := scanRecording(db.queryRow(ctx, db.read, "SELECT "+recordingColumns+" FROM recordings WHERE account_id = ? AND id = ?", accountID, id))
	if noRows(err) {
		return nil, recordingNotFound(id)
	}
	return r, internal("GetRecording", err)
}

// PageRecordings lists the account's recordings newest first, by (started_at, id)
// descending; p.AfterKey is the cursor of the previous page's last row
// (switchboard.RecordingCursor). Offset is not supported with a cursor but works alone.
func (db *DB) PageRecordings(ctx context.Context, accountID int64, f switchboard.RecordingFilter, p switchboard.Page) ([]*switchboard.Recording, bool, error) {
	q := "SELECT " + recordingColumns + " FROM recordings WHERE account_id = ?"
	args := []any{accountID}
	if f.CallID != "" {
		q += " AND call_id = ?"
		args = append(args, f.CallID)
	}
	if f.UserID != 0 {
		q += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if !f.From.IsZero() {
		q += " AND started_at >= ?"
		args = append(args, toMS(f.From))
	}
	if !f.To.IsZero() {
		q += " AND started_at < ?"
		args = append(args, toMS(f.To))
	}
	if p.AfterKey != "" {
		ms, id, ok := switchboard.ParseRecordingCursor(p.AfterKey)
		if !ok {
			return nil, false, badRequest("cursor", "is not a cursor this list returned")
		}
		q += " AND (started_at < ? OR (started_at = ? AND id < ?))"
		args = append(args, ms, ms, id)
	}
	return pageWhere(ctx, db, "PageRecordings", scanRecording, p, q, "started_at DESC, id DESC", args...)
}

// CallRecordings lists the call's recordings, oldest first.
func (db *DB) CallRecordings(ctx context.Context, accountID int64, callID string) ([]*switchboard.Recording, error) {
	return listRows(ctx, db, "CallRecordings", scanRecording, "SELECT "+recordingColumns+
		" FROM recordings WHERE account_id = ? AND call_id = ? ORDER BY started_at, id", accountID, callID)
}

// EndRecording completes a recording still being written: change sets its outcome, then
// returns the events to store with it and may write more in the same transaction. A
// recording already ended is CONFLICT and nothing is written.
func (db *DB) EndRecording(ctx context.Context, accountID int64, id string, change func(*switchboard.Recording) error,
	then func(ctx context.Context, tx switchboard.StoreTx, r *switchboard.Recording) ([]*switchboard.Event, error)) (*switchboard.Recording, error) {
	var out *switchboard.Recording
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		q := "SELECT " + recordingColumns + " FROM recordings WHERE account_id = ? AND id = ?"
		if db.dialect == DialectPostgres {
			q += " FOR UPDATE"
		}
		r, err := scanRecording(db.queryRow(ctx, tx, q, accountID, id))
		if noRows(err) {
			return recordingNotFound(id)
		}
		if err != nil {
			return internal("EndRecording", err)
		}
		if r.Status != switchboard.RecordingActive {
			return conflict("status", "the recording has ended already ("+r.Status+")")
		}
		if err := change(r); err != nil {
			return err
		}
		if r.Status != switchboard.RecordingAvailable && r.Status != switchboard.RecordingFailed {
			return badRequest("status", "must end as available or failed")
		}
		if _, err := db.exec(ctx, tx, `UPDATE recordings SET status = ?, size = ?, duration_ms = ?, paused_ms = ?, ended_at = ?,
			error = ? WHERE account_id = ? AND id = ?`, r.Status, r.Size, r.DurationMs, r.PausedMs, toMS(r.EndedAt), r.Error,
			accountID, id); err != nil {
			return internal("EndRecording", err)
		}
		out = r
		if then == nil {
			return nil
		}
		events, err := then(ctx, storeTx{tx}, r)
		if err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ActiveRecordings lists every account's recordings still being written.
func (db *DB) ActiveRecordings(ctx context.Context) ([]*switchboard.Recording, error) {
	return listRows(ctx, db, "ActiveRecordings", scanRecording, "SELECT "+recordingColumns+
		" FROM recordings WHERE status = ? ORDER BY started_at, id", switchboard.RecordingActive)
}

// ExpiredRecordings lists up to limit ended recordings of accounts with a retention, whose
// retention has run out at now.
func (db *DB) ExpiredRecordings(ctx context.Context, at time.Time, limit int) ([]*switchboard.Recording, error) {
	if limit <= 0 {
		limit = 100
	}
	// ended_at + days * 86400000 <= now, written as ended_at <= now - days * 86400000 so the
	// arithmetic is on the account's value only (same SQL on both dialects).
	return listRows(ctx, db, "ExpiredRecordings", scanRecording, `SELECT r.`+strings.ReplaceAll(recordingColumns, ", ", ", r.")+
		` FROM recordings r JOIN accounts a ON a.id = r.account_id
		WHERE r.status <> ? AND a.recording_retention_days > 0 AND r.ended_at > 0
		AND r.ended_at <= ? - a.recording_retention_days * 86400000
		ORDER BY r.ended_at, r.id LIMIT ?`, switchboard.RecordingActive, toMS(at), limit)
}

// DeleteRecording deletes the account's recording and returns it (its audio is the
// caller's to remove). One still being written is CONFLICT.
func (db *DB) DeleteRecording(ctx context.Context, accountID int64, id string) (*switchboard.Recording, error) {
	var out *switchboard.Recording
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		q := "SELECT " + recordingColumns + " FROM recordings WHERE account_id = ? AND id = ?"
		if db.dialect == DialectPostgres {
			q += " FOR UPDATE"
		}
		r, err := scanRecording(db.queryRow(ctx, tx, q, accountID, id))
		if noRows(err) {
			return recordingNotFound(id)
		}
		if err != nil {
			return internal("DeleteRecording", err)
		}
		if r.Status == switchboard.RecordingActive {
			return conflict("status", "the recording is still being written; delete it after the call")
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM recordings WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteRecording", err)
		}
		out = r
		return nil
	})
	return out, err
}

// RecordingUsage counts the stored recordings and their bytes, all accounts.
func (db *DB) RecordingUsage(ctx context.Context) (count, bytes int64, err error) {
	err = db.queryRow(ctx, db.read, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM recordings WHERE status = ?",
		switchboard.RecordingAvailable).Scan(&count, &bytes)
	return count, bytes, internal("RecordingUsage", err)
}

// saveRecordingPolicy writes the recording policy of a user or queue row (table is a
// constant of the callers, never input).
func (db *DB) saveRecordingPolicy(ctx context.Context, tx *sql.Tx, table string, accountID, id int64, policy string) error {
	_, err := db.exec(ctx, tx, "UPDATE "+table+" SET recording = ? WHERE account_id = ? AND id = ?", policy, accountID, id)
	return internal("save recording policy", err)
}

// saveNumberRecording writes a number's recording policy and consent prompt.
func (db *DB) saveNumberRecording(ctx context.Context, tx *sql.Tx, n *switchboard.Number) error {
	_, err := db.exec(ctx, tx, "UPDATE numbers SET recording = ?, recording_consent_prompt_id = ? WHERE account_id = ? AND id = ?",
		n.Recording, n.RecordingConsentPromptID, n.AccountID, n.ID)
	return internal("save number recording", err)
}

// CallsRecordings lists the recordings of many calls of the account, keyed by call id,
// oldest first, in one query per 500 calls.
func (db *DB) CallsRecordings(ctx context.Context, accountID int64, callIDs []string) (map[string][]*switchboard.Recording, error) {
	out := map[string][]*switchboard.Recording{}
	for len(callIDs) > 0 {
		batch := callIDs[:min(len(callIDs), 500)]
		callIDs = callIDs[len(batch):]
		args := []any{accountID}
		for _, id := range batch {
			args = append(args, id)
		}
		recs, err := listRows(ctx, db, "CallsRecordings", scanRecording, "SELECT "+recordingColumns+
			" FROM recordings WHERE account_id = ? AND call_id IN (?"+strings.Repeat(", ?", len(batch)-1)+") ORDER BY started_at, id", args...)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			out[r.CallID] = append(out[r.CallID], r)
		}
	}
	return out, nil
}
