package store

import (
	"context"
	"database/sql"
	"net/netip"

	"switchboard"
)

func scanTrustGrant(s interface{ Scan(...any) error }) (switchboard.TrustGrant, error) {
	var g switchboard.TrustGrant
	var prefix string
	var created int64
	if err := s.Scan(&g.AccountID, &prefix, &created); err != nil {
		return g, err
	}
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return g, err
	}
	g.Prefix, g.CreatedAt = p, fromMS(created)
	return g, nil
}

// CreateTrustGrant stores an operator's grant for the account.
func (db *DB) CreateTrustGrant(ctx context.Context, g *switchboard.TrustGrant) error {
	if !g.Prefix.IsValid() {
		return switchboard.FieldError(switchboard.EBADREQUEST, "prefix", "must be an IP prefix")
	}
	g.Prefix = g.Prefix.Masked()
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, "INSERT INTO trust_grants (account_id, prefix, created_at) VALUES (?, ?, ?)",
			g.AccountID, g.Prefix.String(), toMS(t))
		switch {
		case isUniqueViolation(err):
			return conflict("prefix", g.Prefix.String()+" is already granted to this account")
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", g.AccountID)
		}
		return internal("CreateTrustGrant", err)
	})
	if err != nil {
		return err
	}
	g.CreatedAt = t
	return nil
}

// ListTrustGrants returns the account's grants, or every account's for accountID 0.
func (db *DB) ListTrustGrants(ctx context.Context, accountID int64) ([]switchboard.TrustGrant, error) {
	const q = "SELECT account_id, prefix, created_at FROM trust_grants"
	if accountID == 0 {
		return listRows(ctx, db, "ListTrustGrants", scanTrustGrant, q+" ORDER BY account_id, prefix")
	}
	return listRows(ctx, db, "ListTrustGrants", scanTrustGrant, q+" WHERE account_id = ? ORDER BY prefix", accountID)
}

// DeleteTrustGrant withdraws the account's grant of prefix.
func (db *DB) DeleteTrustGrant(ctx context.Context, accountID int64, prefix netip.Prefix) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "DELETE FROM trust_grants WHERE account_id = ? AND prefix = ?",
			accountID, prefix.Masked().String())
		if err != nil {
			return internal("DeleteTrustGrant", err)
		}
		if !ok {
			return switchboard.Errorf(switchboard.ENOTFOUND, "Account %d has no grant of %s", accountID, prefix.Masked())
		}
		return nil
	})
}
