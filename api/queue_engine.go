package api

// QueueMemberInvalidator is told when a queue's members change through the API (added,
// paused or unpaused, penalty changed, removed, or the queue deleted), so that the call
// engine reads them again at once instead of after its member cache expires: a member
// paused through the API is skipped on the very next queue call. The call engine
// (pbx.Engine) implements it; the API finds it on Config.Calls or Config.Live, and does
// nothing when neither has it (no engine in this process).
type QueueMemberInvalidator interface {
	InvalidateQueueMembers(queueID int64)
}

// queueMembersChanged tells the call engine, if there is one, that queueID's members changed.
func (s *Server) queueMembersChanged(queueID int64) {
	if inv, ok := s.calls.(QueueMemberInvalidator); ok {
		inv.InvalidateQueueMembers(queueID)
		return
	}
	if inv, ok := s.live.(QueueMemberInvalidator); ok {
		inv.InvalidateQueueMembers(queueID)
	}
}
