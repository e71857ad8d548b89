package store

import (
	"context"
	"database/sql"
	"time"

	"switchboard"
)

const callRecordColumns = `id, account_id, uniqueid, direction, from_number, to_number, caller_name, user_id, extension,
	started_at, answered_at, ended_at, duration, billable_seconds, disposition, crm_id, recording_requested,
	transferred_to, transferred_by_user_id`

func scanCallRecord(s interface{ Scan(...any) error }) (*switchboard.CallRecord, error) {
	var r switchboard.CallRecord
	var started, answered, ended int64
	var disposition string
	err := s.Scan(&r.ID, &r.AccountID, &r.UniqueID, &r.Direction, &r.From, &r.To, &r.CallerName, &r.UserID, &r.Extension,
		&started, &answered, &ended, &r.Duration, &r.BillableSeconds, &disposition, &r.CRMID, &r.RecordingRequested,
		&r.TransferredTo, &r.TransferredByUserID)
	if err != nil {
		return nil, err
	}
	r.StartedAt, r.AnsweredAt, r.EndedAt = fromMS(started), fromMS(answered), fromMS(ended)
	r.Disposition = switchboard.CallDisposition(disposition)
	return &r, nil
}

// StartCallRecord stores the open record of a call that starts and its events, all or none.
func (db *DB) StartCallRecord(ctx context.Context, r *switchboard.CallRecord, events ...*switchboard.Event) error {
	r.EndedAt, r.Disposition = time.Time{}, ""
	if err := r.Validate(); err != nil {
		return err
	}
	r.StartedAt = r.StartedAt.UTC().Truncate(time.Millisecond)
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		err := db.queryRow(ctx, tx, `INSERT INTO call_records (account_id, uniqueid, direction, from_number, to_number,
			caller_name, user_id, extension, started_at, answered_at, crm_id, recording_requested)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.AccountID, r.UniqueID, r.Direction, r.From, r.To, r.CallerName, r.UserID, r.Extension,
			toMS(r.StartedAt), toMS(r.AnsweredAt), r.CRMID, r.RecordingRequested).Scan(&r.ID)
		if isUniqueViolation(err) {
			return conflict("uniqueid", r.UniqueID+" is already recorded")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", r.AccountID)
		}
		if err != nil {
			return internal("StartCallRecord", err)
		}
		for _, ev := range events {
			if err := db.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.ID = 0
	}
	return err
}

// EndCallRecord completes an open record with its events, all or none. Durations are
// computed from the times when left at zero.
func (db *DB) EndCallRecord(ctx context.Context, r *switchboard.CallRecord, events ...*switchboard.Event) error {
	if r.EndedAt.IsZero() {
		return badRequest("ended_at", "is required to end a call record")
	}
	if r.Disposition == "" {
		return badRequest("disposition", "is required to end a call record")
	}
	if err := r.Validate(); err != nil {
		return err
	}
	r.EndedAt = r.EndedAt.UTC().Truncate(time.Millisecond)
	r.AnsweredAt = r.AnsweredAt.UTC().Truncate(time.Millisecond)
	fillDurations(r)
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, `UPDATE call_records SET answered_at = ?, ended_at = ?, duration = ?,
			billable_seconds = ?, disposition = ?, user_id = ?, extension = ?, caller_name = ?,
			transferred_to = ?, transferred_by_user_id = ?
			WHERE account_id = ? AND uniqueid = ? AND ended_at = 0`,
			toMS(r.AnsweredAt), toMS(r.EndedAt), r.Duration, r.BillableSeconds, string(r.Disposition),
			r.UserID, r.Extension, r.CallerName, r.TransferredTo, r.TransferredByUserID, r.AccountID, r.UniqueID)
		if err != nil {
			return internal("EndCallRecord", err)
		}
		if !ok {
			var one int
			err := db.queryRow(ctx, tx, "SELECT 1 FROM call_records WHERE account_id = ? AND uniqueid = ?",
				r.AccountID, r.UniqueID).Scan(&one)
			if noRows(err) {
				return switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in this account", r.UniqueID)
			}
			if err != nil {
				return internal("EndCallRecord", err)
			}
			return conflict("uniqueid", r.UniqueID+" has already ended")
		}
		for _, ev := range events {
			if err := db.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// fillDurations sets Duration and BillableSeconds from the times when they are zero; whole
// seconds, rounded down, never negative.
func fillDurations(r *switchboard.CallRecord) {
	if r.Duration == 0 {
		r.Duration = max(0, int(r.EndedAt.Sub(r.StartedAt)/time.Second))
	}
	if r.BillableSeconds == 0 && !r.AnsweredAt.IsZero() {
		r.BillableSeconds = max(0, int(r.EndedAt.Sub(r.AnsweredAt)/time.Second))
	}
}

// CloseOpenCallRecords ends every open record at `at` with disposition failed: the calls
// that were up when the process died. Each record is closed with its event in its own
// transaction, so one failure does not hold back the others' webhooks; the first error is
// returned after trying all.
func (db *DB) CloseOpenCallRecords(ctx context.Context, at time.Time, endEvent func(*switchboard.CallRecord) *switchboard.Event) ([]*switchboard.CallRecord, error) {
	rows, err := db.query(ctx, db.read, "SELECT "+callRecordColumns+" FROM call_records WHERE ended_at = 0 ORDER BY id")
	if err != nil {
		return nil, internal("CloseOpenCallRecords", err)
	}
	var open []*switchboard.CallRecord
	for rows.Next() {
		r, err := scanCallRecord(rows)
		if err != nil {
			rows.Close()
			return nil, internal("CloseOpenCallRecords", err)
		}
		open = append(open, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("CloseOpenCallRecords", err)
	}
	closed := []*switchboard.CallRecord{}
	var first error
	for _, r := range open {
		r.EndedAt = at
		if r.EndedAt.Before(r.StartedAt) {
			r.EndedAt = r.StartedAt
		}
		r.Disposition = switchboard.DispositionFailed
		var evs []*switchboard.Event
		if endEvent != nil {
			if ev := endEvent(r); ev != nil {
				evs = append(evs, ev)
			}
		}
		if err := db.EndCallRecord(ctx, r, evs...); err != nil {
			if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
				continue // another node closed it first
			}
			if first == nil {
				first = err
			}
			continue
		}
		closed = append(closed, r)
	}
	return closed, first
}

// GetCallRecord returns the account's record of the call with the uniqueid.
func (db *DB) GetCallRecord(ctx context.Context, accountID int64, uniqueID string) (*switchboard.CallRecord, error) {
	r, err := scanCallRecord(db.queryRow(ctx, db.read, "SELECT "+callRecordColumns+
		" FROM call_records WHERE account_id = ? AND uniqueid = ?", accountID, uniqueID))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in this account", uniqueID)
	}
	return r, internal("GetCallRecord", err)
}

// ListCallRecords returns the account's call records, newest first.
func (db *DB) ListCallRecords(ctx context.Context, accountID int64, f switchboard.CallRecordFilter) ([]*switchboard.CallRecord, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT " + callRecordColumns + " FROM call_records WHERE account_id = ?"
	args := []any{accountID}
	if f.UserID != 0 {
		q += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	q += " ORDER BY started_at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	return listRows(ctx, db, "ListCallRecords", scanCallRecord, q, args...)
}

var _ switchboard.CallStore = (*DB)(nil)
