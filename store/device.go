package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const deviceColumns = "id, account_id, user_id, name, sip_username, ha1_md5, ha1_sha256, require_secure, sip_realm, digest_algorithm, created_at"

func scanDevice(s interface{ Scan(...any) error }) (*switchboard.Device, error) {
	var d switchboard.Device
	var created int64
	if err := s.Scan(&d.ID, &d.AccountID, &d.UserID, &d.Name, &d.SIPUsername, &d.HA1MD5, &d.HA1SHA256, &d.RequireSecure, &d.Realm, &d.DigestAlgorithm, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMS(created)
	if d.Realm == switchboard.SIPRealm {
		d.Realm = ""
	}
	if d.DigestAlgorithm == switchboard.DigestMD5 {
		d.DigestAlgorithm = "" // the default, as a Device spells it
	}
	return &d, nil
}

func sipUsernameTaken(d *switchboard.Device) error {
	return conflict("sip_username", d.SIPUsername+" is already taken")
}

// sipUsernameClash reports whether another account has a device with d's SIP username
// where that matters: the username is unique inside an account (the index), and across
// accounts unless both have a SIP domain — a phone of an account without a domain is found
// by its username alone.
func (db *DB) sipUsernameClash(ctx context.Context, tx *sql.Tx, d *switchboard.Device) error {
	if db.dialect == DialectPostgres {
		// No index spans the rule: serialize the writers of one username until commit, so
		// that two accounts cannot both check, find nothing and insert. (SQLite has one
		// writer at a time already.)
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('sip_username:' || $1))", d.SIPUsername); err != nil {
			return internal("sipUsernameClash", err)
		}
	}
	var n int
	err := db.queryRow(ctx, tx, `SELECT count(*) FROM devices o JOIN accounts oa ON oa.id = o.account_id
		WHERE o.sip_username = ? AND o.account_id <> ?
		AND (oa.sip_domain IS NULL OR (SELECT sip_domain FROM accounts WHERE id = ?) IS NULL)`,
		d.SIPUsername, d.AccountID, d.AccountID).Scan(&n)
	if err != nil {
		return internal("sipUsernameClash", err)
	}
	if n > 0 {
		return sipUsernameTaken(d)
	}
	return nil
}

// CreateDevice stores a new device of a user of the account; SIP usernames are unique in
// the account, and across accounts unless both accounts have a SIP domain.
func (db *DB) CreateDevice(ctx context.Context, d *switchboard.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkRef(ctx, tx, d.AccountID, ownerUser, d.UserID, "user_id"); err != nil {
			return err
		}
		if err := db.sipUsernameClash(ctx, tx, d); err != nil {
			return err
		}
		err := db.queryRow(ctx, tx, `INSERT INTO devices (account_id, user_id, name, sip_username, ha1_md5, ha1_sha256, require_secure, sip_realm, digest_algorithm, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.AccountID, d.UserID, d.Name, d.SIPUsername, d.HA1MD5, d.HA1SHA256, d.RequireSecure, d.DigestRealm(), d.Digest(), toMS(t)).Scan(&d.ID)
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

// GetDeviceBySIPUsername returns the device with the SIP username when the request names
// no account's domain (a bare IP): the device of an account without a domain (unique by the
// store's rule), else the only device with that username; several is NOT_FOUND.
func (db *DB) GetDeviceBySIPUsername(ctx context.Context, username string) (*switchboard.Device, error) {
	rows, err := db.query(ctx, db.read, `SELECT d.id, d.account_id, d.user_id, d.name, d.sip_username, d.ha1_md5,
		d.ha1_sha256, d.require_secure, d.sip_realm, d.digest_algorithm, d.created_at, CASE WHEN a.sip_domain IS NULL THEN 0 ELSE 1 END
		FROM devices d JOIN accounts a ON a.id = d.account_id WHERE d.sip_username = ?
		ORDER BY CASE WHEN a.sip_domain IS NULL THEN 0 ELSE 1 END, d.id LIMIT 2`, username)
	if err != nil {
		return nil, internal("GetDeviceBySIPUsername", err)
	}
	defer rows.Close()
	var found []*switchboard.Device
	var withDomain []bool
	for rows.Next() {
		var d switchboard.Device
		var created int64
		var hasDomain int
		if err := rows.Scan(&d.ID, &d.AccountID, &d.UserID, &d.Name, &d.SIPUsername, &d.HA1MD5, &d.HA1SHA256, &d.RequireSecure, &d.Realm, &d.DigestAlgorithm, &created, &hasDomain); err != nil {
			return nil, internal("GetDeviceBySIPUsername", err)
		}
		d.CreatedAt = fromMS(created)
		if d.Realm == switchboard.SIPRealm {
			d.Realm = ""
		}
		if d.DigestAlgorithm == switchboard.DigestMD5 {
			d.DigestAlgorithm = ""
		}
		found, withDomain = append(found, &d), append(withDomain, hasDomain == 1)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("GetDeviceBySIPUsername", err)
	}
	if len(found) == 1 || len(found) > 1 && !withDomain[0] {
		return found[0], nil
	}
	return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No device with SIP username %s", username)
}

// GetAccountDeviceBySIPUsername returns the account's device with the SIP username: the
// registrar's lookup when the request names the account's SIP domain.
func (db *DB) GetAccountDeviceBySIPUsername(ctx context.Context, accountID int64, username string) (*switchboard.Device, error) {
	d, err := scanDevice(db.queryRow(ctx, db.read, "SELECT "+deviceColumns+" FROM devices WHERE account_id = ? AND sip_username = ?", accountID, username))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No device with SIP username %s", username)
	}
	return d, internal("GetAccountDeviceBySIPUsername", err)
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

// UpdateDevice saves the device's user, name, SIP username, password hashes and security policy.
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
	if err := db.sipUsernameClash(ctx, tx, d); err != nil {
		return err
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE devices SET user_id = ?, name = ?, sip_username = ?, ha1_md5 = ?, ha1_sha256 = ?,
		require_secure = ?, sip_realm = ?, digest_algorithm = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		d.UserID, d.Name, d.SIPUsername, d.HA1MD5, d.HA1SHA256, d.RequireSecure, d.DigestRealm(), d.Digest(), d.AccountID, d.ID).Scan(&created)
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

// HasSHA256Devices reports whether any device requires SHA-256 digests. The registrar asks
// it (and caches the answer briefly) so that, while none does, a challenge costs no device
// lookup.
func (db *DB) HasSHA256Devices(ctx context.Context) (bool, error) {
	var n int
	err := db.queryRow(ctx, db.read, "SELECT count(*) FROM (SELECT 1 FROM devices WHERE digest_algorithm = ? LIMIT 1) x",
		switchboard.DigestSHA256).Scan(&n)
	return n > 0, internal("HasSHA256Devices", err)
}
