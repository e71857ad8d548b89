package transcribe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/store"
)

// Environment of the child process of TestJobSurvivesAKill.
const (
	childDB    = "TRANSCRIBE_TEST_CHILD_DB"
	childData  = "TRANSCRIBE_TEST_CHILD_DATA"
	childURL   = "TRANSCRIBE_TEST_CHILD_URL"
	childModel = "openai/whisper-large-v3"
)

// TestChildTranscriber is the server process TestJobSurvivesAKill kills: it runs the queue
// on the parent's database until it is killed. It does nothing in a normal run.
func TestChildTranscriber(t *testing.T) {
	dsn := os.Getenv(childDB)
	if dsn == "" {
		t.Skip("runs only as the child of TestJobSurvivesAKill")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDir(os.Getenv(childData))
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: db, Blobs: blobs, SingleNode: true,
		Engines: []Engine{&OpenAI{BaseURL: os.Getenv(childURL), ModelName: childModel}}}
	svc.Run(ctx) // until SIGKILL
}

func TestJobSurvivesAKill(t *testing.T) {
	if os.Getenv(childDB) != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	dsn := filepath.Join(dir, "switchboard.db")
	dataDir := filepath.Join(dir, "data")
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, db, dataDir)
	rec := r.record(t, "1704067200.77")
	hang := make(chan string, 1)
	r.fake.Set(func() { r.fake.Hang = hang })

	// The first server process claims the job and is killed while the engine works on it.
	child := exec.Command(os.Args[0], "-test.run=^TestChildTranscriber$", "-test.count=1")
	child.Env = append(os.Environ(), childDB+"="+dsn, childData+"="+dataDir, childURL+"="+r.fake.URL())
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hang:
	case <-time.After(time.Minute):
		child.Process.Kill()
		t.Fatal("the child never sent the recording to the engine")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no shutdown path runs
		t.Fatal(err)
	}
	child.Wait()
	job, err := db.GetTranscriptionJob(ctx, r.acct, rec.ID)
	if err != nil || job.Status != switchboard.TranscriptionPending || job.Attempts != 1 || job.LeaseUntil.IsZero() {
		t.Fatalf("after the kill: job %+v, %v; want pending, leased, one attempt", job, err)
	}
	r.fake.Set(func() { r.fake.Hang = nil })

	// The next start on the same database finishes it.
	r.run(t)
	tstest.WaitFor(t, "the job to complete after the restart", func() bool {
		j, err := db.GetTranscriptionJob(ctx, r.acct, rec.ID)
		return err == nil && j.Status == switchboard.TranscriptionSucceeded
	})
	requests := len(r.fake.Requests())
	// Nothing more happens: no second transcript, no second event, no more engine calls.
	tstest.Never(t, time.Second, "a second transcription", func() bool {
		return len(r.fake.Requests()) != requests
	})
	if n := len(eventsNamed(t, db, r.acct, switchboard.EventTranscriptionFinished)); n != 1 {
		t.Errorf("%d transcription.finished events, want exactly 1", n)
	}
	ts, err := db.GetCallTranscripts(ctx, r.acct, "1704067200.77")
	if err != nil || len(ts) != 1 {
		t.Errorf("transcripts %d, %v; want exactly 1", len(ts), err)
	}
	job, _ = db.GetTranscriptionJob(ctx, r.acct, rec.ID)
	if job.Attempts != 2 {
		t.Errorf("job took %d attempts, want 2 (the killed one and the one after the restart)", job.Attempts)
	}
}
