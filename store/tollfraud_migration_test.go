package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pressly/goose/v3"

	"switchboard"
)

// Migration 00009 keeps accounts that exist when it runs calling every country ("*"), while
// an account created afterwards calls only its own country until it allows others.
func TestTollFraudMigrationKeepsExistingAccountsCalling(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys, err := fs.Sub(migrationFiles, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, "INSERT INTO accounts (id, name, public_endpoints, created_at) VALUES (7, 'Old', false, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := db.GetAccount(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(old.AllowedCountries, []string{"*"}) || !old.AllowsCountry("44") || old.HomeCountry() != "1" {
		t.Errorf("existing account after the migration: allowed %q, home %q; want every country", old.AllowedCountries, old.HomeCountry())
	}
	fresh := &switchboard.Account{Name: "New"}
	if err := db.CreateAccount(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetAccount(ctx, fresh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AllowedCountries) != 0 || got.AllowsCountry("44") || !got.AllowsCountry("1") {
		t.Errorf("new account: allowed %q; want its own country only", got.AllowedCountries)
	}
}
