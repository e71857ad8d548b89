package stream

import (
	"encoding/json"
	"slices"
	"strings"

	"switchboard/events"
)

// Visible is the one rule of who sees which event on the stream. A developer key
// (userID 0) sees every event of its account. A user key sees an event only when the event
// names that user in one of its user-id fields — user_id, or any field ending in _user_id
// (answered_by_user_id, transfer_to_user_id, parked_by_user_id, ringing_user_id …): that
// user's own calls as caller, callee, answerer or transfer target, their presence, their
// messages and voicemail, their agent state. An event naming no user (a contact change, an
// IVR key, a caller entering a queue) belongs to the account, not to a user, and a user
// key does not see it.
func Visible(data map[string]any, userID int64) bool {
	return visibleTo(eventUserIDs(data), userID)
}

// visibleTo is Visible on the event's user ids, found once per event (the hub keeps them
// with the rendered event for every consumer).
func visibleTo(eventUsers []int64, userID int64) bool {
	return userID == 0 || slices.Contains(eventUsers, userID)
}

// eventUserIDs returns the ids in the event's user-id fields (see Visible). The values are
// ints when the event was just built and float64 (or json.Number) once read back from the
// store's JSON.
func eventUserIDs(data map[string]any) []int64 {
	var ids []int64
	for k, v := range data {
		if k != events.FieldUserID && !strings.HasSuffix(k, "_user_id") {
			continue
		}
		if id, ok := asID(v); ok && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func asID(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
