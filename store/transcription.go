package store

import (
	"context"
	"database/sql"
	"time"

	"switchboard"
)

// GetTranscriptionSettings returns the account's transcription switches (columns of the
// accounts table: transcription_enabled, redaction_enabled, transcription_language).
func (db *DB) GetTranscriptionSettings(ctx context.Context, accountID int64) (*switchboard.TranscriptionSettings, error) {
	s := &switchboard.TranscriptionSettings{AccountID: accountID}
	err := db.queryRow(ctx, db.read, `SELECT transcription_enabled, redaction_enabled, transcription_language
		FROM accounts WHERE id = ?`, accountID).Scan(&s.Enabled, &s.Redact, &s.Language)
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", accountID)
	}
	return s, internal("GetTranscriptionSettings", err)
}

// PutTranscriptionSettings stores the account's transcription switches.
func (db *DB) PutTranscriptionSettings(ctx context.Context, s *switchboard.TranscriptionSettings) error {
	if s.Language == "" {
		s.Language = switchboard.DefaultTranscriptionLanguage
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, `UPDATE accounts SET transcription_enabled = ?, redaction_enabled = ?,
			transcription_language = ? WHERE id = ?`, s.Enabled, s.Redact, s.Language, s.AccountID)
		if err != nil {
			return internal("PutTranscriptionSettings", err)
		}
		if !ok {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", s.AccountID)
		}
		return nil
	})
}

// EnqueueTranscription adds the job in its own transaction; see EnqueueTranscriptionTx.
func (db *DB) EnqueueTranscription(ctx context.Context, j *switchboard.TranscriptionJob) (bool, error) {
	var added bool
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		added, err = db.EnqueueTranscriptionTx(ctx, tx, j)
		return err
	})
	return added, err
}

// EnqueueTranscriptionIn is EnqueueTranscriptionTx in a hook's transaction (the recording
// service's OnAvailable).
func (db *DB) EnqueueTranscriptionIn(ctx context.Context, t switchboard.StoreTx, j *switchboard.TranscriptionJob) (bool, error) {
	tx, err := sqlTx(t)
	if err != nil {
		return false, err
	}
	return db.EnqueueTranscriptionTx(ctx, tx, j)
}

// EnqueueTranscriptionTx adds a job for j's recording in tx — the recording service's
// transaction that marks the recording available, so a recording is never available
// without its job — when the account has transcription enabled and the recording has no job
// yet. It reports whether it added one; j.ID is set then.
func (db *DB) EnqueueTranscriptionTx(ctx context.Context, tx *sql.Tx, j *switchboard.TranscriptionJob) (bool, error) {
	if j.AccountID <= 0 || j.RecordingID == "" || j.BlobKey == "" {
		return false, badRequest("recording_id", "a transcription job needs an account, a recording and its audio")
	}
	var enabled bool
	err := db.queryRow(ctx, tx, "SELECT transcription_enabled FROM accounts WHERE id = ?", j.AccountID).Scan(&enabled)
	if noRows(err) || (err == nil && !enabled) {
		return false, nil
	}
	if err != nil {
		return false, internal("EnqueueTranscription", err)
	}
	t := now()
	if j.NextAttemptAt.IsZero() {
		j.NextAttemptAt = t
	}
	j.Status, j.CreatedAt = switchboard.TranscriptionPending, t
	err = db.queryRow(ctx, tx, `INSERT INTO transcription_jobs (account_id, recording_id, call_id, crm_id, direction,
		blob_key, duration_ms, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (recording_id) DO NOTHING RETURNING id`,
		j.AccountID, j.RecordingID, j.CallID, j.CRMID, j.Direction, j.BlobKey, j.DurationMs, toMS(j.NextAttemptAt), toMS(t), toMS(t)).Scan(&j.ID)
	if noRows(err) {
		return false, nil // the recording has its job already
	}
	if err != nil {
		return false, internal("EnqueueTranscription", err)
	}
	return true, nil
}

const transcriptionJobColumns = `id, account_id, recording_id, call_id, crm_id, direction, blob_key, duration_ms, status, attempts,
	next_attempt_at, lease_until, last_error, created_at, completed_at`

func scanTranscriptionJob(s interface{ Scan(...any) error }) (*switchboard.TranscriptionJob, error) {
	var j switchboard.TranscriptionJob
	var next, lease, created, completed int64
	err := s.Scan(&j.ID, &j.AccountID, &j.RecordingID, &j.CallID, &j.CRMID, &j.Direction, &j.BlobKey, &j.DurationMs, &j.Status,
		&j.Attempts, &next, &lease, &j.LastError, &created, &completed)
	if err != nil {
		return nil, err
	}
	j.NextAttemptAt, j.LeaseUntil, j.CreatedAt, j.CompletedAt = fromMS(next), fromMS(lease), fromMS(created), fromMS(completed)
	return &j, nil
}

// ClaimTranscriptionJobs leases due jobs, oldest due first, keeping each account under
// perAccount leased jobs. On PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED so
// that nodes claiming side by side never take the same job; on SQLite the immediate write
// transaction is the lock.
func (db *DB) ClaimTranscriptionJobs(ctx context.Context, at time.Time, lease time.Duration, limit, perAccount int) ([]*switchboard.TranscriptionJob, error) {
	if limit <= 0 || perAccount <= 0 {
		return nil, nil
	}
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	nowMS := at.UnixMilli()
	var claimed []*switchboard.TranscriptionJob
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		claimed = nil
		busy := map[int64]int{}
		rows, err := db.query(ctx, tx, `SELECT account_id, COUNT(*) FROM transcription_jobs
			WHERE status = 'pending' AND lease_until > ? GROUP BY account_id`, nowMS)
		if err != nil {
			return err
		}
		for rows.Next() {
			var acct int64
			var n int
			if err := rows.Scan(&acct, &n); err != nil {
				rows.Close()
				return err
			}
			busy[acct] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// A few more candidates than asked for, so that a busy account's jobs do not hide
		// another's; the bound is per claim, not exact across nodes (like the webhook outbox).
		rows, err = db.query(ctx, tx, `SELECT `+transcriptionJobColumns+` FROM transcription_jobs
			WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?`+lock, nowMS, nowMS, limit*4)
		if err != nil {
			return err
		}
		for rows.Next() {
			j, err := scanTranscriptionJob(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if len(claimed) < limit && busy[j.AccountID] < perAccount {
				busy[j.AccountID]++
				claimed = append(claimed, j)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		leaseMS := at.Add(lease).UnixMilli()
		for _, j := range claimed {
			j.Attempts++
			j.LeaseUntil = fromMS(leaseMS)
			if _, err := db.exec(ctx, tx, `UPDATE transcription_jobs SET attempts = ?, lease_until = ?, updated_at = ?
				WHERE id = ?`, j.Attempts, leaseMS, nowMS, j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal("ClaimTranscriptionJobs", err)
	}
	return claimed, nil
}

// finishAttempt moves the job's current attempt on in tx: the UPDATE names the attempt, so a
// worker whose lease ran out (and whose job another worker claimed since) changes nothing
// and gets CONFLICT; then the events are stored in the same transaction.
func (db *DB) finishAttempt(ctx context.Context, tx *sql.Tx, j *switchboard.TranscriptionJob, set string, args []any, events []*switchboard.Event) error {
	args = append(args, j.ID, j.Attempts)
	ok, err := db.execAffected(ctx, tx, `UPDATE transcription_jobs SET `+set+`
		WHERE id = ? AND attempts = ? AND status = 'pending'`, args...)
	if err != nil {
		return internal("finishTranscriptionAttempt", err)
	}
	if !ok {
		return switchboard.Errorf(switchboard.ECONFLICT,
			"Transcription job %d attempt %d is no longer current (its lease ran out)", j.ID, j.Attempts)
	}
	for _, ev := range events {
		if err := db.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// CompleteTranscriptionJob implements switchboard.TranscriptionStore.
func (db *DB) CompleteTranscriptionJob(ctx context.Context, j *switchboard.TranscriptionJob, t *switchboard.Transcript, events ...*switchboard.Event) error {
	at := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		err := db.finishAttempt(ctx, tx, j, `status = 'succeeded', lease_until = 0, last_error = '', updated_at = ?, completed_at = ?`,
			[]any{toMS(at), toMS(at)}, nil)
		if err != nil {
			return err
		}
		if t != nil {
			t.AccountID, t.CallID, t.RecordingID, t.JobID, t.CreatedAt = j.AccountID, j.CallID, j.RecordingID, j.ID, at
			err = db.queryRow(ctx, tx, `INSERT INTO transcripts (account_id, call_id, recording_id, job_id, engine, model,
				language, total_tokens, redactions, analytics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				t.AccountID, t.CallID, t.RecordingID, t.JobID, t.Engine, t.Model, t.Language, t.TotalTokens, t.Redactions,
				string(t.Analytics), toMS(at)).Scan(&t.ID)
			if err != nil {
				return internal("CompleteTranscriptionJob", err)
			}
		}
		for _, ev := range events {
			if err := db.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		j.Status, j.CompletedAt = switchboard.TranscriptionSucceeded, at
		return nil
	})
}

// FailTranscriptionJob implements switchboard.TranscriptionStore.
func (db *DB) FailTranscriptionJob(ctx context.Context, j *switchboard.TranscriptionJob, reason string, events ...*switchboard.Event) error {
	at := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		return db.finishAttempt(ctx, tx, j, `status = 'failed', lease_until = 0, last_error = ?, updated_at = ?, completed_at = ?`,
			[]any{reason, toMS(at), toMS(at)}, events)
	})
	if err == nil {
		j.Status, j.LastError, j.CompletedAt = switchboard.TranscriptionFailed, reason, at
	}
	return err
}

// RetryTranscriptionJob implements switchboard.TranscriptionStore.
func (db *DB) RetryTranscriptionJob(ctx context.Context, j *switchboard.TranscriptionJob, next time.Time, reason string, events ...*switchboard.Event) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		return db.finishAttempt(ctx, tx, j, `lease_until = 0, next_attempt_at = ?, last_error = ?, updated_at = ?`,
			[]any{toMS(next), reason, toMS(now())}, events)
	})
	if err == nil {
		j.NextAttemptAt, j.LastError, j.LeaseUntil = next.UTC().Truncate(time.Millisecond), reason, time.Time{}
	}
	return err
}

// ReleaseTranscriptionLeases implements switchboard.TranscriptionStore.
func (db *DB) ReleaseTranscriptionLeases(ctx context.Context) error {
	return internal("ReleaseTranscriptionLeases", db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE transcription_jobs SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0`)
		return err
	}))
}

// GetTranscriptionJob returns the job of the account's recording.
func (db *DB) GetTranscriptionJob(ctx context.Context, accountID int64, recordingID string) (*switchboard.TranscriptionJob, error) {
	j, err := scanTranscriptionJob(db.queryRow(ctx, db.read, `SELECT `+transcriptionJobColumns+` FROM transcription_jobs
		WHERE account_id = ? AND recording_id = ?`, accountID, recordingID))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No transcription job for recording %s in this account", recordingID)
	}
	return j, internal("GetTranscriptionJob", err)
}

// GetCallTranscripts implements switchboard.TranscriptionStore.
func (db *DB) GetCallTranscripts(ctx context.Context, accountID int64, callID string) ([]*switchboard.Transcript, error) {
	rows, err := db.query(ctx, db.read, `SELECT id, account_id, call_id, recording_id, job_id, engine, model, language,
		total_tokens, redactions, analytics, created_at FROM transcripts WHERE account_id = ? AND call_id = ? ORDER BY id`,
		accountID, callID)
	if err != nil {
		return nil, internal("GetCallTranscripts", err)
	}
	defer rows.Close()
	var out []*switchboard.Transcript
	for rows.Next() {
		var t switchboard.Transcript
		var analytics string
		var created int64
		if err := rows.Scan(&t.ID, &t.AccountID, &t.CallID, &t.RecordingID, &t.JobID, &t.Engine, &t.Model, &t.Language,
			&t.TotalTokens, &t.Redactions, &analytics, &created); err != nil {
			return nil, internal("GetCallTranscripts", err)
		}
		t.Analytics, t.CreatedAt = []byte(analytics), fromMS(created)
		out = append(out, &t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("GetCallTranscripts", err)
	}
	if len(out) == 0 {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No transcript for call %s in this account", callID)
	}
	return out, nil
}

var _ switchboard.TranscriptionStore = (*DB)(nil)
