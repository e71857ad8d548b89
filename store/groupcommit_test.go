package store

import (
	"context"
	"database/sql"
	"testing"
)

// A write the group commit has taken is written even when its caller goes away meanwhile:
// its cancellation would otherwise interrupt the shared transaction's statements.
func TestGroupWriteTakenIsWrittenAfterItsCallerLeft(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	var g groupCommit
	callerCtx, leave := context.WithCancel(ctx)
	defer leave()
	err := db.groupWrite(callerCtx, &g, func(ctx context.Context, tx *sql.Tx) error {
		leave() // the caller goes away while its write runs
		_, err := db.exec(ctx, tx, "INSERT INTO accounts (name, created_at) VALUES ('left', 1)")
		return err
	})
	if err != nil {
		t.Fatalf("the write of a caller that left: %v", err)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM accounts WHERE name = 'left'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows written (%v), want 1", n, err)
	}
	// A caller that left before its write was taken is not written.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.groupWrite(gone, &g, func(ctx context.Context, tx *sql.Tx) error {
		t.Error("a write whose caller had left ran")
		return nil
	}); err == nil {
		t.Fatal("groupWrite of a caller that had left returned no error")
	}
}
