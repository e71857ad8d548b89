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
