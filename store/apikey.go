package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"switchboard"
)

const apiKeyColumns = "id, account_id, kind, user_id, name, prefix, hash, allowed_ips, created_at, revoked_at"

func scanAPIKey(s interface{ Scan(...any) error }) (*switchboard.APIKey, error) {
	var k switchboard.APIKey
	var userID, revoked sql.NullInt64
	var allowed string
	var created int64
	if err := s.Scan(&k.ID, &k.AccountID, &k.Kind, &userID, &k.Name, &k.Prefix, &k.Hash, &allowed, &created, &revoked); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(allowed), &k.AllowedIPs); err != nil {
		return nil, err
	}
	if k.AllowedIPs == nil {
		k.AllowedIPs = []string{}
	}
	k.UserID = userID.Int64
	k.CreatedAt, k.RevokedAt = fromMS(created), fromMS(revoked.Int64)
	return &k, nil
}

// CreateAPIKey stores a new key: a user key must name a user of the account, a developer
// key none. Only the key's hash is stored.
func (db *DB) CreateAPIKey(ctx context.Context, k *switchboard.APIKey) error {
	switch {
	case k.Kind != switchboard.KeyUser && k.Kind != switchboard.KeyDeveloper:
		return badRequest("kind", "must be user or developer")
	case k.Kind == switchboard.KeyUser && k.UserID == 0:
		return badRequest("user_id", "is required for a user key")
	case k.Kind == switchboard.KeyDeveloper && k.UserID != 0:
		return badRequest("user_id", "must be empty for a developer key")
	case len(k.Hash) != 64:
		return badRequest("hash", "must be the hex SHA-256 of the key")
	case len(k.Name) > 100:
		return badRequest("name", "must be at most 100 characters")
	}
	allowed := k.AllowedIPs
	if allowed == nil {
		allowed = []string{}
	}
	allowedJSON, err := json.Marshal(allowed)
	if err != nil {
		return internal("CreateAPIKey", err)
	}
	t := now()
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		if k.UserID != 0 {
			if err := db.checkRef(ctx, tx, k.AccountID, ownerUser, k.UserID, "user_id"); err != nil {
				return err
			}
		}
		err := db.queryRow(ctx, tx, `INSERT INTO api_keys (account_id, kind, user_id, name, prefix, hash, allowed_ips, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			k.AccountID, string(k.Kind), nullID(k.UserID), k.Name, k.Prefix, k.Hash, string(allowedJSON), toMS(t)).Scan(&k.ID)
		if isUniqueViolation(err) {
			return conflict("key", "is already stored")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", k.AccountID)
		}
		return internal("CreateAPIKey", err)
	})
	if err != nil {
		k.ID = 0
		return err
	}
	k.CreatedAt, k.RevokedAt = t, fromMS(0)
	return nil
}

// GetAPIKeyByHash returns the key with the hash, whatever its account, revoked keys
// included (RevokedAt tells): authentication's lookup, one indexed query on the read pool.
// The hash is of a key with over 200 random bits, so finding it by index leaks nothing a
// constant-time compare would protect.
func (db *DB) GetAPIKeyByHash(ctx context.Context, hash string) (*switchboard.APIKey, error) {
	k, err := scanAPIKey(db.queryRow(ctx, db.read, "SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = ?", hash))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No such API key")
	}
	return k, internal("GetAPIKeyByHash", err)
}

// ListAPIKeys returns the account's keys by id, revoked keys included.
func (db *DB) ListAPIKeys(ctx context.Context, accountID int64) ([]*switchboard.APIKey, error) {
	return listRows(ctx, db, "ListAPIKeys", scanAPIKey, "SELECT "+apiKeyColumns+" FROM api_keys WHERE account_id = ? ORDER BY id", accountID)
}

// PageAPIKeys returns one page of the account's API keys by id, and whether more follow.
func (db *DB) PageAPIKeys(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.APIKey, bool, error) {
	return pageRows(ctx, db, "PageAPIKeys", scanAPIKey, p, "SELECT "+apiKeyColumns+" FROM api_keys WHERE account_id = ?", accountID)
}

// RevokeAPIKey revokes the account's key with the id; revoking a revoked key keeps its
// first revocation time.
func (db *DB) RevokeAPIKey(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, kindAPIKey, id); err != nil || !ok {
			return orNotFound(err, "API key", id)
		}
		_, err := db.exec(ctx, tx, "UPDATE api_keys SET revoked_at = ? WHERE account_id = ? AND id = ? AND revoked_at IS NULL",
			toMS(now()), accountID, id)
		return internal("RevokeAPIKey", err)
	})
}
