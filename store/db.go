// Package store persists Switchboard's domain in SQLite (one process, one file) or
// PostgreSQL (several processes). One schema, migrations embedded per dialect, portable SQL
// on database/sql with dialect-specific SQL only where it must differ.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"switchboard"
	"switchboard/events"
)

// Dialect names as Dialect returns them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// DB is the store. It implements switchboard.Store.
type DB struct {
	dialect string
	// write takes every transaction that changes data. On SQLite it holds one connection, so
	// writers queue in the process instead of fighting over the file lock.
	write *sql.DB
	// read serves read-only queries. On SQLite it is a separate pool of query-only
	// connections that WAL lets run beside the writer; on PostgreSQL it is the same pool.
	read *sql.DB
	// stmts holds prepared statements of the pools' queries (not of transactions).
	stmts stmtCache
	// outboxStmts are the webhook outbox's hot statements (webhook.go), set on first claim.
	outboxStmts atomic.Pointer[outboxStatements]
	// deliveryWake signals the dispatcher that an event created deliveries (deliveries.go).
	deliveryWake chan struct{}
	// eventBus hears, after each commit, the accounts whose events the transaction stored
	// (the live event stream wakes on it); txEvents collects them per open transaction,
	// with the webhooks each account's events fan out to.
	eventBus *events.Bus
	txEvents sync.Map // *sql.Tx → *txEventState
	// messageWrites group-commits the writes of SMS messages (groupcommit.go).
	messageWrites groupCommit
}

// Open connects to the database named by dsn: postgres:// or postgresql:// URLs select
// PostgreSQL, anything else is a SQLite file path (an optional sqlite:// or file: prefix is
// stripped). It does not migrate: call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	db.deliveryWake = make(chan struct{}, 1)
	db.eventBus = events.NewBus()
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s database: %w", db.dialect, err)
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	return &DB{dialect: DialectPostgres, write: pool, read: pool}, nil
}

func openSQLite(dsn string) (*DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] // our own parameters below are the ones that count
	}
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	params := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)"
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so it never fails
	// half-way with SQLITE_BUSY when it first writes after reading.
	write, err := sql.Open("sqlite", path+"?"+params+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	// Create the file and switch it to WAL before the readers open it.
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", path+"?"+params+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &DB{dialect: DialectSQLite, write: write, read: read}, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if db.read != db.write {
		return db.read.PingContext(ctx)
	}
	return nil
}

// Close closes the connection pools.
func (db *DB) Close() error {
	db.stmts.close()
	if st := db.outboxStmts.Load(); st != nil {
		st.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Migrate applies the embedded migrations of the dialect that are not applied yet. On
// PostgreSQL an advisory lock keeps several starting nodes from migrating at once.
func (db *DB) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationFiles, "migrations/"+db.dialect)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, db.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", db.dialect, err)
	}
	return nil
}

// rebind turns the ? placeholders of portable SQL into PostgreSQL's $1, $2, ….
// Our SQL never has ? inside string literals.
func (db *DB) rebind(query string) string {
	if db.dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

var _ switchboard.Store = (*DB)(nil)
