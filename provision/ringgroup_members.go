package provision

import (
	"context"
	"slices"

	"switchboard"
)

// Ring group members one at a time (the portal's member editing): each edit reads and
// writes the member list in the group's write transaction, so two administrators editing
// at once do not lose each other's change as replacing the whole list (PATCH members)
// would.

// AddRingGroupMember appends the user to the group's ring order, or changes their ring
// time when they are a member already.
func (s *Service) AddRingGroupMember(ctx context.Context, accountID, groupID int64, m switchboard.RingGroupMember) (*switchboard.RingGroup, error) {
	if m.UserID <= 0 {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "user_id", "is required: the user to add")
	}
	return s.editRingGroupMembers(ctx, accountID, groupID, func(ms []switchboard.RingGroupMember) ([]switchboard.RingGroupMember, error) {
		if i := memberIndex(ms, m.UserID); i >= 0 {
			ms[i].RingTime = m.RingTime
			return ms, nil
		}
		return append(ms, m), nil
	})
}

// RemoveRingGroupMember takes the user out of the group; a user who is not a member is
// NOT_FOUND.
func (s *Service) RemoveRingGroupMember(ctx context.Context, accountID, groupID, userID int64) (*switchboard.RingGroup, error) {
	return s.editRingGroupMembers(ctx, accountID, groupID, func(ms []switchboard.RingGroupMember) ([]switchboard.RingGroupMember, error) {
		i := memberIndex(ms, userID)
		if i < 0 {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "User %d is not a member of this ring group", userID)
		}
		return slices.Delete(ms, i, i+1), nil
	})
}

// MoveRingGroupMember moves the user one place earlier (up) or later in the ring order (a
// sequential group rings in that order); at either end it stays where it is.
func (s *Service) MoveRingGroupMember(ctx context.Context, accountID, groupID, userID int64, up bool) (*switchboard.RingGroup, error) {
	return s.editRingGroupMembers(ctx, accountID, groupID, func(ms []switchboard.RingGroupMember) ([]switchboard.RingGroupMember, error) {
		i := memberIndex(ms, userID)
		if i < 0 {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "User %d is not a member of this ring group", userID)
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j >= 0 && j < len(ms) {
			ms[i], ms[j] = ms[j], ms[i]
		}
		return ms, nil
	})
}

func (s *Service) editRingGroupMembers(ctx context.Context, accountID, groupID int64,
	edit func([]switchboard.RingGroupMember) ([]switchboard.RingGroupMember, error)) (*switchboard.RingGroup, error) {
	return s.store.UpdateRingGroupFunc(ctx, accountID, groupID, func(g *switchboard.RingGroup) error {
		ms, err := edit(slices.Clone(g.Members))
		if err != nil {
			return err
		}
		return validate(applyRingGroup(g, switchboard.RingGroupChange{Members: &ms}), g)
	})
}

func memberIndex(ms []switchboard.RingGroupMember, userID int64) int {
	return slices.IndexFunc(ms, func(m switchboard.RingGroupMember) bool { return m.UserID == userID })
}
