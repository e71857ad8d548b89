package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"switchboard"
)

// querier is what *sql.DB and *sql.Tx have in common, so helpers run inside a transaction
// or on a pool alike.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writeTx runs fn in a write transaction: committed when fn returns nil, rolled back
// otherwise, so a failing change writes nothing. Every store method that changes data goes
// through it.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		db.txEvents.Delete(tx)
		return err
	}
	err = tx.Commit()
	accounts, stored := db.txEvents.LoadAndDelete(tx)
	if err != nil {
		return internal("commit", err)
	}
	if stored {
		db.eventBus.Publish(accounts.(*txEventState).accounts...) // after the commit: readers see them
	}
	return nil
}

// exec, query and queryRow run a statement on a pool through its cached prepared form, or
// directly inside a transaction.
func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	query = db.rebind(query)
	if st := db.poolStmt(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	query = db.rebind(query)
	if st := db.poolStmt(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	query = db.rebind(query)
	if st := db.poolStmt(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

func (db *DB) poolStmt(ctx context.Context, q querier, query string) *sql.Stmt {
	switch q := q.(type) {
	case *sql.DB:
		return db.stmts.prepared(ctx, q, query)
	case *sql.Tx:
		// On SQLite a statement that warmWrites prepared on the one write connection runs in
		// the transaction (which holds that connection) without being parsed again.
		// PostgreSQL's driver caches prepared statements per connection by itself.
		if db.dialect == DialectSQLite {
			if st := db.stmts.cached(db.write, query); st != nil {
				return q.StmtContext(ctx, st)
			}
		}
	}
	return nil
}

// warmWrites prepares statements that transactions run often on SQLite's write connection,
// so that they are not parsed at each transaction (parsing costs modernc's SQLite more than
// running a small statement). It must be called outside a transaction: preparing waits for
// the write connection.
func (db *DB) warmWrites(ctx context.Context, queries ...string) {
	if db.dialect != DialectSQLite {
		return
	}
	for _, q := range queries {
		db.stmts.prepared(ctx, db.write, db.rebind(q))
	}
}

// execAffected runs a statement and reports whether it changed any row.
func (db *DB) execAffected(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	res, err := db.exec(ctx, q, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// now is the store's clock: UTC, to the millisecond, as times are stored.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// toMS and fromMS convert between time.Time and the stored unix milliseconds. The zero time
// is stored as 0 (or NULL where a column is optional) and comes back as the zero time.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// nullID stores 0 ("none") as NULL, for optional references that carry a foreign key.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Owner types in the extensions table and the tables they point to.
const (
	ownerUser      = "user"
	ownerQueue     = "queue"
	ownerRingGroup = "ringgroup"
)

// Other kinds of rows that exists looks up.
const (
	kindDevice  = "device"
	kindNumber  = "number"
	kindContact = "contact"
	kindAPIKey  = "apikey"
	// kindCallFlow: call flows (callflow.go).
	kindCallFlow = "callflow"
)

// kindTables are the tables of the kinds of rows that belong to an account.
var kindTables = map[string]string{ownerUser: "users", ownerQueue: "queues", ownerRingGroup: "ring_groups",
	kindDevice: "devices", kindNumber: "numbers", kindContact: "contacts", kindAPIKey: "api_keys",
	kindCallFlow: "callflows"}

// kindWords name the kinds in messages.
var kindWords = map[string]string{ownerUser: "user", ownerQueue: "queue", ownerRingGroup: "ring group",
	kindDevice: "device", kindNumber: "number", kindContact: "contact", kindAPIKey: "API key",
	kindCallFlow: "call flow"}

// exists reports whether id is a row of the kind (ownerUser, kindDevice, …) in the account.
func (db *DB) exists(ctx context.Context, q querier, accountID int64, kind string, id int64) (bool, error) {
	var one int
	err := db.queryRow(ctx, q, "SELECT 1 FROM "+kindTables[kind]+" WHERE account_id = ? AND id = ?",
		accountID, id).Scan(&one)
	if noRows(err) {
		return false, nil
	}
	return err == nil, internal("exists", err)
}

// checkRef answers EBADREQUEST naming field unless id is a user, queue or ring group
// (ownerType) of the account.
func (db *DB) checkRef(ctx context.Context, q querier, accountID int64, ownerType string, id int64, field string) error {
	ok, err := db.exists(ctx, q, accountID, ownerType, id)
	if err == nil && !ok {
		return badRef(field, kindWords[ownerType], id)
	}
	return err
}

// checkTarget checks that a target naming a user, queue, ring group or call flow names one of the account.
func (db *DB) checkTarget(ctx context.Context, q querier, accountID int64, t switchboard.Target, field string) error {
	switch t.Type {
	case switchboard.TargetUser:
		return db.checkRef(ctx, q, accountID, ownerUser, t.ID, field)
	case switchboard.TargetQueue:
		return db.checkRef(ctx, q, accountID, ownerQueue, t.ID, field)
	case switchboard.TargetRingGroup:
		return db.checkRef(ctx, q, accountID, ownerRingGroup, t.ID, field)
	case switchboard.TargetCallFlow:
		return db.checkRef(ctx, q, accountID, kindCallFlow, t.ID, field)
	}
	return nil
}

// clearTargetsTo points every number, queue overflow and ring group fallback of the account
// that sends calls to the deleted user, queue or ring group at nothing instead, so that no
// route leads to a row that is gone.
func (db *DB) clearTargetsTo(ctx context.Context, tx *sql.Tx, accountID int64, t switchboard.TargetType, id int64) error {
	// A flow node naming it cannot be pointed at nothing: the delete is refused instead.
	if err := db.refuseIfFlowsName(ctx, tx, accountID, flowRefKindOf[t], id); err != nil {
		return err
	}
	stmts := []string{
		"UPDATE numbers SET target_type = '', target_id = 0, target_number = '' WHERE account_id = ? AND target_type = ? AND target_id = ?",
		"UPDATE queues SET overflow_type = '', overflow_id = 0, overflow_number = '' WHERE account_id = ? AND overflow_type = ? AND overflow_id = ?",
		"UPDATE ring_groups SET fallback_type = '', fallback_id = 0, fallback_number = '' WHERE account_id = ? AND fallback_type = ? AND fallback_id = ?",
	}
	for _, s := range stmts {
		if _, err := db.exec(ctx, tx, s, accountID, string(t), id); err != nil {
			return internal("clearTargets", err)
		}
	}
	return nil
}

// claimExtension gives the extension to the user, queue or ring group, releasing the one it
// had. Extensions are unique per account across all three; the key of the extensions table
// enforces it, and the lookup first only makes the message say who has it.
func (db *DB) claimExtension(ctx context.Context, tx *sql.Tx, accountID int64, extension, ownerType string, ownerID int64, field string) error {
	var holderType string
	var holderID int64
	err := db.queryRow(ctx, tx, "SELECT owner_type, owner_id FROM extensions WHERE account_id = ? AND extension = ?",
		accountID, extension).Scan(&holderType, &holderID)
	switch {
	case err == nil && holderType == ownerType && holderID == ownerID:
		return nil // already its own
	case err == nil:
		return conflict(field, fmt.Sprintf("%s is already used by %s %d", extension, kindWords[holderType], holderID))
	case !noRows(err):
		return internal("claimExtension", err)
	}
	if _, err := db.exec(ctx, tx, "DELETE FROM extensions WHERE owner_type = ? AND owner_id = ?", ownerType, ownerID); err != nil {
		return internal("claimExtension", err)
	}
	_, err = db.exec(ctx, tx, "INSERT INTO extensions (account_id, extension, owner_type, owner_id) VALUES (?, ?, ?, ?)",
		accountID, extension, ownerType, ownerID)
	if isUniqueViolation(err) {
		return conflict(field, extension+" is already used by another user, queue or ring group")
	}
	return internal("claimExtension", err)
}

// ExtensionTarget is what the account's extension reaches (its owner in the extensions
// table); a zero Target when nothing has it.
func (db *DB) ExtensionTarget(ctx context.Context, accountID int64, extension string) (switchboard.Target, error) {
	var ownerType string
	var ownerID int64
	err := db.queryRow(ctx, db.read, "SELECT owner_type, owner_id FROM extensions WHERE account_id = ? AND extension = ?",
		accountID, extension).Scan(&ownerType, &ownerID)
	if noRows(err) {
		return switchboard.Target{}, nil
	}
	if err != nil {
		return switchboard.Target{}, internal("ExtensionTarget", err)
	}
	t, ok := extensionTargets[ownerType]
	if !ok {
		return switchboard.Target{}, internal("ExtensionTarget", fmt.Errorf("extension %s has an unknown owner type %q", extension, ownerType))
	}
	return switchboard.Target{Type: t, ID: ownerID}, nil
}

// extensionTargets: the target each owner type of the extensions table is.
var extensionTargets = map[string]switchboard.TargetType{ownerUser: switchboard.TargetUser, ownerQueue: switchboard.TargetQueue,
	ownerRingGroup: switchboard.TargetRingGroup, ownerConference: switchboard.TargetConference}

// releaseExtension frees the extension of a deleted user, queue or ring group.
func (db *DB) releaseExtension(ctx context.Context, tx *sql.Tx, ownerType string, ownerID int64) error {
	_, err := db.exec(ctx, tx, "DELETE FROM extensions WHERE owner_type = ? AND owner_id = ?", ownerType, ownerID)
	return internal("releaseExtension", err)
}
