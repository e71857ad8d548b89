package provision

import (
	"context"

	"switchboard"
)

// DefaultRingGroupTime is how long a new ring group rings, in seconds.
const DefaultRingGroupTime = 20

// CreateRingGroup stores a new ring group: simultaneous, ringing DefaultRingGroupTime,
// unless c says otherwise.
func (s *Service) CreateRingGroup(ctx context.Context, accountID int64, c switchboard.RingGroupChange) (*switchboard.RingGroup, error) {
	g := &switchboard.RingGroup{AccountID: accountID, RingTime: DefaultRingGroupTime}
	v := applyRingGroup(g, c)
	if g.Strategy == "" {
		g.Strategy = switchboard.RingSimultaneous
	}
	return created(ctx, v, g, s.store.CreateRingGroup)
}

// UpdateRingGroup changes what c gives (Members replaces the list); a fallback that leads
// back to the group is refused.
func (s *Service) UpdateRingGroup(ctx context.Context, accountID, id int64, c switchboard.RingGroupChange) (*switchboard.RingGroup, error) {
	return s.store.UpdateRingGroupFunc(ctx, accountID, id, func(g *switchboard.RingGroup) error {
		if err := validate(applyRingGroup(g, c), g); err != nil {
			return err
		}
		return s.checkRoutingLoop(ctx, accountID, switchboard.Target{Type: switchboard.TargetRingGroup, ID: g.ID}, g.Fallback, "fallback")
	})
}

func applyRingGroup(g *switchboard.RingGroup, c switchboard.RingGroupChange) switchboard.ValidationErrors {
	v := switchboard.ValidationErrors{}
	set(&g.Name, c.Name)
	set(&g.Extension, c.Extension)
	set(&g.Strategy, c.Strategy)
	set(&g.RingTime, c.RingTime)
	if c.Members != nil {
		g.Members = append([]switchboard.RingGroupMember{}, *c.Members...)
		for _, m := range g.Members {
			if m.UserID <= 0 {
				v.Add("members", "each member needs a user_id")
			}
		}
	}
	if c.Fallback != nil {
		g.Fallback = normalizeTarget(v, "fallback", *c.Fallback)
	}
	return v
}

// DeleteRingGroup deletes the account's ring group.
func (s *Service) DeleteRingGroup(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteRingGroup(ctx, accountID, id)
}
