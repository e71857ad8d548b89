package switchboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Recording statuses: being written while the call runs, stored and downloadable, or lost
// (Error says why; recording.failed told the account).
const (
	RecordingActive    = "recording"
	RecordingAvailable = "available"
	RecordingFailed    = "failed"
)

// EventRecordingFailed: a recording could not be stored (data: recording_id, call_id,
// reason). recording.available is EventRecordingAvailable (event.go).
const EventRecordingFailed = "recording.failed"

// Recording is one call's recording: a two-channel 8 kHz 16-bit WAV (left = the caller,
// right = the other party), stored in the recordings' BlobStore under BlobKey.
type Recording struct {
	ID         string // "rec_" + 32 hex
	AccountID  int64
	CallID     string // the call's uniqueid
	UserID     int64  // the user of the call (0 if none)
	QueueID    int64
	Direction  string // "inbound" / "outbound" / "internal" (as the call record)
	Status     string
	BlobKey    string // RecordingBlobKey(acct, started, id)
	Size       int64
	DurationMs int64
	PausedMs   int64 // total time paused (silence in the file)
	StartedAt  time.Time
	EndedAt    time.Time
	Error      string // why it failed
}

// Recording policy values (users, queues, numbers: field "recording"; account default
// "recording_default"). "" on a user, queue or number means "as the account says".
const (
	RecordNone     = "none"
	RecordInbound  = "inbound"
	RecordOutbound = "outbound"
	RecordAll      = "all"
)

// ValidRecordingPolicy reports whether p is a policy value; "" (inherit) is allowed when
// inherit is true.
func ValidRecordingPolicy(p string, inherit bool) bool {
	switch p {
	case RecordNone, RecordInbound, RecordOutbound, RecordAll:
		return true
	case "":
		return inherit
	}
	return false
}

// recordingPolicyProblem is the validation message of a policy field.
const recordingPolicyProblem = `must be "none", "inbound", "outbound" or "all"`

// RecordingPolicyProblem is the validation message of a policy field that may inherit.
const RecordingPolicyProblem = `must be "none", "inbound", "outbound", "all", or "" (as the account says)`

// RecordingPolicyCovers reports whether the policy records a call of the direction
// ("inbound", "outbound", "internal"; internal calls count as both ways).
func RecordingPolicyCovers(policy, direction string) bool {
	switch policy {
	case RecordAll:
		return true
	case RecordInbound:
		return direction == "inbound" || direction == "internal"
	case RecordOutbound:
		return direction == "outbound" || direction == "internal"
	}
	return false
}

// Bounds of an account's recording retention (days; 0 = keep for ever).
const MaxRecordingRetentionDays = 3650

// NewRecordingID returns a fresh id: "rec_" and 32 hex digits.
func NewRecordingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "rec_" + hex.EncodeToString(b[:])
}

var recordingIDRe = regexp.MustCompile(`^rec_[0-9a-f]{32}$`)

// ValidRecordingID reports whether id has the form of a recording id.
func ValidRecordingID(id string) bool { return recordingIDRe.MatchString(id) }

// RecordingBlobKey is where a recording's WAV lives: under the account's prefix, by the UTC
// day it started, so an operator can find or prune a day's audio by prefix.
func RecordingBlobKey(accountID int64, started time.Time, id string) string {
	return AccountBlobKey(accountID, "recordings", started.UTC().Format("2006-01-02"), id+".wav")
}

// RecordingFilter narrows a recording list; zero fields do not filter. From/To bound
// StartedAt (From inclusive, To exclusive).
type RecordingFilter struct {
	CallID   string
	UserID   int64
	From, To time.Time
}

// RecordingCursor is the Page.AfterKey that continues a list after r: its start in unix
// milliseconds and its id.
func RecordingCursor(r *Recording) string {
	return strconv.FormatInt(r.StartedAt.UnixMilli(), 10) + "." + r.ID
}

// ParseRecordingCursor splits a cursor; ok is false when it is not one.
func ParseRecordingCursor(c string) (startedMs int64, id string, ok bool) {
	ms, id, found := strings.Cut(c, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !found || err != nil || n < 0 || !ValidRecordingID(id) {
		return 0, "", false
	}
	return n, id, true
}

// StoreTx is an open write transaction of the store, handed to a hook that must write in
// the same transaction as the change that calls it (the transcription job written with
// recording.available). Only the store's own methods can use it: they take it back as
// their concrete type.
type StoreTx interface{ IsStoreTx() }

// RecordingStore keeps the recordings' rows (the audio is in a BlobStore). Listing pages
// newest first by (started_at, id); Page.AfterKey is the last row's cursor as returned by
// RecordingCursor.
type RecordingStore interface {
	// CreateRecording stores a new row (ID, AccountID, BlobKey and StartedAt set by the caller).
	CreateRecording(ctx context.Context, r *Recording) error
	GetRecording(ctx context.Context, accountID int64, id string) (*Recording, error)
	PageRecordings(ctx context.Context, accountID int64, f RecordingFilter, p Page) (recs []*Recording, more bool, err error)
	// CallRecordings lists the call's recordings, oldest first.
	CallRecordings(ctx context.Context, accountID int64, callID string) ([]*Recording, error)
	// CallsRecordings is CallRecordings for many calls at once (a page of call records),
	// keyed by call id; calls without recordings are absent.
	CallsRecordings(ctx context.Context, accountID int64, callIDs []string) (map[string][]*Recording, error)
	// EndRecording is a read-modify-write of a row still RecordingActive (CONFLICT
	// otherwise): change sets the outcome; then, in the same transaction, returns the
	// events to store and may write more through tx (nil then = no events).
	EndRecording(ctx context.Context, accountID int64, id string, change func(*Recording) error,
		then func(ctx context.Context, tx StoreTx, r *Recording) ([]*Event, error)) (*Recording, error)
	// ActiveRecordings lists every account's rows still RecordingActive (for repair at start).
	ActiveRecordings(ctx context.Context) ([]*Recording, error)
	// ExpiredRecordings lists up to limit recordings, any account, that ended before
	// their account's retention (recording_retention_days > 0) ran out at now.
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]*Recording, error)
	// DeleteRecording deletes the row and returns it, for its audio to be removed after.
	DeleteRecording(ctx context.Context, accountID int64, id string) (*Recording, error)
	// RecordingUsage is the number and total size of the stored recordings, all accounts.
	RecordingUsage(ctx context.Context) (count, bytes int64, err error)
}
