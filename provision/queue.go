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
)

// MaxPenalty bounds a queue member's penalty.
const MaxPenalty = 1000

// CreateQueue stores a new queue with the defaults for what c does not give.
func (s *Service) CreateQueue(ctx context.Context, accountID int64, c switchboard.QueueChange) (*switchboard.Queue, error) {
	q := &switchboard.Queue{AccountID: accountID, Timeout: DefaultQueueTimeout, Retry: DefaultQueueRetry}
	v := applyQueue(q, c)
	q.ApplyDefaults()
	return created(ctx, v, q, s.store.CreateQueue)
}

// UpdateQueue changes the settings c gives; an overflow that leads back to the queue is
// refused.
func (s *Service) UpdateQueue(ctx context.Context, accountID, id int64, c switchboard.QueueChange) (*switchboard.Queue, error) {
	return s.store.UpdateQueueFunc(ctx, accountID, id, func(q *switchboard.Queue) error {
		if err := validate(applyQueue(q, c), q); err != nil {
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
	if c.Overflow != nil {
		q.Overflow = normalizeTarget(v, "overflow", *c.Overflow)
	}
	return v
}

// DeleteQueue deletes the queue with its members.
func (s *Service) DeleteQueue(ctx context.Context, accountID, id int64) error {
	if err := s.store.DeleteQueue(ctx, accountID, id); err != nil {
		return err
	}
	s.queueMembersChanged(id)
	return nil
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
	checkPenalty(v, m.Penalty)
	if err := v.Err(); err != nil {
		return err
	}
	return s.saveMember(ctx, accountID, m)
}

// UpdateQueueMember changes a member's penalty or pause.
func (s *Service) UpdateQueueMember(ctx context.Context, accountID, queueID, userID int64, c switchboard.QueueMemberChange) (switchboard.QueueMember, error) {
	m, err := s.findMember(ctx, accountID, queueID, userID)
	if err != nil {
		return m, err
	}
	set(&m.Penalty, c.Penalty)
	set(&m.Paused, c.Paused)
	v := switchboard.ValidationErrors{}
	checkPenalty(v, m.Penalty)
	if err := v.Err(); err != nil {
		return m, err
	}
	return m, s.saveMember(ctx, accountID, m)
}

// RemoveQueueMember takes the user out of the queue.
func (s *Service) RemoveQueueMember(ctx context.Context, accountID, queueID, userID int64) error {
	if _, err := s.findMember(ctx, accountID, queueID, userID); err != nil {
		return err
	}
	if err := s.store.RemoveQueueMember(ctx, accountID, queueID, userID); err != nil {
		return err
	}
	s.queueMembersChanged(queueID)
	return nil
}

func checkPenalty(v switchboard.ValidationErrors, penalty int) {
	if penalty < 0 || penalty > MaxPenalty {
		v.Add("penalty", "must be between 0 and 1000")
	}
}

func (s *Service) saveMember(ctx context.Context, accountID int64, m switchboard.QueueMember) error {
	if err := s.store.SetQueueMember(ctx, accountID, m); err != nil {
		return err
	}
	s.queueMembersChanged(m.QueueID)
	return nil
}

// findMember returns the member userID of the queue, or NOT_FOUND.
func (s *Service) findMember(ctx context.Context, accountID, queueID, userID int64) (switchboard.QueueMember, error) {
	members, err := s.store.ListQueueMembers(ctx, accountID, queueID)
	if err != nil {
		return switchboard.QueueMember{}, err
	}
	for _, m := range members {
		if m.UserID == userID {
			return m, nil
		}
	}
	return switchboard.QueueMember{}, switchboard.Errorf(switchboard.ENOTFOUND, "User %d is not a member of queue %d", userID, queueID)
}
