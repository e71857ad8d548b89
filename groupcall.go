package switchboard

import (
	"context"
	"time"
)

// Outcomes of a caller's stay in a queue or a ring group, as the queue and ring group call
// records show them.
const (
	GroupCallAnswered  = "answered"
	GroupCallAbandoned = "abandoned" // the caller hung up before anyone answered
	GroupCallTimeout   = "timeout"   // the caller waited past the queue's max wait
	GroupCallNoAnswer  = "no-answer" // no member answered (ring group) or the queue emptied
)

// GroupCall is one caller's stay in a queue or ring group: a row written when the caller
// enters (Status ""), completed when an agent answers and again when the stay ends.
type GroupCall struct {
	ID         int64
	AccountID  int64
	GroupType  TargetType // TargetQueue or TargetRingGroup
	GroupID    int64
	GroupName  string
	UniqueID   string // the call's uniqueid
	StayID     string // the queue_call_id of this stay in the events
	From       string
	CallerName string
	To         string
	EnteredAt  time.Time
	AnsweredAt time.Time // zero when nobody answered
	LeftAt     time.Time // zero while the stay goes on
	// WaitSeconds is from entering to the answer (or to leaving, unanswered); Duration is
	// the talk time, from the answer to the end.
	WaitSeconds int
	Duration    int
	UserID      int64 // who answered; 0 = nobody
	Extension   string
	UserName    string
	Status      string // "" while waiting or talking, then one of the GroupCall* outcomes
}

// Call record sort keys.
const (
	SortDate     = "date"
	SortDuration = "duration"
)

// CallQuery selects a page of call records (user calls) or group calls: within a date
// range, of some users (or queues, ring groups), sorted by date or duration. Paging is by
// Offset (VoIPLine's) or, for deep pages, by the Cursor a previous page returned.
type CallQuery struct {
	From, To time.Time // StartedAt/EnteredAt in [From, To); zero = unbounded
	IDs      []int64   // users (user calls) or groups; empty = all
	Sort     string    // SortDate (default) or SortDuration
	Desc     bool
	Offset   int
	Limit    int    // default 50, at most 1000
	Cursor   string // from CallPage.NextCursor; replaces Offset
}

// Call query limits.
const (
	DefaultCallPageLimit = 50
	MaxCallPageLimit     = 1000
)

// CallRecordPage is a page of user call records.
type CallRecordPage struct {
	Records    []*CallRecord
	NextCursor string // "" when this is the last page
}

// GroupCallPage is a page of queue or ring group calls.
type GroupCallPage struct {
	Calls      []*GroupCall
	NextCursor string
}

// QueueDayStats are a queue's counts since a moment (the start of the day): callers who
// entered (offered), who were answered, who hung up waiting (abandoned); how many were
// answered within the service level, how many abandoned after it; the summed waits to
// answer and talk times of the answered.
type QueueDayStats struct {
	Offered, Answered, Abandoned int
	AnsweredWithinSL             int
	AbandonedAfterSL             int
	TotalAnswerWait              int // seconds, summed over answered calls
	TotalTalk                    int // seconds, summed over answered calls that ended
	Talked                       int // answered calls that ended (the handle time's count)
}

// GroupCallStore persists queue and ring group stays and pages call records. store.DB
// implements it.
type GroupCallStore interface {
	// StartGroupCall stores a new stay with its events (queue.entered) in one transaction.
	StartGroupCall(ctx context.Context, g *GroupCall, events ...*Event) error
	// AnswerGroupCall records the answer (AnsweredAt, WaitSeconds, the user) with its events.
	AnswerGroupCall(ctx context.Context, g *GroupCall, events ...*Event) error
	// EndGroupCall completes the stay (LeftAt, Status, Duration) with its events; a stay
	// already ended is ECONFLICT.
	EndGroupCall(ctx context.Context, g *GroupCall, events ...*Event) error
	// CloseOpenGroupCalls ends stays still open (the process died) at the given time.
	CloseOpenGroupCalls(ctx context.Context, at time.Time) (int, error)
	ListGroupCalls(ctx context.Context, accountID int64, groupType TargetType, q CallQuery) (*GroupCallPage, error)
	// QueueDayStats counts the queue's stays that entered at or after since; serviceLevel
	// is the queue's threshold in seconds.
	QueueDayStats(ctx context.Context, accountID, queueID int64, since time.Time, serviceLevel int) (QueueDayStats, error)
	// PageCallRecords pages the account's call records (user calls).
	PageCallRecords(ctx context.Context, accountID int64, q CallQuery) (*CallRecordPage, error)
}
