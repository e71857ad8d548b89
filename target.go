package switchboard

// TargetType names what a call is sent to.
type TargetType string

const (
	TargetNone      TargetType = ""
	TargetUser      TargetType = "user"
	TargetQueue     TargetType = "queue"
	TargetRingGroup TargetType = "ringgroup"
	TargetExternal  TargetType = "external"
	TargetHangup    TargetType = "hangup"
	// TargetConference is a conference room: what its extension, a flow node or a transfer
	// reaches. It is not a target a number, overflow or fallback is set to.
	TargetConference TargetType = "conference"
	// TargetCallFlow sends the call into a call flow of the account (ID).
	TargetCallFlow TargetType = "callflow"
)

// Target is where a call goes: a user, queue, ring group or call flow of the account (ID), or an
// external number (Number, E.164).
type Target struct {
	Type   TargetType
	ID     int64
	Number string
}

// Validate returns "" when the target is well formed, else the problem. Whether ID exists in
// the account is the store's check.
func (t Target) Validate() string {
	switch t.Type {
	case TargetNone, TargetHangup:
		return ""
	case TargetUser, TargetQueue, TargetRingGroup, TargetCallFlow:
		if t.ID <= 0 {
			return "id is required for type " + string(t.Type)
		}
		return ""
	case TargetExternal:
		if !ValidE164(t.Number) {
			return "number must be E.164 for type external"
		}
		return ""
	}
	return "type must be one of user, queue, ringgroup, callflow, external, hangup"
}

// TargetChange is a target as a request gives it: Number is as typed, nil when not given;
// it is stored E.164.
type TargetChange struct {
	Type   TargetType
	ID     int64
	Number *string
}
