package store

import (
	"context"
	"database/sql"

	"switchboard"
)

// updateFunc is a read-modify-write of one row in one write transaction: load reads the row
// (locked, see lockedRow), change alters it, and save writes it back once it is valid. An
// error of any step writes nothing. Two concurrent changes of one row therefore apply one
// after the other, each to what the other wrote, and neither is lost. change must not write
// through the store: on SQLite the one writer connection is this transaction's.
func updateFunc[T interface{ Validate() error }](ctx context.Context, db *DB, load func(tx *sql.Tx) (T, error),
	change func(T) error, save func(tx *sql.Tx, x T) error) (T, error) {
	var out T
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		x, err := load(tx)
		if err != nil {
			return err
		}
		if err := change(x); err != nil {
			return err
		}
		if err := x.Validate(); err != nil {
			return err
		}
		if err := save(tx, x); err != nil {
			return err
		}
		out = x
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// replace saves every field of x through update, the row's read-modify-write (an
// Update…Func), and sets x to the row as saved: the plain Update methods are this.
func replace[T any, P interface {
	*T
	Validate() error
}](x P, update func(change func(P) error) (P, error)) error {
	if err := x.Validate(); err != nil {
		return err
	}
	saved, err := update(func(row P) error {
		*row = *x
		return nil
	})
	if err != nil {
		return err
	}
	*x = *saved
	return nil
}

// lockedRow reads one row for a read-modify-write inside tx. On PostgreSQL FOR UPDATE makes
// a second writer of the row wait until this transaction ends; SQLite write transactions
// run one at a time already (one writer connection, BEGIN IMMEDIATE). A missing row is
// NOT_FOUND naming kind and id.
func lockedRow[T any](ctx context.Context, db *DB, tx *sql.Tx, kind string, id int64,
	scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) (T, error) {
	if db.dialect == DialectPostgres {
		query += " FOR UPDATE"
	}
	return oneRow(ctx, db, tx, kind, id, scan, query, args...)
}

// oneRow reads the row of the kind with the id through q; none is NOT_FOUND naming them.
func oneRow[T any](ctx context.Context, db *DB, q querier, kind string, id int64,
	scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) (T, error) {
	x, err := scan(db.queryRow(ctx, q, query, args...))
	if noRows(err) {
		var zero T
		return zero, notFound(kind, id)
	}
	return x, internal("read "+kind, err)
}

// listRows reads every row a query on the read pool returns; none is an empty list, not nil.
func listRows[T any](ctx context.Context, db *DB, op string, scan func(interface{ Scan(...any) error }) (T, error),
	query string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, db.read, query, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, x)
	}
	return out, internal(op, rows.Err())
}

// pageRows is listRows for one page of a list in id order: query selects the rows (its
// WHERE clause ends without ORDER BY), and the page's bounds go into the SQL, so the
// database reads only the page. It asks for one row more than the page holds, and reports
// whether there was one.
func pageRows[T any](ctx context.Context, db *DB, op string, scan func(interface{ Scan(...any) error }) (T, error),
	p switchboard.Page, query string, args ...any) (rows []T, more bool, err error) {
	return pageWhere(ctx, db, op, scan, p, query+" AND id > ?", "id", append(args, p.After)...)
}

// pageRowsBy is pageRows for a list in (keyCol, idCol) order — users by extension, with the
// id breaking ties: the page starts after the row (p.AfterKey, p.After), a keyset condition
// in the SQL, so it stays right while rows come and go, however deep the client goes.
func pageRowsBy[T any](ctx context.Context, db *DB, op string, scan func(interface{ Scan(...any) error }) (T, error),
	p switchboard.Page, keyCol, idCol, query string, args ...any) (rows []T, more bool, err error) {
	cond := " AND (" + keyCol + " > ? OR (" + keyCol + " = ? AND " + idCol + " > ?))"
	return pageWhere(ctx, db, op, scan, p, query+cond, keyCol+", "+idCol, append(args, p.AfterKey, p.AfterKey, p.After)...)
}

// pageWhere reads the page of query (whose WHERE clause already holds the cursor's
// condition) in the order given, one row more than the page to tell whether more follow.
func pageWhere[T any](ctx context.Context, db *DB, op string, scan func(interface{ Scan(...any) error }) (T, error),
	p switchboard.Page, query, order string, args ...any) (rows []T, more bool, err error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	size := p.Size()
	args = append(args, size+1, p.Offset)
	rows, err = listRows(ctx, db, op, scan, query+" ORDER BY "+order+" LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, false, err
	}
	if len(rows) > size {
		return rows[:size], true, nil
	}
	return rows, false, nil
}
