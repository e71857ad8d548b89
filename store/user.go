package store

import (
	"context"
	"database/sql"
	"errors"

	"switchboard"
)

const userColumns = `id, account_id, extension, first_name, last_name, email, caller_id_name, time_zone,
	voicemail_enabled, forward_enabled, forward_number, ring_time_seconds, created_at, updated_at, max_outbound_calls, max_outbound_minutes, do_not_disturb, call_waiting, unanswered_callflow_id, recording`

func scanUser(s interface{ Scan(...any) error }) (*switchboard.User, error) {
	var u switchboard.User
	var created, updated int64
	var callWaiting bool
	err := s.Scan(&u.ID, &u.AccountID, &u.Extension, &u.FirstName, &u.LastName, &u.Email, &u.CallerIDName,
		&u.TimeZone, &u.VoicemailEnabled, &u.ForwardEnabled, &u.ForwardNumber, &u.RingTimeSeconds, &created, &updated, &u.MaxOutboundCalls, &u.MaxOutMinutes,
		&u.DoNotDisturb, &callWaiting, &u.UnansweredCallFlowID, &u.Recording)
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
		if err := db.checkUnansweredFlow(ctx, tx, u); err != nil {
			return err
		}
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO users (account_id, extension, first_name, last_name, email, caller_id_name,
			time_zone, voicemail_enabled, forward_enabled, forward_number, ring_time_seconds, created_at, updated_at,
			max_outbound_calls, max_outbound_minutes, do_not_disturb, call_waiting, unanswered_callflow_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.AccountID, u.Extension, u.FirstName, u.LastName, u.Email, u.CallerIDName, u.TimeZone,
			u.VoicemailEnabled, u.ForwardEnabled, u.ForwardNumber, u.RingTimeSeconds, toMS(t), toMS(t), u.MaxOutboundCalls,
			u.MaxOutMinutes, u.DoNotDisturb, !u.CallWaitingOff, u.UnansweredCallFlowID).Scan(&id)
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

// checkUnansweredFlow checks that the user's unanswered-call flow is one of the account's.
func (db *DB) checkUnansweredFlow(ctx context.Context, tx *sql.Tx, u *switchboard.User) error {
	if u.UnansweredCallFlowID == 0 {
		return nil
	}
	return db.checkTarget(ctx, tx, u.AccountID, switchboard.Target{Type: switchboard.TargetCallFlow, ID: u.UnansweredCallFlowID},
		"unanswered_callflow_id")
}

// saveUser writes every field of the valid user in tx.
func (db *DB) saveUser(ctx context.Context, tx *sql.Tx, u *switchboard.User) error {
	if err := db.checkUnansweredFlow(ctx, tx, u); err != nil {
		return err
	}
	t := now()
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE users SET extension = ?, first_name = ?, last_name = ?, email = ?,
			caller_id_name = ?, time_zone = ?, voicemail_enabled = ?, forward_enabled = ?, forward_number = ?,
			ring_time_seconds = ?, max_outbound_calls = ?, max_outbound_minutes = ?, do_not_disturb = ?, call_waiting = ?,
			unanswered_callflow_id = ?, updated_at = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		u.Extension, u.FirstName, u.LastName, u.Email, u.CallerIDName, u.TimeZone, u.VoicemailEnabled,
		u.ForwardEnabled, u.ForwardNumber, u.RingTimeSeconds, u.MaxOutboundCalls, u.MaxOutMinutes, u.DoNotDisturb,
		!u.CallWaitingOff, u.UnansweredCallFlowID, toMS(t), u.AccountID, u.ID).Scan(&created)
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
func (db *DB) DeleteUser(ctx context.Context, accountID, id int64) ([]string, error) {
	var keys []string
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerUser, id); err != nil || !ok {
			return orNotFound(err, "user", id)
		}
		// The user's voicemail box goes with the user (ON DELETE CASCADE): its files are
		// collected here, in the transaction, for the caller to remove after the commit.
		// A flow that leaves messages in that box keeps the user.
		var boxID int64
		switch err := db.queryRow(ctx, tx, "SELECT id FROM voicemail_boxes WHERE account_id = ? AND user_id = ?",
			accountID, id).Scan(&boxID); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return internal("DeleteUser", err)
		default:
			if err := db.refuseIfFlowsName(ctx, tx, accountID, switchboard.FlowRefVoicemail, boxID); err != nil {
				return err
			}
		}
		var err error
		if keys, err = db.userVoicemailKeys(ctx, tx, accountID, id); err != nil {
			return err
		}
		// Every statement takes (account id, user id).
		stmts := []string{
			"DELETE FROM voicemail_messages WHERE box_id IN (SELECT id FROM voicemail_boxes WHERE account_id = ? AND user_id = ?)",
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
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// userVoicemailKeys lists the blob keys of the user's voicemail box: its messages' audio and
// its own greeting.
func (db *DB) userVoicemailKeys(ctx context.Context, tx *sql.Tx, accountID, userID int64) ([]string, error) {
	rows, err := db.query(ctx, tx, `SELECT m.audio_key FROM voicemail_messages m JOIN voicemail_boxes b ON b.id = m.box_id
		WHERE b.account_id = ? AND b.user_id = ?
		UNION ALL SELECT greeting_key FROM voicemail_boxes WHERE account_id = ? AND user_id = ? AND greeting_key <> ''`,
		accountID, userID, accountID, userID)
	if err != nil {
		return nil, internal("DeleteUser", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, internal("DeleteUser", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("DeleteUser", err)
	}
	return keys, nil
}
