package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"switchboard"
)

// notFound is the error of a missing row; what names the thing ("user", "queue").
func notFound(what string, id int64) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No %s with id %d in this account", what, id)
}

// orNotFound returns err when there is one, else the not-found error: for the
// `if ok, err := db.exists(...); err != nil || !ok` pattern.
func orNotFound(err error, what string, id int64) error {
	if err != nil {
		return err
	}
	return notFound(what, id)
}

// conflict is the error of a unique value already taken; field is the API field name.
func conflict(field, problem string) error {
	return switchboard.FieldError(switchboard.ECONFLICT, field, problem)
}

// badRef is the error of a reference to a user, queue or ring group not in the account.
func badRef(field, what string, id int64) error {
	problem := fmt.Sprintf("no %s with id %d in this account", what, id)
	err := switchboard.FieldError(switchboard.EBADREQUEST, field, problem)
	err.Message = "The " + field + " refers to " + problem
	return err
}

// badRequest is the error of a value the store cannot take, naming the field.
func badRequest(field, problem string) error {
	return switchboard.FieldError(switchboard.EBADREQUEST, field, problem)
}

// internal wraps a database failure: it is logged, never shown to a client.
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *switchboard.Error
	if errors.As(err, &e) {
		return err // already says what went wrong
	}
	return &switchboard.Error{Code: switchboard.EINTERNAL, Message: "database error", Op: "store." + op, Err: err}
}

// isUniqueViolation reports whether err is a unique or primary key violation of either driver.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign key violation of either driver.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// noRows reports whether err says a single-row query found nothing.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
