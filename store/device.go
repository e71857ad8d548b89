package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const deviceColumns = "id, account_id, user_id, name, sip_username, ha1_md5, ha1_sha256, created_at"

func scanDevice(s interface{ Scan(...any) error }) (*switchboard.Device, error) {
	var d switchboard.Device
	var created int64
	if err := s.Scan(&d.ID, &d.AccountID, &d.UserID, &d.Name, &d.SIPUsername, &d.HA1MD5, &d.HA1SHA256, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMS(created)
	return &d, nil
}

func sipUsernameTaken(d *switchboard.Device) error {
	return conflict("sip_username", d.SIPUsername+" is already taken")
}

// CreateDevice stores a new device of a user of the account; SIP usernames are unique
// across all accounts.
func (db *DB) CreateDevice(ctx context.Context, d *switchboard.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkRef(ctx, tx, d.AccountID, ownerUser, d.UserID, "user_id"); err != nil {
			return err
		}
		err := db.queryRow(ctx, tx, `INSERT INTO devices (account_id, user_id, name, sip_username, ha1_md5, ha1_sha256, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.AccountID, d.UserID, d.Name, d.SIPUsername, d.HA1MD5, d.HA1SHA256, toMS(t)).Scan(&d.ID)
		if isUniqueViolation(err) {
			return sipUsernameTaken(d)
		}
		return internal("CreateDevice", err)
	})
	if err != nil {
		d.ID = 0
		return err
	}
	d.CreatedAt = t
	return nil
}

// GetDevice returns the account's device with the id.
func (db *DB) GetDevice(ctx context.Context, accountID, id int64) (*switchboard.Device, error) {
	return oneRow(ctx, db, db.read, "device", id, scanDevice, "SELECT "+deviceColumns+" FROM devices WHERE account_id = ? AND id = ?", accountID, id)
}

// GetDeviceBySIPUsername returns the device with the SIP username, whatever its account:
// the registrar's lookup.
func (db *DB) GetDeviceBySIPUsername(ctx context.Context, username string) (*switchboard.Device, error) {
	d, err := scanDevice(db.queryRow(ctx, db.read, "SELECT "+deviceColumns+" FROM devices WHERE sip_username = ?", username))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No device with SIP username %s", username)
	}
	return d, internal("GetDeviceBySIPUsername", err)
}

// ListDevices returns the account's devices of the user, or of every user when userID is 0,
// by id.
func (db *DB) ListDevices(ctx context.Context, accountID, userID int64) ([]*switchboard.Device, error) {
	q, args := "SELECT "+deviceColumns+" FROM devices WHERE account_id = ?", []any{accountID}
	if userID != 0 {
		q, args = q+" AND user_id = ?", append(args, userID)
	}
	return listRows(ctx, db, "ListDevices", scanDevice, q+" ORDER BY id", args...)
}

// PageDevices is ListDevices one page at a time, and whether more follow.
func (db *DB) PageDevices(ctx context.Context, accountID, userID int64, p switchboard.Page) ([]*switchboard.Device, bool, error) {
	q, args := "SELECT "+deviceColumns+" FROM devices WHERE account_id = ?", []any{accountID}
	if userID != 0 {
		q, args = q+" AND user_id = ?", append(args, userID)
	}
	return pageRows(ctx, db, "PageDevices", scanDevice, p, q, args...)
}

// UpdateDevice saves the device's user, name, SIP username and password hashes.
func (db *DB) UpdateDevice(ctx context.Context, d *switchboard.Device) error {
	return replace(d, func(change func(*switchboard.Device) error) (*switchboard.Device, error) {
		return db.UpdateDeviceFunc(ctx, d.AccountID, d.ID, change)
	})
}

// UpdateDeviceFunc changes the account's device with change in one write transaction (see
// updateFunc) and returns it as saved.
func (db *DB) UpdateDeviceFunc(ctx context.Context, accountID, id int64, change func(*switchboard.Device) error) (*switchboard.Device, error) {
	load := func(tx *sql.Tx) (*switchboard.Device, error) {
		return lockedRow(ctx, db, tx, "device", id, scanDevice, "SELECT "+deviceColumns+" FROM devices WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, d *switchboard.Device) error { return db.saveDevice(ctx, tx, d) })
}

// saveDevice writes the valid device's user, name, SIP username and hashes in tx.
func (db *DB) saveDevice(ctx context.Context, tx *sql.Tx, d *switchboard.Device) error {
	if err := db.checkRef(ctx, tx, d.AccountID, ownerUser, d.UserID, "user_id"); err != nil {
		return err
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE devices SET user_id = ?, name = ?, sip_username = ?, ha1_md5 = ?, ha1_sha256 = ?
		WHERE account_id = ? AND id = ? RETURNING created_at`,
		d.UserID, d.Name, d.SIPUsername, d.HA1MD5, d.HA1SHA256, d.AccountID, d.ID).Scan(&created)
	if isUniqueViolation(err) {
		return sipUsernameTaken(d)
	}
	if err != nil {
		return internal("UpdateDevice", err)
	}
	d.CreatedAt = fromMS(created)
	return nil
}

// DeleteDevice deletes the account's device with the id.
func (db *DB) DeleteDevice(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "DELETE FROM devices WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return internal("DeleteDevice", err)
		}
		if !ok {
			return notFound("device", id)
		}
		return nil
	})
}
