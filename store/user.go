package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const userColumns = `id, account_id, extension, first_name, last_name, email, caller_id_name, time_zone,
	voicemail_enabled, forward_enabled, forward_number, ring_time_seconds, created_at, updated_at, max_outbound_calls, max_outbound_minutes, do_not_disturb, call_waiting, recording`

func scanUser(s interface{ Scan(...any) error }) (*switchboard.User, error) {
	var u switchboard.User
	var created, updated int64
	var callWaiting bool
	err := s.Scan(&u.ID, &u.AccountID, &u.Extension, &u.FirstName, &u.LastName, &u.Email, &u.CallerIDName,
		&u.TimeZone, &u.VoicemailEnabled, &u.ForwardEnabled, &u.ForwardNumber, &u.RingTimeSeconds, &created, &updated, &u.MaxOutboundCalls, &u.MaxOutMinutes,
		&u.DoNotDisturb, &callWaiting, &u.Recording)
	if err != nil {
		return nil, err
	}
	u.CallWaitingOff = !callWaiting
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return &u, nil
}

// userExtensionField is the API's name for a user's extension, named in conflicts.
const userExtensionField = "presence_id"

// CreateUser stores a new user; its extension must be free in the account.
func (db *DB) CreateUser(ctx context.Context, u *switchboard.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO users (account_id, extension, first_name, last_name, email, caller_id_name,
			time_zone, voicemail_enabled, forward_enabled, forward_number, ring_time_seconds, created_at, updated_at,
			max_outbound_calls, max_outbound_minutes, do_not_disturb, call_waiting)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.AccountID, u.Extension, u.FirstName, u.LastName, u.Email, u.CallerIDName, u.TimeZone,
			u.VoicemailEnabled, u.ForwardEnabled, u.ForwardNumber, u.RingTimeSeconds, toMS(t), toMS(t), u.MaxOutboundCalls,
			u.MaxOutMinutes, u.DoNotDisturb, !u.CallWaitingOff).Scan(&id)
		if isUniqueViolation(err) {
			return conflict(userExtensionField, u.Extension+" is already used by another user")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", u.AccountID)
		}
		if err != nil {
			return internal("CreateUser", err)
		}
		if err := db.claimExtension(ctx, tx, u.AccountID, u.Extension, ownerUser, id, userExtensionField); err != nil {
			return err
		}
		u.ID = id
		return db.saveRecordingPolicy(ctx, tx, "users", u.AccountID, u.ID, u.Recording)
	})
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = t, t
	return nil
}

// GetUser returns the account's user with the id.
func (db *DB) GetUser(ctx context.Context, accountID, id int64) (*switchboard.User, error) {
	return oneRow(ctx, db, db.read, "user", id, scanUser, "SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?", accountID, id)
}

// GetUserByExtension returns the account's user with the extension.
func (db *DB) GetUserByExtension(ctx context.Context, accountID int64, extension string) (*switchboard.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.read, "SELECT "+userColumns+" FROM users WHERE account_id = ? AND extension = ?",
		accountID, extension))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No user with extension %s in this account", extension)
	}
	return u, internal("GetUserByExtension", err)
}

// ListUsers returns the account's users by extension. It is one indexed query on the read
// pool: the availability endpoint calls it on every request.
func (db *DB) ListUsers(ctx context.Context, accountID int64) ([]*switchboard.User, error) {
	return listRows(ctx, db, "ListUsers", scanUser, "SELECT "+userColumns+" FROM users WHERE account_id = ? ORDER BY extension", accountID)
}

// PageUsers returns one page of the account's users by extension (the id breaking ties),
// after the user (p.AfterKey, p.After), and whether more follow.
func (db *DB) PageUsers(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.User, bool, error) {
	return pageRowsBy(ctx, db, "PageUsers", scanUser, p, "extension", "id",
		"SELECT "+userColumns+" FROM users WHERE account_id = ?", accountID)
}

// UpdateUser saves every field of the user; UpdatedAt becomes now, CreatedAt is set from
// the store.
func (db *DB) UpdateUser(ctx context.Context, u *switchboard.User) error {
	return replace(u, func(change func(*switchboard.User) error) (*switchboard.User, error) {
		return db.UpdateUserFunc(ctx, u.AccountID, u.ID, change)
	})
}

// UpdateUserFunc changes the account's user with change in one write transaction (see
// updateFunc) and returns it as saved.
func (db *DB) UpdateUserFunc(ctx context.Context, accountID, id int64, change func(*switchboard.User) error) (*switchboard.User, error) {
	load := func(tx *sql.Tx) (*switchboard.User, error) {
		return lockedRow(ctx, db, tx, "user", id, scanUser, "SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, u *switchboard.User) error { return db.saveUser(ctx, tx, u) })
}

// saveUser writes every field of the valid user in tx.
func (db *DB) saveUser(ctx context.Context, tx *sql.Tx, u *switchboard.User) error {
	t := now()
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE users SET extension = ?, first_name = ?, last_name = ?, email = ?,
			caller_id_name = ?, time_zone = ?, voicemail_enabled = ?, forward_enabled = ?, forward_number = ?,
			ring_time_seconds = ?, max_outbound_calls = ?, max_outbound_minutes = ?, do_not_disturb = ?, call_waiting = ?,
			updated_at = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		u.Extension, u.FirstName, u.LastName, u.Email, u.CallerIDName, u.TimeZone, u.VoicemailEnabled,
		u.ForwardEnabled, u.ForwardNumber, u.RingTimeSeconds, u.MaxOutboundCalls, u.MaxOutMinutes, u.DoNotDisturb,
		!u.CallWaitingOff, toMS(t), u.AccountID, u.ID).Scan(&created)
	if noRows(err) {
		return notFound("user", u.ID)
	}
	if isUniqueViolation(err) {
		return conflict(userExtensionField, u.Extension+" is already used by another user")
	}
	if err != nil {
		return internal("UpdateUser", err)
	}
	if err := db.claimExtension(ctx, tx, u.AccountID, u.Extension, ownerUser, u.ID, userExtensionField); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), t
	return db.saveRecordingPolicy(ctx, tx, "users", u.AccountID, u.ID, u.Recording)
}

// DeleteUser deletes the user with its devices, API keys and queue and ring group
// memberships; numbers it owned or was SMS-assigned keep no owner, and routes to it (number
// targets, queue overflows, ring group fallbacks) lead nowhere. All in one transaction.
func (db *DB) DeleteUser(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerUser, id); err != nil || !ok {
			return orNotFound(err, "user", id)
		}
		// Every statement takes (account id, user id).
		stmts := []string{
			"DELETE FROM devices WHERE account_id = ? AND user_id = ?",
			"DELETE FROM api_keys WHERE account_id = ? AND user_id = ?",
			"DELETE FROM queue_members WHERE queue_id IN (SELECT id FROM queues WHERE account_id = ?) AND user_id = ?",
			"DELETE FROM ring_group_members WHERE ring_group_id IN (SELECT id FROM ring_groups WHERE account_id = ?) AND user_id = ?",
			"UPDATE numbers SET owner_user_id = NULL WHERE account_id = ? AND owner_user_id = ?",
			"UPDATE numbers SET sms_assigned_user_id = NULL WHERE account_id = ? AND sms_assigned_user_id = ?",
		}
		for _, s := range stmts {
			if _, err := db.exec(ctx, tx, s, accountID, id); err != nil {
				return internal("DeleteUser", err)
			}
		}
		if err := db.clearTargetsTo(ctx, tx, accountID, switchboard.TargetUser, id); err != nil {
			return err
		}
		if err := db.releaseExtension(ctx, tx, ownerUser, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM users WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteUser", err)
		}
		return nil
	})
}
