package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"switchboard/store"
)

// storageFlags are the flags every command that touches the database shares.
type storageFlags struct {
	dataDir string
	dbURL   string
}

func addStorageFlags(fs *flag.FlagSet) *storageFlags {
	f := &storageFlags{}
	fs.StringVar(&f.dataDir, "data", "./switchboard-data", "directory for the SQLite database, keys and demo.json")
	fs.StringVar(&f.dbURL, "db", "", "database: a postgres:// URL selects PostgreSQL; default is the SQLite file DATA/switchboard.db")
	return f
}

// dsn is the database to open: --db, or the SQLite file in the data directory.
func (f *storageFlags) dsn() string {
	if f.dbURL != "" {
		return f.dbURL
	}
	return filepath.Join(f.dataDir, "switchboard.db")
}

// describe names the database for humans without printing a password from a URL.
func (f *storageFlags) describe() string {
	d := f.dsn()
	if strings.HasPrefix(d, "postgres") {
		if i := strings.Index(d, "@"); i > 0 {
			if j := strings.Index(d, "://"); j > 0 && j < i {
				return d[:j+3] + "…@" + d[i+1:]
			}
		}
	}
	return d
}

// openStore creates the data directory, opens the database and applies migrations.
func openStore(ctx context.Context, f *storageFlags) (*store.DB, error) {
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %w", f.dataDir, err)
	}
	db, err := store.Open(ctx, f.dsn())
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", f.describe(), err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot migrate database %s: %w", f.describe(), err)
	}
	return db, nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr, "Usage: switchboard migrate [--data DIR] [--db URL]\n\nApplies the database migrations and exits. serve applies them too.\n\nFlags:\n")
	sf := addStorageFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openStore(ctx, sf)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", sf.describe())
	return nil
}
