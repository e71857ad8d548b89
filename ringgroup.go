package switchboard

import (
	"context"
	"strings"
	"time"
)

// RingGroupStrategy says whether a ring group rings its members together or one by one.
type RingGroupStrategy string

const (
	RingSimultaneous RingGroupStrategy = "simultaneous"
	RingSequential   RingGroupStrategy = "sequential"
)

// RingGroup rings a set of users; when nobody answers the call goes to Fallback.
type RingGroup struct {
	ID        int64
	AccountID int64
	Name      string
	Extension string
	Strategy  RingGroupStrategy
	RingTime  int // seconds the group (simultaneous) or each member (sequential, by default) rings
	Members   []RingGroupMember
	Fallback  Target
	CreatedAt time.Time
}

// RingGroupMember is one user of a ring group; RingTime 0 means the group's ring time.
type RingGroupMember struct {
	UserID   int64
	RingTime int
}

// Validate checks the ring group's fields.
func (g *RingGroup) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(g.Name) == "" || len(g.Name) > 100 {
		v.Add("name", "is required, at most 100 characters")
	}
	if !ValidExtension(g.Extension) {
		v.Add("extension", "must be an extension of 2 to 8 digits")
	}
	if g.Strategy != RingSimultaneous && g.Strategy != RingSequential {
		v.Add("strategy", "must be simultaneous or sequential")
	}
	if g.RingTime < 1 || g.RingTime > 600 {
		v.Add("ring_time", "must be between 1 and 600 seconds")
	}
	seen := map[int64]bool{}
	for _, m := range g.Members {
		if m.RingTime < 0 || m.RingTime > 600 {
			v.Add("members", "ring_time must be between 0 and 600 seconds")
		}
		if seen[m.UserID] {
			v.Add("members", "a user may be a member only once")
		}
		seen[m.UserID] = true
	}
	if err := g.Fallback.Validate(); err != "" {
		v.Add("fallback", err)
	}
	return v.Err()
}

// RingGroupChange is a create or a PATCH of a ring group as the API received it: a nil field
// is "not given" (left as it is on PATCH, defaulted on create). Members replaces the list.
// Fallback's number is as typed; it is stored E.164.
type RingGroupChange struct {
	Name      *string
	Extension *string
	Strategy  *RingGroupStrategy
	RingTime  *int
	Members   *[]RingGroupMember
	Fallback  *TargetChange
}

// RingGroupService provisions ring groups. provision.Service implements it.
type RingGroupService interface {
	CreateRingGroup(ctx context.Context, accountID int64, c RingGroupChange) (*RingGroup, error)
	UpdateRingGroup(ctx context.Context, accountID, id int64, c RingGroupChange) (*RingGroup, error)
	DeleteRingGroup(ctx context.Context, accountID, id int64) error
}
