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
	// Callback settings (docs/queues.md "Callback"): a waiting caller who presses
	// CallbackKey, after waiting CallbackAfter seconds, hangs up and is called back when
	// their turn comes, keeping their place. CallbackMax bounds the pending callbacks (0 =
	// no limit); CallbackRetries is how many more times an unanswered callback is dialled.
	CallbackEnabled bool
	CallbackKey     string // one DTMF key: 0-9, * or #; "" = DefaultCallbackKey
	CallbackAfter   int    // seconds a caller waits before the key is taken; 0 = at once
	CallbackMax     int
	CallbackRetries int
	// Recording is the policy of the queue's calls (recording.go); "" = the account's.
	Recording string
	CreatedAt time.Time
}

// DefaultCallbackKey is the key a waiting caller presses to be called back: the queue
// plays music and listens to no other key, so any key would do; "1" is what callers are
// told to press in most queues ("press 1 to be called back").
const DefaultCallbackKey = "1"

// CallbackDigit is the key that asks for a callback.
func (q *Queue) CallbackDigit() string {
	if q.CallbackKey == "" {
		return DefaultCallbackKey
	}
	return q.CallbackKey
}

// MaxCallbackRetries bounds Queue.CallbackRetries.
const MaxCallbackRetries = 10

// validCallbackKey reports whether k is one DTMF key a phone can send: 0-9, * or #.
func validCallbackKey(k string) bool {
	return len(k) == 1 && strings.Contains("0123456789*#", k)
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
	if q.CallbackKey != "" && !validCallbackKey(q.CallbackKey) {
		v.Add("callback_key", "must be one key: 0-9, * or #")
	}
	for field, n := range map[string]int{"callback_after_s": q.CallbackAfter, "callback_max": q.CallbackMax} {
		if n < 0 || n > 86400 {
			v.Add(field, "must be between 0 and 86400")
		}
	}
	if q.CallbackRetries < 0 || q.CallbackRetries > MaxCallbackRetries {
		v.Add("callback_retries", "must be between 0 and 10")
	}
	if !ValidRecordingPolicy(q.Recording, true) {
		v.Add("recording", RecordingPolicyProblem)
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
	if q.CallbackKey == "" {
		q.CallbackKey = DefaultCallbackKey
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

	CallbackEnabled *bool
	CallbackKey     *string
	CallbackAfter   *int
	CallbackMax     *int
	CallbackRetries *int
	Recording       *string // "" = the account's policy
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

// Statuses of a queue callback.
const (
	CallbackPending = "pending" // waiting for its turn, or being dialled
	CallbackDone    = "done"    // the caller answered and was put through to an agent
	CallbackFailed  = "failed"  // unanswered after every retry, undialable, or its queue deleted
)

// QueueCallback is a waiting caller's place in a queue, kept after they pressed the
// callback key and hung up: it is offered to agents when the caller would have been, and
// the caller is dialled back once an agent answers (pbx/queue_callback.go).
type QueueCallback struct {
	ID        int64
	AccountID int64
	QueueID   int64
	StayID    string // the caller's stay in the queue (queue_call_id), which the callback continues
	CallID    string // the uniqueid of the call that asked for the callback
	// The asking call's parties, as its record and events show them.
	Direction  string
	From       string
	CallerName string
	To         string
	Number     string
	// CallerUserID is the user an internal caller is (rung back on their phones); 0 for an
	// external caller, dialled back at CallbackNumber through the trunk.
	CallerUserID   int64
	CallbackNumber string    // what is dialled back: an E.164 number, or the user's extension
	EnteredAt      time.Time // when the caller entered the queue: their place in it
	RequestedAt    time.Time
	Attempts       int // times the caller was dialled back
	Status         string
	CallbackCallID string // the uniqueid of the last call that dialled the caller back
	UpdatedAt      time.Time
}
