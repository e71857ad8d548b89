package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// An idle dispatcher's claim (nothing due) does not wait for SQLite's single writer: while a
// long write transaction holds it, the claim still answers at once, with nothing.
func TestIdleClaimDoesNotWaitForTheWriter(t *testing.T) {
	db := openMigrated(t)
	// A running dispatcher has prepared its statements (on the writer) long before.
	if _, err := db.ClaimDeliveries(context.Background(), time.Now(), time.Minute, 10, 5); err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.writeTx(context.Background(), func(*sql.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	claimed, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 10, 5)
	close(release)
	if err != nil || len(claimed) != 0 {
		t.Fatalf("an idle claim while another write held the writer: %d claimed, %v", len(claimed), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
