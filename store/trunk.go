package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"switchboard"
)

const trunkColumns = `id, account_id, name, host, port, transport, username, password, inbound_addresses,
	caller_id_number, allow_user_caller_id, created_at, updated_at`

func scanTrunk(s interface{ Scan(...any) error }) (*switchboard.Trunk, error) {
	var t switchboard.Trunk
	var addrs string
	var created, updated int64
	err := s.Scan(&t.ID, &t.AccountID, &t.Name, &t.Host, &t.Port, &t.Transport, &t.Username, &t.SealedPassword,
		&addrs, &t.CallerIDNumber, &t.AllowUserCallerID, &created, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(addrs), &t.InboundAddresses); err != nil {
		return nil, err
	}
	if len(t.SealedPassword) == 0 {
		t.SealedPassword = nil
	}
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return &t, nil
}

func inboundJSON(addrs []string) string {
	if addrs == nil {
		addrs = []string{}
	}
	b, _ := json.Marshal(addrs) // a []string always marshals
	return string(b)
}

// CreateTrunk stores a new trunk of the account.
func (db *DB) CreateTrunk(ctx context.Context, t *switchboard.Trunk) error {
	t.ApplyDefaults()
	if err := t.Validate(); err != nil {
		return err
	}
	ts := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		err := db.queryRow(ctx, tx, `INSERT INTO trunks (account_id, name, host, port, transport, username, password,
			inbound_addresses, caller_id_number, allow_user_caller_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.AccountID, t.Name, t.Host, t.Port, t.Transport, t.Username, t.SealedPassword,
			inboundJSON(t.InboundAddresses), t.CallerIDNumber, t.AllowUserCallerID, toMS(ts), toMS(ts)).Scan(&t.ID)
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", t.AccountID)
		}
		return internal("CreateTrunk", err)
	})
	if err != nil {
		t.ID = 0
		return err
	}
	t.CreatedAt, t.UpdatedAt = ts, ts
	return nil
}

// GetTrunk returns the account's trunk with the id.
func (db *DB) GetTrunk(ctx context.Context, accountID, id int64) (*switchboard.Trunk, error) {
	return oneRow(ctx, db, db.read, "trunk", id, scanTrunk, "SELECT "+trunkColumns+" FROM trunks WHERE account_id = ? AND id = ?", accountID, id)
}

// ListTrunks returns the account's trunks by id.
func (db *DB) ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error) {
	return db.listTrunks(ctx, "SELECT "+trunkColumns+" FROM trunks WHERE account_id = ? ORDER BY id", accountID)
}

// PageTrunks returns one page of the account's trunks by id, and whether more follow.
func (db *DB) PageTrunks(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Trunk, bool, error) {
	return pageRows(ctx, db, "PageTrunks", scanTrunk, p, "SELECT "+trunkColumns+" FROM trunks WHERE account_id = ?", accountID)
}

// ListAllTrunks returns the trunks of every account, for matching the source of a call.
func (db *DB) ListAllTrunks(ctx context.Context) ([]*switchboard.Trunk, error) {
	return db.listTrunks(ctx, "SELECT "+trunkColumns+" FROM trunks ORDER BY id")
}

func (db *DB) listTrunks(ctx context.Context, query string, args ...any) ([]*switchboard.Trunk, error) {
	return listRows(ctx, db, "ListTrunks", scanTrunk, query, args...)
}

// UpdateTrunk replaces the trunk's fields; a nil SealedPassword keeps the stored password.
func (db *DB) UpdateTrunk(ctx context.Context, t *switchboard.Trunk) error {
	t.ApplyDefaults()
	saved, err := db.UpdateTrunkFunc(ctx, t.AccountID, t.ID, func(row *switchboard.Trunk) error {
		stored := row.SealedPassword
		*row = *t
		if row.SealedPassword == nil {
			row.SealedPassword = stored
		}
		return nil
	})
	if err != nil {
		return err
	}
	*t = *saved
	return nil
}

// UpdateTrunkFunc changes the account's trunk with change in one write transaction (see
// updateFunc) and returns it as saved. The trunk change sees carries its stored sealed
// password.
func (db *DB) UpdateTrunkFunc(ctx context.Context, accountID, id int64, change func(*switchboard.Trunk) error) (*switchboard.Trunk, error) {
	load := func(tx *sql.Tx) (*switchboard.Trunk, error) {
		return lockedRow(ctx, db, tx, "trunk", id, scanTrunk, "SELECT "+trunkColumns+" FROM trunks WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, t *switchboard.Trunk) error { return db.saveTrunk(ctx, tx, t) })
}

// saveTrunk writes every field of the valid trunk in tx.
func (db *DB) saveTrunk(ctx context.Context, tx *sql.Tx, t *switchboard.Trunk) error {
	if t.Username == "" {
		t.SealedPassword = nil // no username, no challenge to answer: keep no password
	}
	ts := now()
	_, err := db.exec(ctx, tx, `UPDATE trunks SET name = ?, host = ?, port = ?, transport = ?, username = ?, password = ?,
		inbound_addresses = ?, caller_id_number = ?, allow_user_caller_id = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		t.Name, t.Host, t.Port, t.Transport, t.Username, t.SealedPassword, inboundJSON(t.InboundAddresses),
		t.CallerIDNumber, t.AllowUserCallerID, toMS(ts), t.AccountID, t.ID)
	if err != nil {
		return internal("UpdateTrunk", err)
	}
	t.UpdatedAt = ts
	return nil
}

// DeleteTrunk removes the account's trunk.
func (db *DB) DeleteTrunk(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, "DELETE FROM trunks WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return internal("DeleteTrunk", err)
		}
		if !ok {
			return notFound("trunk", id)
		}
		return nil
	})
}
