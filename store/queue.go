package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const queueColumns = `id, account_id, queue_name, extension, strategy, music_on_hold, timeout, retry, wrapup_time,
	max_len, join_empty, leave_when_empty, ring_in_use, max_wait, service_level,
	overflow_type, overflow_id, overflow_number, created_at`

func scanQueue(s interface{ Scan(...any) error }) (*switchboard.Queue, error) {
	var q switchboard.Queue
	var created int64
	err := s.Scan(&q.ID, &q.AccountID, &q.QueueName, &q.Extension, &q.Strategy, &q.MusicOnHold, &q.Timeout, &q.Retry,
		&q.WrapUpTime, &q.MaxLen, &q.JoinEmpty, &q.LeaveWhenEmpty, &q.RingInUse, &q.MaxWait, &q.ServiceLevel,
		&q.Overflow.Type, &q.Overflow.ID, &q.Overflow.Number, &created)
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
			overflow_type, overflow_id, overflow_number, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			q.AccountID, q.QueueName, q.Extension, string(q.Strategy), q.MusicOnHold, q.Timeout, q.Retry, q.WrapUpTime,
			q.MaxLen, q.JoinEmpty, q.LeaveWhenEmpty, q.RingInUse, q.MaxWait, q.ServiceLevel,
			string(q.Overflow.Type), q.Overflow.ID, q.Overflow.Number, toMS(t)).Scan(&id)
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
		return nil
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
			max_wait = ?, service_level = ?, overflow_type = ?, overflow_id = ?, overflow_number = ?
			WHERE account_id = ? AND id = ? RETURNING created_at`,
		q.QueueName, q.Extension, string(q.Strategy), q.MusicOnHold, q.Timeout, q.Retry, q.WrapUpTime, q.MaxLen,
		q.JoinEmpty, q.LeaveWhenEmpty, q.RingInUse, q.MaxWait, q.ServiceLevel,
		string(q.Overflow.Type), q.Overflow.ID, q.Overflow.Number, q.AccountID, q.ID).Scan(&created)
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
	return nil
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
