package transcribe

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// queueAccount makes an account with transcription on and n jobs queued for it.
func queueAccount(t *testing.T, db *store.DB, n int) int64 {
	t.Helper()
	ctx := context.Background()
	a := &switchboard.Account{Name: "Q"}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: a.ID, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		rec := &switchboard.Recording{ID: switchboard.NewRecordingID(), AccountID: a.ID, CallID: "1.1", BlobKey: "k.wav",
			Status: switchboard.RecordingAvailable}
		added, err := db.EnqueueTranscription(ctx, JobFor(rec))
		if err != nil || !added {
			t.Fatalf("enqueue: %v %v", added, err)
		}
		if again, err := db.EnqueueTranscription(ctx, JobFor(rec)); err != nil || again {
			t.Fatalf("a recording's second job was added: %v %v", again, err)
		}
	}
	return a.ID
}

// Claimers side by side (on PostgreSQL: SKIP LOCKED) never take the same job, and an
// account never has more than PerAccount jobs leased.
func TestQueueClaimsEachJobOnceWithinTheAccountBound(t *testing.T) {
	for name, open := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			a := queueAccount(t, db, 6)
			b := queueAccount(t, db, 6)
			now := time.Now()
			var mu sync.Mutex
			seen := map[int64]int{}
			perAccount := map[int64]int{}
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					jobs, err := db.ClaimTranscriptionJobs(ctx, now, time.Minute, 10, 2)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for _, j := range jobs {
						seen[j.ID]++
						perAccount[j.AccountID]++
					}
				}()
			}
			wg.Wait()
			for id, n := range seen {
				if n != 1 {
					t.Errorf("job %d claimed %d times", id, n)
				}
			}
			// On SQLite the claims are serialised and the bound is exact; across PostgreSQL
			// claimers running at the same instant it is a bound per claim (like the outbox).
			if name == store.DialectSQLite && (perAccount[a] != 2 || perAccount[b] != 2) {
				t.Errorf("leased per account %v, want 2 each", perAccount)
			}
			if perAccount[a] == 0 || perAccount[b] == 0 {
				t.Errorf("an account got nothing: %v", perAccount)
			}
		})
	}
}

// A worker whose lease ran out and whose job another worker claimed writes nothing: the
// job ends once.
func TestStaleAttemptWritesNothing(t *testing.T) {
	for name, open := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			acct := queueAccount(t, db, 1)
			now := time.Now()
			first, err := db.ClaimTranscriptionJobs(ctx, now, time.Minute, 1, 1)
			if err != nil || len(first) != 1 {
				t.Fatalf("claim: %v %v", first, err)
			}
			if again, _ := db.ClaimTranscriptionJobs(ctx, now, time.Minute, 1, 1); len(again) != 0 {
				t.Fatalf("a leased job was claimed again: %v", again)
			}
			second, err := db.ClaimTranscriptionJobs(ctx, now.Add(2*time.Minute), time.Minute, 1, 1)
			if err != nil || len(second) != 1 || second[0].Attempts != 2 {
				t.Fatalf("claim after the lease ran out: %v %v", second, err)
			}
			ev := switchboard.NewEvent(acct, switchboard.EventTranscriptionFinished, map[string]any{"success": true})
			err = db.CompleteTranscriptionJob(ctx, first[0], &switchboard.Transcript{Engine: "openai", Analytics: []byte("{}")}, ev)
			if switchboard.ErrorCode(err) != switchboard.ECONFLICT {
				t.Fatalf("stale completion: %v, want CONFLICT", err)
			}
			if err := db.FailTranscriptionJob(ctx, first[0], "late"); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
				t.Fatalf("stale failure: %v, want CONFLICT", err)
			}
			ev2 := switchboard.NewEvent(acct, switchboard.EventTranscriptionFinished, map[string]any{"success": true})
			if err := db.CompleteTranscriptionJob(ctx, second[0], &switchboard.Transcript{Engine: "openai", Analytics: []byte("{}")}, ev2); err != nil {
				t.Fatal(err)
			}
			if n := len(eventsNamed(t, db, acct, switchboard.EventTranscriptionFinished)); n != 1 {
				t.Errorf("%d events, want 1", n)
			}
			if _, err := db.GetCallTranscripts(ctx, acct, "1.1"); err != nil {
				t.Error(err)
			}
			// Retry releases the attempt to a later time.
			j, _ := db.GetTranscriptionJob(ctx, acct, second[0].RecordingID)
			if j.Status != switchboard.TranscriptionSucceeded {
				t.Errorf("job %+v", j)
			}
		})
	}
}
