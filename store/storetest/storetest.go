// Package storetest gives tests a fresh, migrated store on SQLite or PostgreSQL, and holds the
// conformance suite (Run) that every dialect of store.DB must pass.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"switchboard/store"
)

// PostgresURLEnv names the environment variable with the URL of the PostgreSQL database
// tests may use, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresURLEnv = "SWITCHBOARD_TEST_POSTGRES_URL"

// NewSQLite returns a migrated store on a new SQLite file in t.TempDir(), closed when the
// test ends.
func NewSQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite store: %v", err)
	}
	return db
}

// NewPostgres returns a migrated store in a new schema of the database named by
// SWITCHBOARD_TEST_POSTGRES_URL; the schema is dropped when the test ends. The test is
// skipped when the variable is unset, except under CI (CI set, as CI services set it),
// where a missing database must fail the run rather than pass it with half the suite unrun.
func NewPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, _ := NewPostgresURL(t)
	return db
}

// NewPostgresURL is NewPostgres that also returns the URL of the store's schema, for a test
// that needs connections of its own (transactions the store would not leave open).
func NewPostgresURL(t testing.TB) (*store.DB, string) {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" && os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL tests cannot run under CI without %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresURLEnv)
	}
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresURLEnv)
	}
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	admin, err := sql.Open("pgx", base) // the driver store registers
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresURLEnv, err)
	}
	defer admin.Close()
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres store in schema %s: %v", schema, err)
	}
	return db, u.String()
}

// Dialects returns a constructor of a fresh store for each dialect, by name, so a test can
// run against both:
//
//	for name, open := range storetest.Dialects(t) {
//		t.Run(name, func(t *testing.T) { db := open(t); … })
//	}
//
// The PostgreSQL one skips its test when SWITCHBOARD_TEST_POSTGRES_URL is unset (and fails
// it under CI).
func Dialects(t testing.TB) map[string]func(*testing.T) *store.DB {
	t.Helper()
	return map[string]func(*testing.T) *store.DB{
		store.DialectSQLite:   func(t *testing.T) *store.DB { return NewSQLite(t) },
		store.DialectPostgres: func(t *testing.T) *store.DB { return NewPostgres(t) },
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
