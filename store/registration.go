package store

import (
	"context"
	"database/sql"
	"fmt"

	"switchboard"
)

// ReplaceUserRegistrations makes regs the user's stored registrations and stores events
// with them, in one transaction. Every registration must be of the user and of one of the
// user's devices.
func (db *DB) ReplaceUserRegistrations(ctx context.Context, accountID, userID int64, regs []switchboard.Registration, events ...*switchboard.Event) error {
	for _, r := range regs {
		if r.AccountID != accountID || r.UserID != userID {
			return badRequest("registrations", fmt.Sprintf("hold a binding of account %d user %d, not of account %d user %d",
				r.AccountID, r.UserID, accountID, userID))
		}
		if r.Contact == "" {
			return badRequest("contact", "is required for a registration")
		}
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		checked := map[int64]bool{}
		for _, r := range regs {
			if checked[r.DeviceID] {
				continue
			}
			var one int
			err := db.queryRow(ctx, tx, "SELECT 1 FROM devices WHERE id = ? AND account_id = ? AND user_id = ?",
				r.DeviceID, accountID, userID).Scan(&one)
			if noRows(err) {
				return badRequest("device_id", fmt.Sprintf("%d is not a device of user %d", r.DeviceID, userID))
			}
			if err != nil {
				return internal("ReplaceUserRegistrations", err)
			}
			checked[r.DeviceID] = true
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM registrations WHERE account_id = ? AND user_id = ?", accountID, userID); err != nil {
			return internal("ReplaceUserRegistrations", err)
		}
		for _, r := range regs {
			_, err := db.exec(ctx, tx, `INSERT INTO registrations
				(account_id, user_id, device_id, contact, expires_at, call_id, cseq, source, transport)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.AccountID, r.UserID, r.DeviceID, r.Contact, toMS(r.Expires), r.CallID, int64(r.CSeq), r.Source, r.Transport)
			if isUniqueViolation(err) {
				return conflict("contact", r.Contact+" is listed twice for one device")
			}
			if err != nil {
				return internal("ReplaceUserRegistrations", err)
			}
		}
		for _, ev := range events {
			if err := db.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListRegistrations returns every stored registration, expired ones included, ordered by
// account, user, device and contact.
func (db *DB) ListRegistrations(ctx context.Context) ([]switchboard.Registration, error) {
	rows, err := db.query(ctx, db.read, `SELECT account_id, user_id, device_id, contact, expires_at, call_id, cseq, source, transport
		FROM registrations ORDER BY account_id, user_id, device_id, contact`)
	if err != nil {
		return nil, internal("ListRegistrations", err)
	}
	defer rows.Close()
	out := []switchboard.Registration{}
	for rows.Next() {
		var r switchboard.Registration
		var expires, cseq int64
		if err := rows.Scan(&r.AccountID, &r.UserID, &r.DeviceID, &r.Contact, &expires, &r.CallID, &cseq, &r.Source, &r.Transport); err != nil {
			return nil, internal("ListRegistrations", err)
		}
		r.Expires, r.CSeq = fromMS(expires), uint32(cseq)
		out = append(out, r)
	}
	return out, internal("ListRegistrations", rows.Err())
}

// Statements of SaveRegistrationChanges, prepared once on SQLite's write connection.
const (
	// A binding is written only for a device of the user: the SELECT yields no row
	// otherwise, and nothing is written. A refresh updates the row in place; the key
	// (device_id, contact) is the binding's identity, and a device belongs to one user.
	sqlUpsertRegistration = `INSERT INTO registrations
		(account_id, user_id, device_id, contact, expires_at, call_id, cseq, source, transport)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS
		(SELECT 1 FROM devices WHERE id = ? AND account_id = ? AND user_id = ?)
		ON CONFLICT (device_id, contact) DO UPDATE SET account_id = excluded.account_id,
		user_id = excluded.user_id, expires_at = excluded.expires_at, call_id = excluded.call_id,
		cseq = excluded.cseq, source = excluded.source, transport = excluded.transport`
	sqlDeleteRegistration = "DELETE FROM registrations WHERE account_id = ? AND user_id = ? AND device_id = ? AND contact = ?"
)

// SaveRegistrationChanges applies changes in one transaction: many REGISTERs share one
// commit, and each writes only the bindings it changed. A failing change (a device deleted
// meanwhile) fails the whole call and nothing is stored.
func (db *DB) SaveRegistrationChanges(ctx context.Context, changes []switchboard.RegistrationChange) error {
	for _, c := range changes {
		for _, list := range [][]switchboard.Registration{c.Save, c.Remove} {
			for _, r := range list {
				if r.AccountID != c.AccountID || r.UserID != c.UserID {
					return badRequest("registrations", fmt.Sprintf("hold a binding of account %d user %d, not of account %d user %d",
						r.AccountID, r.UserID, c.AccountID, c.UserID))
				}
				if r.Contact == "" {
					return badRequest("contact", "is required for a registration")
				}
			}
		}
	}
	// On SQLite the statements are prepared on the one write connection before the
	// transaction takes it (preparing later would wait for that same connection), and the
	// transaction reuses them: parsing SQL was a quarter of a REGISTER's store cost.
	// PostgreSQL's driver caches prepared statements per connection by itself.
	prepared := map[string]*sql.Stmt{}
	if db.dialect == DialectSQLite {
		for _, q := range []string{sqlUpsertRegistration, sqlDeleteRegistration} {
			if st := db.stmts.prepared(ctx, db.write, q); st != nil {
				prepared[q] = st
			}
		}
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		inTx := map[string]*sql.Stmt{}
		for q, st := range prepared {
			inTx[q] = tx.StmtContext(ctx, st)
		}
		exec := func(q string, args ...any) (int64, error) {
			var res sql.Result
			var err error
			if st := inTx[q]; st != nil {
				res, err = st.ExecContext(ctx, args...)
			} else {
				res, err = db.exec(ctx, tx, q, args...)
			}
			if err != nil {
				return 0, internal("SaveRegistrationChanges", err)
			}
			n, err := res.RowsAffected()
			return n, internal("SaveRegistrationChanges", err)
		}
		for _, c := range changes {
			for _, r := range c.Remove {
				if _, err := exec(sqlDeleteRegistration, c.AccountID, c.UserID, r.DeviceID, r.Contact); err != nil {
					return err
				}
			}
			for _, r := range c.Save {
				n, err := exec(sqlUpsertRegistration, r.AccountID, r.UserID, r.DeviceID, r.Contact, toMS(r.Expires),
					r.CallID, int64(r.CSeq), r.Source, r.Transport, r.DeviceID, c.AccountID, c.UserID)
				if err != nil {
					return err
				}
				if n == 0 {
					return badRequest("device_id", fmt.Sprintf("%d is not a device of user %d", r.DeviceID, c.UserID))
				}
			}
			for _, ev := range c.Events {
				if err := db.insertEvent(ctx, tx, ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
