package switchboard

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// QueueStrategy says in which order a queue offers a call to its members (Asterisk's names).
type QueueStrategy string

const (
	StrategyRingAll     QueueStrategy = "ringall"
	StrategyLeastRecent QueueStrategy = "leastrecent"
	StrategyFewestCalls QueueStrategy = "fewestcalls"
	StrategyRandom      QueueStrategy = "random"
	StrategyRRMemory    QueueStrategy = "rrmemory"
	StrategyLinear      QueueStrategy = "linear"
	StrategyWRandom     QueueStrategy = "wrandom"
)

// QueueStrategies lists every strategy a queue accepts.
var QueueStrategies = []QueueStrategy{StrategyRingAll, StrategyLeastRecent, StrategyFewestCalls,
	StrategyRandom, StrategyRRMemory, StrategyLinear, StrategyWRandom}

// Queue is a call queue with Asterisk queues.conf settings (same names, same meaning).
type Queue struct {
	ID             int64
	AccountID      int64
	QueueName      string // the friendly name, e.g. "Sales Queue"
	Extension      string
	Strategy       QueueStrategy
	MusicOnHold    string
	Timeout        int    // seconds one member rings
	Retry          int    // seconds to pause before the next round
	WrapUpTime     int    // seconds a member gets no queue call after one
	MaxLen         int    // 0 = unlimited
	JoinEmpty      string // yes, no, strict, loose
	LeaveWhenEmpty string // yes, no, strict, loose
	RingInUse      string // yes, no
	MaxWait        int    // seconds a caller may wait before the timeout exit; 0 = no limit
	ServiceLevel   int    // seconds within which an answer counts for the service level; default 20
	Overflow       Target // where callers go when the queue is full or times out
	CreatedAt      time.Time
}

// Name is the queue's identifier as the v3 API shows it: its id as a string.
func (q *Queue) Name() string { return strconv.FormatInt(q.ID, 10) }

// QueueMember is a user who answers a queue's calls.
type QueueMember struct {
	QueueID int64
	UserID  int64
	Penalty int
	Paused  bool
}

// MaxPenalty bounds a queue member's penalty.
const MaxPenalty = 1000

// Validate checks the member's fields.
func (m *QueueMember) Validate() error {
	if m.Penalty < 0 || m.Penalty > MaxPenalty {
		return FieldError(EBADREQUEST, "penalty", "must be between 0 and 1000")
	}
	return nil
}

var yesNoEmpty = map[string]bool{"yes": true, "no": true, "strict": true, "loose": true}

// Validate checks the queue's fields.
func (q *Queue) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(q.QueueName) == "" || len(q.QueueName) > 100 {
		v.Add("queue_name", "is required, at most 100 characters")
	}
	if !ValidExtension(q.Extension) {
		v.Add("extension", "must be an extension of 2 to 8 digits")
	}
	known := false
	for _, s := range QueueStrategies {
		known = known || s == q.Strategy
	}
	if !known {
		v.Add("strategy", "must be one of ringall, leastrecent, fewestcalls, random, rrmemory, linear, wrandom")
	}
	for field, n := range map[string]int{"timeout": q.Timeout, "retry": q.Retry, "wrapuptime": q.WrapUpTime,
		"maxlen": q.MaxLen, "max_wait": q.MaxWait, "service_level": q.ServiceLevel} {
		if n < 0 || n > 86400 {
			v.Add(field, "must be between 0 and 86400")
		}
	}
	if !yesNoEmpty[q.JoinEmpty] {
		v.Add("joinempty", "must be yes, no, strict or loose")
	}
	if !yesNoEmpty[q.LeaveWhenEmpty] {
		v.Add("leavewhenempty", "must be yes, no, strict or loose")
	}
	if q.RingInUse != "yes" && q.RingInUse != "no" {
		v.Add("ringinuse", "must be yes or no")
	}
	if err := q.Overflow.Validate(); err != "" {
		v.Add("overflow", err)
	}
	return v.Err()
}

// ApplyDefaults fills unset settings with Asterisk's defaults.
func (q *Queue) ApplyDefaults() {
	if q.Strategy == "" {
		q.Strategy = StrategyRingAll
	}
	if q.MusicOnHold == "" {
		q.MusicOnHold = "default"
	}
	if q.JoinEmpty == "" {
		q.JoinEmpty = "yes"
	}
	if q.LeaveWhenEmpty == "" {
		q.LeaveWhenEmpty = "no"
	}
	if q.RingInUse == "" {
		q.RingInUse = "no"
	}
	if q.ServiceLevel == 0 {
		q.ServiceLevel = 20
	}
}

// QueueChange is a create or a PATCH of a queue as the API received it: a nil field is "not
// given" (left as it is on PATCH, defaulted on create). Overflow's number is as typed; it is
// stored E.164.
type QueueChange struct {
	QueueName      *string
	Extension      *string
	Strategy       *QueueStrategy
	MusicOnHold    *string
	Timeout        *int
	Retry          *int
	WrapUpTime     *int
	MaxLen         *int
	JoinEmpty      *string
	LeaveWhenEmpty *string
	RingInUse      *string
	MaxWait        *int
	ServiceLevel   *int
	Overflow       *TargetChange
}

// QueueMemberChange is a PATCH of a queue member: a nil field is left as it is.
type QueueMemberChange struct {
	Penalty *int
	Paused  *bool
}

// QueueService provisions queues and their members, telling the call engine when members
// change. provision.Service implements it.
type QueueService interface {
	CreateQueue(ctx context.Context, accountID int64, c QueueChange) (*Queue, error)
	UpdateQueue(ctx context.Context, accountID, id int64, c QueueChange) (*Queue, error)
	DeleteQueue(ctx context.Context, accountID, id int64) error
	// AddQueueMember adds the member, or updates it when the user is one already.
	AddQueueMember(ctx context.Context, accountID int64, m QueueMember) error
	UpdateQueueMember(ctx context.Context, accountID, queueID, userID int64, c QueueMemberChange) (QueueMember, error)
	RemoveQueueMember(ctx context.Context, accountID, queueID, userID int64) error
}
