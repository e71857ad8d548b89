package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
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

// Writers that queue at the same time share a transaction even on one busy core: the
// committing goroutine lets them queue before it takes a group, instead of committing the
// first alone while the others wait to run.
func TestGroupWriteSharesCommitsOnOneCore(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := context.Background()
	db := openMigrated(t)
	var g groupCommit
	const writers = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := db.groupWrite(ctx, &g, func(ctx context.Context, tx *sql.Tx) error {
				_, err := db.exec(ctx, tx, "INSERT INTO accounts (name, created_at) VALUES (?, 1)", fmt.Sprint("w", i))
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := g.groups.Load(); n > 5 {
		t.Fatalf("%d writers ready together took %d commits: want them to share a few", writers, n)
	}
}
