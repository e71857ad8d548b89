package store

import (
	"context"
	"database/sql"
	"strings"

	"switchboard"
)

const portalLoginColumns = "id, account_id, login, role, user_id, password_hash, totp_sealed, created_at"

func scanPortalLogin(s interface{ Scan(...any) error }) (*switchboard.PortalLogin, error) {
	var l switchboard.PortalLogin
	var userID sql.NullInt64
	var created int64
	if err := s.Scan(&l.ID, &l.AccountID, &l.Login, &l.Role, &userID, &l.PasswordHash, &l.TOTPSealed, &created); err != nil {
		return nil, err
	}
	l.UserID, l.CreatedAt = userID.Int64, fromMS(created)
	return &l, nil
}

var _ switchboard.PortalStore = (*DB)(nil)

// CreatePortalLogin stores a login; its name is kept in lower case and unique across
// accounts. A user login must name a user of the account.
func (db *DB) CreatePortalLogin(ctx context.Context, l *switchboard.PortalLogin) error {
	l.Login = strings.ToLower(strings.TrimSpace(l.Login))
	switch {
	case l.Role != switchboard.PortalAdmin && l.Role != switchboard.PortalUser:
		return badRequest("role", "must be admin or user")
	case l.Role == switchboard.PortalUser && l.UserID == 0:
		return badRequest("user_id", "is required for a user login")
	case l.Role == switchboard.PortalAdmin && l.UserID != 0:
		return badRequest("user_id", "must be empty for an administrator")
	case l.Login == "" || len(l.Login) > 100:
		return badRequest("login", "must be 1 to 100 characters")
	case l.PasswordHash == "":
		return badRequest("password", "is required")
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if l.UserID != 0 {
			if err := db.checkRef(ctx, tx, l.AccountID, ownerUser, l.UserID, "user_id"); err != nil {
				return err
			}
		}
		err := db.queryRow(ctx, tx, `INSERT INTO portal_logins (account_id, login, role, user_id, password_hash, totp_sealed, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			l.AccountID, l.Login, string(l.Role), nullID(l.UserID), l.PasswordHash, l.TOTPSealed, toMS(t)).Scan(&l.ID)
		if isUniqueViolation(err) {
			return conflict("login", "is taken")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", l.AccountID)
		}
		return internal("CreatePortalLogin", err)
	})
	if err != nil {
		l.ID = 0
		return err
	}
	l.CreatedAt = t
	return nil
}

func (db *DB) GetPortalLoginByName(ctx context.Context, login string) (*switchboard.PortalLogin, error) {
	l, err := scanPortalLogin(db.queryRow(ctx, db.read, "SELECT "+portalLoginColumns+" FROM portal_logins WHERE login = ?",
		strings.ToLower(strings.TrimSpace(login))))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No such login")
	}
	return l, internal("GetPortalLoginByName", err)
}

func (db *DB) GetPortalLogin(ctx context.Context, id int64) (*switchboard.PortalLogin, error) {
	l, err := scanPortalLogin(db.queryRow(ctx, db.read, "SELECT "+portalLoginColumns+" FROM portal_logins WHERE id = ?", id))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No such login")
	}
	return l, internal("GetPortalLogin", err)
}

func (db *DB) ListPortalLogins(ctx context.Context, accountID int64) ([]*switchboard.PortalLogin, error) {
	return listRows(ctx, db, "ListPortalLogins", scanPortalLogin,
		"SELECT "+portalLoginColumns+" FROM portal_logins WHERE account_id = ? ORDER BY id", accountID)
}

// DeletePortalLogin deletes the account's login and, with it, its sessions.
func (db *DB) DeletePortalLogin(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, "DELETE FROM portal_sessions WHERE login_id IN (SELECT id FROM portal_logins WHERE account_id = ? AND id = ?)", accountID, id); err != nil {
			return internal("DeletePortalLogin", err)
		}
		ok, err := db.execAffected(ctx, tx, "DELETE FROM portal_logins WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil || !ok {
			return orNotFound(err, "login", id)
		}
		return nil
	})
}

// SetPortalPassword replaces the login's password hash and ends its sessions.
func (db *DB) SetPortalPassword(ctx context.Context, accountID, id int64, hash string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "UPDATE portal_logins SET password_hash = ? WHERE account_id = ? AND id = ?", hash, accountID, id)
		if err != nil || !ok {
			return orNotFound(err, "login", id)
		}
		_, err = db.exec(ctx, tx, "UPDATE portal_sessions SET revoked_at = ? WHERE login_id = ? AND revoked_at IS NULL", toMS(now()), id)
		return internal("SetPortalPassword", err)
	})
}

func (db *DB) SetPortalTOTP(ctx context.Context, accountID, id int64, sealed string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "UPDATE portal_logins SET totp_sealed = ? WHERE account_id = ? AND id = ?", sealed, accountID, id)
		if err != nil || !ok {
			return orNotFound(err, "login", id)
		}
		return nil
	})
}

func (db *DB) CreatePortalSession(ctx context.Context, s *switchboard.PortalSession) error {
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		err := db.queryRow(ctx, tx, `INSERT INTO portal_sessions (login_id, token_hash, csrf, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, s.LoginID, s.TokenHash, s.CSRF, toMS(t), toMS(s.ExpiresAt)).Scan(&s.ID)
		s.CreatedAt = t
		return internal("CreatePortalSession", err)
	})
}

func (db *DB) GetPortalSession(ctx context.Context, tokenHash string) (*switchboard.PortalSession, *switchboard.PortalLogin, error) {
	var s switchboard.PortalSession
	var created, expires int64
	var revoked sql.NullInt64
	err := db.queryRow(ctx, db.read, "SELECT id, login_id, token_hash, csrf, created_at, expires_at, revoked_at FROM portal_sessions WHERE token_hash = ?",
		tokenHash).Scan(&s.ID, &s.LoginID, &s.TokenHash, &s.CSRF, &created, &expires, &revoked)
	if noRows(err) {
		return nil, nil, switchboard.Errorf(switchboard.ENOTFOUND, "No such session")
	}
	if err != nil {
		return nil, nil, internal("GetPortalSession", err)
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMS(created), fromMS(expires), fromMS(revoked.Int64)
	l, err := db.GetPortalLogin(ctx, s.LoginID)
	if err != nil {
		return nil, nil, err
	}
	return &s, l, nil
}

func (db *DB) RevokePortalSession(ctx context.Context, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, "UPDATE portal_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", toMS(now()), id)
		return internal("RevokePortalSession", err)
	})
}
