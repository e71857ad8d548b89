package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestOpenSQLiteDSNForms checks that the spellings of a SQLite path all open the same file,
// in WAL mode, and that Open alone creates no tables (the binary migrates explicitly).
func TestOpenSQLiteDSNForms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pbx.db")
	for _, dsn := range []string{path, "file:" + path, "sqlite://" + path} {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if db.Dialect() != DialectSQLite {
			t.Fatalf("Open(%q).Dialect() = %q", dsn, db.Dialect())
		}
		var mode string
		if err := db.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		var tables int
		if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'users'").Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("Open migrated by itself (users tables: %d, %v)", tables, err)
		}
		db.Close()
	}
}

// TestSQLiteReadPoolIsReadOnly checks that a write sent to the read pool by mistake fails
// instead of competing with the writer.
func TestSQLiteReadPoolIsReadOnly(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	if _, err := db.read.ExecContext(ctx, "INSERT INTO accounts (name, created_at) VALUES ('x', 1)"); err == nil {
		t.Fatal("insert through the read pool succeeded")
	}
	if _, err := db.write.ExecContext(ctx, "INSERT INTO accounts (name, created_at) VALUES ('x', 1)"); err != nil {
		t.Fatalf("insert through the write pool: %v", err)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "pbx.db")); err == nil {
		t.Fatal("Open of a file in a missing directory succeeded")
	}
	if _, err := Open(ctx, ""); err == nil {
		t.Fatal("Open of an empty DSN succeeded")
	}
}

func TestRebind(t *testing.T) {
	pg := &DB{dialect: DialectPostgres}
	if got := pg.rebind("SELECT a FROM t WHERE x = ? AND y IN (?, ?)"); got != "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)" {
		t.Fatalf("postgres rebind = %q", got)
	}
	sq := &DB{dialect: DialectSQLite}
	if got := sq.rebind("x = ?"); got != "x = ?" {
		t.Fatalf("sqlite rebind = %q", got)
	}
}

// openMigrated opens a migrated SQLite database in a temporary directory, closed when the
// test ends.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "pbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
