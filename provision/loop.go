package provision

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

// checkRoutingLoop refuses an overflow (queue) or fallback (ring group) target from which
// the chain of overflow and fallback targets leads back to self: such a call would go round
// for ever. (The call engine also cuts loops at run time, for chains changed concurrently.)
func (s *Service) checkRoutingLoop(ctx context.Context, accountID int64, self, next switchboard.Target, field string) error {
	seen := map[switchboard.Target]bool{}
	path := []string{}
	for hop := next; hop.Type == switchboard.TargetQueue || hop.Type == switchboard.TargetRingGroup; {
		key := switchboard.Target{Type: hop.Type, ID: hop.ID}
		path = append(path, string(hop.Type)+" "+strconv.FormatInt(hop.ID, 10))
		if key == self {
			v := switchboard.ValidationErrors{}
			v.Add(field, "leads back to this "+string(self.Type)+" through "+strings.Join(path, " -> ")+": calls would loop")
			return v.Err()
		}
		if seen[key] {
			return nil // a loop elsewhere, not through self: the engine cuts it
		}
		seen[key] = true
		if hop.Type == switchboard.TargetQueue {
			q, err := s.store.GetQueue(ctx, accountID, hop.ID)
			if err != nil {
				return nil // a missing target is the store's check
			}
			hop = q.Overflow
		} else {
			g, err := s.store.GetRingGroup(ctx, accountID, hop.ID)
			if err != nil {
				return nil
			}
			hop = g.Fallback
		}
	}
	return nil
}
