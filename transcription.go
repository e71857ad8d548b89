package switchboard

import (
	"context"
	"time"
)

// EventTranscriptionFailedOver: a transcription engine failed a job and the next engine in
// the configured list took it over (canonical only; no provider has such an event).
const EventTranscriptionFailedOver = "transcription.engine.failed_over"

// TranscriptionSettings are an account's transcription switches. Enabled makes every
// recording that becomes available get a transcription job; Redact masks card numbers,
// national ids, bank accounts and emails in transcripts before they are stored or sent.
type TranscriptionSettings struct {
	AccountID int64
	Enabled   bool
	Redact    bool
	Language  string // BCP 47, e.g. "en-US": the analytics' LanguageCode and the engine's hint
}

// DefaultTranscriptionLanguage is an account's language until it sets one.
const DefaultTranscriptionLanguage = "en-US"

// Transcription job states.
const (
	TranscriptionPending   = "pending"
	TranscriptionSucceeded = "succeeded"
	TranscriptionFailed    = "failed"
)

// TranscriptionJob is one recording waiting to be (or having been) transcribed. Jobs are a
// durable queue: a worker claims a job with a lease, and a job whose worker died is claimed
// again when its lease runs out. Attempts counts claims; a completion names the attempt it
// finishes, so a job is finished once even if two workers raced on an expired lease.
type TranscriptionJob struct {
	ID            int64
	AccountID     int64
	RecordingID   string
	CallID        string
	CRMID         string
	Direction     string // the recording's: "inbound" (left = the customer) or "outbound"/"internal" (left = the user)
	BlobKey       string // the two-channel WAV in the BlobStore
	DurationMs    int64
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    time.Time
	LastError     string
	CreatedAt     time.Time
	CompletedAt   time.Time
}

// Transcript is a finished transcription of one recording. Analytics is the JSON document
// in the shape of Voice360's TRANSCRIPTION_FINISHED example (AccountId, Transcript,
// ConversationCharacteristics …), already redacted when the account redacts.
type Transcript struct {
	ID          int64
	AccountID   int64
	CallID      string
	RecordingID string
	JobID       int64
	Engine      string // the engine that produced it ("openai", "sherpa")
	Model       string
	Language    string
	TotalTokens int
	Redactions  int
	Analytics   []byte
	CreatedAt   time.Time
}

// TranscriptionStore persists the transcription settings, job queue and transcripts.
// store.DB implements it. Every method taking an accountID touches only that account's rows.
type TranscriptionStore interface {
	GetTranscriptionSettings(ctx context.Context, accountID int64) (*TranscriptionSettings, error)
	PutTranscriptionSettings(ctx context.Context, s *TranscriptionSettings) error
	// EnqueueTranscription adds a job when the account has transcription enabled,
	// unless the recording has one (a recording is transcribed once); false when not added.
	EnqueueTranscription(ctx context.Context, j *TranscriptionJob) (bool, error)
	// ClaimTranscriptionJobs leases up to limit due pending jobs, at most perAccount leased
	// per account at once (counting every node's leases), and counts the attempt.
	ClaimTranscriptionJobs(ctx context.Context, now time.Time, lease time.Duration, limit, perAccount int) ([]*TranscriptionJob, error)
	// CompleteTranscriptionJob marks the job's attempt succeeded, stores t (when not nil)
	// and the events, all in one transaction; if the attempt is no longer the job's current
	// pending one (its lease ran out and another worker took it) nothing is written and the
	// error is CONFLICT.
	CompleteTranscriptionJob(ctx context.Context, j *TranscriptionJob, t *Transcript, events ...*Event) error
	// FailTranscriptionJob ends the attempt as failed for good, with the events (the
	// transcription.finished with success false) in the same transaction; CONFLICT as above.
	FailTranscriptionJob(ctx context.Context, j *TranscriptionJob, reason string, events ...*Event) error
	// RetryTranscriptionJob releases the attempt to be claimed again at next, with the
	// reason and events (an engine failover) kept; CONFLICT as above.
	RetryTranscriptionJob(ctx context.Context, j *TranscriptionJob, next time.Time, reason string, events ...*Event) error
	// ReleaseTranscriptionLeases makes every leased job claimable at once: for a single node
	// at start, whose previous run's leases are its own.
	ReleaseTranscriptionLeases(ctx context.Context) error
	GetTranscriptionJob(ctx context.Context, accountID int64, recordingID string) (*TranscriptionJob, error)
	// GetCallTranscripts returns the call's transcripts, oldest first (a call may hold
	// several recordings); NOT_FOUND when it has none.
	GetCallTranscripts(ctx context.Context, accountID int64, callID string) ([]*Transcript, error)
}
