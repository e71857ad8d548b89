package provision

import (
	"context"

	"switchboard"
)

// DefaultRingTime is how long a new user's phones ring, in seconds.
const DefaultRingTime = 30

// CreateUser stores a new user; voicemail is on, the ring time DefaultRingTime, do not
// disturb off and call waiting on unless c says otherwise.
func (s *Service) CreateUser(ctx context.Context, accountID int64, c switchboard.UserChange) (*switchboard.User, error) {
	u := &switchboard.User{AccountID: accountID, VoicemailEnabled: true, RingTimeSeconds: DefaultRingTime}
	return created(ctx, applyUser(u, c), u, s.store.CreateUser)
}

// UpdateUser changes the fields c gives.
func (s *Service) UpdateUser(ctx context.Context, accountID, id int64, c switchboard.UserChange) (*switchboard.User, error) {
	return s.store.UpdateUserFunc(ctx, accountID, id, func(u *switchboard.User) error { return validate(applyUser(u, c), u) })
}

func applyUser(u *switchboard.User, c switchboard.UserChange) switchboard.ValidationErrors {
	v := switchboard.ValidationErrors{}
	set(&u.Extension, c.Extension)
	set(&u.CallerIDName, c.CallerIDName)
	set(&u.FirstName, c.FirstName)
	set(&u.LastName, c.LastName)
	set(&u.Email, c.Email)
	set(&u.TimeZone, c.TimeZone)
	set(&u.VoicemailEnabled, c.VoicemailEnabled)
	set(&u.ForwardEnabled, c.ForwardEnabled)
	if c.ForwardNumber != nil {
		u.ForwardNumber = normalizePhone(v, "forward_number", *c.ForwardNumber)
	}
	set(&u.RingTimeSeconds, c.RingTimeSeconds)
	set(&u.MaxOutboundCalls, c.MaxOutboundCalls)
	set(&u.MaxOutMinutes, c.MaxOutMinutes)
	set(&u.DoNotDisturb, c.DoNotDisturb)
	if c.CallWaiting != nil {
		u.CallWaitingOff = !*c.CallWaiting
	}
	set(&u.Recording, c.Recording)
	return v
}

// DeleteUser deletes the user (with its devices, keys and memberships) and tells the call
// engine to read the account's queue members again, so that queue calls stop offering the
// user at once rather than when the engine's member cache expires.
func (s *Service) DeleteUser(ctx context.Context, accountID, id int64) error {
	if err := s.store.DeleteUser(ctx, accountID, id); err != nil {
		return err
	}
	if s.engine == nil {
		return nil
	}
	queues, err := s.store.ListQueues(ctx, accountID)
	if err != nil {
		// The user is gone; the engine's cache still expires within about a second.
		s.logger.Warn("listing queues after deleting a user failed", "account_id", accountID, "error", err)
		return nil
	}
	for _, q := range queues {
		s.queueMembersChanged(q.ID)
	}
	return nil
}
