package provision

import (
	"context"

	"switchboard"
)

// Queue defaults the seed's examples show (Asterisk's are 15 and 5); the other settings
// default as Queue.ApplyDefaults says.
const (
	DefaultQueueTimeout = 15
	DefaultQueueRetry   = 5
	// DefaultCallbackRetries: an unanswered callback is dialled once more.
	DefaultCallbackRetries = 1
)

// CreateQueue stores a new queue with the defaults for what c does not give.
func (s *Service) CreateQueue(ctx context.Context, accountID int64, c switchboard.QueueChange) (*switchboard.Queue, error) {
	q := &switchboard.Queue{AccountID: accountID, Timeout: DefaultQueueTimeout, Retry: DefaultQueueRetry,
		CallbackRetries: DefaultCallbackRetries}
	v := applyQueue(q, c)
	q.ApplyDefaults()
	if err := s.checkMusicClass(ctx, v, accountID, c.MusicOnHold); err != nil {
		return nil, err
	}
	return created(ctx, v, q, s.store.CreateQueue)
}

// UpdateQueue changes the settings c gives; an overflow that leads back to the queue, or a
// musiconhold naming no music class, is refused.
func (s *Service) UpdateQueue(ctx context.Context, accountID, id int64, c switchboard.QueueChange) (*switchboard.Queue, error) {
	// The class is looked up before the queue's write transaction (whose change function
	// must not call the store); a class deleted in between is played as the default.
	classes := switchboard.ValidationErrors{}
	if err := s.checkMusicClass(ctx, classes, accountID, c.MusicOnHold); err != nil {
		return nil, err
	}
	return s.store.UpdateQueueFunc(ctx, accountID, id, func(q *switchboard.Queue) error {
		v := applyQueue(q, c)
		for field, problem := range classes {
			v.Add(field, problem)
		}
		if err := validate(v, q); err != nil {
			return err
		}
		return s.checkRoutingLoop(ctx, accountID, switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}, q.Overflow, "overflow")
	})
}

func applyQueue(q *switchboard.Queue, c switchboard.QueueChange) switchboard.ValidationErrors {
	v := switchboard.ValidationErrors{}
	set(&q.QueueName, c.QueueName)
	set(&q.Extension, c.Extension)
	set(&q.Strategy, c.Strategy)
	set(&q.MusicOnHold, c.MusicOnHold)
	set(&q.Timeout, c.Timeout)
	set(&q.Retry, c.Retry)
	set(&q.WrapUpTime, c.WrapUpTime)
	set(&q.MaxLen, c.MaxLen)
	set(&q.JoinEmpty, c.JoinEmpty)
	set(&q.LeaveWhenEmpty, c.LeaveWhenEmpty)
	set(&q.RingInUse, c.RingInUse)
	set(&q.MaxWait, c.MaxWait)
	set(&q.ServiceLevel, c.ServiceLevel)
	set(&q.CallbackEnabled, c.CallbackEnabled)
	set(&q.CallbackKey, c.CallbackKey)
	set(&q.CallbackAfter, c.CallbackAfter)
	set(&q.CallbackMax, c.CallbackMax)
	set(&q.CallbackRetries, c.CallbackRetries)
	set(&q.Recording, c.Recording)
	if c.Overflow != nil {
		q.Overflow = normalizeTarget(v, "overflow", *c.Overflow)
	}
	return v
}

// DeleteQueue deletes the queue with its members.
func (s *Service) DeleteQueue(ctx context.Context, accountID, id int64) error {
	return s.membersChanged(id, s.store.DeleteQueue(ctx, accountID, id))
}

// AddQueueMember adds the user to the queue, or updates its penalty and pause when it is a
// member already.
func (s *Service) AddQueueMember(ctx context.Context, accountID int64, m switchboard.QueueMember) error {
	if _, err := s.store.GetQueue(ctx, accountID, m.QueueID); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	if m.UserID <= 0 {
		v.Add("user_id", "is required: the user to add")
	}
	if err := validate(v, &m); err != nil {
		return err
	}
	return s.membersChanged(m.QueueID, s.store.SetQueueMember(ctx, accountID, m))
}

// UpdateQueueMember changes a member's penalty or pause.
func (s *Service) UpdateQueueMember(ctx context.Context, accountID, queueID, userID int64, c switchboard.QueueMemberChange) (switchboard.QueueMember, error) {
	m, err := s.store.UpdateQueueMemberFunc(ctx, accountID, queueID, userID, func(m *switchboard.QueueMember) error {
		set(&m.Penalty, c.Penalty)
		set(&m.Paused, c.Paused)
		return nil
	})
	if err := s.membersChanged(queueID, err); err != nil {
		return switchboard.QueueMember{}, err
	}
	return *m, nil
}

// RemoveQueueMember takes the user out of the queue.
func (s *Service) RemoveQueueMember(ctx context.Context, accountID, queueID, userID int64) error {
	return s.membersChanged(queueID, s.store.RemoveQueueMember(ctx, accountID, queueID, userID))
}

// membersChanged tells the engine that the queue's members changed, when the change
// succeeded (err nil), and passes err on.
func (s *Service) membersChanged(queueID int64, err error) error {
	if err == nil {
		s.queueMembersChanged(queueID)
	}
	return err
}
