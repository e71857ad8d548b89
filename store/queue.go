package store

import (
	"context"
	"database/sql"
	"time"

	"switchboard"
)

const queueColumns = `id, account_id, queue_name, extension, strategy, music_on_hold, timeout, retry, wrapup_time,
	max_len, join_empty, leave_when_empty, ring_in_use, max_wait, service_level,
	overflow_type, overflow_id, overflow_number, callback_enabled, callback_key, callback_after_s, callback_max,
	callback_retries, created_at, recording`

func scanQueue(s interface{ Scan(...any) error }) (*switchboard.Queue, error) {
	var q switchboard.Queue
	var created int64
	err := s.Scan(&q.ID, &q.AccountID, &q.QueueName, &q.Extension, &q.Strategy, &q.MusicOnHold, &q.Timeout, &q.Retry,
		&q.WrapUpTime, &q.MaxLen, &q.JoinEmpty, &q.LeaveWhenEmpty, &q.RingInUse, &q.MaxWait, &q.ServiceLevel,
		&q.Overflow.Type, &q.Overflow.ID, &q.Overflow.Number, &q.CallbackEnabled, &q.CallbackKey, &q.CallbackAfter,
		&q.CallbackMax, &q.CallbackRetries, &created, &q.Recording)
	if err != nil {
		return nil, err
	}
	q.CreatedAt = fromMS(created)
	return &q, nil
}

// queueExtensionTaken maps a unique violation of queues' own extension index.
func queueExtensionTaken(q *switchboard.Queue) error {
	return conflict("extension", q.Extension+" is already used by another queue")
}

// CreateQueue stores a new queue; its extension must be free in the account and its
// overflow target, if it names one, must be of the account.
func (db *DB) CreateQueue(ctx context.Context, q *switchboard.Queue) error {
	if err := q.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkTarget(ctx, tx, q.AccountID, q.Overflow, "overflow"); err != nil {
			return err
		}
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO queues (account_id, queue_name, extension, strategy, music_on_hold, timeout,
			retry, wrapup_time, max_len, join_empty, leave_when_empty, ring_in_use, max_wait, service_level,
			overflow_type, overflow_id, overflow_number, callback_enabled, callback_key, callback_after_s, callback_max,
			callback_retries, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			q.AccountID, q.QueueName, q.Extension, string(q.Strategy), q.MusicOnHold, q.Timeout, q.Retry, q.WrapUpTime,
			q.MaxLen, q.JoinEmpty, q.LeaveWhenEmpty, q.RingInUse, q.MaxWait, q.ServiceLevel,
			string(q.Overflow.Type), q.Overflow.ID, q.Overflow.Number, q.CallbackEnabled, q.CallbackKey, q.CallbackAfter,
			q.CallbackMax, q.CallbackRetries, toMS(t)).Scan(&id)
		if isUniqueViolation(err) {
			return queueExtensionTaken(q)
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", q.AccountID)
		}
		if err != nil {
			return internal("CreateQueue", err)
		}
		if err := db.claimExtension(ctx, tx, q.AccountID, q.Extension, ownerQueue, id, "extension"); err != nil {
			return err
		}
		q.ID = id
		return db.saveRecordingPolicy(ctx, tx, "queues", q.AccountID, q.ID, q.Recording)
	})
	if err != nil {
		return err
	}
	q.CreatedAt = t
	return nil
}

// GetQueue returns the account's queue with the id.
func (db *DB) GetQueue(ctx context.Context, accountID, id int64) (*switchboard.Queue, error) {
	return oneRow(ctx, db, db.read, "queue", id, scanQueue, "SELECT "+queueColumns+" FROM queues WHERE account_id = ? AND id = ?", accountID, id)
}

// ListQueues returns the account's queues by id.
func (db *DB) ListQueues(ctx context.Context, accountID int64) ([]*switchboard.Queue, error) {
	return listRows(ctx, db, "ListQueues", scanQueue, "SELECT "+queueColumns+" FROM queues WHERE account_id = ? ORDER BY id", accountID)
}

// PageQueues returns one page of the account's queues by id, and whether more follow.
func (db *DB) PageQueues(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Queue, bool, error) {
	return pageRows(ctx, db, "PageQueues", scanQueue, p, "SELECT "+queueColumns+" FROM queues WHERE account_id = ?", accountID)
}

// UpdateQueue saves every setting of the queue; CreatedAt is set from the store.
func (db *DB) UpdateQueue(ctx context.Context, q *switchboard.Queue) error {
	return replace(q, func(change func(*switchboard.Queue) error) (*switchboard.Queue, error) {
		return db.UpdateQueueFunc(ctx, q.AccountID, q.ID, change)
	})
}

// UpdateQueueFunc changes the account's queue with change in one write transaction (see
// updateFunc) and returns it as saved.
func (db *DB) UpdateQueueFunc(ctx context.Context, accountID, id int64, change func(*switchboard.Queue) error) (*switchboard.Queue, error) {
	load := func(tx *sql.Tx) (*switchboard.Queue, error) {
		return lockedRow(ctx, db, tx, "queue", id, scanQueue, "SELECT "+queueColumns+" FROM queues WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, q *switchboard.Queue) error { return db.saveQueue(ctx, tx, q) })
}

// saveQueue writes every setting of the valid queue in tx.
func (db *DB) saveQueue(ctx context.Context, tx *sql.Tx, q *switchboard.Queue) error {
	if err := db.checkTarget(ctx, tx, q.AccountID, q.Overflow, "overflow"); err != nil {
		return err
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE queues SET queue_name = ?, extension = ?, strategy = ?, music_on_hold = ?,
			timeout = ?, retry = ?, wrapup_time = ?, max_len = ?, join_empty = ?, leave_when_empty = ?, ring_in_use = ?,
			max_wait = ?, service_level = ?, overflow_type = ?, overflow_id = ?, overflow_number = ?,
			callback_enabled = ?, callback_key = ?, callback_after_s = ?, callback_max = ?, callback_retries = ?
			WHERE account_id = ? AND id = ? RETURNING created_at`,
		q.QueueName, q.Extension, string(q.Strategy), q.MusicOnHold, q.Timeout, q.Retry, q.WrapUpTime, q.MaxLen,
		q.JoinEmpty, q.LeaveWhenEmpty, q.RingInUse, q.MaxWait, q.ServiceLevel,
		string(q.Overflow.Type), q.Overflow.ID, q.Overflow.Number, q.CallbackEnabled, q.CallbackKey, q.CallbackAfter,
		q.CallbackMax, q.CallbackRetries, q.AccountID, q.ID).Scan(&created)
	if isUniqueViolation(err) {
		return queueExtensionTaken(q)
	}
	if err != nil {
		return internal("UpdateQueue", err)
	}
	if err := db.claimExtension(ctx, tx, q.AccountID, q.Extension, ownerQueue, q.ID, "extension"); err != nil {
		return err
	}
	q.CreatedAt = fromMS(created)
	return db.saveRecordingPolicy(ctx, tx, "queues", q.AccountID, q.ID, q.Recording)
}

// DeleteQueue deletes the queue and its members; routes to it lead nowhere afterwards.
func (db *DB) DeleteQueue(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerQueue, id); err != nil || !ok {
			return orNotFound(err, "queue", id)
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM queue_members WHERE queue_id = ?", id); err != nil {
			return internal("DeleteQueue", err)
		}
		if err := db.clearTargetsTo(ctx, tx, accountID, switchboard.TargetQueue, id); err != nil {
			return err
		}
		if err := db.releaseExtension(ctx, tx, ownerQueue, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM queues WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteQueue", err)
		}
		return nil
	})
}

// SetQueueMember adds the user to the queue, or updates its penalty and paused flag.
func (db *DB) SetQueueMember(ctx context.Context, accountID int64, m switchboard.QueueMember) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerQueue, m.QueueID); err != nil || !ok {
			return orNotFound(err, "queue", m.QueueID)
		}
		if err := db.checkRef(ctx, tx, accountID, ownerUser, m.UserID, "user_id"); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO queue_members (queue_id, user_id, penalty, paused) VALUES (?, ?, ?, ?)
			ON CONFLICT (queue_id, user_id) DO UPDATE SET penalty = excluded.penalty, paused = excluded.paused`,
			m.QueueID, m.UserID, m.Penalty, m.Paused)
		return internal("SetQueueMember", err)
	})
}

// RemoveQueueMember takes the user out of the queue.
func (db *DB) RemoveQueueMember(ctx context.Context, accountID, queueID, userID int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerQueue, queueID); err != nil || !ok {
			return orNotFound(err, "queue", queueID)
		}
		ok, err := db.execAffected(ctx, tx, "DELETE FROM queue_members WHERE queue_id = ? AND user_id = ?", queueID, userID)
		if err != nil {
			return internal("RemoveQueueMember", err)
		}
		if !ok {
			return notMember(queueID, userID)
		}
		return nil
	})
}

func notMember(queueID, userID int64) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "User %d is not a member of queue %d", userID, queueID)
}

func scanQueueMember(s interface{ Scan(...any) error }) (*switchboard.QueueMember, error) {
	var m switchboard.QueueMember
	if err := s.Scan(&m.QueueID, &m.UserID, &m.Penalty, &m.Paused); err != nil {
		return nil, err
	}
	return &m, nil
}

// UpdateQueueMemberFunc changes a member's penalty or pause with change in one write
// transaction (see updateFunc) and returns it as saved.
func (db *DB) UpdateQueueMemberFunc(ctx context.Context, accountID, queueID, userID int64, change func(*switchboard.QueueMember) error) (*switchboard.QueueMember, error) {
	load := func(tx *sql.Tx) (*switchboard.QueueMember, error) {
		if ok, err := db.exists(ctx, tx, accountID, ownerQueue, queueID); err != nil || !ok {
			return nil, orNotFound(err, "queue", queueID)
		}
		m, err := lockedRow(ctx, db, tx, "queue member", userID, scanQueueMember,
			"SELECT queue_id, user_id, penalty, paused FROM queue_members WHERE queue_id = ? AND user_id = ?", queueID, userID)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return nil, notMember(queueID, userID)
		}
		return m, err
	}
	save := func(tx *sql.Tx, m *switchboard.QueueMember) error {
		_, err := db.exec(ctx, tx, "UPDATE queue_members SET penalty = ?, paused = ? WHERE queue_id = ? AND user_id = ?",
			m.Penalty, m.Paused, queueID, userID)
		return internal("UpdateQueueMember", err)
	}
	return updateFunc(ctx, db, load, change, save)
}

// ListQueueMembers returns the queue's members by user id.
func (db *DB) ListQueueMembers(ctx context.Context, accountID, queueID int64) ([]switchboard.QueueMember, error) {
	if ok, err := db.exists(ctx, db.read, accountID, ownerQueue, queueID); err != nil || !ok {
		return nil, orNotFound(err, "queue", queueID)
	}
	members, err := listRows(ctx, db, "ListQueueMembers", scanQueueMember, `SELECT m.queue_id, m.user_id, m.penalty, m.paused
		FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE q.account_id = ? AND m.queue_id = ? ORDER BY m.user_id`,
		accountID, queueID)
	if err != nil {
		return nil, err
	}
	out := make([]switchboard.QueueMember, 0, len(members))
	for _, m := range members {
		out = append(out, *m)
	}
	return out, nil
}

// PageQueueMembers returns one page of the queue's members by user id, those after the
// user id p.After, and whether more follow. Another account's queue is NOT_FOUND.
func (db *DB) PageQueueMembers(ctx context.Context, accountID, queueID int64, p switchboard.Page) ([]switchboard.QueueMember, bool, error) {
	if ok, err := db.exists(ctx, db.read, accountID, ownerQueue, queueID); err != nil || !ok {
		return nil, false, orNotFound(err, "queue", queueID)
	}
	members, more, err := pageWhere(ctx, db, "PageQueueMembers", scanQueueMember, p, `SELECT m.queue_id, m.user_id, m.penalty, m.paused
		FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE q.account_id = ? AND m.queue_id = ? AND m.user_id > ?`,
		"m.user_id", accountID, queueID, p.After)
	if err != nil {
		return nil, false, err
	}
	out := make([]switchboard.QueueMember, 0, len(members))
	for _, m := range members {
		out = append(out, *m)
	}
	return out, more, nil
}

const queueCallbackColumns = `id, account_id, queue_id, stay_id, call_id, direction, from_number, caller_name, to_number,
	number, caller_user_id, callback_number, entered_at, requested_at, attempts, status, callback_call_id, updated_at`

func scanQueueCallback(s interface{ Scan(...any) error }) (*switchboard.QueueCallback, error) {
	var cb switchboard.QueueCallback
	var entered, requested, updated int64
	err := s.Scan(&cb.ID, &cb.AccountID, &cb.QueueID, &cb.StayID, &cb.CallID, &cb.Direction, &cb.From, &cb.CallerName,
		&cb.To, &cb.Number, &cb.CallerUserID, &cb.CallbackNumber, &entered, &requested, &cb.Attempts, &cb.Status,
		&cb.CallbackCallID, &updated)
	if err != nil {
		return nil, err
	}
	cb.EnteredAt, cb.RequestedAt, cb.UpdatedAt = fromMS(entered), fromMS(requested), fromMS(updated)
	return &cb, nil
}

// CreateQueueCallback stores a pending callback with its events (queue.callback.requested)
// in one transaction. max bounds the queue's pending callbacks (0 = no limit): one more is
// ECONFLICT, and nothing is written. A stay has at most one callback.
func (db *DB) CreateQueueCallback(ctx context.Context, cb *switchboard.QueueCallback, max int, events ...*switchboard.Event) error {
	v := switchboard.ValidationErrors{}
	if cb.QueueID <= 0 {
		v.Add("queue_id", "is required")
	}
	if cb.StayID == "" || cb.CallID == "" {
		v.Add("stay_id", "the stay and the call are required")
	}
	if cb.CallbackNumber == "" {
		v.Add("callback_number", "is required: a caller without a number cannot be called back")
	}
	if cb.EnteredAt.IsZero() || cb.RequestedAt.IsZero() {
		v.Add("entered_at", "the times are required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	cb.Status, cb.Attempts, cb.CallbackCallID = switchboard.CallbackPending, 0, ""
	cb.EnteredAt, cb.RequestedAt = cb.EnteredAt.UTC().Truncate(time.Millisecond), cb.RequestedAt.UTC().Truncate(time.Millisecond)
	cb.UpdatedAt = cb.RequestedAt
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if max > 0 {
			var pending int
			if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM queue_callbacks WHERE account_id = ? AND queue_id = ? AND status = ?`,
				cb.AccountID, cb.QueueID, switchboard.CallbackPending).Scan(&pending); err != nil {
				return internal("CreateQueueCallback", err)
			}
			if pending >= max {
				return conflict("callback_max", "the queue has its maximum of pending callbacks")
			}
		}
		err := db.queryRow(ctx, tx, `INSERT INTO queue_callbacks (account_id, queue_id, stay_id, call_id, direction,
			from_number, caller_name, to_number, number, caller_user_id, callback_number, entered_at, requested_at,
			attempts, status, callback_call_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			cb.AccountID, cb.QueueID, cb.StayID, cb.CallID, cb.Direction, cb.From, cb.CallerName, cb.To, cb.Number,
			cb.CallerUserID, cb.CallbackNumber, toMS(cb.EnteredAt), toMS(cb.RequestedAt), cb.Attempts, cb.Status,
			cb.CallbackCallID, toMS(cb.UpdatedAt)).Scan(&cb.ID)
		if isUniqueViolation(err) {
			return conflict("stay_id", cb.StayID+" already has a callback")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", cb.AccountID)
		}
		if err != nil {
			return internal("CreateQueueCallback", err)
		}
		return db.insertEvents(ctx, tx, events)
	})
}

// UpdateQueueCallback saves a pending callback's attempts, status and last call with its
// events in one transaction. A callback no longer pending is ECONFLICT: it is done or failed
// for good.
func (db *DB) UpdateQueueCallback(ctx context.Context, cb *switchboard.QueueCallback, events ...*switchboard.Event) error {
	switch cb.Status {
	case switchboard.CallbackPending, switchboard.CallbackDone, switchboard.CallbackFailed:
	default:
		return badRequest("status", "must be pending, done or failed")
	}
	cb.UpdatedAt = now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, `UPDATE queue_callbacks SET attempts = ?, status = ?, callback_call_id = ?,
			updated_at = ? WHERE account_id = ? AND id = ? AND status = ?`,
			cb.Attempts, cb.Status, cb.CallbackCallID, toMS(cb.UpdatedAt), cb.AccountID, cb.ID, switchboard.CallbackPending)
		if err != nil {
			return internal("UpdateQueueCallback", err)
		}
		if !ok {
			return conflict("status", "the callback is no longer pending")
		}
		return db.insertEvents(ctx, tx, events)
	})
}

// ResumeQueueCallbacks returns every account's pending callbacks, oldest place first, and
// reopens their stays: the start-up recovery (CloseOpenGroupCalls) closed them as
// abandoned, but a pending callback is a caller still in the queue. The call engine calls
// it once at start, after that recovery.
func (db *DB) ResumeQueueCallbacks(ctx context.Context) ([]*switchboard.QueueCallback, error) {
	var out []*switchboard.QueueCallback
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := db.query(ctx, tx, "SELECT "+queueCallbackColumns+" FROM queue_callbacks WHERE status = ? ORDER BY entered_at, id",
			switchboard.CallbackPending)
		if err != nil {
			return internal("ResumeQueueCallbacks", err)
		}
		out = nil
		for rows.Next() {
			cb, err := scanQueueCallback(rows)
			if err != nil {
				rows.Close()
				return internal("ResumeQueueCallbacks", err)
			}
			out = append(out, cb)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return internal("ResumeQueueCallbacks", err)
		}
		for _, cb := range out {
			if _, err := db.exec(ctx, tx, `UPDATE group_calls SET left_at = 0, status = '' WHERE account_id = ? AND stay_id = ?
				AND answered_at = 0`, cb.AccountID, cb.StayID); err != nil {
				return internal("ResumeQueueCallbacks", err)
			}
		}
		return nil
	})
	return out, err
}

// ListQueueCallbacks returns the queue's callbacks, newest request first: the pending ones
// only, or every one with all set. Another account's queue is NOT_FOUND.
func (db *DB) ListQueueCallbacks(ctx context.Context, accountID, queueID int64, all bool) ([]*switchboard.QueueCallback, error) {
	if ok, err := db.exists(ctx, db.read, accountID, ownerQueue, queueID); err != nil || !ok {
		return nil, orNotFound(err, "queue", queueID)
	}
	query := "SELECT " + queueCallbackColumns + " FROM queue_callbacks WHERE account_id = ? AND queue_id = ?"
	args := []any{accountID, queueID}
	if !all {
		query += " AND status = ?"
		args = append(args, switchboard.CallbackPending)
	}
	return listRows(ctx, db, "ListQueueCallbacks", scanQueueCallback, query+" ORDER BY requested_at DESC, id DESC LIMIT 1000", args...)
}
