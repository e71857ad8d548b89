package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const numberColumns = `id, account_id, number, friendly_name, sms_enabled, mms_enabled, owner_user_id,
	sms_assigned_user_id, status, ai_agent_id, target_type, target_id, target_number, created_at, language, recording, recording_consent_prompt_id`

func scanNumber(s interface{ Scan(...any) error }) (*switchboard.Number, error) {
	var n switchboard.Number
	var owner, smsAssigned sql.NullInt64
	var created int64
	err := s.Scan(&n.ID, &n.AccountID, &n.Number, &n.FriendlyName, &n.SMSEnabled, &n.MMSEnabled, &owner, &smsAssigned,
		&n.Status, &n.AIAgentID, &n.Target.Type, &n.Target.ID, &n.Target.Number, &created, &n.Language, &n.Recording, &n.RecordingConsentPromptID)
	if err != nil {
		return nil, err
	}
	n.OwnerUserID, n.SMSAssignedUserID = owner.Int64, smsAssigned.Int64
	n.CreatedAt = fromMS(created)
	return &n, nil
}

func numberTaken(n *switchboard.Number) error {
	return conflict("number", n.Number+" is already in use")
}

// checkNumberRefs checks that the owner, the SMS-assigned user and the target are of the account.
func (db *DB) checkNumberRefs(ctx context.Context, tx *sql.Tx, n *switchboard.Number) error {
	if n.OwnerUserID != 0 {
		if err := db.checkRef(ctx, tx, n.AccountID, ownerUser, n.OwnerUserID, "owner_user_id"); err != nil {
			return err
		}
	}
	if n.SMSAssignedUserID != 0 {
		if err := db.checkRef(ctx, tx, n.AccountID, ownerUser, n.SMSAssignedUserID, "sms_assigned_user_id"); err != nil {
			return err
		}
	}
	return db.checkTarget(ctx, tx, n.AccountID, n.Target, "target")
}

// CreateNumber stores a new number of the account; numbers are unique across all accounts.
func (db *DB) CreateNumber(ctx context.Context, n *switchboard.Number) error {
	if err := n.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkNumberRefs(ctx, tx, n); err != nil {
			return err
		}
		err := db.queryRow(ctx, tx, `INSERT INTO numbers (account_id, number, friendly_name, sms_enabled, mms_enabled,
			owner_user_id, sms_assigned_user_id, status, ai_agent_id, target_type, target_id, target_number, created_at, language)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.AccountID, n.Number, n.FriendlyName, n.SMSEnabled, n.MMSEnabled, nullID(n.OwnerUserID),
			nullID(n.SMSAssignedUserID), n.Status, n.AIAgentID, string(n.Target.Type), n.Target.ID, n.Target.Number,
			toMS(t), n.Language).Scan(&n.ID)
		if isUniqueViolation(err) {
			return numberTaken(n)
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", n.AccountID)
		}
		if err != nil {
			return internal("CreateNumber", err)
		}
		return db.saveNumberRecording(ctx, tx, n)
	})
	if err != nil {
		n.ID = 0
		return err
	}
	n.CreatedAt = t
	return nil
}

// GetNumber returns the account's number with the id.
func (db *DB) GetNumber(ctx context.Context, accountID, id int64) (*switchboard.Number, error) {
	return oneRow(ctx, db, db.read, "number", id, scanNumber, "SELECT "+numberColumns+" FROM numbers WHERE account_id = ? AND id = ?", accountID, id)
}

// GetNumberByE164 returns the number, whatever its account: inbound routing's lookup.
func (db *DB) GetNumberByE164(ctx context.Context, number string) (*switchboard.Number, error) {
	n, err := scanNumber(db.queryRow(ctx, db.read, "SELECT "+numberColumns+" FROM numbers WHERE number = ?", number))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No number %s", number)
	}
	return n, internal("GetNumberByE164", err)
}

// ListNumbers returns the account's numbers that match every set field of f, by id.
func (db *DB) ListNumbers(ctx context.Context, accountID int64, f switchboard.NumberFilter) ([]*switchboard.Number, error) {
	q, args := numberQuery(accountID, f)
	return listRows(ctx, db, "ListNumbers", scanNumber, q+" ORDER BY id", args...)
}

// PageNumbers returns one page of the account's numbers the filter matches, by id, and
// whether more follow.
func (db *DB) PageNumbers(ctx context.Context, accountID int64, f switchboard.NumberFilter, p switchboard.Page) ([]*switchboard.Number, bool, error) {
	q, args := numberQuery(accountID, f)
	return pageRows(ctx, db, "PageNumbers", scanNumber, p, q, args...)
}

// numberQuery selects the account's numbers the filter matches (a WHERE clause without ORDER BY).
func numberQuery(accountID int64, f switchboard.NumberFilter) (string, []any) {
	q, args := "SELECT "+numberColumns+" FROM numbers WHERE account_id = ?", []any{accountID}
	if f.Number != "" {
		q, args = q+" AND number = ?", append(args, f.Number)
	}
	if f.OwnerUserID != 0 {
		q, args = q+" AND owner_user_id = ?", append(args, f.OwnerUserID)
	}
	if f.Status != "" {
		q, args = q+" AND status = ?", append(args, f.Status)
	}
	if f.SMSAssignedUserID != 0 {
		q, args = q+" AND sms_assigned_user_id = ?", append(args, f.SMSAssignedUserID)
	}
	if f.AIAgentID != "" {
		q, args = q+" AND ai_agent_id = ?", append(args, f.AIAgentID)
	}
	if f.AssignedToUserID != 0 {
		q, args = q+" AND (owner_user_id = ? OR sms_assigned_user_id = ?)", append(args, f.AssignedToUserID, f.AssignedToUserID)
	}
	return q, args
}

// UpdateNumber saves every field of the number; CreatedAt is set from the store.
func (db *DB) UpdateNumber(ctx context.Context, n *switchboard.Number) error {
	return replace(n, func(change func(*switchboard.Number) error) (*switchboard.Number, error) {
		return db.UpdateNumberFunc(ctx, n.AccountID, n.ID, change)
	})
}

// UpdateNumberFunc changes the account's number with change in one write transaction (see
// updateFunc) and returns it as saved.
func (db *DB) UpdateNumberFunc(ctx context.Context, accountID, id int64, change func(*switchboard.Number) error) (*switchboard.Number, error) {
	load := func(tx *sql.Tx) (*switchboard.Number, error) {
		return lockedRow(ctx, db, tx, "number", id, scanNumber, "SELECT "+numberColumns+" FROM numbers WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, n *switchboard.Number) error { return db.saveNumber(ctx, tx, n) })
}

// saveNumber writes every field of the valid number in tx.
func (db *DB) saveNumber(ctx context.Context, tx *sql.Tx, n *switchboard.Number) error {
	if err := db.checkNumberRefs(ctx, tx, n); err != nil {
		return err
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE numbers SET number = ?, friendly_name = ?, sms_enabled = ?, mms_enabled = ?,
		owner_user_id = ?, sms_assigned_user_id = ?, status = ?, ai_agent_id = ?, target_type = ?, target_id = ?,
		target_number = ?, language = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		n.Number, n.FriendlyName, n.SMSEnabled, n.MMSEnabled, nullID(n.OwnerUserID), nullID(n.SMSAssignedUserID),
		n.Status, n.AIAgentID, string(n.Target.Type), n.Target.ID, n.Target.Number, n.Language, n.AccountID, n.ID).Scan(&created)
	if isUniqueViolation(err) {
		return numberTaken(n)
	}
	if err != nil {
		return internal("UpdateNumber", err)
	}
	n.CreatedAt = fromMS(created)
	return db.saveNumberRecording(ctx, tx, n)
}

// DeleteNumber deletes the account's number with the id.
func (db *DB) DeleteNumber(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "DELETE FROM numbers WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return internal("DeleteNumber", err)
		}
		if !ok {
			return notFound("number", id)
		}
		return nil
	})
}
